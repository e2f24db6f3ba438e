"""Built-in datasets generated on the fly: offline, seeded, and small enough for a 2-core CPU.

This module imports nothing but numpy and the standard library on purpose: a code export copies
it verbatim into ``data.py`` beside ``train.py``, so an exported project reproduces its data
without NN Studio installed.

Every generator returns ``(x, y, info)``: ``x`` and ``y`` are numpy arrays with the sample
dimension first; ``info`` says what the task is (``task``: classification / regression /
tokens / points), class names, and for regression a ``baseline`` prediction per sample (the naive
"repeat the last value" forecast) so a run can show how far it beats it.
"""

from __future__ import annotations

import math

import numpy as np

SHAPES = ("circle", "square", "triangle", "cross", "ring", "diamond")
GLYPHS = ("star", "hexagon", "crescent", "bar", "arrow", "semicircle")


def _regular(k: int, phase: float = math.pi / 2, radius: float = 1.0) -> np.ndarray:
    a = phase + 2 * math.pi * np.arange(k) / k
    return np.stack([radius * np.cos(a), radius * np.sin(a)], 1)


def _star(points: int = 5, inner: float = 0.45) -> np.ndarray:
    a = math.pi / 2 + math.pi * np.arange(2 * points) / points
    r = np.where(np.arange(2 * points) % 2 == 0, 1.0, inner)
    return np.stack([r * np.cos(a), r * np.sin(a)], 1)


_POLYGONS = {
    "triangle": _regular(3),
    "hexagon": _regular(6, 0.0, 0.95),
    "star": _star(),
    "arrow": np.array([[-0.9, -0.25], [0.2, -0.25], [0.2, -0.65], [0.95, 0.0], [0.2, 0.65], [0.2, 0.25],
                       [-0.9, 0.25]]),
}


def _inside_polygon(u: np.ndarray, v: np.ndarray, verts: np.ndarray) -> np.ndarray:
    """Even-odd rule, vectorised over every pixel of every image."""
    inside = np.zeros(u.shape, dtype=bool)
    n = len(verts)
    for i in range(n):
        x1, y1 = verts[i]
        x2, y2 = verts[(i + 1) % n]
        crosses = (y1 > v) != (y2 > v)
        with np.errstate(divide="ignore", invalid="ignore"):
            xint = x1 + (v - y1) * (x2 - x1) / (y2 - y1 + 1e-12)
        inside ^= crosses & (u < xint)
    return inside


def _mask(kind: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    r2 = u * u + v * v
    if kind == "circle":
        return r2 <= 1.0
    if kind == "ring":
        return (r2 <= 1.0) & (r2 >= 0.36)
    if kind == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= 0.8
    if kind == "diamond":
        return np.abs(u) + np.abs(v) <= 1.0
    if kind == "cross":
        return ((np.abs(u - v) < 0.35) | (np.abs(u + v) < 0.35)) & (np.maximum(np.abs(u), np.abs(v)) <= 0.85)
    if kind == "bar":
        return (np.abs(u) <= 1.0) & (np.abs(v) <= 0.3)
    if kind == "crescent":
        return (r2 <= 1.0) & ((u - 0.45) ** 2 + v * v > 0.55)
    if kind == "semicircle":
        return (r2 <= 1.0) & (v <= 0.0)
    if kind in _POLYGONS:
        return _inside_polygon(u, v, _POLYGONS[kind])
    raise ValueError(f"unknown shape {kind!r}")


def make_images(kinds: tuple[str, ...], n: int, seed: int, size: int = 28, channels: int = 1,
                noise: float = 0.05, rotation: float = 20.0) -> tuple[np.ndarray, np.ndarray, dict]:
    """Filled shapes at random positions, sizes and (small) rotations on a dark background."""
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(kinds), n)
    x = np.zeros((n, channels, size, size), dtype=np.float32)
    grid = (np.arange(size, dtype=np.float32) + 0.5) / size * 2 - 1  # pixel centres in [-1, 1]
    gy, gx = np.meshgrid(grid, -grid, indexing="xy")
    gx, gy = gy, gx  # gx: columns left->right, gy: rows bottom->top
    for label, kind in enumerate(kinds):
        idx = np.nonzero(y == label)[0]
        m = len(idx)
        if m == 0:
            continue
        radius = rng.uniform(0.35, 0.7, m).astype(np.float32)
        cx = rng.uniform(-1, 1, m).astype(np.float32) * (0.95 - radius)
        cy = rng.uniform(-1, 1, m).astype(np.float32) * (0.95 - radius)
        theta = np.deg2rad(rng.uniform(-rotation, rotation, m)).astype(np.float32)
        dx = gx[None] - cx[:, None, None]
        dy = gy[None] - cy[:, None, None]
        c, s = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
        u = (c * dx + s * dy) / radius[:, None, None]
        v = (-s * dx + c * dy) / radius[:, None, None]
        mask = _mask(kind, u, v).astype(np.float32)
        if channels == 1:
            bright = rng.uniform(0.7, 1.0, m).astype(np.float32)
            x[idx, 0] = mask * bright[:, None, None]
        else:
            colour = rng.uniform(0.3, 1.0, (m, 3)).astype(np.float32)
            x[idx] = mask[:, None] * colour[:, :, None, None]
    if noise > 0:
        x += rng.normal(0, noise, x.shape).astype(np.float32)
    np.clip(x, 0.0, 1.0, out=x)
    return x, y.astype(np.int64), {"task": "classification", "classes": list(kinds)}


