"""The pretrained-style workflow end to end, as a user types it (docs/import.md walks the same
steps): a torchvision-layout net in `mynet.py` whose `make()` loads its pretrained weights;
`cnndsl import mynet.py:make --input 1x8x8 -o mynet.cnn --weights mynet.pt`; `cnndsl check`;
`cnndsl diagram`; a new head (10 classes instead of 5) by editing the last `fc`; `cnndsl train
--init mynet.pt --init-partial --epochs 1` on the built-in digits; `cnndsl export --format
onnx`. The net is tiny and the digits small: the whole walk trains one epoch of 1,437 8x8
images."""

from __future__ import annotations

import importlib.util
import re
import shutil

import pytest
import torch

import cnndsl

#: the user's module file (docs/import.md shows it): ResNet's names, 5 classes, its weights
#: read from pretrained.pt beside it, as `torchvision.models.resnet18(weights=...)` would
MYNET = '''\
"""A small ResNet in torchvision's layout, 'pretrained' on 5 classes (pretrained.pt)."""
from pathlib import Path

import torch
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class TinyResNet(nn.Module):
    def __init__(self, num_classes=5):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(BasicBlock(16, 16))
        self.layer2 = nn.Sequential(BasicBlock(16, 32, stride=2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def make():
    net = TinyResNet()
    weights = Path(__file__).with_name("pretrained.pt")
    net.load_state_dict(torch.load(weights, weights_only=True))
    return net
'''

HAS_ONNX = all(importlib.util.find_spec(n) for n in ("onnx", "onnxruntime", "onnxscript"))


def _user_module(folder):
    spec = importlib.util.spec_from_file_location("mynet_user", folder / "mynet.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def new_head(text: str, classes: int) -> str:
    """The spec with its last `fc` giving `classes` outputs: the number itself, or the `let`
    constant it names."""
    last = list(re.finditer(r"\bfc (\w+)", text))[-1]
    if last.group(1).isdigit():
        return text[:last.start(1)] + str(classes) + text[last.end(1):]
    constant = re.compile(rf"^(let {last.group(1)}\s*=\s*)\d+", re.M)
    assert constant.search(text), text
    return constant.sub(rf"\g<1>{classes}", text, count=1)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "mynet.py").write_text(MYNET)
    torch.manual_seed(0)
    user = _user_module(tmp_path)
    net = user.TinyResNet()
    with torch.no_grad():   # "pretrained": batch-norm statistics away from 0 and 1
        for bn in (m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)):
            bn.running_mean.uniform_(-0.2, 0.2)
            bn.running_var.uniform_(0.5, 1.5)
            bn.weight.uniform_(0.5, 1.5)
    torch.save(net.state_dict(), tmp_path / "pretrained.pt")
    return tmp_path


def test_new_head_edits_the_number_or_its_constant():
    assert new_head("conv 8 k3 -> fc 32 -> fc 5 as fc", 10) == "conv 8 k3 -> fc 32 -> fc 10 as fc"
    assert new_head("let classes = 5\nconv 8 k3 -> fc classes", 10) == (
        "let classes = 10\nconv 8 k3 -> fc classes")


@pytest.mark.slow
def test_import_check_diagram_retrain_export(folder, cli):
    ran = cli("import", "mynet.py:make", "--input", "1x8x8", "-o", "mynet.cnn",
              "--weights", "mynet.pt", cwd=folder)
    assert ran.returncode == 0, ran.stderr
    # the imported spec and weights are the user's pretrained net
    user = _user_module(folder).make().eval()
    model = cnndsl.build(folder / "mynet.cnn")
    model.load_state_dict(torch.load(folder / "mynet.pt", weights_only=True), strict=True)
    x = torch.randn(4, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(x), user(x), rtol=1e-4, atol=1e-5)

    ran = cli("check", "mynet.cnn", cwd=folder)
    assert ran.returncode == 0, ran.stderr
    assert "Total params" in ran.stdout

    drawn = "mynet.svg" if shutil.which("dot") else "mynet.dot"   # svg needs Graphviz
    ran = cli("diagram", "mynet.cnn", *(["-o", drawn] if drawn.endswith(".dot") else []),
              cwd=folder)
    assert ran.returncode == 0, ran.stderr
    assert (folder / drawn).stat().st_size > 0

    spec = folder / "mynet.cnn"
    spec.write_text(new_head(spec.read_text(), 10))
    ran = cli("train", "mynet.cnn", "--data", "digits", "--init", "mynet.pt", "--init-partial",
              "--epochs", "1", "--out", "run", "--progress", "plain", cwd=folder)
    assert ran.returncode == 0, ran.stderr
    loaded = re.search(r"--init: (\d+) of the network's (\d+) tensors", ran.stderr)
    assert loaded and int(loaded[1]) == int(loaded[2]) - 2, ran.stderr   # all but the head
    assert "skipped `fc.weight`" in ran.stderr and "`fc.bias`" in ran.stderr
    assert (folder / "run" / "best.pt").exists()

    if not HAS_ONNX:
        pytest.skip("onnx, onnxruntime and onnxscript are not installed")
    ran = cli("export", "run", "--format", "onnx", "-o", "mynet.onnx", cwd=folder)
    assert ran.returncode == 0, ran.stderr
    assert "checked with onnxruntime" in ran.stdout + ran.stderr
    import onnxruntime

    session = onnxruntime.InferenceSession(str(folder / "mynet.onnx"),
                                           providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    assert out.shape == (4, 10)
