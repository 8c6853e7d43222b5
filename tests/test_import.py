"""`cnndsl import`: PyTorch modules -> specs and weights. The twins round-trip (the same
parameter count, the same outputs with the imported weights; every spec in specs/ and the
corpus are `test_import_roundtrip.py`'s), hostile names are sanitised and untraceable
forwards are located."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn
from twins.compare import assert_same_outputs, perturb

import cnndsl
from cnndsl.importer import Unsupported, import_module, import_target

SPECS = Path(__file__).resolve().parent.parent / "specs"


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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


def test_imported_text_is_formatted_and_labels_keep_keys():
    from cnndsl.backends.cnn import format_source

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
    assert "\nmodel Sequential\ninput 1x8x8\n" in imported.text


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


# ---- the command ---------------------------------------------------------------------

NET = """
from torch import nn

class Tiny(nn.Module):
    input_size = (3, 8, 8)

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3)
        self.bn1 = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(self.bn1(self.conv1(x)).mean((2, 3)))

class Bad(nn.Module):
    def forward(self, x):
        return x.cumsum(1)

def make():
    return Tiny()

def bad():
    m = Bad()
    m.add_module("e\\x1b[31m", nn.ReLU())
    return m

def boom():
    raise KeyError("\\x1b[2Jgone")

def leave():
    raise SystemExit(4)
