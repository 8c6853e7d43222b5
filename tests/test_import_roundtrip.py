"""`cnndsl.importer.import_module` on the corpus (`tests/importer_corpus/`) and on every
spec in `specs/`: the spec it writes checks, has the original's parameter count, and, once
`imported.state_dict` is loaded strictly into `cnndsl.build(text)`, gives the original's eval
outputs. torchvision's ResNet keeps its keys (the original's own `state_dict()` loads);
ResNet-50 and DenseNet-121 come out folded. Unsupported modules raise `Unsupported`, located.

The weights are perturbed first (every constant parameter and every batch-norm statistic
made random, as `twins/compare.py`'s `perturb` explains) and outputs are compared relative to
their scale (`assert_same_outputs`), so a weight loaded into the wrong layer shows.

The corpus tests that need no importer (figures, forwards) run without it; the others get
`cnndsl.importer` from the `importer` fixture.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from importer_corpus import CORPUS, course_notes, multi_input, unsupported
from torch import nn
from twins.compare import assert_same_outputs, perturb

import cnndsl

SPECS = Path(__file__).resolve().parents[1] / "specs"
#: control characters that must never reach a spec or a terminal raw (ESC, BEL, CSI, ...)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One intra-op thread: on a shared 2-core machine two threads per test ran DenseNet's
    forwards five times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def importer():
    """The importer under test (`cnndsl/importer/`): a missing one fails, never skips."""
    import cnndsl.importer as importer

    return importer


def params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def randomised(model: nn.Module, seed: int = 0) -> nn.Module:
    """`perturb`'s parameters, and batch-norm running statistics random too; eval mode."""
    perturb(model, seed)
    generator = torch.Generator().manual_seed(seed + 1)
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.track_running_stats:
            module.running_mean.copy_(torch.randn(module.running_mean.shape,
                                                  generator=generator) * 0.1)
            module.running_var.copy_(torch.rand(module.running_var.shape,
                                                generator=generator) + 0.5)
    return model.eval()


def sample(size: tuple[int, ...], seed: int = 2, batch: int = 2) -> torch.Tensor:
    return torch.randn(batch, *size, generator=torch.Generator().manual_seed(seed))


def checked(text: str):
    """The imported spec's check: no error, and printed as `cnndsl fmt` prints it."""
    from cnndsl.backends.cnn import format_source

    result = cnndsl.check(text, "imported.cnn")
    assert result.ok and not result.errors, f"the imported spec does not check:\n{result}\n{text}"
    assert format_source(text, "imported.cnn") == text, "not as `cnndsl fmt` prints it"
    return result


def rebuilt(imported) -> nn.Module:
    """`cnndsl.build(text)` with `imported.state_dict` loaded strictly, in eval mode."""
    model = cnndsl.build(imported.text)
    model.load_state_dict(imported.state_dict, strict=True)
    return model.eval()


def nonempty_lines(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip())


# ---- the corpus itself (no importer needed) --------------------------------------------------

@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_module_has_its_figure_and_runs(name):
    entry = CORPUS[name]
    model = entry.make().eval()
    if entry.params is not None:
        assert params(model) == entry.params
    with torch.no_grad():
        out = model(sample(entry.input))
    assert out.shape[0] == 2 and torch.isfinite(out).all()


@pytest.mark.parametrize("name", [n for n in sorted(CORPUS) if not CORPUS[n].keyed])
def test_course_notes_nets_match_their_specs_figures(name):
    """The notes' nets and `specs/NAME.cnn` count the same parameters (the spec round trip
    and the corpus round trip meet)."""
    result = cnndsl.check((SPECS / f"{name}.cnn").read_text(), f"{name}.cnn")
    assert result.summary.params == params(CORPUS[name].make())


def test_unsupported_fixtures_run_in_pytorch():
    """Each refusal is the importer's: PyTorch itself runs every fixture."""
    for factory in [*unsupported.FIXTURES, "hostile", "hostile_unsupported", "tied"]:
        with torch.no_grad():
            getattr(unsupported, factory)().eval()(sample((3, 16, 16)))


# ---- round trips of the corpus ---------------------------------------------------------------

