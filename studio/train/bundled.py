"""Real datasets that ship inside scikit-learn: usable offline, in class, with no download.

Like :mod:`studio.train.synthetic`, every loader returns ``(x, y, info)`` and imports no studio
code, so an export can copy this file beside ``train.py`` (it then needs scikit-learn installed).
Why scikit-learn: its digits, iris, wine and breast-cancer sets are bundled in the wheel, with
their class names, and have been the classroom's first real data for two decades.
"""

from __future__ import annotations

import numpy as np


def _subset(x: np.ndarray, y: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded shuffle, cut to ``n`` samples (0 = all)."""
    order = np.random.default_rng(seed).permutation(len(x))
    if n:
        order = order[:n]
    return x[order], y[order]


def make_digits(n: int = 0, seed: int = 0, size: int = 8):
    """Handwritten digits 0–9 as 1×8×8 grey images in [0, 1] (1,797 images, UCI / scikit-learn)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.images.astype(np.float32) / 16.0)[:, None]
    if size != 8:  # nearest-neighbour upscaling keeps the 8×8 strokes crisp for bigger Inputs
        idx = np.arange(size) * 8 // size
        x = x[:, :, idx][:, :, :, idx]
    x, y = _subset(x, data.target.astype(np.int64), n, seed)
    return x, y, {"task": "classification", "classes": [str(c) for c in data.target_names]}


def _table(loader, n: int, seed: int):
    data = loader()
    x, y = _subset(data.data.astype(np.float32), data.target.astype(np.int64), n, seed)
    return x, y, {"task": "classification", "classes": [str(c) for c in data.target_names],
                  "features": [str(f) for f in data.feature_names]}


def make_iris(n: int = 0, seed: int = 0):
    """Fisher's iris: 150 flowers, 4 measurements (cm), 3 species."""
    from sklearn.datasets import load_iris

    return _table(load_iris, n, seed)


def make_wine(n: int = 0, seed: int = 0):
    """178 Italian wines, 13 chemical measurements, 3 cultivars."""
    from sklearn.datasets import load_wine

    return _table(load_wine, n, seed)


def make_breast_cancer(n: int = 0, seed: int = 0):
    """569 tumour biopsies, 30 cell-nucleus features, malignant or benign (Wisconsin)."""
    from sklearn.datasets import load_breast_cancer

    return _table(load_breast_cancer, n, seed)


def _param(default, minimum, maximum, help: str) -> dict:
    return {"kind": "int", "default": default, "minimum": minimum, "maximum": maximum, "help": help,
            "choices": ()}


_N = _param(0, 0, 100_000, "Use at most this many samples (0 = all).")
LOADERS = {"digits": make_digits, "iris": make_iris, "wine": make_wine, "breast_cancer": make_breast_cancer}
PARAMS: dict[str, dict[str, dict]] = {
    "digits": {"n": _N, "size": _param(8, 8, 64, "Image width and height (upscaled from 8×8).")},
    "iris": {"n": _N},
    "wine": {"n": _N},
    "breast_cancer": {"n": _N},
}
