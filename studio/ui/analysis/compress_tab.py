"""Compress: magnitude pruning (global or per layer, optional fine-tune) and int8 quantization, before / after.

The pruned model (masks folded in) can be written as weights that ``nnstudio export --weights`` and
the editor load like any other.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.ui.analysis.common import Tab

HEADERS = ("model", "parameters", "non-zero", "file", "latency / sample", "accuracy")


def compress_job(data, sparsity: float, scope: str, finetune_epochs: int, quantize: str) -> dict[str, Any]:
    """Before / after figures and the pruned model (runs in the background)."""
    from studio.analysis import compress
    from studio.analysis.attack import accuracy

    def acc(model) -> float:
        return accuracy(model, data.val_x, data.val_y)

    rows = [compress.figures("original", data.model, data.val_x, acc)]
    model, pruned = data.model, None
    if sparsity > 0:
        model = copy.deepcopy(data.model)
        compress.prune_model(model.module, sparsity, scope)
        if finetune_epochs:
            compress.finetune(model, data.train_x, data.train_y, finetune_epochs)
        compress.finalize(model.module)
        label = f"pruned {100 * sparsity:.0f} % ({scope})" + (f" + {finetune_epochs} ep." if finetune_epochs else "")
        rows.append(compress.figures(label, model, data.val_x, acc))
        pruned = model
    if quantize != "none":
        try:
            if quantize == "dynamic":
                q = compress.quantize_dynamic(model)
            else:
                q = copy.deepcopy(model)
                q.module = compress.quantize_static(model.module, data.train_x[:512])
        except (RuntimeError, AssertionError, NotImplementedError, ValueError) as exc:  # ValueError: FX tracing
            raise ValueError(f"cannot quantize this model: {str(exc).splitlines()[0]}") from None
        rows.append(compress.figures(f"int8 {quantize}", q, data.val_x, acc))
    return {"rows": rows, "pruned": pruned}


class CompressTab(Tab):
    def __init__(self, workspace) -> None:
        super().__init__(workspace)
        self.sparsity = QSlider(Qt.Orientation.Horizontal)
        self.sparsity.setRange(0, 95)
        self.sparsity.setSingleStep(5)
        self.sparsity.setValue(80)
        self.sparsity_label = QLabel()
        self.sparsity.valueChanged.connect(lambda v: self.sparsity_label.setText(f"{v} % of weights removed"))
        self.sparsity.valueChanged.emit(self.sparsity.value())
        self.scope = QComboBox()
        self.scope.addItem("Global (smallest weights overall)", "global")
        self.scope.addItem("Per layer (same share in each)", "layer")
        self.finetune = QCheckBox("Fine-tune after pruning")
        self.finetune.setChecked(True)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 50)
        self.epochs.setValue(2)
        self.epochs.setSuffix(" epoch(s)")
        self.finetune.toggled.connect(self.epochs.setEnabled)
        self.quantize = QComboBox()
        for label, key in (("No quantization", "none"), ("Dynamic int8 (Linear, LSTM, GRU)", "dynamic"),
                           ("Static int8 (calibrated)", "static")):
            self.quantize.addItem(label, key)
        self.run_button = QPushButton("Compress")
        self.run_button.clicked.connect(self.compute)
        self.export_button = QPushButton("Export pruned weights…")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self._pick_export)
        form = QFormLayout()
        form.addRow("Sparsity", self.sparsity)
        form.addRow("", self.sparsity_label)
        form.addRow("Scope", self.scope)
        form.addRow(self.finetune)
        form.addRow("", self.epochs)
        form.addRow("Quantize", self.quantize)
        self.info = QLabel("Latency is measured on the CPU, one sample at a time.")
        self.info.setWordWrap(True)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.run_button)
        left.addWidget(self.export_button)
        left.addWidget(self.info)
        left.addStretch(1)
        side = QWidget()
        side.setLayout(left)
        side.setFixedWidth(340)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        lay = QHBoxLayout(self)
        lay.addWidget(side)
        lay.addWidget(self.table, 1)
        self.pruned = None
        self.rows: list[Any] = []

    def job_ended(self) -> None:
        self.run_button.setEnabled(True)

    def compute(self) -> None:
        if self.loaded is None:
            return
        args = (self.loaded.data, self.sparsity.value() / 100, self.scope.currentData(),
                self.epochs.value() if self.finetune.isChecked() else 0, self.quantize.currentData())
        if args[1] == 0 and args[4] == "none":
            self.info.setText("Nothing to do: choose a sparsity above 0 or a quantization.")
            return
        self.run_button.setEnabled(False)
        self.info.setText("Compressing and measuring…")
        self.workspace.job(lambda: compress_job(*args), self.show_result, "Compress")

    def show_result(self, r: dict[str, Any]) -> None:
        self.run_button.setEnabled(True)
        self.rows, self.pruned = r["rows"], r["pruned"]
        self.export_button.setEnabled(self.pruned is not None)
        self.table.setRowCount(len(self.rows))
        for i, row in enumerate(self.rows):
            cells = (row.label, f"{row.parameters:,}", f"{row.nonzero:,}", f"{row.file_bytes / 1024:.1f} KiB",
                     f"{row.latency_ms:.3f} ms", "-" if row.accuracy is None else f"{100 * row.accuracy:.1f} %")
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, j, item)
        base = self.rows[0]
        last = self.rows[-1]
        self.info.setText(f"{last.label}: {base.file_bytes / max(1, last.file_bytes):.1f}× smaller file, "
                          f"accuracy {100 * (last.accuracy or 0):.1f} % (was {100 * (base.accuracy or 0):.1f} %).")

    def _pick_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export pruned weights", "pruned.safetensors",
                                              "Weights (*.safetensors)")
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> None:
        """Write the pruned weights (safetensors) for export and the editor, in the background."""
        from studio.compile.weights import save_weights

        ws, model, name = self.workspace, self.pruned, self.loaded.data.graph_name
        self.workspace.job(lambda: save_weights(ws.project, {name: model.module}, path),
                           lambda written: self.info.setText(f"Pruned weights written to {written}"), "Export")