"""


@pytest.fixture()
def net_file(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(NET)
    return path


def _cli(*argv) -> int:
    from cnndsl.cli import main

    return main(["import", *map(str, argv)])


def test_cli_prints_the_spec_reading_input_size(net_file, capsys):
    assert _cli(f"{net_file}:make") == 0
    out = capsys.readouterr().out
    assert "model Tiny" in out and "input 3x8x8" in out and "conv 4 k3 as conv1" in out
    assert cnndsl.check(out).ok


def test_cli_writes_spec_and_weights_that_load_strictly(net_file, tmp_path, capsys):
    spec, weights = tmp_path / "tiny.cnn", tmp_path / "tiny.pt"
    assert _cli(f"{net_file}:make", "--input", "3x8x8", "-o", spec, "--weights", weights) == 0
    state = torch.load(weights, weights_only=True)
    assert isinstance(state, dict) and all(isinstance(v, torch.Tensor) for v in state.values())
    model = cnndsl.build(spec)
    model.load_state_dict(state, strict=True)
    assert set(state) == {"conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias",
                          "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
                          "fc.weight", "fc.bias"}
    # written by us: replaced on a second run without --force
    assert _cli(f"{net_file}:make", "-o", spec, "--weights", weights) == 0


def test_cli_never_overwrites_a_file_it_did_not_write(net_file, tmp_path, capsys):
    spec, weights = tmp_path / "mine.cnn", tmp_path / "new.pt"
    spec.write_text("input 1x4x4\nrelu\n")
    assert _cli(f"{net_file}:make", "-o", spec, "--weights", weights) == 1
    assert "not overwriting" in capsys.readouterr().err
    assert spec.read_text() == "input 1x4x4\nrelu\n" and not weights.exists()
    other = tmp_path / "other.pt"
    other.write_bytes(b"PK\x05\x06 not ours")
    assert _cli(f"{net_file}:make", "--weights", other) == 1
    assert other.read_bytes() == b"PK\x05\x06 not ours"
    assert _cli(f"{net_file}:make", "-o", spec, "--force") == 0
    assert "model Tiny" in spec.read_text()


def test_cli_unsupported_is_one_escaped_paragraph(net_file, tmp_path, capsys):
    spec = tmp_path / "bad.cnn"
    assert _cli(f"{net_file}:bad", "--input", "3x8x8", "-o", spec) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot import:") and "cumsum" in err
    assert "\x1b" not in err and "Traceback" not in err and not spec.exists()


def test_cli_failing_user_code_is_one_line(net_file, capsys):
    assert _cli(f"{net_file}:boom", "--input", "3x8x8") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "boom" in err and "KeyError" in err and "\x1b" not in err
    assert _cli(f"{net_file}:missing", "--input", "3x8x8") == 1
    assert _cli(f"{net_file}:leave", "--input", "3x8x8") == 1
    assert _cli("no_such_package_xyz:make", "--input", "3x8x8") == 1
    assert "ModuleNotFoundError" in capsys.readouterr().err


@pytest.mark.parametrize("size", ["3x", "0x8x8", "3x8x8x8x8", "a=3x8x8=1", "99999999x9x9",
                                  "4096x4096x4096"])
def test_cli_bad_input_sizes_are_usage_errors(net_file, size, capsys):
    assert _cli(f"{net_file}:make", "--input", size) == 2
    assert "error:" in capsys.readouterr().err


# ---- the twins: torchvision-style modules written by hand ---------------------------------

TWINS = {"autoencoder": ("conv_autoencoder", (1, 28, 28)),
         "dcgan": ("dcgan_generator", (100, 1, 1)), "densenet": ("densenet121", (3, 64, 64)),
         "efficientnet": ("efficientnet_b0", (3, 64, 64)),
         "fpn": ("fpn_resnet18", (3, 64, 64)), "googlenet": ("googlenet", (3, 64, 64)),
         "mobilenetv2": ("mobilenet_v2", (3, 64, 64)),
         "mobilenetv3": ("mobilenet_v3_small", (3, 64, 64)),
         "shufflenetv2": ("shufflenet_v2_x1_0", (3, 64, 64)), "unet": ("unet_small", (1, 64, 64)),
         "yolo": ("YoloTinyLike", (3, 64, 64))}


@pytest.fixture(scope="module")
def twin_trips():
    """twin -> (the perturbed twin, its round-tripped import): each twin imported once for
    the tests that read it (the folding tests read the text, which the weights and the
    mode do not change)."""
    import importlib

    cache: dict[str, tuple] = {}

    def trip(twin: str):
        if twin not in cache:
            make, size = TWINS[twin]
            module = getattr(importlib.import_module(f"twins.{twin}"), make)()
            cache[twin] = module, _round_trip(module, size)
        return cache[twin]

    yield trip
    cache.clear()


@pytest.mark.parametrize("twin", sorted(TWINS))
def test_every_twin_round_trips(twin_trips, twin):
    module, imported = twin_trips(twin)
    if imported.keys_kept:   # the original's own checkpoint loads into the spec
        cnndsl.build(imported.text).load_state_dict(module.state_dict(), strict=True)


@pytest.mark.slow
def test_convnext_twin_round_trips_through_its_channels_first_layer_norm():
    """`LayerNorm2d` is `layernorm`, the channels-last linears 1x1 convs, `LayerScale`
    `scale` (tests/test_import_convnext.py holds the small cases and the refusals)."""
    from twins.convnext import convnext_tiny

    imported = _round_trip(convnext_tiny(), (3, 32, 32))
    assert imported.params == 28_589_128
    assert "layernorm eps=1e-06" in imported.text and "scale as layer_scale" in imported.text


def test_folding_finds_parameters_in_and_an_if(twin_trips):
    text = twin_trips("fpn")[1].text      # fpn_resnet18 at 3x64x64
    assert "block BasicBlock(c, s=1) {" in text
    assert "if s > 1 {" in text and "conv in*2 k1 s2 nobias" in text
    assert "upsample like=@" in text and "\noutput @" in text


def test_densenet_twin_folds_to_a_page(twin_trips):
    text = twin_trips("densenet")[1].text     # densenet121 at 3x64x64
    assert text.count("\n") < 40 and "DenseLayer * 6" in text and "DenseLayer * 24" in text


def test_named_inputs_and_a_label_that_would_take_an_input_name():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.rgb = nn.Conv2d(3, 8, 3, padding=1)
            self.depth = nn.Conv2d(1, 8, 3, padding=1)
            self.head = nn.Conv2d(16, 4, 1)

        def forward(self, image, depth):
            return self.head(torch.cat([self.rgb(image), self.depth(depth)], 1))

    module = perturb(Two().eval(), seed=2)
    imported = import_module(module, {"image": (3, 16, 16), "depth": (1, 16, 16)})
    assert "input image 3x16x16\ninput depth 1x16x16" in imported.text
    assert "@depth -> conv 8 k3 p1" in imported.text and "as depth" not in imported.text
    ours = cnndsl.build(imported.text).eval()
    ours.load_state_dict(imported.state_dict, strict=True)
    inputs = (torch.randn(2, 3, 16, 16), torch.randn(2, 1, 16, 16))
    assert_same_outputs(ours, module, inputs)


class Shared(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        return self.conv(torch.relu(self.conv(x)))


class OwnParameter(nn.Module):
    def __init__(self):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(4, 1, 1))
        self.conv = nn.Conv2d(4, 4, 1)

    def forward(self, x):
        return self.conv(x)


class HoldsOwn(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = OwnParameter()

    def forward(self, x):
        return self.inner(x)


@pytest.mark.parametrize("module, words", [
    (Shared(), "called 2 times"),
    (HoldsOwn(), "holds parameters"),
    (nn.Sequential(nn.Conv2d(4, 4, 1), nn.Dropout(1.0)), "language does not accept"),
], ids=["shared-weights", "own-parameter", "out-of-range"])
def test_modules_the_language_cannot_mirror_are_unsupported_not_internal_errors(module, words):
    with pytest.raises(Unsupported, match=words) as caught:
        import_module(module, [(4, 8, 8)])
    assert caught.value.hint


def test_a_module_with_weights_forward_never_uses_is_named():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.aux1 = nn.Conv2d(3, 4, 3), nn.Linear(4, 4)

        def forward(self, x):
            return self.body(x)

    with pytest.raises(Unsupported, match="aux1") as caught:
        import_module(Net(), [(3, 8, 8)])
    assert caught.value.module_path == "aux1" and "del net.aux1" in caught.value.hint


def test_x_plus_f_of_x_is_residual_and_x_times_g_of_x_is_gate():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1)
            self.att = nn.Conv2d(4, 4, 1)

        def forward(self, x):
            x = x + self.conv(x)
            return x * torch.sigmoid(self.att(x))

    imported = _round_trip(Net(), (4, 8, 8))
    assert "residual(conv 4 k3 p1 as conv) -> gate(conv 4 k1 as att -> sigmoid)" in imported.text
    assert imported.keys_kept


class SizeBranch(nn.Module):
    """A Python branch on a size: fx cannot trace it, torch.export can."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = self.bn(self.conv1(x))
        if x.shape[-1] > 4:
            x = nn.functional.max_pool2d(x, 2)
        x = x + torch.relu(x)
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class ValueBranch(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return torch.relu(x)
        return x


def test_torch_export_fallback_where_fx_cannot_branch_on_a_size():
    imported = _round_trip(SizeBranch(), (3, 16, 16))
    assert "conv 8 k3 p1 as conv1 -> batchnorm as bn -> maxpool 2" in imported.text
    assert imported.keys_kept


def test_a_branch_on_values_fails_both_tracers_with_fxs_location():
    with pytest.raises(Unsupported, match="cannot be traced") as caught:
        import_module(ValueBranch(), [(3, 8, 8)])
    assert caught.value.filename == __file__
    assert caught.value.line == ValueBranch.forward.__code__.co_firstlineno + 1


class NoneSize(nn.Module):
    def forward(self, x):
        return nn.functional.adaptive_avg_pool2d(x, (None, 1))


def test_arguments_no_handler_reads_are_unsupported_not_internal_errors():
    with pytest.raises(Unsupported, match="adaptive_avg_pool2d"):
        import_module(NoneSize(), [(3, 8, 8)])


def test_a_stride_is_never_written_as_a_fraction_of_the_channels():
    """Two uses, 16 channels stride 1 and 32 channels stride 2: `stride=c//16` reproduces
    them but reads as nonsense (and breaks on the next use); a stride is its own parameter."""
    class Unit(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn = nn.BatchNorm2d(cout)

        def forward(self, x):
            return torch.relu(self.bn(self.conv(x)))

    net = nn.Sequential(Unit(3, 16, 1), Unit(16, 32, 2))
    text = _round_trip(net, (3, 16, 16)).text
    assert "stride=s" in text and "c//16" not in text, text


class _Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        return grad


class CubeAfterASizeBranch(SizeBranch):
    """fx fails at the size branch; torch.export, which would trace through `_Cube` and drop
    its backward, must refuse it too."""

    def forward(self, x):
        x = super().forward(x)
        return _Cube.apply(x)


@pytest.mark.parametrize("module", [CubeAfterASizeBranch(), nn.Sequential(nn.Conv2d(3, 3, 1),
                                                                         CubeAfterASizeBranch())],
                         ids=["root", "nested"])
def test_a_custom_autograd_function_is_refused_by_both_tracers(module):
    with pytest.raises(Unsupported, match="_Cube.apply") as caught:
        import_module(module, [(3, 16, 16)])
    assert caught.value.filename == __file__
    assert caught.value.line == CubeAfterASizeBranch.forward.__code__.co_firstlineno + 2
    assert caught.value.module_path == ("" if isinstance(module, CubeAfterASizeBranch) else "1")


def _outcome(mode, module: nn.Module, shape: tuple[int, ...]):
    """What `module` gives on an empty input of `shape` under `mode`: its output's shape and
    type, or its error."""
    try:
        with mode:
            out = module(torch.empty(shape))
        return tuple(out.shape), out.dtype
    except RuntimeError as exc:
        return str(exc)


SHAPED = [(nn.BatchNorm1d(4).eval(), (2, 4, 7)), (nn.BatchNorm2d(4).eval(), (2, 4, 5, 5)),
          (nn.BatchNorm3d(4, affine=False).eval(), (1, 4, 3, 3, 3)),
          (nn.LayerNorm(6), (2, 3, 6)), (nn.LayerNorm((3, 6), bias=False), (2, 3, 6)),
          (nn.Linear(6, 5), (2, 3, 6)), (nn.Linear(6, 5, bias=False), (6,))]
REFUSED = [(nn.BatchNorm2d(3).eval(), (2, 4, 5, 5)), (nn.BatchNorm2d(3), (2, 4, 5, 5)),
           (nn.BatchNorm2d(4, track_running_stats=False).eval(), (2, 4, 5, 5)),
           (nn.BatchNorm2d(4).eval().double(), (2, 4, 5, 5)), (nn.BatchNorm2d(4), (2, 4, 5, 5)),
           (nn.LayerNorm(3), (2, 4, 4)), (nn.LayerNorm((4, 3)), (2, 4, 4)),
           (nn.Linear(3, 4), (2, 5)), (nn.Linear(3, 4).double(), (2, 3))]


def shape_case(case) -> str:
    """`BatchNorm2d(4,eval,float64)-2x4x5x5`: the module, what sets it apart, the input."""
    module, shape = case
    if isinstance(module, nn.LayerNorm):
        notes = ["x".join(map(str, module.normalized_shape))]
    elif isinstance(module, nn.Linear):
        notes = [f"{module.in_features}to{module.out_features}"]
    else:
        notes = [str(module.num_features), "train" if module.training else "eval",
                 *(["no-stats"] if module.running_mean is None else []),
                 *(["no-affine"] if not module.affine else [])]
    if isinstance(module, (nn.LayerNorm, nn.Linear)) and module.bias is None:
        notes.append("no-bias")
    tensors = [*module.parameters(), *module.buffers()]
    if tensors and tensors[0].dtype == torch.float64:
        notes.append("float64")
    return f"{type(module).__name__}({','.join(notes)})-{'x'.join(map(str, shape))}"


@pytest.mark.parametrize("module,shape", SHAPED + REFUSED, ids=map(shape_case, SHAPED + REFUSED))
def test_the_shape_pass_gives_what_fake_tensors_give(module, shape):
    """`fake_mode` takes an eval-mode batch norm, a layer norm and a linear layer by their
    output's shape (PyTorch's decompositions are a dozen fake operations a call); every
    other call, refused or in training mode, runs as on plain fake tensors, its error
    theirs."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    from cnndsl.importer.sizes import fake_mode

    plain = FakeTensorMode(allow_non_fake_inputs=True)
    assert _outcome(fake_mode(), module, shape) == _outcome(plain, module, shape)


@pytest.mark.parametrize("module,shape", SHAPED, ids=map(shape_case, SHAPED))
def test_the_shape_pass_runs_no_norm_nor_product(module, shape):
    from torch.utils._python_dispatch import TorchDispatchMode

    from cnndsl.importer.sizes import fake_mode

    class Ops(TorchDispatchMode):
        seen: list[str] = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.seen.append(str(func))
            return func(*args, **(kwargs or {}))

    with fake_mode(), Ops():
        module(torch.empty(shape))
    assert Ops.seen and not any(w in op for op in Ops.seen for w in ("norm", "mm", "mul")), \
        Ops.seen
