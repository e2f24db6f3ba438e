"""Explain: why the model predicts what it does for one sample, by saliency, IG, Grad-CAM, occlusion or LRP.

Images get the attribution drawn over the input (and beside it, signed); sequences and tables get
one bar per step or feature, token sequences one bar per token labelled with the token. A graph
with an attention Output shows its map (query × key, token labels) next to the attributions. A
model that predicts at every position is explained at the position the user picks (default: last).
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
from studio.ui.analysis.token_views import AttentionMap, draw_token_bars

METHOD_LABELS = {"saliency": "Saliency (|gradient|)", "ig": "Integrated Gradients", "gradcam": "Grad-CAM",
                 "occlusion": "Occlusion", "lrp": "Layer-wise relevance (LRP)"}


TOKEN_ONLY = ("saliency", "ig", "occlusion")  # what applies to token ids


def explain_job(loaded, index: int, target: int | None, method: str, node: str | None,
                position: int | None = None) -> dict[str, Any]:
    """Attribution, prediction and attention map for one validation sample (runs in the background)."""
    import torch

    from studio.analysis.explain import attribute
    from studio.analysis.tokens import token_label

    d = loaded.data
    if d.positions is not None:
        d.set_position(position)
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
                           "delta": None if result.delta is None else float(result.delta.max()),
                           "steps": result.steps,
                           "position": d.position, "index": index,
                           "tokens": [token_label(t, d.vocab) for t in x[0].tolist()] if d.tokens else None}
    xs = x if d.model.mean is None else (x - d.model.mean) / d.model.std
    if loaded.attention:
        with torch.no_grad():
            raw = d.model.module(xs)
        name, idx = next(iter(loaded.attention.items()))
        att = raw[idx] if isinstance(raw, tuple | list) else raw
        out["attention"] = (f"Output '{name}'", _square(att))
    elif loaded.layers and loaded.built is not None:  # no attention Output: read the attention layers themselves
        from studio.train.views import attention_from

        with torch.no_grad(), loaded.built.capture(list(loaded.layers)) as seen:
            loaded.built.module(xs)
        found = attention_from(dict(seen), loaded.built, None)
        if found is not None:
            out["attention"] = (f"layer '{found['layer']}'", found["weights"])
    return out


def _square(att) -> Any:
    """The first sample's query × key map, heads averaged."""
    a = att[0].float()
    while a.dim() > 2:
        a = a.mean(0)
    return a.numpy()


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
        self.position = QSpinBox()
        self.position.setToolTip("This model predicts at every position: which position's prediction to explain")
        self.node = QComboBox()
        self.node.setToolTip("Grad-CAM: the conv node to look at")
        self.method.currentIndexChanged.connect(self._method_changed)
        self.run_button = QPushButton("Explain")
        self.run_button.clicked.connect(self.compute)
        form = QFormLayout()
        form.addRow("Sample", self.sample)
        form.addRow("Position", self.position)
        self.form = form
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
        self.attention = AttentionMap()
        self.attention.hide()
        row = QHBoxLayout()
        row.addWidget(self.bars, 3)
        row.addWidget(self.attention, 2)
        right = QVBoxLayout()
        right.addWidget(self.pictures_box, 1)
        right.addLayout(row, 1)
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
        positions = d.positions
        self.form.setRowVisible(self.position, positions is not None)
        self.form.setRowVisible(self.node, bool(loaded.convs))
        if positions is not None:
            self.position.setRange(0, positions - 1)
            self.position.setValue(d.position if d.position is not None else positions - 1)
        model = self.method.model()
        for i in range(self.method.count()):  # Grad-CAM and LRP need real-valued inputs
            usable = not d.tokens or self.method.itemData(i) in TOKEN_ONLY
            model.item(i).setEnabled(usable)
            model.item(i).setToolTip("" if usable else "needs real-valued inputs; this model reads token ids")
        if d.tokens and self.method.currentData() not in TOKEN_ONLY:
            self.method.setCurrentIndex(self.method.findData("ig"))
        self.attention.setVisible(bool(loaded.attention or loaded.layers))
        self._method_changed()

    def _method_changed(self) -> None:
        self.node.setEnabled(self.method.currentData() == "gradcam" and self.node.count() > 0)

    def job_ended(self) -> None:
        self.run_button.setEnabled(True)
        self.info.setText("")

    def compute(self) -> None:
        if self.loaded is None:
            return
        per_position = self.loaded.data.positions is not None
        args = (self.loaded, self.sample.value(), self.target.currentData(), self.method.currentData(),
                self.node.currentText() or None, self.position.value() if per_position else None)
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
        where = f" at position <b>{r['position']}</b>" if r.get("position") is not None else ""
        lines = [f"<b>{METHOD_LABELS[r['method']]}</b> for class <b>{name(r['target'])}</b>{where}",
                 f"Prediction: {name(pred)} ({100 * r['probs'][pred]:.1f} %)", f"Label: {name(r['label'])}"]
        if r["delta"] is not None:
            lines.append(f"Convergence delta (completeness): {r['delta']:.2e} ({r.get('steps', 0)} steps)")
        lines.append("<span style='color:#b33'>red</span> raises the score, "
                     "<span style='color:#33b'>blue</span> lowers it")
        if r.get("position") is not None:
            lines.append("Outlined: the explained position" + (" (its bar, its row of attention)" if "attention" in r
                                                                else ""))
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
        elif r.get("tokens") is not None:
            self.pictures_box.hide()
            self.bars.show()
            self.bars.setLabel("bottom", "token")
            draw_token_bars(self.bars, v.reshape(-1), r["tokens"], r.get("position"))
        else:  # steps of a real-valued sequence (summed over features), or the features of a table
            self.pictures_box.hide()
            self.bars.show()
            unit = "step" if x.ndim == 2 else "feature"
            self.bars.setLabel("bottom", unit)
            values = v.sum(-1) if v.ndim == 2 else v.reshape(-1)
            draw_token_bars(self.bars, values, [f"{unit} {i}" for i in range(len(values))], r.get("position"))
        if "attention" in r:
            out_name, a = r["attention"]
            tokens = r.get("tokens")
            def label(i: int) -> str:
                return f"{i}:{tokens[i]}" if tokens is not None and i < len(tokens) else str(i)

            self.attention.set_map(a, [label(i) for i in range(a.shape[0])], [label(j) for j in range(a.shape[1])],
                                   r.get("position"), f"Attention of {out_name}, sample {r.get('index', 0)}")
            self.attention.setToolTip(f"attention weights of {out_name} (mean over heads); "
                                      "the outlined row is the explained position")
            self.attention.show()
        else:
            self.attention.clear_map()
            self.attention.hide()
