"""`cnndsl import`: PyTorch modules -> specs and weights. Every spec in specs/ round-trips
(compile, import the built module: same parameter count, the same outputs with the imported
weights), the twins import, hostile names are sanitised and untraceable forwards are located."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn
from twins.compare import assert_same_outputs, perturb

import cnndsl
from cnndsl.importer import Unsupported, import_module, import_target

SPECS = Path(__file__).resolve().parent.parent / "specs"

#: Specs whose networks pool globally before the classifier: imported at a smaller size.
SMALL = {"resnet50": (3, 64, 64), "densenet121": (3, 64, 64), "mobilenet_v2": (3, 64, 64),
         "mobilenet_v2_075": (3, 64, 64), "efficientnet_b0": (3, 64, 64),
         "convnext_tiny": (3, 64, 64), "googlenet": (3, 64, 64),
         "shufflenet_v2_x1_0": (3, 64, 64), "mobilenet_v3_small": (3, 64, 64),
         "resnet18": (3, 64, 64), "resnet18_keyed": (3, 64, 64), "fpn_resnet18": (3, 64, 64)}
SLOW = {"densenet121", "convnext_tiny", "googlenet", "mobilenet_v2_075", "vgg16"}
#: Specs the importer cannot bring back yet, with the reason.
REFUSED = {"yolo_tiny_like": "a tensor is used in two places"}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _input(spec: Path) -> tuple[int, ...]:
    if spec.stem in SMALL:
        return SMALL[spec.stem]
    found = re.search(r"^input (\S+)", spec.read_text(), re.M)
    return tuple(int(v) for v in found.group(1).split("x"))


def _round_trip(original: nn.Module, size: tuple[int, ...]):
    original = perturb(original.eval(), seed=1)
    imported = import_module(original, [size])
    assert cnndsl.check(imported.text).ok, imported.text
    ours = cnndsl.build(imported.text).eval()
    assert sum(p.numel() for p in ours.parameters()) == \
        sum(p.numel() for p in original.parameters())
    ours.load_state_dict(imported.state_dict, strict=True)
    inputs = (torch.randn(2, *size, generator=torch.Generator().manual_seed(3)),)
    assert_same_outputs(ours, original, inputs, tolerance=1e-4)
    return imported


def _spec_cases():
    for spec in sorted(SPECS.glob("*.cnn")):
        marks = [pytest.mark.slow] if spec.stem in SLOW else []
        if spec.stem in REFUSED:
            marks.append(pytest.mark.xfail(reason=REFUSED[spec.stem], raises=Unsupported,
                                           strict=True))
        yield pytest.param(spec, id=spec.stem, marks=marks)


@pytest.mark.parametrize("spec", list(_spec_cases()))
def test_every_spec_round_trips(spec):
    imported = _round_trip(cnndsl.build(spec), _input(spec))
    assert imported.keys_kept   # a compiled spec's own names survive an import


def test_imported_text_is_formatted_and_labels_keep_keys():
    from cnndsl.fmt import format_source

    imported = _round_trip(cnndsl.build(SPECS / "resnet18_keyed.cnn"), (3, 64, 64))
    assert format_source(imported.text) == imported.text
    assert "as layer1" in imported.text and "as downsample" in imported.text
    assert "layer2.0.downsample.0.weight" in imported.state_dict


class Hostile(nn.Module):
    def __init__(self):
        super().__init__()
        self.add_module("a\x1b[2J", nn.Conv2d(3, 4, 3))
        self.add_module("in", nn.BatchNorm2d(4))
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        x = getattr(self, "a\x1b[2J")(x)
        x = torch.relu(getattr(self, "in")(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def test_hostile_attribute_and_class_names_never_reach_the_spec():
    cls = type("Evil\x1b]0;pwn\x07Net", (Hostile,), {})
    imported = _round_trip(cls(), (3, 8, 8))
    assert "\x1b" not in imported.text and "\x07" not in imported.text
    assert "model EvilpwnNet" in imported.text or "model Evil" in imported.text
    assert not imported.keys_kept     # those names cannot be labels: the keys are ours
    assert "as fc" in imported.text


class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x):
        if x.sum() > 0:
            return self.conv(x)
        return x


class Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 3, 1)
        self.inner = nn.Sequential(nn.ReLU(), Branchy())

    def forward(self, x):
        return self.inner(self.stem(x))


def test_data_dependent_control_flow_is_located():
    with pytest.raises(Unsupported) as caught:
        import_module(Outer(), [(3, 8, 8)])
    exc = caught.value
    assert exc.module_path == "inner.1"
    assert exc.filename == __file__
    assert exc.line == Branchy.forward.__code__.co_firstlineno + 1
    assert exc.hint and "\n" not in str(exc) and "inner.1" in str(exc)


class NoWord(nn.Module):
    def forward(self, x):
        return torch.cumsum(x, 1)


def test_an_op_without_a_word_is_unsupported_with_a_hint():
    with pytest.raises(Unsupported, match="cumsum") as caught:
        import_module(NoWord(), [(3, 8, 8)])
    assert caught.value.hint


def test_module_is_restored_to_training_mode():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Dropout(0.1))
    net.train()
    imported = import_module(net, [(1, 8, 8)])
    assert net.training and all(m.training for m in net.modules())
    assert imported.text.startswith("model Sequential\ninput 1x8x8\n")


def test_functional_forward_and_sequential_keys():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
                                          nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, bias=False),
                                          nn.BatchNorm2d(16, eps=1e-3))
            self.head = nn.Linear(16 * 2 * 2, 10)

        def forward(self, x):
            x = F.relu(self.features(x))
            return F.log_softmax(self.head(x.view(x.size(0), -1)), dim=1)

    F = nn.functional
    imported = _round_trip(Net(), (1, 8, 8))
    assert imported.keys_kept
    assert "conv 16 k3 nobias" in imported.text and "eps=0.001" in imported.text
    assert "logsoftmax" in imported.text


def test_import_target_from_a_file(tmp_path):
    source = tmp_path / "net.py"
    source.write_text(textwrap.dedent("""
        from torch import nn
        def make():
            return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
        def broken():
            raise RuntimeError("no")
        def number():
            return 3
    """))
    assert "conv 4 k3" in import_target(f"{source}:make", [(3, 8, 8)]).text
    from cnndsl.importer.load import TargetError

    with pytest.raises(TargetError, match="raised RuntimeError"):
        import_target(f"{source}:broken", [(3, 8, 8)])
    with pytest.raises(TargetError, match="not an nn.Module"):
        import_target(f"{source}:number", [(3, 8, 8)])
    with pytest.raises(TargetError, match="not FILE.py:CALLABLE"):
        import_target(str(source), [(3, 8, 8)])
