"""Payloads for the GUI's live views: small dicts of numpy arrays and lists, cheap to send across threads.

Keys of ``Update.views`` and what each holds:

- ``confusion``: ``matrix`` (K×K int, rows = true class), ``classes`` (names).
- ``predictions``: ``inputs`` (N×C×H×W images, N×F features or N×T tokens), ``labels``, ``predicted``
  (N or N×T ints), ``confidence`` (N floats), ``correct`` (N bools), ``classes``.
- ``decision``: 2-D classifiers: ``grid`` (G×G predicted class), ``extent`` (xmin, xmax, ymin, ymax),
  ``points`` (N×2), ``labels`` (N).
- ``reconstruction``: ``inputs`` and ``outputs`` (N×C×H×W, or N×F), ``noisy`` (the corrupted inputs, or None).
- ``latent``: ``points`` (N×2; PCA when the code is wider), ``labels`` (N or None), ``classes``, ``pca`` (bool).
- ``forecast``: ``inputs`` (N×T), ``targets`` / ``predicted`` / ``baseline`` (N×H, baseline may be None).
- ``attention``: ``weights`` (T×S floats for the first sample, heads averaged) of the most sharply focused
  attention layer, named in ``layer``; ``layers`` ({node name: T×S} for every attention layer); ``tokens``
  (input tokens or None).
- ``gan_samples``: ``samples`` (N×2 points or N×C×H×W images from the fixed noise), ``real`` (N×2 or None),
  ``centres`` (mode centres or None).
- ``gridworld``: ``cells`` (H×W codes: 0 free, 1 wall, 2 goal, 3 pit, 4 cliff, 5 start), ``values`` (H×W max Q),
  ``actions`` (H×W greedy action 0 up, 1 right, 2 down, 3 left; -1 where none), ``path`` (list of (row, col)
  the agent took in the last episode), ``image`` (H×W×3 uint8 rendering).
- ``returns``: ``episodes`` (N ints), ``returns`` (N floats), ``lengths`` (N ints).
- ``projector``: ``vectors`` (N×D floats: a word-vector table's rows), ``tokens`` (N labels or None), ``title``;
  shown in the embedding projector (PCA / t-SNE, nearest tokens by cosine similarity).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch


def predictions(inputs: np.ndarray, labels: np.ndarray, predicted: np.ndarray, classes: list[str],
                confidence: np.ndarray | None = None) -> dict[str, Any]:
    correct = (labels == predicted) if labels.shape == predicted.shape else np.zeros(len(labels), bool)
    if correct.ndim > 1:
        correct = correct.all(axis=tuple(range(1, correct.ndim)))
    if confidence is not None and confidence.ndim == 1 and len(confidence) != len(labels):
        confidence = confidence.reshape(len(labels), -1).mean(1)
    return {"inputs": inputs, "labels": labels, "predicted": predicted, "confidence": confidence,
            "correct": correct, "classes": list(classes)}


def reconstruction(inputs: np.ndarray, outputs: np.ndarray, noisy: np.ndarray | None) -> dict[str, Any]:
    return {"inputs": inputs[:8], "outputs": outputs[:8], "noisy": None if noisy is None else noisy[:8]}


def forecast(inputs: np.ndarray, targets: np.ndarray, predicted: np.ndarray,
             baseline: np.ndarray | None) -> dict[str, Any]:
    k = min(4, len(inputs))

    def flat(a):
        return None if a is None else a[:k].reshape(k, -1)

    return {"inputs": flat(inputs), "targets": flat(targets), "predicted": flat(predicted), "baseline": flat(baseline)}


def latent_points(z: np.ndarray, labels: np.ndarray | None, classes: list[str]) -> dict[str, Any]:
    pca = z.shape[1] > 2
    if pca:
        zc = z - z.mean(0, keepdims=True)
        _, _, vt = np.linalg.svd(zc, full_matrices=False)
        z = zc @ vt[:2].T
    elif z.shape[1] == 1:
        z = np.concatenate([z, np.zeros_like(z)], 1)
    return {"points": z.astype(np.float32), "labels": labels, "classes": list(classes), "pca": pca}


def decision_map(predict: Callable[[torch.Tensor], torch.Tensor], points: np.ndarray, labels: np.ndarray,
                 size: int = 64) -> dict[str, Any]:
    lo, hi = points.min(0) - 0.3, points.max(0) + 0.3
    xs = np.linspace(lo[0], hi[0], size, dtype=np.float32)
    ys = np.linspace(lo[1], hi[1], size, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    grid = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], 1))
    pred = predict(grid).argmax(-1).reshape(size, size).numpy()
    return {"grid": pred, "extent": (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])),
            "points": points[:500], "labels": labels[:500]}


def attention_from(seen: dict[str, Any], built, raw: Any) -> dict[str, Any] | None:
    """Attention weights of the first sample (heads averaged) from every attention layer or Output named
    like one: ``layers`` {name: T×S}; ``weights``/``layer``: the most sharply focused of them."""
    found: dict[str, np.ndarray] = {}
    for name, index in built.weight_ports.items():
        out = seen.get(name)
        if isinstance(out, tuple | list) and len(out) > index:
            _add(found, name, out[index])
    if isinstance(raw, tuple | list):
        for name, i in built.tap_outputs().items():
            if "attn" in name.lower() or "attention" in name.lower():
                _add(found, name, raw[i])
    if not found:
        return None
    best = max(found, key=lambda n: float(found[n].max(-1).mean()))
    return {"weights": found[best], "layer": best, "layers": found}


def _add(found: dict[str, np.ndarray], name: str, w: Any) -> None:
    if isinstance(w, torch.Tensor) and w.dim() in (3, 4):
        w = w.detach().float().cpu()[0]
        if w.dim() == 3:
            w = w.mean(0)
        found[name] = w.numpy()
