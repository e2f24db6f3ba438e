"""The dataset preview tab: a grid of training samples with their labels, or a scatter for 2-D points.

The data are generated or read in a background job, never on the GUI thread.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.train.settings_form import get_setting
from studio.ui.training.tiles import Tile, TileGrid, tile_for


class DatasetPreview(QWidget):
    """A grid of training samples with their labels (or a scatter for 2-D points), loaded off the GUI thread."""

    loaded = Signal()

    def __init__(self, panel) -> None:
        super().__init__()
        from studio.ui.training.view_widgets import ScatterView

        self.panel = panel
        self.key: str | None = None
        self.summary = QLabel("Open this tab to preview the dataset.")
        self.summary.setWordWrap(True)
        self.grid = TileGrid(tile=64)
        self.scatter = ScatterView("Training samples", "x₁", "x₂")
        self.scatter.hide()
        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addWidget(self.grid, 1)
        lay.addWidget(self.scatter, 1)

    def invalidate(self) -> None:
        self.key = None
        if self.isVisible():
            self.load()

    def load(self) -> None:
        training = self.panel.document.project.training
        ds = get_setting(training, "dataset", {}) or {}
        graph_name = get_setting(training, "graph", "")
        key = repr((ds, graph_name, get_setting(training, "seed", 0)))
        if key == self.key:
            return
        self.key = key
        self.summary.setText("Loading the dataset…")
        shape = self._input_shape(graph_name)
        seed = int(get_setting(training, "seed", 0) or 0)

        def job():
            from studio.train.data import load_data
            from studio.train.settings import DatasetSettings, TrainingSettings

            settings = TrainingSettings.from_dict({"dataset": ds}) if ds else TrainingSettings()
            bundle = load_data(settings.dataset if isinstance(settings.dataset, DatasetSettings) else ds, seed, shape)
            k = min(24, len(bundle.train_x))
            return {"x": bundle.train_x[:k].numpy(), "y": bundle.train_y[:k].numpy(), "classes": bundle.classes,
                    "task": bundle.task, "n_train": len(bundle.train_x), "n_val": len(bundle.val_x),
                    "shape": tuple(bundle.sample_shape), "name": bundle.name,
                    "points": bundle.train_x[:600].numpy() if bundle.train_x.dim() == 2 and bundle.train_x.shape[1] == 2 else None,
                    "point_labels": bundle.train_y[:600].numpy()}

        self.panel.tasks.submit(job, self._show, self._fail)

    def _input_shape(self, graph_name: str) -> tuple[int, ...] | None:
        project = self.panel.document.project
        graphs = [g for g in project.graphs if g.name == graph_name] or project.graphs[:1]
        for node in graphs[0].nodes.values() if graphs else []:
            if node.type_id == "io.input" and isinstance(node.params.get("shape"), list | tuple):
                return tuple(int(v) for v in node.params["shape"])
        return None

    def _fail(self, message: str) -> None:
        self.summary.setText(f"The dataset cannot be loaded: {message}")
        self.grid.set_tiles([])
        self.loaded.emit()

    def _show(self, d: dict[str, Any]) -> None:
        from studio.train.text_sampling import decode, is_character_data

        classes = list(d["classes"])
        chars = classes if is_character_data(d["name"], classes) else None  # windows of a text: show the text
        shape = "×".join(str(s) for s in d["shape"]) or "scalar"
        self.summary.setText(f"<b>{d['name']}</b>: {d['n_train']:,} training / {d['n_val']:,} validation samples · "
                             f"sample shape {shape} · task {d['task']}"
                             + (f" · {len(classes)} characters (⏎ new line, ␣ space)" if chars else
                                f" · {len(classes)} classes: {', '.join(classes[:12])}" if classes else ""))
        if d["points"] is not None:
            self.grid.hide()
            self.scatter.show()
            from studio.ui.training.view_widgets import _by_class

            labels = d["point_labels"] if d["task"] == "classification" else None
            self.scatter.set_points(_by_class(d["points"], labels, classes, 5))
        else:
            self.scatter.hide()
            self.grid.show()
            tiles = []
            for x, y in zip(d["x"], d["y"], strict=False):
                y = np.asarray(y)
                if chars is not None and np.asarray(x).ndim == 1:
                    nxt = decode(y.reshape(-1)[-1:], chars).replace("\n", "⏎").replace(" ", "␣")
                    tiles.append(Tile(text=decode(x, chars).replace("\n", "⏎"), caption=f"next: {nxt}"))
                    continue
                if y.ndim == 0 and classes:
                    cap = classes[int(y)] if int(y) < len(classes) else str(int(y))
                elif y.ndim == 0:
                    cap = f"{float(y):.3g}"
                elif y.dtype.kind in "iu":
                    cap = "→ " + " ".join(str(int(v)) for v in y.reshape(-1)[:10])
                else:
                    cap = f"→ {y.size} values"
                sample = np.asarray(x)
                if sample.ndim == 2 and sample.dtype.kind == "f" and classes and sample.shape[1] == len(classes):
                    sample = sample.argmax(-1)  # one-hot tokens -> token ids
                tiles.append(tile_for(sample, cap))
            self.grid.set_tiles(tiles)
        self.loaded.emit()