@pytest.fixture(scope="module")
def imports(importer):
    """name -> (the randomised original, its import): each corpus net imported once for the
    tests that read it."""
    cache: dict[str, tuple] = {}

    def imported(name: str):
        if name not in cache:
            entry = CORPUS[name]
            original = randomised(entry.make())
            cache[name] = original, importer.import_module(original, [entry.input])
        return cache[name]

    yield imported
    cache.clear()


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_round_trip(imports, name):
    entry = CORPUS[name]
    original, imported = imports(name)
    checked(imported.text)
    model = rebuilt(imported)
    assert params(model) == params(original)
    assert_same_outputs(model, original, (sample(entry.input),))
    if entry.folded:
        assert nonempty_lines(imported.text) <= 60, imported.text


@pytest.mark.parametrize("name", sorted(n for n in CORPUS
                                        if CORPUS[n].keyed and not CORPUS[n].keys_lost))
def test_torchvision_layouts_keep_their_keys(imports, name):
    """keys_kept, and the ORIGINAL's own state_dict loads strictly into the spec."""
    entry = CORPUS[name]
    original, imported = imports(name)
    assert imported.keys_kept is True
    model = cnndsl.build(imported.text)
    assert sorted(model.state_dict()) == sorted(original.state_dict())
    model.load_state_dict(original.state_dict(), strict=True)
    assert_same_outputs(model.eval(), original, (sample(entry.input),))


@pytest.mark.parametrize("name", sorted(n for n in CORPUS if CORPUS[n].keys_lost))
def test_layouts_whose_keys_the_language_cannot_keep_say_so(imports, name):
    """`keys_kept` is False (the corpus says why: `keys_lost`), and the weights are the
    original's tensors in the original's order, under the spec's names."""
    original, imported = imports(name)
    assert imported.keys_kept is False, CORPUS[name].keys_lost
    assert list(imported.state_dict) == list(cnndsl.build(imported.text).state_dict())
    ours, theirs = list(imported.state_dict.values()), list(original.state_dict().values())
    assert len(ours) == len(theirs)
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs, strict=True))


def test_resnet50_folds_to_one_block_with_an_if(imports):
    text = imports("resnet50")[1].text
    assert "block Bottleneck(c, s=1) {" in text and "if in != c*4 {" in text, text
    assert "Bottleneck(64) * 3 as layer1" in text
    assert "(Bottleneck(256, s=2) -> Bottleneck(256) * 5) as layer3" in text
    assert nonempty_lines(text) < 25, text


def test_densenet121_folds_each_dense_block_into_a_repetition(imports):
    text = imports("densenet121")[1].text
    assert "concat(identity, DenseLayer) * 24 as denseblock3" in text, text
    assert "block Transition { batchnorm as norm -> relu -> conv in//2 k1 nobias as conv" in text
    assert nonempty_lines(text) < 30, text


def test_import_leaves_the_original_as_it_was(importer):
    """Importing neither trains nor changes the user's module (mode, weights, statistics)."""
    original = randomised(course_notes.residual_net()).train()
    before = {k: v.clone() for k, v in original.state_dict().items()}
    importer.import_module(original, [(1, 28, 28)])
    assert original.training
    after = original.state_dict()
    assert list(after) == list(before)
    for key, value in before.items():
        assert torch.equal(after[key], value), key


def test_import_is_deterministic(importer):
    first = importer.import_module(randomised(course_notes.inception_net()), [(1, 28, 28)])
    second = importer.import_module(randomised(course_notes.inception_net()), [(1, 28, 28)])
    assert first.text == second.text
    assert list(first.state_dict) == list(second.state_dict)


def test_named_inputs(importer):
    """A dict of named sizes: the spec declares those inputs, the forward takes them."""
    original = randomised(multi_input.rgbd())
    sizes = {"image": (3, 32, 32), "depth": (1, 32, 32)}
    imported = importer.import_module(original, sizes)
    checked(imported.text)
    assert re.search(r"^input image 3x32x32\b", imported.text, re.M), imported.text
    assert re.search(r"^input depth 1x32x32\b", imported.text, re.M), imported.text
    model = rebuilt(imported)
    assert params(model) == params(original)
    assert_same_outputs(model, original, (sample(sizes["image"]), sample(sizes["depth"], 3)))


@pytest.mark.parametrize("target", [
    str(Path(course_notes.__file__).with_name("course_notes.py")) + ":mnist_net",
    "importer_corpus.course_notes:mnist_net"])
def test_import_target_by_path_and_by_module(importer, target):
    imported = importer.import_target(target, [(1, 28, 28)])
    checked(imported.text)
    assert params(cnndsl.build(imported.text)) == params(course_notes.mnist_net())


