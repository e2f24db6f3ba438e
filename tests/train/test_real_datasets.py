"""scikit-learn's bundled datasets are built-in choices: the settings accept them, load_data and the preview read them."""

from __future__ import annotations

import pytest

from studio.train.data import BUILTIN, DataError, load_data, preview
from studio.train.settings import DATASETS, DatasetSettings, dataset_param_schema

REAL = ("digits", "iris", "wine", "breast_cancer")


@pytest.mark.parametrize("name", REAL)
def test_real_datasets_are_built_in_with_declared_parameters(name):
    assert name in DATASETS and name in BUILTIN
    assert "n" in dataset_param_schema(name)


@pytest.mark.parametrize(("name", "shape", "classes", "total"), [
    ("digits", (1, 8, 8), 10, 1797), ("iris", (4,), 3, 150), ("wine", (13,), 3, 178), ("breast_cancer", (30,), 2, 569)])
def test_preview_shows_the_real_samples(name, shape, classes, total):
    d = preview(DatasetSettings(name=name), seed=0, n=6)
    assert d["shape"] == shape and len(d["classes"]) == classes and d["train"] + d["val"] == total
    assert d["task"] == "classification" and len(d["inputs"]) == 6


def test_digits_parameters_are_checked_and_applied():
    b = load_data(DatasetSettings(name="digits", params={"n": 100, "size": 16}), seed=0)
    assert b.sample_shape == (1, 16, 16) and len(b.train_x) + len(b.val_x) == 100
    with pytest.raises(DataError, match="dataset 'digits': size"):
        load_data(DatasetSettings(name="digits", params={"size": 4}), seed=0)
    with pytest.raises(DataError, match="dataset 'iris'"):
        load_data(DatasetSettings(name="iris", params={"size": 16}), seed=0)


def test_digits_follow_the_models_input_size():
    b = load_data(DatasetSettings(name="digits", params={"n": 50}), seed=0, input_shape=(1, 28, 28))
    assert b.sample_shape == (1, 28, 28)
    b = load_data(DatasetSettings(name="digits", params={"n": 50, "size": 16}), seed=0, input_shape=(1, 28, 28))
    assert b.sample_shape == (1, 16, 16)  # an explicit size wins
