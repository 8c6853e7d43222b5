"""The built-in `digits` data set, shipped in the package (`cnndsl/train/digits.npz`)
instead of read from scikit-learn: the same data, split without a random draw."""

from __future__ import annotations

import hashlib
import sys

import numpy as np
import pytest
from conftest import ROOT

from cnndsl.train import datasets

#: sha256 of the images' bytes, then the labels' bytes (both uint8, C order)
DIGITS_SHA256 = "87ff0c9e40dc7e2c0e34e7257799c2e3f3aec1a016363bb11cad869ec428a826"


def stored() -> tuple[np.ndarray, np.ndarray]:
    with np.load(datasets.DIGITS, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["images", "labels"]
        return archive["images"], archive["labels"]


def test_the_shipped_digits_are_scikit_learns():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    reference = sklearn_datasets.load_digits()
    images, labels = stored()
    assert np.array_equal(images.astype(np.float64), reference.images)
    assert np.array_equal(labels.astype(np.int64), reference.target)


def test_the_shipped_digits_are_intact():
    images, labels = stored()
    assert images.dtype == labels.dtype == np.uint8
    assert images.shape == (1797, 8, 8) and labels.shape == (1797,)
    assert images.max() == 16 and labels.max() == 9
    digest = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()
    assert digest == DIGITS_SHA256


def test_digits_load_without_scikit_learn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)     # any import of it now fails
    data = datasets.load("digits", ROOT)
    assert data.train_x.shape == (1437, 1, 8, 8) and data.test_x.shape == (360, 1, 8, 8)
    assert data.train_x.dtype == np.float32 and 0 <= data.train_x.min() <= data.train_x.max() == 1
    assert data.train_y.dtype == data.test_y.dtype == np.int64
    assert data.classes == [str(i) for i in range(10)]


def test_the_split_is_stratified_complete_and_fixed():
    images, labels = stored()
    np.random.seed(1)
    first = datasets.digits()
    np.random.seed(2)
    again = datasets.digits()
    assert np.array_equal(first.train_x, again.train_x)
    assert np.array_equal(first.test_y, again.test_y)
    # every sample on exactly one side, none twice
    rows = np.concatenate([first.train_x, first.test_x]).reshape(1797, 64)
    both = np.concatenate([first.train_y, first.test_y])
    expected = np.concatenate([(images.reshape(1797, 64) / 16.0).astype(np.float32),
                               labels[:, None]], axis=1)
    got = np.concatenate([rows, both[:, None]], axis=1)
    assert np.array_equal(np.unique(got, axis=0), np.unique(expected, axis=0))
    assert len(np.unique(expected, axis=0)) == len(np.unique(got, axis=0))
    # each class held out in proportion: within one sample of a fifth
    held, total = np.bincount(first.test_y), np.bincount(labels)
    assert np.all(np.abs(held - total * 360 / 1797) < 1)


@pytest.mark.parametrize("labels, share, held", [
    ([0] * 10, 0.2, [2]),
    ([0] * 7 + [1] * 2 + [2], 0.3, [2, 1, 0]),    # 2.1, 0.6, 0.3: the largest remainder
    ([0, 1, 2], 0.2, [1, 0, 0]),
])
def test_digits_split_counts(labels, share, held):
    labels = np.array(labels)
    test = datasets.digits_split(labels, share)
    assert test.sum() == int(np.ceil(share * len(labels)))
    assert np.bincount(labels[test], minlength=len(held)).tolist() == held


def test_the_archive_is_package_data():
    tomllib = pytest.importorskip("tomllib")     # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = project["tool"]["setuptools"]["package-data"]["cnndsl.train"]
    assert "digits.npz" in shipped and "digits.md" in shipped
    assert not any(dep.startswith("scikit-learn") for dep in project["project"]["dependencies"])