def test_model_name(importer):
    imported = importer.import_module(course_notes.mnist_net(), [(1, 28, 28)], name="Digits")
    assert re.search(r"^model Digits\b", checked(imported.text).source.text, re.M)


# ---- round trips of every spec: build -> import -> same count and outputs --------------------

#: one sample's size per spec: the ImageNet nets at 64x64 (their heads pool globally), the
#: rest at the spec's own input
SMALL = {name: (3, 64, 64) for name in (
    "convnext_tiny", "densenet121", "efficientnet_b0", "fpn_resnet18", "googlenet",
    "mobilenet_v2", "mobilenet_v2_075", "mobilenet_v3_small", "resnet18", "resnet18_keyed",
    "resnet50", "shufflenet_v2_x1_0", "aspp_small")}
SLOW_SPECS = {"vgg16", "c3d_small"}   # 138M parameters at 224x224; a 3-D net at 16x112x112


def spec_input(text: str) -> tuple[int, ...]:
    line = next(line for line in text.splitlines() if line.startswith("input "))
    return tuple(int(n) for n in line.split()[-1].split("x"))


def _spec_cases():
    for path in sorted(SPECS.glob("*.cnn")):
        marks = [pytest.mark.slow] if path.stem in SLOW_SPECS else []
        yield pytest.param(path.stem, marks=marks, id=path.stem)


@pytest.mark.parametrize("name", list(_spec_cases()))
def test_spec_round_trip(importer, name):
    text = (SPECS / f"{name}.cnn").read_text()
    size = SMALL.get(name) or spec_input(text)
    original = randomised(cnndsl.build(text))
    imported = importer.import_module(original, [size])
    checked(imported.text)
    assert imported.keys_kept   # a compiled spec's own names survive an import
    model = rebuilt(imported)
    assert params(model) == params(original)
    assert_same_outputs(model, original, (sample(size),))


# ---- what the importer refuses -------------------------------------------------------------

@pytest.mark.parametrize("factory", sorted(unsupported.FIXTURES))
def test_unsupported_is_located(importer, factory):
    module = getattr(unsupported, factory)()
    with pytest.raises(importer.Unsupported) as caught:
        importer.import_module(module, [(3, 16, 16)])
    exc = caught.value
    path = unsupported.FIXTURES[factory]
    assert path in exc.module_path and path in str(exc)
    assert Path(exc.filename).name == "unsupported.py"
    assert exc.line in unsupported.gate_lines(factory), (exc.line, str(exc))
    assert f"unsupported.py:{exc.line}" in str(exc)
    assert isinstance(exc.hint, str) and exc.hint.strip()
    assert "Traceback" not in str(exc)


def test_hostile_module_names_never_reach_the_spec_raw(importer):
    """Names with escapes, a newline and spec syntax: either refused with a clean message or
    imported under safe names (its keys then cannot be kept) with the same outputs."""
    original = randomised(unsupported.hostile())
    try:
        imported = importer.import_module(original, [(3, 16, 16)])
    except importer.Unsupported as exc:
        assert not CONTROL.search(str(exc)), repr(str(exc))
        return
    assert not CONTROL.search(imported.text.replace("\n", "")), repr(imported.text)
    assert not re.search(r"^model Evil", imported.text, re.M)
    assert "import os" not in imported.text
    checked(imported.text)
    assert imported.keys_kept is False
    model = rebuilt(imported)
    assert_same_outputs(model, original, (sample((3, 16, 16)),))


def test_tied_weights_are_refused_or_kept_tied(importer):
    original = randomised(unsupported.tied())
    try:
        imported = importer.import_module(original, [(3, 16, 16)])
    except importer.Unsupported as exc:
        assert "shared" in exc.module_path and Path(exc.filename).name == "unsupported.py"
        return
    checked(imported.text)
    model = rebuilt(imported)
    assert params(model) == params(original)
    assert_same_outputs(model, original, (sample((3, 16, 16)),))


def test_hostile_name_in_an_unsupported_message_is_escaped(importer):
    with pytest.raises(importer.Unsupported) as caught:
        importer.import_module(unsupported.hostile_unsupported(), [(3, 16, 16)])
    message = str(caught.value)
    assert not CONTROL.search(message), repr(message)
    assert "[2Jy" in message   # the name is shown, its escape made harmless
