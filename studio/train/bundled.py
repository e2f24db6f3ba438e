"""Real datasets that ship inside scikit-learn, and public-domain texts that ship inside NN Studio:
usable offline, in class, with no download.

Like :mod:`studio.train.synthetic`, every loader returns ``(x, y, info)`` and needs numpy only (its
one studio import, :func:`studio.train.synthetic.text_windows`, is a numpy-only function an export
carries too), so an export can copy this file beside ``train.py`` (it then needs scikit-learn
installed). Why scikit-learn: its digits, iris, wine and breast-cancer sets are bundled in the
wheel, with their class names, and have been the classroom's first real data for two decades. The
texts live in ``texts/`` beside this file (their sources in ``texts/README.md``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# numpy only, like this module; an export's data.py defines it above the loaders it copies from here
from studio.train.synthetic import text_windows


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


# -- bundled texts: public-domain language for character models and word embeddings ---------------
#: name -> what it is and where it comes from (texts/README.md says more)
TEXTS: dict[str, str] = {
    "sonnets": "William Shakespeare, Sonnets 1-154 (1609), public domain (Project Gutenberg #1041)",
}
TEXTS_DIR = Path(__file__).resolve().parent / "texts"


def text_names() -> list[str]:
    """The bundled texts, by name."""
    return list(TEXTS)


def bundled_text(name: str = "sonnets") -> str:
    """The whole text ``name`` (UTF-8, newline line ends); ValueError naming the known ones.

    It reads ``texts/`` beside the module that holds it, with builtins only, so an export copies this
    function into ``data.py`` and the text into ``texts/`` beside it, and train.py reads the same text."""
    import os

    folder = os.path.join(os.path.dirname(os.path.abspath(globals()["__file__"])), "texts")
    path = os.path.join(folder, f"{name}.txt")
    if not (name.isidentifier() and os.path.isfile(path)):
        known = sorted(f[:-4] for f in os.listdir(folder) if f.endswith(".txt")) if os.path.isdir(folder) else []
        raise ValueError(f"no bundled text {name!r}; choose one of {', '.join(known) or '(none here)'}")
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def export_files(dataset: str, params: dict) -> dict[str, str]:
    """Files an exported train.py needs beside ``data.py`` for this dataset: the bundled text it reads."""
    if dataset != "bundled_text":
        return {}
    name = params.get("text", "sonnets")
    return {f"texts/{name}.txt": bundled_text(name)}


def text_split(name: str = "sonnets", holdout: float = 0.1) -> tuple[str, str]:
    """The text's training part and its held-out tail (validation never overlaps training)."""
    text = bundled_text(name)
    cut = int(round(len(text) * (1.0 - holdout)))
    return text[:cut], text[cut:]


def make_text(text: str = "sonnets", length: int = 64, many_to_many: bool = True, max_windows: int = 6000,
              holdout: float = 0.1, seed: int = 0):
    """Character windows of a bundled text, next character(s) as targets. Validation windows come
    from the last ``holdout`` of the text, so overlapping windows never leak validation into training."""
    full = bundled_text(text)
    vocab = sorted(set(full))
    head, tail = text_split(text, holdout)
    x, y, info = text_windows(head, length, many_to_many, max_windows, vocab=vocab)
    n_val = max(1, int(round(max_windows * holdout / (1.0 - holdout))))
    xv, yv, _ = text_windows(tail, length, many_to_many, n_val, vocab=vocab)
    info.update(val_x=xv, val_y=yv, text=text)
    return x, y, info


def _param(default, minimum, maximum, help: str) -> dict:
    return {"kind": "int", "default": default, "minimum": minimum, "maximum": maximum, "help": help,
            "choices": ()}


_N = _param(0, 0, 100_000, "Use at most this many samples (0 = all).")
LOADERS = {"digits": make_digits, "iris": make_iris, "wine": make_wine, "breast_cancer": make_breast_cancer,
           "bundled_text": make_text}
PARAMS: dict[str, dict[str, dict]] = {
    "digits": {"n": _N, "size": _param(8, 8, 64, "Image width and height (upscaled from 8×8).")},
    "iris": {"n": _N},
    "wine": {"n": _N},
    "breast_cancer": {"n": _N},
    "bundled_text": {
        "text": {"kind": "choice", "default": "sonnets", "minimum": None, "maximum": None, "choices": tuple(TEXTS),
                 "help": "Which bundled public-domain text."},
        "length": _param(64, 1, 4096, "Characters per sample (the model Input's length)."),
        "many_to_many": {"kind": "bool", "default": True, "minimum": None, "maximum": None, "choices": (),
                         "help": "Predict the next character at every position (else only the last)."},
        "max_windows": _param(6000, 1, 1_000_000, "At most this many training samples from the text."),
        "holdout": {"kind": "float", "default": 0.1, "minimum": 0.02, "maximum": 0.5, "choices": (),
                    "help": "The last part of the text kept for validation (never trained on)."},
    },
}
