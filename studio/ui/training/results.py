"""After (and during) training: activations of a clicked node, validation evaluation, trying the model
on the user's own input, saving weights and exporting code.

The trained model is rebuilt from the run's snapshot and its latest checkpoint in a background
job (:class:`~studio.ui.tasks.TaskRunner`), so the GUI thread only draws results.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from studio.ui.training.tiles import Tile, TileGrid, array_image, is_image, tile_for
from studio.ui.training.view_widgets import MatrixView


def training_graph(snapshot, settings: dict):
    """The graph Try and Activations run: the one the settings name, else the first (a GAN's generator)."""
    name = (settings or {}).get("graph", "")
    for g in snapshot.graphs:
        if g.name == name:
            return g
    return snapshot.graphs[0]


def load_trained(run: dict[str, Any], registry, graph=None):
    """The run's model with the weights of its latest checkpoint (call in a background job)."""

    from studio.train.build import build_model
    from studio.train.checkpoint import load_checkpoint

    snapshot = run["snapshot"]
    graph = graph or training_graph(snapshot, run["settings"])
    built = build_model(graph, registry)
    path = run.get("checkpoint") or (Path(run["dir"]) / "last.pt")
    if not Path(path).exists():
        raise FileNotFoundError("no checkpoint yet: the first one is written at the end of epoch 1")
    models = load_checkpoint(path).get("models", {})
    if graph.name not in models:
        raise KeyError(f"the checkpoint has no weights for graph '{graph.name}'")
    built.module.load_state_dict(models[graph.name])
    built.module.eval()
    return built


def validation_samples(run: dict[str, Any], shape, count: int = 64):
    from studio.train.data import load_data
    from studio.train.settings import TrainingSettings

    s = TrainingSettings.from_dict(run["settings"])
    bundle = load_data(s.dataset, s.seed, shape)
    return bundle.val_x[:count], bundle.val_y[:count], bundle.classes


class ActivationView(QWidget):
    """Feature maps / activations of the node selected in the canvas, for one validation sample."""

    computed = Signal(object)

    def __init__(self, panel) -> None:
        super().__init__()
        self.panel = panel
        self.node_id: str | None = None
        self.info = QLabel("Select a node in the canvas (during or after training) to see what it computes.")
        self.info.setWordWrap(True)
        self.sample = QSpinBox()
        self.sample.setRange(0, 63)
        self.sample.setPrefix("validation sample ")
        self.sample.valueChanged.connect(lambda _v: self.compute())
        self.input_tile = TileGrid(tile=64, title="Input")
        self.input_tile.setMaximumWidth(160)
        self.maps = TileGrid(tile=56, title="Activations")
        self.bars = pg.PlotWidget()
        from studio.ui.training.plots import theme_plot

        theme_plot(self.bars)
        for axis in ("bottom", "left"):
            self.bars.getPlotItem().getAxis(axis).enableAutoSIPrefix(False)
        self.bars.getPlotItem().setLabel("bottom", "unit")
        self.bars.getPlotItem().setLabel("left", "activation")
        self.bars.hide()
        self.matrix = MatrixView("Activations", "position", "feature", counts=False)
        self.matrix.hide()
        top = QHBoxLayout()
        top.addWidget(self.info, 1)
        top.addWidget(self.sample)
        body = QHBoxLayout()
        body.addWidget(self.input_tile)
        body.addWidget(self.maps, 1)
        body.addWidget(self.bars, 1)
        body.addWidget(self.matrix, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(body, 1)
        panel.document.selection_changed.connect(self._selection)

    def reset(self) -> None:
        """Another project: forget the node and what was shown."""
        self.node_id = None
        self.info.setText("Select a node in the canvas (during or after training) to see what it computes.")
        self.input_tile.set_tiles([])
        self.maps.set_tiles([])
        for w in (self.bars, self.matrix):
            w.hide()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            from studio.ui.training.plots import theme_plot

            theme_plot(self.bars, self.palette())

    def _selection(self, _graph_id: str, ids: list) -> None:
        if len(ids) == 1:
            self.node_id = ids[0]
            self.compute()

    def model_changed(self) -> None:
        if self.node_id:
            self.compute()

    def compute(self) -> None:
        run = self.panel.last_run
        if run is None or not self.node_id:
            return
        snapshot = run["snapshot"]
        graph = next((g for g in snapshot.graphs if self.node_id in g.nodes), None)
        if graph is None:
            self.info.setText("This node was added after the run started; train again to see its activations.")
            return
        node = graph.nodes[self.node_id]
        index = self.sample.value()
        registry = self.panel.document.registry

        def job():
            import torch

            built = load_trained(run, registry, graph)
            if not built.inputs:
                raise ValueError(f"graph '{graph.name}' has no Input")
            xs, ys, classes = validation_samples(run, built.inputs[0].shape)
            if node.type_id == "io.input":
                out = xs[index]
                return {"node": node.name, "out": out.float().numpy() if out.is_floating_point() else out.numpy(),
                        "input": xs[index].numpy(), "label": ys[index].numpy(), "classes": classes}
            if node.name not in built.targets and node.type_id != "io.output":
                raise ValueError(f"node '{node.name}' has no module of its own (a function or a port); "
                                 f"select a layer")
            with torch.no_grad(), built.capture([node.name]) as seen:
                raw = built.module(xs[index: index + 1])
            out = seen.get(node.name, raw)
            if isinstance(out, tuple | list):
                out = out[0]
            return {"node": node.name, "out": out[0].detach().float().cpu().numpy(), "input": xs[index].numpy(),
                    "label": ys[index].numpy(), "classes": classes}

        self.info.setText(f"Computing the activations of '{node.name}'…")
        self.panel.tasks.submit(job, self._show, lambda msg: self.info.setText(f"No activations: {msg}"))

    def _show(self, d: dict[str, Any]) -> None:
        out = np.asarray(d["out"])
        label = np.asarray(d["label"])
        classes = d["classes"]
        cap = classes[int(label)] if label.ndim == 0 and classes and int(label) < len(classes) else ""
        self.input_tile.set_tiles([tile_for(np.asarray(d["input"]), cap)])
        self.info.setText(f"<b>{d['node']}</b>: output {'×'.join(str(s) for s in out.shape)} for validation sample "
                          f"{self.sample.value()} · mean {out.mean():.3g}, max {out.max():.3g}, "
                          f"{100 * float((out <= 0).mean()):.0f}% ≤ 0")
        for w in (self.maps, self.bars, self.matrix):
            w.hide()
        if out.ndim == 3:
            lo, hi = float(out.min()), float(out.max())
            tiles = [Tile(image=array_image(out[c], lo, hi), caption=f"ch {c}") for c in range(min(32, out.shape[0]))]
            self.maps.title = f"Feature maps of {d['node']} (first {len(tiles)} of {out.shape[0]} channels)"
            self.maps.set_tiles(tiles)
            self.maps.show()
        elif out.ndim == 2 and not is_image(out):
            self.matrix.title = f"Activations of {d['node']}"
            self.matrix.set_matrix(out, [str(i) for i in range(out.shape[0])], [str(j) for j in range(out.shape[1])])
            self.matrix.show()
        elif out.ndim == 2:
            self.maps.set_tiles([Tile(image=array_image(out), caption=d["node"])])
            self.maps.show()
        else:
            flat = out.reshape(-1)[:512]
            plot = self.bars.getPlotItem()
            plot.clear()
            plot.setTitle(f"Activations of {d['node']}")
            plot.addItem(pg.BarGraphItem(x=np.arange(len(flat)), height=flat, width=0.8, brush="#3b82f6"))
            self.bars.show()
        self.computed.emit(d)


class ResultsWidget(QWidget):
    """Final metrics, evaluation, try-it, save weights, export code."""

    evaluated = Signal(object)
    predicted = Signal(str)
    saved = Signal(str)
    message = Signal(str)

    def __init__(self, panel) -> None:
        super().__init__()
        self.panel = panel
        self.text = QTextBrowser()
        self.text.setHtml("<p>Results appear here when a run ends.</p>")
        self.eval_button = QPushButton("Evaluate on validation set")
        self.eval_button.clicked.connect(self.evaluate)
        self.input = QLineEdit()
        self.input.setPlaceholderText("Type an input: numbers, e.g. 0.5, -1.2  or tokens 3 1 4 1 5")
        self.input.returnPressed.connect(lambda: self.try_text(self.input.text()))
        self.try_button = QPushButton("Try")
        self.try_button.clicked.connect(lambda: self.try_text(self.input.text()))
        self.image_button = QPushButton("Try an image file…")
        self.image_button.clicked.connect(self._pick_image)
        self.output = QLabel("")
        self.output.setWordWrap(True)
        self.output.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.save_button = QPushButton("Save weights…")
        self.save_button.clicked.connect(self._pick_weights)
        self.export_button = QPushButton("Export PyTorch code…")
        self.export_button.clicked.connect(self._export)
        self.analyse_button = QPushButton("Analyse…")
        self.analyse_button.setToolTip("Explain, attack, compress and tune this run in the analysis workspace")
        self.analyse_button.clicked.connect(self.analyse)
        self.workspaces: list[QWidget] = []
        row1 = QHBoxLayout()
        for b in (self.eval_button, self.save_button, self.export_button, self.analyse_button):
            row1.addWidget(b)
        row1.addStretch(1)
        row2 = QHBoxLayout()
        row2.addWidget(self.input, 1)
        row2.addWidget(self.try_button)
        row2.addWidget(self.image_button)
        lay = QVBoxLayout(self)
        lay.addLayout(row1)
        lay.addWidget(self.text, 1)
        lay.addLayout(row2)
        lay.addWidget(self.output)
        self.reset()

    def reset(self) -> None:
        """No run yet (or another project): nothing to show, nothing to press."""
        for b in (self.eval_button, self.try_button, self.image_button, self.save_button, self.input,
                  self.analyse_button):
            b.setEnabled(False)
        self.text.setHtml("<p>Results appear here when a run ends.</p>")
        self.output.setText("")
        self.input.clear()

    def run_finished(self, run: dict[str, Any] | None) -> None:
        final = run.get("final") if run else None
        has_weights = bool(run and run.get("checkpoint"))
        for b in (self.eval_button, self.try_button, self.image_button, self.save_button, self.input,
                  self.analyse_button):
            b.setEnabled(has_weights)
        image = bool(run) and _takes_images(run)
        self.image_button.setVisible(image)  # sequence and tabular models get no "Try an image"
        if final is None:
            return
        rows = "".join(f"<tr><td>{k}</td><td align='right'>{v:.4g}</td></tr>" for k, v in
                       (final.history[-1] if final.history else {}).items() if isinstance(v, int | float))
        self.text.setHtml(f"<p><b>{run_summary(run)}</b></p>"
                          f"<p>Checkpoint: {run.get('checkpoint') or 'none'}</p>"
                          f"<table cellspacing='6'><tr><th align='left'>last epoch</th><th></th></tr>{rows}</table>")

    def analyse(self) -> QWidget | None:
        """Open the analysis workspace on the latest run (its own window; it loads in the background)."""
        from studio.ui.analysis import open_workspace

        run = self.panel.last_run
        if not run or not run.get("checkpoint"):
            return None
        ws = open_workspace(self.panel.document, run.get("dir") or run["checkpoint"], run["snapshot"])
        self.workspaces = [w for w in self.workspaces if w.isVisible()] + [ws]
        return ws

    # -- evaluate --------------------------------------------------------------------------
    def evaluate(self) -> None:
        run = self.panel.last_run
        registry = self.panel.document.registry

        def job():
            from studio.train.engine import evaluate

            return evaluate(run["snapshot"], registry, run["checkpoint"], run["settings"])

        self.text.append("<p>Evaluating on the validation set…</p>")
        self.panel.tasks.submit(job, self._show_eval, lambda m: self.text.append(f"<p>Evaluation failed: {m}</p>"))

    def _show_eval(self, update) -> None:
        if update.kind == "error":
            self.text.append(f"<p>Evaluation failed: {update.message}</p>")
            return
        metrics = update.metrics
        if update.views:
            self.panel.views.show_views(update.views)
        rows = "".join(f"<tr><td>{k}</td><td align='right'>{v:.4g}</td></tr>" for k, v in metrics.items()
                       if isinstance(v, int | float))
        self.text.append(f"<p><b>Validation</b></p><table cellspacing='6'>{rows}</table>")
        self.evaluated.emit(metrics)

    # -- try it ----------------------------------------------------------------------------
    def try_text(self, text: str) -> None:
        values = [v for v in text.replace(",", " ").split() if v]
        if not values:
            self.output.setText("Type some numbers first.")
            return
        try:
            numbers = [float(v) for v in values]
        except ValueError:
            self.output.setText(f"'{text}' is not a list of numbers.")
            return
        self._predict(lambda shape, dtype: _from_numbers(numbers, shape, dtype))

    def try_image(self, path: str) -> None:
        self._predict(lambda shape, dtype: _from_image(path, shape))

    def _pick_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Try the model on an image", "", "Images (*.png *.jpg *.jpeg *.bmp)")
        if path:
            self.try_image(path)

    def _predict(self, make_input) -> None:
        run = self.panel.last_run
        registry = self.panel.document.registry

        def job():
            import torch

            built = load_trained(run, registry)
            inp = built.inputs[0]
            x = make_input(tuple(inp.shape), inp.dtype)
            with torch.no_grad():
                out = built.predict(x).float()[0]
            classes = list((run.get("info") or {}).get("classes") or [])
            return describe_output(out, classes)

        self.output.setText("Running the model…")
        self.panel.tasks.submit(job, self._show_prediction, lambda m: self.output.setText(f"Cannot run the model: {m}"))

    def _show_prediction(self, text: str) -> None:
        self.output.setText(text)
        self.predicted.emit(text)

    # -- save / export ---------------------------------------------------------------------
    def _pick_weights(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save trained weights", "weights.safetensors",
                                              "safetensors (*.safetensors)")
        if path:
            self.save_weights_to(path)

    def save_weights_to(self, path: str) -> None:
        run = self.panel.last_run

        def job():
            from studio.compile.weights import save_weights
            from studio.train.checkpoint import load_checkpoint

            models = load_checkpoint(run["checkpoint"]).get("models", {})
            return str(save_weights(run["snapshot"], models, path))

        self.panel.tasks.submit(job, self._saved, lambda m: self.output.setText(f"Cannot save the weights: {m}"))

    def _saved(self, path: str) -> None:
        self.output.setText(f"Weights saved to {path}")
        self.saved.emit(path)

    def _export(self) -> None:
        window = self.panel.window
        if window is not None and hasattr(window, "export_code"):
            window.export_code()
            return
        from studio.ui.exporting import export_code_dialog

        export_code_dialog(self.panel)


def run_summary(run: dict[str, Any]) -> str:
    """Which run the Results tab shows and how it ended, in one sentence."""
    final = run["final"]
    title = run.get("title") or "The last run"
    steps = f"{final.step} step{'s' if final.step != 1 else ''}"
    if final.kind == "done":
        how = f"finished after {steps}"
        if final.message not in ("", "finished"):
            how += f" ({final.message})"
    elif final.kind == "cancelled":
        how = f"was stopped after {steps}"
    else:
        how = f"failed after {steps}: {final.message}"
    return f"{title} {how}." + training_marks(run.get("info") or {})


def training_marks(info: dict[str, Any]) -> str:
    """What made the training data differ from the dataset: flipped labels, adversarial examples."""
    out = ""
    noise = info.get("label_noise")
    if noise:
        out += f" Training labels: {100 * noise['share']:.0f} % flipped ({noise['flipped']} of {noise['of']})."
    adv = info.get("adversarial")
    if adv:
        out += f" Adversarial training: {adv['method'].upper()}, ε = {adv['eps']:g}."
    return out


def _takes_images(run: dict[str, Any]) -> bool:
    """Whether the trained graph's Input is an image (channels × height × width)."""
    graph = training_graph(run["snapshot"], run.get("settings") or {})
    for node in graph.nodes.values():
        if node.type_id == "io.input":
            shape = node.params.get("shape")
            return isinstance(shape, list | tuple) and len(shape) == 3 and shape[0] in (1, 3)
    return False


def _from_numbers(numbers: list[float], shape: tuple[int, ...], dtype: str):
    import torch

    need = int(np.prod(shape)) if shape else 1
    if len(numbers) != need:
        raise ValueError(f"the model's Input takes {need} value(s) (shape {list(shape)}); you typed {len(numbers)}")
    if dtype.startswith("int"):
        return torch.tensor([int(v) for v in numbers], dtype=torch.long).reshape(1, *shape)
    return torch.tensor(numbers, dtype=torch.float32).reshape(1, *shape)


def _from_image(path: str, shape: tuple[int, ...]):
    import torch
    from PySide6.QtGui import QImage

    if len(shape) != 3 or shape[0] not in (1, 3):
        raise ValueError(f"the model's Input has shape {list(shape)}, not an image (channels × height × width)")
    img = QImage(path)
    if img.isNull():
        raise ValueError(f"{path} is not a readable image")
    c, h, w = shape
    img = img.scaled(w, h, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
    img = img.convertToFormat(QImage.Format.Format_Grayscale8 if c == 1 else QImage.Format.Format_RGB888)
    buf = np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine())
    arr = buf[:, : w * c].reshape(h, w, c).astype(np.float32) / 255.0
    return torch.from_numpy(np.moveaxis(arr, -1, 0).copy()).unsqueeze(0)


def describe_output(out, classes: list[str]) -> str:
    """Class names with probabilities when the output scores the run's classes, else the numbers."""
    import torch

    if classes and out.dim() >= 1 and out.shape[-1] == len(classes) > 1:
        probs = torch.softmax(out, -1)
        if probs.dim() == 1:
            top = torch.topk(probs, min(3, probs.numel()))
            names = [classes[i] for i in top.indices.tolist()]
            return "Prediction: " + ", ".join(f"{n} {100 * p:.0f}%" for n, p in zip(names, top.values.tolist(), strict=False))
        ids = probs.argmax(-1).reshape(-1).tolist()
        return "Prediction: " + " ".join(classes[i] for i in ids)
    flat = out.reshape(-1)[:16].tolist()
    return "Output: " + ", ".join(f"{v:.3g}" for v in flat) + (" …" if out.numel() > 16 else "")