def make_shapes(n: int = 6000, seed: int = 0, classes: int = 6, size: int = 28, channels: int = 1,
                noise: float = 0.05, rotation: float = 20.0):
    """Circles, squares, triangles, crosses, rings, diamonds (the first ``classes`` of them)."""
    if not 2 <= classes <= len(SHAPES):
        raise ValueError(f"classes must be between 2 and {len(SHAPES)}, got {classes}")
    return make_images(SHAPES[:classes], n, seed, size, channels, noise, rotation)


def make_glyphs(n: int = 6000, seed: int = 0, classes: int = 6, size: int = 28, channels: int = 1,
                noise: float = 0.05, rotation: float = 20.0):
    """A second image set (stars, hexagons, crescents, bars, arrows, half discs): fine-tune on it
    after pretraining on ``shapes`` to see transfer learning with few labels."""
    if not 2 <= classes <= len(GLYPHS):
        raise ValueError(f"classes must be between 2 and {len(GLYPHS)}, got {classes}")
    return make_images(GLYPHS[:classes], n, seed + 7919, size, channels, noise, rotation)


def make_spirals(n: int = 3000, seed: int = 0, classes: int = 3, noise: float = 0.15, turns: float = 1.5):
    """Interleaved 2-D spiral arms, one class per arm: not linearly separable."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    t = np.sqrt(rng.uniform(0.02, 1.0, n))
    angle = t * turns * 2 * math.pi + y * 2 * math.pi / classes
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], 1) * 2.0
    x += rng.normal(0, noise * t[:, None] + 0.02, x.shape)
    return x.astype(np.float32), y.astype(np.int64), {"task": "classification",
                                                      "classes": [f"arm {i}" for i in range(classes)]}


def make_waves(n: int = 4000, seed: int = 0, length: int = 32, horizon: int = 8, components: int = 2,
               noise: float = 0.05, many_to_many: bool = False):
    """Noisy sums of sines with random frequencies and phases; forecast what comes next.

    Many-to-one: ``x`` is (n, length, 1) and ``y`` the next ``horizon`` clean values (n, horizon).
    Many-to-many: ``y`` is (n, length, 1), the clean value one step ahead of every input step.
    The baseline repeats the last observed (noisy) value.
    """
    rng = np.random.default_rng(seed)
    steps = length + horizon
    t = np.arange(steps, dtype=np.float64)[None]
    clean = np.zeros((n, steps))
    for _ in range(components):
        freq = rng.uniform(0.02, 0.12, (n, 1))
        amp = rng.uniform(0.3, 1.0, (n, 1))
        phase = rng.uniform(0, 2 * math.pi, (n, 1))
        clean += amp * np.sin(2 * math.pi * freq * t + phase)
    clean /= components ** 0.5
    noisy = clean + rng.normal(0, noise, clean.shape)
    x = noisy[:, :length, None].astype(np.float32)
    if many_to_many:
        y = clean[:, 1:length + 1, None].astype(np.float32)
        baseline = x.copy()
    else:
        y = clean[:, length:length + horizon].astype(np.float32)
        baseline = np.repeat(x[:, -1, :], horizon, axis=1)
    return x, y, {"task": "regression", "baseline": baseline.astype(np.float32)}


def make_sequences(n: int = 10000, seed: int = 0, task: str = "reverse", length: int = 8, vocab: int = 10,
                   one_hot: bool = False):
    """Digit sequences to copy, reverse or sort; the target has one token per input position."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, vocab, (n, length))
    if task == "copy":
        y = x.copy()
    elif task == "reverse":
        y = x[:, ::-1].copy()
    elif task == "sort":
        y = np.sort(x, axis=1)
    else:
        raise ValueError(f"task must be copy, reverse or sort, got {task!r}")
    info = {"task": "tokens", "classes": [str(i) for i in range(vocab)]}
    if one_hot:
        return np.eye(vocab, dtype=np.float32)[x], y.astype(np.int64), info
    return x.astype(np.int64), y.astype(np.int64), info


