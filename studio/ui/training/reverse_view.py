"""The Reverse process tab of a diffusion model: a slider (and a Play button) steps through the
sampling snapshots, from pure noise to the finished samples. 2-D points show as a scatter, images
as a grid of the same samples at that step."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSlider, QVBoxLayout, QWidget

from studio.ui.training.tiles import Tile, TileGrid, array_image

SHOWN_IMAGES = 32  # samples shown per step (8 columns)
PLAY_MS = 350  # one snapshot per tick while playing


class ReverseProcess(QWidget):
    """``scatter`` is the page's point view (a ``ScatterView``, passed in so this module needs none of views.py)."""

    def __init__(self, scatter: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scatter = scatter
        self.grid = TileGrid(title="Reverse process")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Sampling step by step: pure noise (left) to the finished samples (right)")
        self.slider.valueChanged.connect(self.show_frame)
        self.play = QPushButton("Play")
        self.play.setToolTip("Play the reverse process from pure noise to the samples")
        self.play.clicked.connect(self._play)
        self.timer = QTimer(self)
        self.timer.setInterval(PLAY_MS)
        self.timer.timeout.connect(self._tick)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(scatter)
        lay.addWidget(self.grid)
        row = QHBoxLayout()
        row.addWidget(self.play)
        row.addWidget(self.slider, 1)
        lay.addLayout(row)
        self.grid.hide()
        self.frames: list[np.ndarray] = []
        self.steps: list[int] = []
        self.total: int | None = None

    def set_frames(self, d: dict[str, Any]) -> None:
        self.frames = [np.asarray(f) for f in d.get("frames") or [] if np.asarray(f).ndim in (2, 4)]
        self.steps, self.total = list(d.get("steps") or []), d.get("T")
        images = bool(self.frames) and self.frames[0].ndim == 4
        self.scatter.setVisible(not images)
        self.grid.setVisible(images)
        self.slider.setRange(0, max(0, len(self.frames) - 1))
        self.slider.setValue(self.slider.maximum())
        self.show_frame(self.slider.value())

    def show_frame(self, i: int) -> None:
        if not 0 <= i < len(self.frames):
            return
        frame = self.frames[i]
        where = (f"step t = {self.steps[i]} of {self.total}" if i < len(self.steps) and self.total
                 else f"snapshot {i + 1} of {len(self.frames)}")
        title = f"Reverse process: {where} (t = 0: the samples)"
        if frame.ndim == 4:  # images: the same samples at this step
            self.grid.title = title
            self.grid.set_tiles([Tile(image=array_image(np.clip(s, 0, 1))) for s in frame[:SHOWN_IMAGES]], columns=8)
            return
        self.scatter.plot.getPlotItem().setTitle(title)
        self.scatter.set_points([("samples", frame.reshape(len(frame), -1)[:, :2], "#f97316", 4)])

    def _play(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
            self.play.setText("Play")
            return
        self.slider.setValue(0)
        self.play.setText("Pause")
        self.timer.start()

    def _tick(self) -> None:
        if self.slider.value() >= self.slider.maximum():
            self.timer.stop()
            self.play.setText("Play")
            return
        self.slider.setValue(self.slider.value() + 1)
