"""Small pieces the analysis tabs share: arrays as pixmaps, labelled rows, a busy state."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


def pixmap(rgb: np.ndarray, scale: int = 1) -> QPixmap:
    """An H×W×3 uint8 array as a pixmap, enlarged ``scale`` times without smoothing (pixels stay crisp)."""
    rgb = np.ascontiguousarray(rgb.astype(np.uint8))
    if scale > 1:
        rgb = np.ascontiguousarray(np.kron(rgb, np.ones((scale, scale, 1), np.uint8)))
    h, w, _ = rgb.shape
    image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(image.copy())


def grey(x: np.ndarray) -> np.ndarray:
    """A C×H×W (or H×W) input as an RGB picture, contrast stretched."""
    img = x.mean(0) if x.ndim == 3 else x
    lo, hi = float(img.min()), float(img.max())
    img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    return np.repeat((img * 255).astype(np.uint8)[..., None], 3, axis=2)


def signed(a: np.ndarray, peak: float | None = None) -> np.ndarray:
    """Signed values as colours: red positive, blue negative, white zero."""
    a = a.sum(0) if a.ndim == 3 else a
    peak = peak or float(np.abs(a).max()) or 1.0
    a = np.clip(a / peak, -1, 1)
    rgb = np.full(a.shape + (3,), 255.0)
    rgb[..., 1] -= 255 * np.abs(a)
    rgb[..., 2] -= 255 * np.clip(a, 0, 1)
    rgb[..., 0] -= 255 * np.clip(-a, 0, 1)
    return rgb.clip(0, 255).astype(np.uint8)


def overlay(x: np.ndarray, values: np.ndarray, weight: float = 0.6) -> np.ndarray:
    """The attribution drawn over the input: where it is strong, its colour covers the grey picture."""
    base = grey(x).astype(float)
    heat = signed(values).astype(float)
    a = values.sum(0) if values.ndim == 3 else values
    strength = np.abs(a) / (float(np.abs(a).max()) or 1.0)
    alpha = (weight * strength)[..., None]
    return (base * (1 - alpha) + heat * alpha).clip(0, 255).astype(np.uint8)


def captioned(pix: QPixmap, caption: str) -> QWidget:
    """A picture with a line of text under it (predictions in the attack grid)."""
    box = QWidget()
    lay = QVBoxLayout(box)
    lay.setContentsMargins(2, 2, 2, 2)
    lay.setSpacing(2)
    image = QLabel()
    image.setPixmap(pix)
    image.setFixedSize(pix.size())
    image.setAlignment(Qt.AlignmentFlag.AlignCenter)
    text = QLabel(caption)
    text.setAlignment(Qt.AlignmentFlag.AlignCenter)
    text.setWordWrap(True)
    lay.addWidget(image, 0, Qt.AlignmentFlag.AlignHCenter)
    lay.addWidget(text)
    lay.addStretch(1)
    return box


def fit_scale(shape: tuple[int, ...], target: int) -> int:
    """Screen pixels per input pixel so the picture is about ``target`` pixels across."""
    side = max(shape[-2:]) if len(shape) >= 2 else 1
    return max(1, target // max(1, side))


class Tab(QWidget):
    """A workspace tab: ``set_run`` when the run is open, ``job_ended`` when a background job failed."""

    def __init__(self, workspace) -> None:
        super().__init__()
        self.workspace = workspace
        self.loaded = None

    def set_run(self, loaded) -> None:
        self.loaded = loaded

    def job_ended(self) -> None:
        """Re-enable what a running job disabled."""


def class_name(classes: list[str], i: int) -> str:
    return classes[i] if 0 <= i < len(classes) else str(i)
