"""The spec's `train { }` section: every value `cnndsl train` would refuse is a
located `check` error (E0601-E0604), and every accepted one reaches TrainConfig."""

from __future__ import annotations

import pytest

import cnndsl

NET = "input 1x8x8\nconv 4 k3 -> relu -> fc 10\ntrain {\n    %s\n}\n"


def diagnostics(line: str):
    result = cnndsl.check(NET % line, "net.cnn")
    return result, [(d.code, d.message, result.source.text[d.span.start:d.span.end])
                    for d in result.diagnostics]


@pytest.mark.parametrize("line, code, culprit", [
    ("lr nan", "E0603", "nan"),
    ("lr inf", "E0603", "inf"),
    ("lr 1e400", "E0603", "1e400"),
    ("lr 0", "E0603", "0"),
    ("optimizer adam beta1=2", "E0603", "beta1=2"),
    ("optimizer sgd momentum=1.5", "E0603", "momentum=1.5"),
    ("optimizer adam momentum=0.9", "E0602", "momentum=0.9"),
    ("optimizer adamw nesterov=1", "E0602", "nesterov=1"),
    ("optimizer sgd nesterov=1", "E0604", "optimizer sgd nesterov=1"),
    ("epochs 0", "E0603", "0"),
    ("batch 2.5", "E0602", "2.5"),
    ("augment flop", "E0602", "flop"),
    ("augment crop", "E0602", "crop"),
    ("augment rrc=1.5", "E0603", "rrc=1.5"),
    ("schedule linear", "E0602", "linear"),
    ("schedule cosine every=3", "E0602", "every=3"),
    ("ema 1", "E0603", "1"),
    ("smoothing 1", "E0603", "1"),
    ("val 0", "E0603", "0"),
    ("patience 0", "E0603", "0"),
    ("learning_rate 0.1", "E0601", "learning_rate"),
    ("loss nll\n    smoothing 0.1", "E0604", "smoothing 0.1"),
    ("smoothing 0.1\n    loss mse", "E0604", "smoothing 0.1"),
])
def test_bad_training_values_are_located_errors(line, code, culprit):
    result, found = diagnostics(line)
    assert not result.ok
    assert (code, culprit) in [(c, text) for c, _, text in found], found


def test_every_setting_reaches_the_config():
    text = ("data segmentation ./shapes\n epochs 3\n batch 8\n optimizer sgd lr=0.1 "
            "momentum=0.9 nesterov=1\n loss crossentropy\n augment flip crop=4 rrc=0.35\n"
            " schedule step warmup=1 every=2 gamma=0.5\n smoothing 0.1\n clip 1.0\n"
            " ema 0.99\n patience 3\n val 0.25")
    result = cnndsl.check(NET % text, "net.cnn")
    assert result.ok, [d.message for d in result.diagnostics]
    c = result.network.train
    assert (c.data, c.data_path, c.epochs, c.batch) == ("segmentation", "./shapes", 3, 8)
    assert (c.optimizer, c.lr, dict(c.optimizer_args)) == \
        ("sgd", 0.1, {"momentum": 0.9, "nesterov": 1.0})
    assert c.augment == (("flip", None), ("crop", 4), ("rrc", 0.35))
    assert (c.schedule, c.warmup, c.step, c.gamma) == ("step", 1.0, 2, 0.5)
    assert (c.smoothing, c.clip, c.ema, c.patience, c.val) == (0.1, 1.0, 0.99, 3, 0.25)


def test_settings_set_twice_point_at_both():
    result, found = diagnostics("lr 0.1\n    lr 0.2")
    assert [c for c, _, _ in found] == ["E0405"]


def test_a_relative_path_split_in_two_gets_a_hint():
    result, found = diagnostics("data folder data/shapes")
    assert [c for c, _, _ in found] == ["E0602"]
    assert "./data/x" in result.diagnostics[0].help
