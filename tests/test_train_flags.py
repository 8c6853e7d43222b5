"""`cnndsl train` flags: a user's mistake is one clear line before any work (no
run folder, no data read), never an internal error."""

from __future__ import annotations

import pytest
from conftest import ROOT

from cnndsl.cli import main

SPEC = str(ROOT / "specs" / "mnist_net.cnn")


def run(capsys, *flags):
    try:
        status = main(["train", SPEC, "--progress", "plain", *flags])
    except SystemExit as exc:      # argparse refuses a malformed value with status 2
        status = exc.code
    return status, capsys.readouterr().err


@pytest.mark.parametrize("flags, words", [
    (["--lr", "nan"], "finite number above 0"),
    (["--lr", "inf"], "finite number above 0"),
    (["--lr", "-1"], "above 0"),
    (["--weight-decay", "-1"], "at least 0"),
    (["--momentum", "1.5"], "between 0"),
    (["--workers", "-3"], "between 0"),
    (["--seed", "1e23"], "not a whole number"),
    (["--seed", "100000000000000000000000"], "between 0"),
    (["--device", "meta"], "not a device cnndsl trains on"),
    (["--device", "cuda:x"], "not a device"),
    (["--epochs", "0"], "between 1"),
    (["--val", "1"], "between 0"),
    (["--ema", "1.5"], "between 0"),
    (["--augment", "flip,spin"], "augmentations are"),
    (["--schedule", "linear"], "unknown schedule"),
    (["--mean", "0.5,x"], "numbers separated by commas"),
])
def test_malformed_values_are_refused_by_the_parser(capsys, tmp_path, monkeypatch, flags,
                                                    words):
    monkeypatch.chdir(tmp_path)
    status, err = run(capsys, *flags)
    assert status == 2 and words in err, err
    assert "Traceback" not in err and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("flags, words", [
    (["--optimizer", "adam", "--momentum", "0.9"], "adam takes no momentum"),
    (["--optimizer", "adamw", "--nesterov"], "adamw takes no nesterov"),
    (["--optimizer", "sgd", "--nesterov"], "--nesterov needs a momentum above 0"),
    (["--mean", "0.5", "--std", "0.2,0.3"], "--mean has 1 values but --std 2"),
    (["--mean", "0.5"], "give --mean and --std together"),
])
def test_flags_the_optimizer_does_not_take_are_refused_before_any_work(
        capsys, tmp_path, monkeypatch, flags, words):
    monkeypatch.chdir(tmp_path)
    status, err = run(capsys, *flags)
    assert status == 1 and words in err, err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert not (tmp_path / "runs").exists()


def test_a_missing_cuda_device_is_one_line(capsys, tmp_path, monkeypatch):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    monkeypatch.chdir(tmp_path)
    status, err = run(capsys, "--device", "cuda")
    assert status == 1 and "no CUDA device" in err and not (tmp_path / "runs").exists()


def test_nll_without_logsoftmax_warns(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, err = run(capsys, "--loss", "nll", "--epochs", "1", "--out", str(tmp_path / "r"))
    assert status == 0 and "--loss nll expects log-probabilities" in err


def test_a_net_that_is_neither_classifier_nor_segmenter_is_refused(capsys, tmp_path,
                                                                   monkeypatch):
    spec = tmp_path / "odd.cnn"
    spec.write_text("input 1x8x8\nconv 4 k3\n")       # 4x6x6: neither scores nor per pixel
    monkeypatch.chdir(tmp_path)
    status = main(["train", str(spec)])
    err = capsys.readouterr().err
    assert status == 1 and "trains classifiers" in err and not (tmp_path / "runs").exists()


def test_gpu_options_on_the_cpu_are_said_to_be_unused(capsys, tmp_path, monkeypatch):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    monkeypatch.chdir(tmp_path)
    status, err = run(capsys, "--channels-last", "--compile", "--epochs", "1", "--device",
                      "cpu", "--out", str(tmp_path / "r"))
    assert status == 0
    assert "--channels-last is for CUDA; not used on cpu" in err
    assert "--compile is for CUDA; not used on cpu" in err


def test_nesterov_over_a_spec_with_dampening_is_refused_before_any_work(capsys, tmp_path,
                                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "damped.cnn"
    spec.write_text("input 1x8x8\nconv 4 k3 -> relu -> fc 10\n"
                    "train { optimizer sgd momentum=0.9 dampening=0.5 }\n", encoding="utf-8")
    status = main(["train", str(spec), "--progress", "plain", "--nesterov"])
    err = capsys.readouterr().err
    assert status == 1 and err == "error: --nesterov needs dampening 0: drop the spec's " \
                                  "`dampening=`\n", err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("flag, word, means", [
    ("--loss", "cross_entropy", "crossentropy"),
    ("--loss", "Cross-Entropy", "crossentropy"),
    ("--data", "Fashion_MNIST", "fashion-mnist"),
    ("--data", "CIFAR_10", "cifar10"),
    ("--optimizer", "AdamW", "adamw"),
])
def test_the_flags_take_the_spellings_the_spec_takes(flag, word, means):
    import argparse

    from cnndsl import check
    from cnndsl.train.options import add_train_arguments

    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    assert getattr(parser.parse_args([flag, word]), flag[2:]) == means
    key = {"--loss": "loss", "--data": "data", "--optimizer": "optimizer"}[flag]
    result = check(f"input 1x8x8\nfc 10\ntrain {{ {key} {word} }}\n", "a.cnn")
    assert result.ok and getattr(result.network.train, key) == means


@pytest.mark.parametrize("flags, spec_line", [
    (["--loss", "nll", "--smoothing", "0.1"], ""),
    (["--loss", "mse"], "smoothing 0.1"),
])
def test_label_smoothing_with_a_loss_that_has_none_is_refused(capsys, tmp_path, monkeypatch,
                                                               flags, spec_line):
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "net.cnn"
    spec.write_text(f"input 1x8x8\nconv 4 k3 -> relu -> fc 10\ntrain {{\n    {spec_line}\n}}\n")
    try:
        status = main(["train", str(spec), "--out", "r", *flags])
    except SystemExit as exc:
        status = exc.code
    err = capsys.readouterr().err
    assert status == 1 and "label smoothing (0.1) is for cross-entropy" in err, err
    assert not (tmp_path / "r").exists()


def test_a_schedule_flag_leaves_the_spec_s_schedule_options_behind():
    import argparse

    from cnndsl import check
    from cnndsl.train.options import add_train_arguments, resolve_settings

    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    spec = check("input 1x8x8\nfc 10\ntrain {\n    schedule step warmup=2 every=3 gamma=0.5\n}\n",
                 "a.cnn").network.train
    other = resolve_settings(parser.parse_args(["--schedule", "constant"]), spec)
    assert (other.schedule, other.warmup) == ("constant", 0.0)
    same = resolve_settings(parser.parse_args(["--schedule", "step"]), spec)
    assert (same.warmup, same.step, same.gamma) == (2.0, 3, 0.5)
    flagged = resolve_settings(parser.parse_args(["--schedule", "cosine", "--warmup", "1"]), spec)
    assert (flagged.schedule, flagged.warmup) == ("cosine", 1.0)
