"""One model of a run's settings (`cnndsl.ir.training.Settings`, with `OptimizerOptions`
and `AugmentAmounts`): its `Field` bounds are the ranges the spec's `train { }`
section, the flags and `config.json` are held to, and `check` builds none of it."""

from __future__ import annotations

import argparse

import pytest
from conftest import fresh_python
from pydantic import ValidationError

from cnndsl.ir import training
from cnndsl.ir.train_section import limits
from cnndsl.ir.training import AugmentAmounts, OptimizerOptions
from cnndsl.train.options import OptionError, Settings, add_train_arguments

#: flag -> the number it sets
FLAGS = {"--epochs": "epochs", "--batch": "batch", "--lr": "lr", "--momentum": "momentum",
         "--weight-decay": "weight_decay", "--warmup": "warmup", "--step-every": "step",
         "--gamma": "gamma", "--smoothing": "smoothing", "--clip": "clip", "--ema": "ema",
         "--patience": "patience", "--val": "val", "--workers": "workers", "--seed": "seed"}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(exit_on_error=False)
    add_train_arguments(p)
    return p


def _edges(name: str) -> tuple[list[float], list[float]]:
    """Values just inside and just outside the bounds of `name`."""
    low, high, low_in, high_in = limits(name)
    whole = name in ("epochs", "batch", "step", "patience", "workers", "seed")
    step = 1 if whole else 1e-6
    inside, outside = [], []
    if low is not None:
        (inside if low_in else outside).append(low)
        (outside if low_in else inside).append(low - step if low_in else low + step)
    if high is not None:
        (inside if high_in else outside).append(high)
        outside.append(high + step)
    return inside, outside


def _model_for(name: str):
    return Settings if name in Settings.model_fields else OptimizerOptions


@pytest.mark.parametrize("flag, name", FLAGS.items())
def test_a_flag_takes_exactly_what_its_field_takes(flag, name):
    inside, outside = _edges(name)
    assert inside or outside
    for value in inside:
        text = str(int(value)) if float(value).is_integer() else repr(value)
        assert getattr(_parser().parse_args([flag, text]), name) == pytest.approx(value)
        _model_for(name).model_validate({name: value})
    for value in outside:
        text = str(int(value)) if float(value).is_integer() else repr(value)
        with pytest.raises(argparse.ArgumentError):
            _parser().parse_args([flag, text])
        with pytest.raises(ValidationError):
            _model_for(name).model_validate({name: value})


@pytest.mark.parametrize("name", ["lr", "momentum", "beta1", "eps", "crop", "rrc", "every",
                                  "gamma", "ema", "val"])
def test_the_spec_is_held_to_the_same_bounds(name):
    import cnndsl

    low, high, low_in, high_in = limits(name)
    lines = {"crop": "augment crop=%s", "rrc": "augment rrc=%s", "every": "schedule step every=%s",
             "gamma": "schedule step gamma=%s", "lr": "lr %s", "ema": "ema %s", "val": "val %s"}
    line = lines.get(name, f"optimizer {'sgd' if name == 'momentum' else 'adam'} {name}=%s")
    bad = low if not low_in else (high + 1 if high is not None else low - 1)
    text = "input 1x8x8\nconv 4 k3 -> relu -> fc 10\ntrain {\n    %s\n}\n" % (line % bad)
    found = [d.code for d in cnndsl.check(text).diagnostics]
    assert found == ["E0603"], (name, bad, found)


def test_the_hand_written_range_tables_are_gone():
    assert not hasattr(training, "RANGES") and not hasattr(training, "OPTION_RANGES")
    assert training.AUGMENTS["crop"] == AugmentAmounts.model_fields["crop"].description


@pytest.mark.parametrize("key, value, words", [
    # both were taken from a damaged record (only top-level numbers were checked)
    ("optimizer_args", {"momentum": 2.0}, "`optimizer_args` is out of range"),
    ("optimizer_args", {"mometum": 0.9}, "`optimizer_args` is damaged"),
    ("augment", [["crop", -4]], "`augment` is out of range"),
    ("augment", [["zoom", None]], "`augment` is damaged"),
    ("lr", float("nan"), "`lr` is out of range"),
    ("progress", "loud", "`progress` is not one this cnndsl knows"),
    ("seed", True, "`seed` is damaged"),
])
def test_a_damaged_record_is_refused_in_words(key, value, words):
    record = Settings().to_json()
    record[key] = value
    with pytest.raises(OptionError, match=words.replace("`", ".")):
        Settings.from_json(record)


def test_the_settings_schema_states_the_bounds(capsys):
    import json

    from cnndsl.cli import main

    assert main(["schema", "--train"]) == 0
    document = json.loads(capsys.readouterr().out)
    epochs = document["$defs"]["Settings"]["properties"]["epochs"]
    assert (epochs["minimum"], epochs["maximum"], epochs["default"]) == (1, 1_000_000, 10)
    momentum = document["$defs"]["OptimizerOptions"]["properties"]["momentum"]
    assert {"minimum": 0, "exclusiveMaximum": 1, "type": "number"} in momentum["anyOf"]


def test_a_record_reads_back_as_written():
    s = Settings(optimizer="sgd", lr=0.1, optimizer_args={"momentum": 0.9},
                 augment=[["flip", None], ["crop", 4]], patience=3)
    assert Settings.from_json(s.to_json()) == s


def test_checking_a_spec_with_a_train_section_builds_no_settings_validator():
    code = ("import sys, cnndsl\n"
            "r = cnndsl.check(open('specs/cifar10_net.cnn').read())\n"
            "assert r.ok and r.network.train is not None\n"
            "from cnndsl.cli import build_parser\n"
            "build_parser()\n"
            "from cnndsl.ir.training import Settings\n"
            "print(Settings.__pydantic_complete__, 'importlib.metadata' in sys.modules)\n")
    printed = fresh_python(code)
    assert printed.split() == ["False", "False"]


def test_a_train_section_imports_pydantic_only_for_a_number_it_checks():
    import cnndsl

    code = ("import sys, cnndsl\n"
            "r = cnndsl.check('input 1x8x8\\nconv 4 k3 -> relu -> fc 10\\n'\n"
            "                 'train {\\n    data digits\\n    loss mse\\n}\\n')\n"
            "assert r.ok and r.network.train.loss == 'mse'\n"
            "print('pydantic' in sys.modules)\n")
    printed = fresh_python(code)
    assert printed.split() == ["False"]
    # and a number is held to the models' bounds (their `Field`s)
    found = cnndsl.check("input 1x8x8\nconv 4 k3 -> relu -> fc 10\ntrain {\n    epochs 0\n}\n")
    assert [d.code for d in found.diagnostics] == ["E0603"]
