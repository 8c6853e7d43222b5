"""Language v3: labels name modules, so a spec can match a PyTorch checkpoint key
for key (LANGUAGE.md, "Labels name modules")."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

import cnndsl
from cnndsl.passes.naming import TORCH_ATTRIBUTES

SPECS = Path(__file__).resolve().parent.parent / "specs"


# ---- torchvision's ResNet-18, written as torchvision writes it (its module names) ------

class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, layers=(2, 2, 2, 2), num_classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(64, layers[0])
        self.layer2 = self._make_layer(128, layers[1], stride=2)
        self.layer3 = self._make_layer(256, layers[2], stride=2)
        self.layer4 = self._make_layer(512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, num_classes)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, 1, stride, bias=False),
                nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def _randomised(model: nn.Module) -> nn.Module:
    """Every parameter and running statistic random, so a key loaded into the
    wrong module shows in the outputs."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            values = torch.rand(tensor.shape, generator=generator)
            tensor.copy_(values + 0.5 if name.endswith("running_var") else values * 0.1 - 0.05)
    return model


def test_resnet18_loads_torchvisions_state_dict_key_for_key(tmp_path):
    torchvision = _randomised(ResNet()).eval()
    path = tmp_path / "resnet18.pt"
    torch.save(torchvision.state_dict(), path)
    model = cnndsl.build(SPECS / "resnet18_keyed.cnn")
    assert list(model.state_dict()) == list(torchvision.state_dict())
    model.load_state_dict(torch.load(path, weights_only=True), strict=True)
    model.eval()
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected, got = torchvision(x), model(x)
    assert torch.allclose(got, expected, rtol=1e-4, atol=1e-5)


def _keys(spec: str) -> list[str]:
    return list(cnndsl.build(spec).state_dict())


def test_a_labelled_layer_is_the_attribute_of_that_name():
    keys = _keys("input 3x8x8\nconv 4 k3 nobias as stem -> bn as norm -> relu -> gap -> fc 2 as fc")
    assert keys[:2] == ["stem.weight", "norm.weight"]
    assert keys[-2:] == ["fc.weight", "fc.bias"]


def test_labelled_groups_number_their_modules_as_pytorch_does():
    keys = _keys("input 3x8x8\n(conv 4 k1 nobias -> bn) as downsample -> gap -> fc 2")
    assert keys[:3] == ["downsample.0.weight", "downsample.1.weight", "downsample.1.bias"]
    assert "downsample.1.running_mean" in keys


def test_an_unlabelled_group_inside_adds_its_modules_one_by_one():
    keys = _keys("input 3x8x8\n(conv 4 k1 -> (conv 4 k1 -> conv 4 k1) * 2) as g -> gap")
    assert [k for k in keys if k.endswith("weight")] == [f"g.{i}.weight" for i in range(5)]


def test_a_labelled_module_inside_a_group_keeps_its_name_and_its_place():
    keys = _keys("input 3x8x8\n(conv 4 k1 -> conv 4 k1 as mid -> (conv 4 k1) as inner) as g")
    assert [k for k in keys if k.endswith("weight")] == [
        "g.0.weight", "g.mid.weight", "g.inner.0.weight"]


def test_a_labelled_repetition_of_blocks_is_numbered_from_zero():
    spec = ("input 3x8x8\nblock B(c) { conv c k3 p1 as conv1 -> relu }\n"
            "conv 4 k1 -> B(4) * 3 as stage -> gap")
    for text in (spec, spec.replace("B(4) * 3 as stage", "(B(4) * 3) as stage")):
        keys = _keys(text)
        assert [k for k in keys if k.endswith("weight")] == [
            "conv1.weight", "stage.0.conv1.weight", "stage.1.conv1.weight",
            "stage.2.conv1.weight"]


def test_generated_names_step_aside_for_the_labels():
    # the unlabelled first conv would be `conv1`: the label takes that name
    keys = _keys("input 3x8x8\nconv 4 k1 -> conv 4 k1 as conv1 -> gap")
    assert keys == ["conv2.weight", "conv2.bias", "conv1.weight", "conv1.bias"]


