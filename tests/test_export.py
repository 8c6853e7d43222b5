"""`cnndsl export`: every format reloads (onnxruntime, torch.jit.load, torch.export.load)
and agrees with the PyTorch module at two batch sizes; bad input is one line, and only
files cnndsl wrote are replaced."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import zipfile

import pytest
import torch
from conftest import ROOT

from cnndsl.backends.export import ExportError, export, exported_by_us
from cnndsl.backends.pytorch.build import compiled_module
from cnndsl.cli import main
from cnndsl.train.weights import WeightsError, read_state_dict

HAS_ONNX = all(importlib.util.find_spec(n) for n in ("onnx", "onnxruntime", "onnxscript"))
NEEDS_ONNX = pytest.mark.skipif(not HAS_ONNX, reason="onnx, onnxruntime and onnxscript are "
                                "not installed (pip install 'cnndsl[export]')")
EXTENSION = {"onnx": ".onnx", "torchscript": ".pt", "exported-program": ".pt2"}
#: small specs of each rank and kind: a 2-D classifier, a 1-D one, a segmenter; then, marked
#: slow (tens of seconds each on a shared CPU), a 3-D one, ShuffleNet (its shuffle) and
#: ResNet-18 for a real depth
SPECS = ("lenet", "ecg1d", "unet_small",
         *(pytest.param(s, marks=pytest.mark.slow)
           for s in ("c3d_small", "shufflenet_v2_x1_0", "resnet18")))
#: the slow ones exported at a smaller sample (`input=`) that still goes through every layer
#: (each pools globally before its classifier): what is checked is the file against the
#: module, not the size, and C3D's 16x112x112 clips alone were a minute of convolutions
#: across the three formats
SMALLER = {"c3d_small": "3x8x32x32", "shufflenet_v2_x1_0": "3x64x64", "resnet18": "3x64x64"}


def _formats():
    for fmt in EXTENSION:
        yield pytest.param(fmt, marks=NEEDS_ONNX) if fmt == "onnx" else fmt


def _initial_model(spec: str):
    """The module `export` starts from: the spec's model built after seed 0."""
    import cnndsl

    result = cnndsl.check_file(ROOT / "specs" / f"{spec}.cnn")
    torch.manual_seed(0)
    return getattr(compiled_module(result), result.network.model)().eval(), result


def _reloaded(path, fmt: str):
    """The exported file, loaded by its own runtime: a function of one batch."""
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return lambda x: torch.from_numpy(session.run(None, {name: x.numpy()})[0])
    if fmt == "torchscript":
        return torch.jit.load(str(path))
    return torch.export.load(str(path)).module()


@pytest.mark.parametrize("fmt", list(_formats()))
@pytest.mark.parametrize("spec", SPECS)
def test_every_format_reloads_and_agrees_at_two_batch_sizes(tmp_path, spec, fmt):
    out = tmp_path / f"{spec}{EXTENSION[fmt]}"
    done = export(ROOT / "specs" / f"{spec}.cnn", out, fmt, input=SMALLER.get(spec))
    assert done.path == out and out.is_file() and done.agrees, done
    model, result = _initial_model(spec)
    assert done.input == (tuple(int(n) for n in SMALLER[spec].split("x")) if spec in SMALLER
                          else result.network.input)
    run = _reloaded(out, fmt)
    for batch in (1, 4):     # the example was 2: the batch dimension is dynamic
        x = torch.randn(batch, *done.input)
        with torch.no_grad():
            want, got = model(x), run(x)
        assert got.shape == want.shape == (batch, *result.summary.output)
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-3)
    assert exported_by_us(out)


@pytest.fixture(scope="module")
def lenet_onnx(tmp_path_factory):
    """LeNet exported to ONNX once, for the tests that read the file (none writes it)."""
    out = tmp_path_factory.mktemp("onnx") / "lenet.onnx"
    export(ROOT / "specs" / "lenet.cnn", out)
    return out


@NEEDS_ONNX
def test_onnx_batch_is_a_named_dynamic_dimension(lenet_onnx):
    import onnx

    model = onnx.load(str(lenet_onnx))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [3, 32, 32]
    meta = json.loads({p.key: p.value for p in model.metadata_props}["cnndsl"])
    assert meta["model"] == "LeNet" and meta["input"] == ["batch", 3, 32, 32]


