"""The assertions every property test makes: `check` against the PyTorch evaluation, and the
compiled module against both.

A compiled module is judged by what LANGUAGE.md promises: it holds the parameters `check`
counts, one module per layer (none lost to a name used twice), created in execution order,
so that weights copied across in that order give the same numbers, in eval and in train.
"""

from __future__ import annotations

import torch
from properties_adapter import (
    Row,
    accepted,
    build,
    check,
    describe,
    layer_rows,
    outputs,
    total_params,
)
from properties_ast import layers_in, render
from properties_torch import BATCH, Evaluation, evaluate, leaf_classes, one_thread
from torch import nn

#: modules whose fresh weights are random: their initial values are not compared
RANDOM_INIT = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
               nn.ConvTranspose3d, nn.Linear)


def verdicts(spec) -> tuple:
    """`check`'s result and the PyTorch evaluation (None where PyTorch says no), after
    asserting that they agree on whether the spec is a network at all."""
    text = render(spec)
    result = check(text)
    evaluation = evaluate(spec)
    says = "accepts" if accepted(result) else "refuses"
    assert accepted(result) == (evaluation is not None), \
        f"check {says} what PyTorch {'refuses' if evaluation is None else 'runs'}:\n" \
        f"{text}\n{describe(result)}"
    return text, result, evaluation


def assert_rows(text: str, result, evaluation: Evaluation) -> None:
    """Every layer's output shape, parameters and buffers, in execution order."""
    expected = [Row(s.layer.word, s.output, s.params, s.buffers, 0) for s in evaluation.steps]
    got = layer_rows(result)
    shown = "\n".join(f"  {s.layer.word}: {s.output} params {s.params} buffers {s.buffers}"
                      for s in evaluation.steps)
    assert [(r.output, r.params, r.buffers) for r in got] == \
        [(r.output, r.params, r.buffers) for r in expected], f"{text}\nPyTorch:\n{shown}"


def assert_totals(text: str, result, evaluation: Evaluation) -> None:
    """Every output's shape and the total parameters."""
    shapes = tuple(tuple(o.shape[1:]) for o in evaluation.outputs)
    assert outputs(result) == shapes, text
    params = sum(p.numel() for m in evaluation.modules for p in m.parameters())
    assert total_params(result) == params, text


# ---- the compiled module ---------------------------------------------------------------


def assert_compiled(spec) -> None:
    """For a spec `check` accepts: the compiled module against `check` and PyTorch."""
    with one_thread():
        _compiled(spec)


def _compiled(spec) -> None:
    text, result, evaluation = verdicts(spec)
    if evaluation is None:
        return
    model = build(text)
    params = sum(p.numel() for p in model.parameters())
    assert params == total_params(result), \
        f"the module holds {params} parameters, check says {total_params(result)}:\n{text}"
    assert_totals(text, result, evaluation)
    theirs, mine = leaf_classes([model]), leaf_classes(evaluation.modules)
    assert theirs == mine, \
        f"the module lacks {dict(mine - theirs)} and has {dict(theirs - mine)} more than " \
        f"LANGUAGE.md's classes (a name used twice loses a module):\n{text}"
    assert_same_numbers(spec, text, evaluation, model)


def _flat(modules) -> list:
    """(parameter, whether its module starts it at random), in execution order."""
    out = []
    for root in modules:
        for m in root.modules():
            for p in m.parameters(recurse=False):
                out.append((p, isinstance(m, RANDOM_INIT)))
    return out


def _float_buffers(modules) -> list:
    return [b for root in modules for b in root.buffers() if b.is_floating_point()]


def assert_same_numbers(spec, text: str, evaluation: Evaluation, model) -> None:
    """Copy the weights across in execution order; the outputs must agree."""
    mine, theirs = _flat(evaluation.modules), list(model.parameters())
    assert [p.numel() for p, _ in mine] == [p.numel() for p in theirs], \
        f"parameters not in execution order:\n{text}"
    for (p, random), q in zip(mine, theirs):      # norms start at 1 and 0, scale at INIT, ...
        if not random:
            assert torch.equal(p.detach().reshape(q.shape), q.detach()), \
                f"a {tuple(p.shape)} parameter starts at {q.flatten()[:4].tolist()}:\n{text}"
    _randomise(evaluation.modules)
    with torch.no_grad():
        for (p, _), q in zip(mine, theirs):
            q.copy_(p.reshape(q.shape))
        ours, yours = _float_buffers(evaluation.modules), _float_buffers([model])
        assert [b.numel() for b in ours] == [b.numel() for b in yours], text
        for b, c in zip(ours, yours):
            c.copy_(b.reshape(c.shape))
    _compare(spec, text, evaluation, model, train=False)
    if not any(layer.word in ("dropout", "droppath") for layer in layers_in(spec)):
        _compare(spec, text, evaluation, model, train=True)


def _randomise(modules) -> None:
    """Weights far from their initial values, so that a mix-up shows in the numbers."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for root in modules:
            for m in root.modules():
                if isinstance(m, RANDOM_INIT):
                    continue
                for name, p in m.named_parameters(recurse=False):
                    low = -0.5 if name == "bias" else 0.5
                    p.copy_(torch.rand(p.shape, generator=generator) + low)
                for name, b in m.named_buffers(recurse=False):
                    if b.is_floating_point():
                        low = -0.5 if name == "running_mean" else 0.5
                        b.copy_(torch.rand(b.shape, generator=generator) + low)


def _compare(spec, text: str, evaluation: Evaluation, model, train: bool) -> None:
    generator = torch.Generator().manual_seed(1)
    inputs = [torch.randn(BATCH, *put.shape, generator=generator, dtype=torch.float64) * 4
              for put in spec.inputs]
    for m in evaluation.modules:
        m.double().train(train)
    model.double().train(train)
    with torch.no_grad():
        expected = evaluation.run(inputs)
        got = model(*inputs)
    got = tuple(got) if isinstance(got, (tuple, list)) else (got,)
    mode = "train" if train else "eval"
    assert len(got) == len(expected), f"{len(got)} outputs, not {len(expected)}:\n{text}"
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e, rtol=1e-6, atol=1e-8,
                                   msg=lambda m: f"{mode} outputs differ: {m}\n{text}")
    if train:
        for b, c in zip(_float_buffers(evaluation.modules), _float_buffers([model])):
            torch.testing.assert_close(c.reshape(b.shape), b, rtol=1e-6, atol=1e-8,
                                       msg=lambda m: f"running statistics differ: {m}\n{text}")