def make_ring(n: int = 20000, seed: int = 0, modes: int = 8, radius: float = 2.0, std: float = 0.05):
    """A ring of Gaussian blobs in 2-D: the classic test of whether a GAN covers every mode."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, modes, n)
    centres = ring_centres(modes, radius)
    x = centres[y] + rng.normal(0, std, (n, 2))
    return x.astype(np.float32), y.astype(np.int64), {"task": "points", "centres": centres, "std": std,
                                                      "classes": [f"mode {i}" for i in range(modes)]}


def ring_centres(modes: int = 8, radius: float = 2.0) -> np.ndarray:
    a = 2 * math.pi * np.arange(modes) / modes
    return np.stack([radius * np.cos(a), radius * np.sin(a)], 1)


def mode_coverage(samples: np.ndarray, centres: np.ndarray, std: float, min_share: float = 0.01):
    """(modes covered, share of samples within 3 std of some mode).

    A mode counts as covered when at least ``min_share`` of the samples land within 3 std of it.
    """
    d = np.linalg.norm(samples[:, None, :] - centres[None], axis=2)
    nearest = d.argmin(1)
    close = d.min(1) <= 3 * std
    counts = np.bincount(nearest[close], minlength=len(centres))
    covered = int((counts >= max(1, min_share * len(samples))).sum())
    return covered, float(close.mean())


def take_balanced(indices: np.ndarray, labels: np.ndarray, limit: int) -> np.ndarray:
    """The first ``limit`` of ``indices``, taking classes in turn so a few-label subset stays balanced.

    Labels that are not one integer per sample (regression, sequences) just give the first ``limit``.
    """
    indices = np.asarray(indices)
    if limit <= 0 or limit >= len(indices):
        return indices
    lab = np.asarray(labels)[indices]
    if lab.ndim != 1 or not np.issubdtype(lab.dtype, np.integer):
        return indices[:limit]
    rank = np.zeros(len(indices), dtype=np.int64)  # position of each sample within its class
    seen: dict[int, int] = {}
    for i, c in enumerate(lab.tolist()):
        rank[i] = seen.get(c, 0)
        seen[c] = rank[i] + 1
    order = np.lexsort((np.arange(len(indices)), rank))
    return indices[np.sort(order[:limit])]


def text_windows(text: str, length: int = 32, many_to_many: bool = True, max_windows: int = 20000,
                 vocab: list[str] | None = None):
    """Character-level samples from a text: ``x`` (n, length) ids and the next character(s) as ``y``.
    ``vocab``: the characters to number (default: the text's own), so two parts of one text share ids."""
    vocab = sorted(set(text)) if vocab is None else list(vocab)
    if len(text) < length + 2:
        raise ValueError(f"the text has {len(text)} characters; at least {length + 2} are needed for length {length}")
    index = {ch: i for i, ch in enumerate(vocab)}
    ids = np.fromiter((index[ch] for ch in text), dtype=np.int64, count=len(text))
    starts = np.arange(0, len(ids) - length - 1, max(1, (len(ids) - length - 1) // max_windows))
    x = np.stack([ids[i:i + length] for i in starts])
    if many_to_many:
        y = np.stack([ids[i + 1:i + length + 1] for i in starts])
    else:
        y = ids[starts + length]
    return x, y, {"task": "tokens" if many_to_many else "classification", "classes": vocab}


GENERATORS = {
    "shapes": make_shapes,
    "glyphs": make_glyphs,
    "spirals": make_spirals,
    "waves": make_waves,
    "sequences": make_sequences,
    "ring": make_ring,
}


def param(default, minimum=None, maximum=None, help: str = "", choices=(), from_input=None) -> dict:
    """A generator parameter's declaration: plain data (this module imports no studio code), read by
    the settings schema to check ``dataset.params`` and by the training panel to build its form.
    ``from_input``: when left out, take it from this index of a (C, H, W) model Input's shape."""
    kind = ("bool" if isinstance(default, bool) else "int" if isinstance(default, int)
            else "float" if isinstance(default, float) else "list" if isinstance(default, list)
            else "choice" if choices else "text")
    return {"kind": kind, "default": default, "minimum": minimum, "maximum": maximum, "help": help,
            "choices": tuple(choices), "from_input": from_input}


# Bounds keep every generator's arrays within a few hundred MB at most.
_IMAGES = {
    "n": param(6000, 2, 100_000, "Number of images."),
    "classes": param(6, 2, 6, "How many of the six kinds to use."),
    "size": param(28, 8, 128, "Image width and height in pixels (default: the model Input's).", from_input=-1),
    "channels": param(1, 1, 3, "1 = grey, 3 = colour (default: the model Input's).", from_input=0),
    "noise": param(0.05, 0.0, 1.0, "Std of the pixel noise."),
    "rotation": param(20.0, 0.0, 180.0, "Random rotation up to ± this many degrees."),
}
PARAMS: dict[str, dict[str, dict]] = {
    "shapes": _IMAGES,
    "glyphs": _IMAGES,
    "spirals": {
        "n": param(3000, 2, 1_000_000, "Number of points."),
        "classes": param(3, 2, 50, "Number of spiral arms (one class each)."),
        "noise": param(0.15, 0.0, 5.0, "How far points scatter from their arm."),
        "turns": param(1.5, 0.0, 10.0, "How many times each arm winds around."),
    },
    "waves": {
        "n": param(4000, 2, 100_000, "Number of sequences."),
        "length": param(32, 2, 512, "Observed steps per sequence."),
        "horizon": param(8, 1, 128, "Steps to forecast (many-to-one)."),
        "components": param(2, 1, 16, "Sines summed in each sequence."),
        "noise": param(0.05, 0.0, 5.0, "Std of the observation noise."),
        "many_to_many": param(False, help="Predict the next value at every step instead of the next horizon."),
    },
    "sequences": {
        "n": param(10000, 2, 200_000, "Number of sequences."),
        "task": param("reverse", help="What the output is: the input copied, reversed or sorted.",
                      choices=("copy", "reverse", "sort")),
        "length": param(8, 1, 128, "Tokens per sequence."),
        "vocab": param(10, 2, 256, "Number of distinct tokens."),
        "one_hot": param(False, help="Give one-hot vectors instead of token ids."),
    },
    "ring": {
        "n": param(20000, 2, 1_000_000, "Number of points."),
        "modes": param(8, 1, 64, "Blobs on the ring."),
        "radius": param(2.0, 0.1, 100.0, "Radius of the ring."),
        "std": param(0.05, 0.001, 10.0, "Spread of each blob."),
    },
}