@NEEDS_ONNX
def test_channel_shuffle_passes_the_torchscript_based_onnx_exporter(tmp_path):
    """`nn.ChannelShuffle` has no ONNX symbolic; the emitted helper is plain views."""
    import onnxruntime

    import cnndsl

    result = cnndsl.check("input 8x5x5\nconv 8 k1 -> shuffle 4 -> gap -> fc 3", "s.cnn")
    model = getattr(compiled_module(result), result.network.model)().eval()
    assert "= nn.ChannelShuffle(" not in compiled_module(result).__cnndsl_code__
    x = torch.randn(2, 8, 5, 5)
    torch.onnx.export(model, (x,), str(tmp_path / "legacy.onnx"), dynamo=False,
                      input_names=["x"], dynamic_axes={"x": {0: "b"}})
    session = onnxruntime.InferenceSession(str(tmp_path / "legacy.onnx"),
                                           providers=["CPUExecutionProvider"])
    y = torch.randn(3, 8, 5, 5)
    torch.testing.assert_close(torch.from_numpy(session.run(None, {"x": y.numpy()})[0]),
                               model(y).detach(), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("groups,channels", [(2, 4), (3, 12), (4, 8), (1, 5), (6, 6)])
def test_the_shuffle_helper_is_nn_channel_shuffle(groups, channels):
    import cnndsl

    module = compiled_module(cnndsl.check(f"input {channels}x3x2\nshuffle {groups}", "s.cnn"))
    x = torch.randn(2, channels, 3, 2)
    assert torch.equal(module.ChannelShuffle(groups)(x), torch.nn.ChannelShuffle(groups)(x))
    assert torch.equal(torch.jit.script(module.ChannelShuffle(groups))(x),
                       torch.nn.ChannelShuffle(groups)(x))


def test_a_block_cannot_take_a_helper_class_name():
    """A block `ChannelShuffle` (or `Scale`) would be a second class of that name in the
    generated file, replacing the helper: it is refused with a located error."""
    import cnndsl
    from cnndsl.backends.pytorch.helpers import HELPERS
    from cnndsl.passes.declare import PYTHON_TAKEN

    assert set(HELPERS) <= PYTHON_TAKEN
    result = cnndsl.check("block ChannelShuffle {\n    conv in k3 p1\n}\ninput 4x8x8\n"
                          "ChannelShuffle -> shuffle 2 -> fc 2\n", "b.cnn")
    assert not result.ok and "uses this name itself" in str(result)


# ---- the command line ---------------------------------------------------------------------

def cli(capsys, *args) -> tuple[int, str]:
    status = main(["export", *map(str, args)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "internal error" not in captured.err
    return status, captured.err


LENET = ROOT / "specs" / "lenet.cnn"


def test_cli_reports_the_check(tmp_path, capsys):
    status, err = cli(capsys, LENET, "-o", tmp_path / "l.pt2")
    assert status == 0, err
    assert "wrote" in err and "exported-program" in err and "input Bx3x32x32" in err
    assert "checked with torch.export.load at batch 1 and 3: max difference from PyTorch" in err


def test_only_our_own_files_are_replaced(tmp_path, capsys):
    mine = tmp_path / "l.pt"
    assert cli(capsys, LENET, "-o", mine)[0] == 0
    assert cli(capsys, LENET, "-o", mine)[0] == 0          # ours: replaced
    theirs = tmp_path / "theirs.pt"
    torch.save({"w": torch.ones(1)}, theirs)                # a zip, but not ours
    before = theirs.read_bytes()
    status, err = cli(capsys, LENET, "-o", theirs)
    assert status == 1 and "was not written by cnndsl; not overwriting it" in err
    assert theirs.read_bytes() == before
    assert cli(capsys, LENET, "-o", theirs, "--force")[0] == 0
    assert exported_by_us(theirs)
    text = tmp_path / "notes.onnx"
    text.write_text("my notes")
    assert cli(capsys, LENET, "-o", text)[0] == 1 and text.read_text() == "my notes"


@NEEDS_ONNX
def test_an_onnx_file_of_ours_is_recognised_and_another_is_not(tmp_path, lenet_onnx):
    import onnx

    assert exported_by_us(lenet_onnx)
    model = onnx.load(str(lenet_onnx))
    model.doc_string = "someone else's"
    onnx.save(model, str(tmp_path / "b.onnx"))
    assert not exported_by_us(tmp_path / "b.onnx")
    with pytest.raises(Exception, match="not written by cnndsl"):
        export(LENET, tmp_path / "b.onnx")


def test_without_the_onnx_packages_it_says_what_to_install(tmp_path, capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnxscript" else real(name, *a))
    status, err = cli(capsys, LENET, "-o", tmp_path / "l.onnx")
    assert status == 1 and not (tmp_path / "l.onnx").exists()
    assert err == ("error: `--format onnx` needs the packages onnxscript, which are not "
                   "installed: pip install 'cnndsl[export]'\n")


@pytest.mark.parametrize("args,says", [
    (["-o", "x.onnx", "--format", "torchscript"], "has the extension `.onnx` but --format"),
    (["-o", "x.bin"], "cannot tell the format from"),
    (["-o", "."], "is a directory; give a file name"),
    # a spec's `--input` checks the network at that size (tests/test_overrides.py)
    (["-o", "x.pt", "--input", "3xax2"], "`--input 3xax2`: `3xax2` is not a size"),
    (["-o", "x.pt", "--weights", "nothing.pt"], "cannot read"),
])
def test_bad_options_are_one_line(tmp_path, capsys, monkeypatch, args, says):
    monkeypatch.chdir(tmp_path)
    status, err = cli(capsys, LENET, *args)
    assert status in (1, 2) and says in err and err.count("\n") == 1, err
    assert not any(p.suffix in (".pt", ".onnx", ".pt2") for p in tmp_path.iterdir())


def test_another_input_size_where_the_network_takes_it(tmp_path):
    done = export(ROOT / "specs" / "unet_small.cnn", tmp_path / "u.pt2", input="1x32x48")
    assert done.input == (1, 32, 48) and done.agrees
    out = torch.export.load(str(tmp_path / "u.pt2")).module()(torch.randn(3, 1, 32, 48))
    assert out.shape[0] == 3 and out.shape[2:] == (32, 48)


def test_a_spec_with_errors_prints_its_diagnostics(tmp_path, capsys):
    bad = tmp_path / "bad.cnn"
    bad.write_text("input 1x4x4\nconv 8 k5\n")
    status, err = cli(capsys, bad, "-o", tmp_path / "b.pt")
    assert status == 1 and "error[E" in err and not (tmp_path / "b.pt").exists()


def test_a_network_too_large_for_memory_is_refused_before_building(tmp_path, capsys):
    spec = tmp_path / "big.cnn"
    spec.write_text("input 3x1024x1024\nfc 100000\n")      # 1.2 TB of weights
    status, err = cli(capsys, spec, "-o", tmp_path / "big.pt")
    assert status == 1 and "the model needs at least" in err and err.count("\n") == 1


def test_several_inputs_are_refused(tmp_path, capsys):
    spec = tmp_path / "two.cnn"
    spec.write_text("input image 1x8x8\ninput depth 1x8x8\n"
                    "conv 4 k3 p1 -> concat(@depth, identity) -> fc 2\n")
    status, err = cli(capsys, spec, "-o", tmp_path / "t.pt")
    assert status == 1 and "takes networks with one input; this one has 2" in err
    assert not (tmp_path / "t.pt").exists()


@pytest.mark.parametrize("fmt", list(_formats()))
def test_several_outputs_are_each_checked(tmp_path, fmt):
    spec = tmp_path / "heads.cnn"
    spec.write_text("input 1x8x8\nconv 4 k3 p1 as a -> fc 2\noutput @a -> gap -> fc 2, "
                    "@a -> fc 3\n")
    done = export(spec, tmp_path / f"h{EXTENSION[fmt]}", fmt)
    assert done.agrees and done.max_difference < 1e-4


# ---- weights ----------------------------------------------------------------------------

def test_weights_from_a_file_are_what_is_exported(tmp_path):
    model, _ = _initial_model("lenet")
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.5)
    torch.save({"state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}},
               tmp_path / "w.pth")
    export(LENET, tmp_path / "l.pt", weights=tmp_path / "w.pth")
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(torch.jit.load(str(tmp_path / "l.pt"))(x), model(x).detach())


def test_weights_that_do_not_fit_are_listed(tmp_path, capsys):
    model, _ = _initial_model("mnist_net")
    torch.save(model.state_dict(), tmp_path / "other.pt")
    status, err = cli(capsys, LENET, "-o", tmp_path / "l.pt", "--weights",
                      tmp_path / "other.pt")
    assert status == 1 and err.count("\n") == 1, err
    assert "does not fit the network" in err and "missing `" in err and "shape `" in err
    assert "(and " in err          # the first few, not all


def test_a_pickled_model_is_not_unpickled(tmp_path, capsys):
    model, _ = _initial_model("lenet")
    torch.save(model, tmp_path / "whole.pt")            # a pickled class: code
    status, err = cli(capsys, LENET, "-o", tmp_path / "l.pt", "--weights",
                      tmp_path / "whole.pt")
    assert status == 1 and "holds more than tensors and plain data" in err


@pytest.mark.parametrize("payload", [{"a": 1}, [torch.ones(2)], {}, "text"])
def test_files_without_a_state_dict_are_refused(tmp_path, payload):
    torch.save(payload, tmp_path / "w.pt")
    with pytest.raises(WeightsError, match="holds no state_dict"):
        read_state_dict(tmp_path / "w.pt")


def test_odd_weights_files_are_refused(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"PK\x03\x04 not a zip at all")
    with pytest.raises(WeightsError, match="not a readable PyTorch file"):
        read_state_dict(tmp_path / "junk.pt")
    with pytest.raises(WeightsError, match="not a regular file"):
        read_state_dict(tmp_path)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(WeightsError, match="not a regular file"):   # and no hang
        read_state_dict(tmp_path / "fifo")


@pytest.mark.parametrize("wrap", ["state_dict", "model", "model_state_dict"])
def test_the_common_wrappers_are_opened(tmp_path, wrap):
    state = {"fc.weight": torch.ones(2, 3), "_orig_mod.x": torch.ones(1)}
    torch.save({wrap: state, "epoch": 3}, tmp_path / "w.pt")
    assert list(read_state_dict(tmp_path / "w.pt")) == list(state)


# ---- a trained run ----------------------------------------------------------------------

#: a small network at the digits' own size (1x8x8): its run trains in a second or two
SMALL = "model Small\ninput 1x8x8\nconv 8 k3 p1 -> relu -> maxpool 2 -> fc 10\n"


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    spec = tmp_path_factory.mktemp("spec") / "small.cnn"
    spec.write_text(SMALL)
    out = tmp_path_factory.mktemp("run") / "r"
    status = main(["train", str(spec), "--epochs", "1", "--out", str(out), "--progress",
                   "plain"])
    assert status == 0
    return out


def test_a_run_exports_its_best_weights_and_its_record(tmp_path, run_folder):
    done = export(run_folder, tmp_path / "m.pt")
    assert "best.pt of the run" in done.weights and done.agrees
    with zipfile.ZipFile(tmp_path / "m.pt") as archive:
        name = next(n for n in archive.namelist() if n.endswith("/extra/cnndsl.json"))
        meta = json.loads(archive.read(name))
    record = json.loads((run_folder / "config.json").read_text())
    assert meta["classes"] == record["classes"] and meta["task"] == "classify"
    assert meta["normalisation"] == record["normalisation"]
    best = torch.load(run_folder / "best.pt", weights_only=True)["model"]
    import cnndsl

    result = cnndsl.check(SMALL, "small.cnn")
    model = getattr(compiled_module(result), "Small")().eval()
    model.load_state_dict(best)
    x = torch.randn(3, 1, 8, 8)
    torch.testing.assert_close(torch.jit.load(io.BytesIO((tmp_path / "m.pt").read_bytes()))(x),
                               model(x).detach())


def test_a_run_takes_best_or_last_only(tmp_path, run_folder, capsys):
    assert export(run_folder, tmp_path / "m.pt2", weights="last.pt").agrees
    status, err = cli(capsys, run_folder, "-o", tmp_path / "m.pt", "--weights", "other.pt")
    assert status == 1 and "--weights is best.pt or last.pt" in err


def test_a_folder_that_is_not_a_run_is_refused(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    status, err = cli(capsys, tmp_path / "empty", "-o", tmp_path / "m.pt")
    assert status == 1 and err.startswith("error: ") and err.count("\n") == 1, err


def test_export_error_is_the_api_exception(tmp_path):
    with pytest.raises(ExportError, match="cannot tell the format"):
        export(LENET, tmp_path / "x.txt")
