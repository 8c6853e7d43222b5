"""Comparing two networks that compute the same function with differently named modules:
list the modules that hold parameters directly in the order their forward pre-hooks fire,
copy parameters pairwise in that order, and compare outputs.

Two things make the comparison mean something:
- `perturb` first: torchvision initialises every batch norm to weight 1, bias 0 and
  ConvNeXt's layer scale to 1e-6, so two batch norms copied into each other's places, or a
  ConvNeXt block wired wrongly (its output is scaled by 1e-6), would not show in the output.
- `assert_same_outputs` compares relative to the output's size: with fresh batch-norm
  statistics, squeeze-and-excitation gates halve the signal in every block and
  EfficientNet-B0's logits come out near 1e-14, below any absolute tolerance.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def holds_parameters(module: nn.Module) -> bool:
    """True for a module with parameters of its own (not only its children's)."""
    return any(True for _ in module.parameters(recurse=False))


@torch.no_grad()
def execution_order(model: nn.Module, inputs: tuple[Tensor, ...]) -> list[nn.Module]:
    """The modules holding parameters directly, in the order their pre-hooks fire on one
    forward pass of `model(*inputs)` (a module called twice appears twice)."""
    order: list[nn.Module] = []
    handles = [m.register_forward_pre_hook(lambda m, _args: order.append(m))
               for m in model.modules() if holds_parameters(m)]
    try:
        model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    return order


@torch.no_grad()
def perturb(model: nn.Module, seed: int = 0) -> nn.Module:
    """Replace every parameter tensor that holds one value throughout (a norm's weight 1 or
    bias 0, a layer scale's 1e-6) by distinct values: U(0.5, 1.5) for a nonzero constant,
    N(0, 0.1) for zeros. Other parameters are random already and stay."""
    generator = torch.Generator().manual_seed(seed)
    for p in model.parameters():
        flat = p.reshape(-1)
        if flat.numel() == 0 or not bool((flat == flat[0]).all()):
            continue
        if float(flat[0]) != 0.0:
            p.copy_(torch.rand(p.shape, generator=generator) + 0.5)
        else:
            p.copy_(torch.randn(p.shape, generator=generator) * 0.1)
    return model


@torch.no_grad()
def copy_in_order(src: nn.Module, dst: nn.Module, inputs: tuple[Tensor, ...]) -> int:
    """Copy `src`'s parameters into `dst`, module by module in execution order and
    parameter by parameter within a module (`dst.copy_(src.reshape(dst.shape))`, so a
    channels-last `nn.Linear` fills a 1x1 conv). Returns the number of modules copied;
    raises AssertionError, naming the first pair, where the two orders disagree."""
    theirs, ours = execution_order(src, inputs), execution_order(dst, inputs)
    assert len(theirs) == len(ours), (
        f"{len(theirs)} parameterised calls in the source, {len(ours)} in the destination")
    for i, (a, b) in enumerate(zip(theirs, ours)):
        pa, pb = list(a.parameters(recurse=False)), list(b.parameters(recurse=False))
        shapes = [tuple(p.shape) for p in pa], [tuple(p.shape) for p in pb]
        assert [p.numel() for p in pa] == [p.numel() for p in pb], (
            f"call {i}: {type(a).__name__} {shapes[0]} against {type(b).__name__} {shapes[1]}")
        for p, q in zip(pa, pb):
            q.copy_(p.reshape(q.shape))
    return len(theirs)


def outputs(model: nn.Module, inputs: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    """The model's outputs as a tuple (one tensor, or the tuple of several outputs)."""
    with torch.no_grad():
        out = model(*inputs)
    return out if isinstance(out, tuple) else (out,)


def assert_same_outputs(ours: nn.Module, theirs: nn.Module, inputs: tuple[Tensor, ...],
                        tolerance: float = 1e-5) -> None:
    """Every output of `ours` equals the same output of `theirs` to `tolerance`, measured
    relative to the largest magnitude in that output of `theirs`."""
    got, want = outputs(ours, inputs), outputs(theirs, inputs)
    assert len(got) == len(want), f"{len(got)} outputs, expected {len(want)}"
    for i, (a, b) in enumerate(zip(got, want)):
        assert a.shape == b.shape, f"output {i}: shape {tuple(a.shape)}, expected {tuple(b.shape)}"
        scale = float(b.abs().max()) or 1.0
        torch.testing.assert_close(a / scale, b / scale, rtol=tolerance, atol=tolerance,
                                   msg=lambda m, i=i: f"output {i}: {m}")