def test_a_labelled_tensor_is_still_usable_in_skips():
    model = cnndsl.build("input 3x8x8\nconv 4 k3 p1 as stem -> relu -> "
                         "conv 4 k3 p1 -> add(identity, @stem)")
    assert model(torch.randn(1, 3, 8, 8)).shape == (1, 4, 8, 8)
    assert "stem.weight" in model.state_dict()


def test_a_module_name_given_twice_is_a_located_error():
    result = cnndsl.check("input 3x8x8\n(conv 4 k1 as c) * 2 -> gap")
    codes = [d.code for d in result.diagnostics]
    assert "E0425" in codes
    found = next(d for d in result.diagnostics if d.code == "E0425")
    assert found.span is not None and found.span.start > 0


def test_a_label_inside_a_labelled_repetition_is_still_given_twice():
    result = cnndsl.check("input 3x8x8\n((conv 4 k1 as c) * 2) as layer -> gap")
    assert [d.code for d in result.diagnostics if d.severity == "error"] == ["E0425"]
    assert "layer.c" in result.diagnostics[0].message


@pytest.mark.parametrize("name", ["forward", "training", "parameters", "append"])
def test_a_label_that_would_shadow_a_torch_attribute_is_refused(name):
    result = cnndsl.check(f"input 3x8x8\nconv 4 k1 as {name} -> gap")
    assert [d.code for d in result.diagnostics if d.severity == "error"] == ["E0426"]


def test_the_list_of_torch_attributes_is_torchs_own():
    seq = nn.Sequential()
    public = {n for n in set(dir(seq)) | set(vars(seq)) if not n.startswith("_")}
    assert public <= TORCH_ATTRIBUTES


def test_a_block_body_error_is_reported_once_for_all_uses():
    result = cnndsl.check("input 3x8x8\nblock B { (conv 4 k1 as c) * 2 }\nB -> B -> gap")
    assert [d.code for d in result.diagnostics].count("E0425") == 1


GRAPH = """input 4x8x8
block Unit(c) { conv c k3 p1 as conv1 -> bn -> relu }
conv 8 k1 as stem
-> (residual(conv 8 k3 p1 -> relu) -> gate(gap -> conv 8 k1 -> sigmoid)
    -> split(conv 4 k1, identity) as mixed -> (Unit(8) * 2) -> (identity) as nothing) as body
-> concat(conv 4 k1 as left, (Unit(4) -> conv 4 k1) as right) as cat
-> (Unit(8) * 0) as none -> gap -> fc 3 as head
output @cat -> conv 2 k1 as extra, @head"""


def _copy_in_order(source: nn.Module, target: nn.Module) -> None:
    with torch.no_grad():
        for a, b in zip(source.state_dict().values(), target.state_dict().values(), strict=True):
            assert a.shape == b.shape
            b.copy_(a)


def test_labels_change_the_names_only_never_what_runs():
    """The same graph with and without its labels: the same modules in the same order,
    the same outputs; the labelled one is named as the labels say."""
    plain = GRAPH
    for label in ("stem", "mixed", "nothing", "body", "left", "right", "none", "conv1",
                  "extra"):
        plain = plain.replace(f" as {label}", "")   # `cat` and `head` stay: `output` reads them
    labelled, unlabelled = cnndsl.build(GRAPH), cnndsl.build(plain)
    _randomised(unlabelled)
    _copy_in_order(unlabelled, labelled)
    labelled.eval(), unlabelled.eval()
    x = torch.randn(2, 4, 8, 8, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        for got, expected in zip(labelled(x), unlabelled(x), strict=True):
            assert torch.equal(got, expected)
    keys = [k for k in labelled.state_dict() if k.endswith(".weight")]
    # body: conv 0, relu 1, gap 2, conv 3, sigmoid 4, the split's conv 5 (a labelled merge
    # names no module), Unit 6 and 7; `(identity) as nothing` holds no module: no number
    assert keys[:4] == ["stem.weight", "body.0.weight", "body.3.weight", "body.5.weight"]
    assert keys[4:6] == ["body.6.conv1.weight", "body.6.bn1.weight"]
    assert "body.7.conv1.weight" in keys and not any(k.startswith("body.8") for k in keys)
    assert {"left.weight", "right.0.conv1.weight", "right.1.weight", "head.weight",
            "extra.weight"} <= set(keys)
    assert not any(k.startswith(("nothing", "none")) for k in keys)
