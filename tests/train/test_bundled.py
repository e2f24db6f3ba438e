"""Datasets bundled in scikit-learn load offline with their real sizes, ranges and class names."""

from __future__ import annotations

import numpy as np

from studio.train.bundled import LOADERS, PARAMS, make_digits


def test_digits_are_1797_grey_8x8_images_of_ten_classes():
    x, y, info = make_digits()
    assert x.shape == (1797, 1, 8, 8) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() == 1.0
    assert info["classes"] == [str(d) for d in range(10)] and set(np.unique(y)) == set(range(10))


def test_digits_upscale_and_subset_are_seeded():
    a, ya, _ = make_digits(n=100, seed=3, size=16)
    b, yb, _ = make_digits(n=100, seed=3, size=16)
    assert a.shape == (100, 1, 16, 16) and np.array_equal(a, b) and np.array_equal(ya, yb)
    assert np.array_equal(a[:, :, ::2, ::2], a[:, :, 1::2, 1::2])  # nearest-neighbour blocks


def test_tables_have_their_published_sizes():
    sizes = {"iris": (150, 4, 3), "wine": (178, 13, 3), "breast_cancer": (569, 30, 2)}
    for name, (rows, features, classes) in sizes.items():
        x, y, info = LOADERS[name]()
        assert x.shape == (rows, features) and len(info["classes"]) == classes
        assert len(info["features"]) == features and y.max() == classes - 1
    assert set(PARAMS) == set(LOADERS)
