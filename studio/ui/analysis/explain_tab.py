"""Explain: why the model predicts what it does for one sample, by saliency, IG, Grad-CAM, occlusion or LRP.

Images get the attribution drawn over the input (and beside it, signed); sequences and tables get
one bar per step or feature. A graph with an attention Output shows its map in the same place.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.ui.analysis.common import Tab, captioned, class_name, fit_scale, grey, overlay, pixmap, signed

METHOD_LABELS = {"saliency": "Saliency (|gradient|)", "ig": "Integrated Gradients", "gradcam": "Grad-CAM",
                 "occlusion": "Occlusion", "lrp": "Layer-wise relevance (LRP)"}


def explain_job(loaded, index: int, target: int | None, method: str, node: str | None) -> dict[str, Any]:
    """Attribution, prediction and attention map for one validation sample (runs in the background)."""
    import torch

    from studio.analysis.explain import attribute

    d = loaded.data
    x = d.val_x[index:index + 1]
    layer = loaded.convs.get(node) if method == "gradcam" else None
    if method == "gradcam" and layer is None:
        from studio.analysis.explain import ExplainError

        raise ExplainError("Grad-CAM needs a conv node; this model has none" if not loaded.convs
                           else "choose the conv node Grad-CAM looks at")
    result = attribute(d.model, x, target, method, layer=layer)
    with torch.no_grad():
        probs = torch.softmax(d.model(x).float(), -1)[0]
    out: dict[str, Any] = {"x": x[0].numpy(), "values": result.values[0].float().numpy(), "method": method,
                           "target": int(result.target[0]), "probs": probs.numpy(), "label": int(d.val_y[index]),
                           "delta": None if result.delta is None else float(result.delta.max())}
    if loaded.attention:
        module = d.model.module
        with torch.no_grad():
            xs = x if d.model.mean is None else (x - d.model.mean) / d.model.std
            raw = module(xs)
        name, idx = next(iter(loaded.attention.items()))
        att = raw[idx] if isinstance(raw, tuple | list) else raw
        a = att[0].float()
        while a.dim() > 2:
            a = a.mean(0)
        out["attention"] = (name, a.numpy())
    return out


class ExplainTab(Tab):
    def __init__(self, workspace) -> None:
        super().__init__(workspace)
        self.sample = QSpinBox()
        self.sample.setToolTip("Which validation sample to explain")
        self.target = QComboBox()
        self.target.setToolTip("The class whose score is explained (the prediction by default)")
        self.method = QComboBox()
        for key, label in METHOD_LABELS.items():
            self.method.addItem(label, key)
        self.method.setCurrentIndex(1)
        self.node = QComboBox()
        self.node.setToolTip("Grad-CAM: the conv node to look at")
        self.method.currentIndexChanged.connect(self._method_changed)
        self.run_button = QPushButton("Explain")
        self.run_button.clicked.connect(self.compute)
        form = QFormLayout()
        form.addRow("Sample", self.sample)
        form.addRow("Class", self.target)
        form.addRow("Method", self.method)
        form.addRow("Conv node", self.node)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.run_button)
        left.addWidget(self.info)
        left.addStretch(1)
        side = QWidget()
        side.setLayout(left)
        side.setFixedWidth(300)
        self.pictures = QHBoxLayout()
        self.pictures_box = QWidget()
        self.pictures_box.setLayout(self.pictures)
        self.bars = pg.PlotWidget()
        self.bars.setBackground("w")
        self.bars.setLabel("left", "attribution")
        self.bars.setLabel("bottom", "step / feature")
        self.bars.getAxis("left").enableAutoSIPrefix(False)
        self.bars.hide()
        self.attention = QLabel()
        self.attention.setAlignment(Qt.AlignmentFlag.AlignCenter)
        right = QVBoxLayout()
        right.addWidget(self.pictures_box, 1)
        right.addWidget(self.bars, 1)
        right.addWidget(self.attention)
        lay = QHBoxLayout(self)
        lay.addWidget(side)
        lay.addLayout(right, 1)
        self.last: dict[str, Any] | None = None
        self._method_changed()

    def set_run(self, loaded) -> None:
        super().set_run(loaded)
        d = loaded.data
        self.sample.setRange(0, max(0, len(d.val_x) - 1))
        self.target.clear()
        self.target.addItem("Predicted class", None)
        for i, name in enumerate(d.classes):
            self.target.addItem(f"{i}: {name}", i)
        self.node.clear()
        for name in loaded.convs:
            self.node.addItem(name)
        if loaded.convs:
            self.node.setCurrentIndex(self.node.count() - 1)
        self._method_changed()

    def _method_changed(self) -> None:
        self.node.setEnabled(self.method.currentData() == "gradcam" and self.node.count() > 0)

    def job_ended(self) -> None:
        self.run_button.setEnabled(True)
        self.info.setText("")

    def compute(self) -> None:
        if self.loaded is None:
            return
        args = (self.loaded, self.sample.value(), self.target.currentData(), self.method.currentData(),
                self.node.currentText() or None)
        self.run_button.setEnabled(False)
        self.info.setText("Computing…")
        self.workspace.job(lambda: explain_job(*args), self.show_result, "Explain")

    def show_result(self, r: dict[str, Any]) -> None:
        self.last = r
        self.run_button.setEnabled(True)
        classes = self.loaded.data.classes
        def name(i: int) -> str:
            return class_name(classes, i)

        pred = int(np.argmax(r["probs"]))
        lines = [f"<b>{METHOD_LABELS[r['method']]}</b> for class <b>{name(r['target'])}</b>",
                 f"Prediction: {name(pred)} ({100 * r['probs'][pred]:.1f} %)", f"Label: {name(r['label'])}"]
        if r["delta"] is not None:
            lines.append(f"Convergence delta (completeness): {r['delta']:.2e}")
        lines.append("<span style='color:#b33'>red</span> raises the score, "
                     "<span style='color:#33b'>blue</span> lowers it")
        self.info.setText("<br>".join(lines))
        while self.pictures.count():
            item = self.pictures.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        x, v = r["x"], r["values"]
        if x.ndim == 3:
            self.bars.hide()
            self.pictures_box.show()
            scale = fit_scale(x.shape, 260)
            for pic, caption in ((grey(x), "input"), (overlay(x, v), "attribution over the input"),
                                 (signed(v), "attribution (signed)")):
                self.pictures.addWidget(captioned(pixmap(pic, scale), caption))
        else:
            self.pictures_box.hide()
            self.bars.show()
            self.bars.clear()
            values = v.sum(-1) if v.ndim == 2 else v.reshape(-1)
            xs = np.arange(len(values))
            brushes = [pg.mkBrush(200, 60, 50) if a >= 0 else pg.mkBrush(50, 90, 200) for a in values]
            self.bars.addItem(pg.BarGraphItem(x=xs, height=values, width=0.8, brushes=brushes))
            tokens = x.ndim == 1 and not np.issubdtype(x.dtype, np.floating)
            ticks = [(i, str(int(t)) if tokens else f"{'step' if x.ndim == 2 else 'feature'} {i}")
                     for i, t in enumerate(x.reshape(len(values), -1)[:, 0])]
            self.bars.getAxis("bottom").setTicks([ticks if len(ticks) <= 40 else ticks[::max(1, len(ticks) // 20)]])
        if "attention" in r:
            out_name, a = r["attention"]
            scale = max(1, 240 // max(a.shape))
            self.attention.setPixmap(pixmap(signed(a, float(np.abs(a).max()) or 1.0), scale))
            self.attention.setToolTip(f"attention map of Output '{out_name}' (mean over heads)")
        else:
            self.attention.clear()
