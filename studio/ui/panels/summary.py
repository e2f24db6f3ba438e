"""Model summary for the current graph: shapes and parameter counts per node, totals, memory.

The memory estimate is what one training step of a batch needs at least: the activations kept
for the backward pass (every layer's outputs, inside composite nodes too; see
:mod:`studio.ui.panels.memory`), the parameters and their gradients. Optimizer state comes on
top (Adam keeps two more copies of the trainable parameters; shown separately).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.graph_order import topological_order
from studio.ui.document import Document
from studio.ui.panels._common import debouncer, dim_color, error_color, format_bytes, format_count
from studio.ui.panels.memory import MemoryEstimate, estimate_memory

REFRESH_DELAY_MS = 200
COLUMNS = ("Node", "Type", "Output shape", "Params", "Trainable")
_ID_ROLE = Qt.ItemDataRole.UserRole + 1


class SummaryPanel(QWidget):
    """Table of node, type, output shape and params, plus totals and a memory estimate."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._dirty = True
        self._total = (0, 0)

        self.table = QTreeWidget(self)
        self.table.setColumnCount(len(COLUMNS))
        self.table.setHeaderLabels(list(COLUMNS))
        self.table.setRootIsDecorated(False)
        self.table.setAlternatingRowColors(True)
        self.table.setUniformRowHeights(True)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        header = self.table.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # see _fit_columns
        for col in (3, 4):
            self.table.headerItem().setTextAlignment(col, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.table.setStyleSheet("QTreeView::item { padding: 1px 8px 1px 2px; }")
        self.table.itemClicked.connect(self._clicked)

        self.totals_label = QLabel(self)
        self.totals_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bold = QFont(self.font())
        bold.setBold(True)
        self.totals_label.setFont(bold)
        self.batch_size = QSpinBox(self)
        self.batch_size.setRange(1, 1 << 20)
        self.batch_size.setValue(32)
        self.batch_size.setMaximumWidth(self.fontMetrics().horizontalAdvance("0000000") + 40)
        self.batch_size.setToolTip("Samples per training step used for the memory estimate.")
        self.batch_size.valueChanged.connect(self._update_memory)
        self.memory_label = QLabel(self)
        self.memory_label.setWordWrap(True)
        self.memory_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setMargin(6)

        form = QFormLayout()
        form.setContentsMargins(6, 2, 6, 4)
        form.addRow("Parameters", self.totals_label)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Memory", self.memory_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(4)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addWidget(self.note)

        self._timer = debouncer(self, REFRESH_DELAY_MS, self.refresh)
        document.shapes_changed.connect(self._maybe_refresh)
        document.changed.connect(lambda e: self._maybe_refresh(e.graph_id) if e.kind in (
            "node_renamed", "graph_renamed") else None)
        document.current_graph_changed.connect(self._maybe_refresh)
        document.project_replaced.connect(lambda: self._maybe_refresh(document.current_graph_id))
        document.selection_changed.connect(self._follow_selection)
        self.refresh()

    # -- refreshing -------------------------------------------------------------------------
    def _maybe_refresh(self, graph_id: str | None = None) -> None:
        if graph_id is not None and graph_id != self.document.current_graph_id:
            return
        self._dirty = True
        if self.isVisible():
            self._timer.start()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._dirty:
            self._timer.start(0)

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self._timer.start()  # error colours and icons follow the theme

    def refresh(self) -> None:
        """Rebuild the table and totals for the current graph (runs shape inference if needed)."""
        self._timer.stop()
        self._dirty = False
        try:
            graph = self.document.graph(self.document.current_graph_id)
        except KeyError:
            self.table.clear()
            return
        shapes = self.document.shapes(graph.id)
        self._shapes = shapes
        registry = self.document.registry
        err = QBrush(error_color(self))
        dim = QBrush(dim_color(self))
        self.table.setUpdatesEnabled(False)
        self.table.clear()
        order = topological_order(graph)
        placed = set(order)
        order += [nid for nid in graph.nodes if nid not in placed]  # a set: linear at 60k nodes
        rows: list[QTreeWidgetItem] = []
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter  # once, not per row (60k rows)
        for node_id in order:
            node = graph.nodes[node_id]
            info = shapes.nodes.get(node_id)
            spec = registry.find(node.type_id)
            if info is None:
                continue
            if info.outputs:
                shape = ", ".join(t.text + ("" if t.dtype == "float32" else f" {t.dtype}")
                                  for t in info.outputs.values())
            elif info.error:
                shape = "error"
            elif spec is not None and spec.role == "output" and info.inputs:
                shape = "→ " + ", ".join(t.text for t in info.inputs.values())
            else:
                shape = "—"
            item = QTreeWidgetItem([node.name, spec.title if spec else node.type_id, shape,
                                    f"{info.params:,}", f"{info.trainable:,}"])
            item.setData(0, _ID_ROLE, node_id)
            item.setTextAlignment(3, right)
            item.setTextAlignment(4, right)
            if info.error:
                item.setForeground(2, err)
                for col in range(len(COLUMNS)):
                    item.setToolTip(col, info.error)
            elif info.blocked:
                item.setForeground(2, dim)
                item.setToolTip(2, "not computed: an input is missing or failed upstream")
            if not info.params:
                item.setForeground(3, dim)
                item.setForeground(4, dim)
            rows.append(item)
        self.table.addTopLevelItems(rows)  # one insertion for the whole table
        self.table.setUpdatesEnabled(True)
        self._total = (shapes.total_params, shapes.trainable_params)
        # the trainable column only says something when some parameters are frozen
        self.table.setColumnHidden(4, self._total[0] == self._total[1])
        frozen = self._total[0] - self._total[1]
        self.totals_label.setText(
            f"{format_count(self._total[0])} total, {format_count(self._total[1])} trainable"
            + (f", {format_count(frozen)} frozen" if frozen else ""))
        failed = sum(1 for n in shapes.nodes.values() if n.error)
        self.note.setText(("1 node has an error; its parameters count as zero." if failed == 1 else
                           f"{failed} nodes have errors; their parameters count as zero.") if failed else "")
        self.note.setStyleSheet(f"color: {error_color(self).name()};")
        self.note.setVisible(bool(failed))
        self._update_memory()
        self._fit_columns()
        self._follow_selection(graph.id, self.document.selected)

    def _fit_columns(self) -> None:
        """Wide: the shape column takes the spare room. Narrow: every column keeps its content
        width and the table scrolls sideways instead of squeezing node names."""
        header = self.table.header()
        visible = [c for c in range(len(COLUMNS)) if not self.table.isColumnHidden(c)]
        header.setStretchLastSection(False)
        for col in visible:
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        needed = sum(header.sectionSize(c) for c in visible)
        if needed < self.table.viewport().width():
            header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit_columns()

    def _update_memory(self) -> None:
        shapes = getattr(self, "_shapes", None)
        if shapes is None:
            return
        est = self.memory()
        self.memory_label.setToolTip(
            "Activations: every layer's output for the batch (layers inside blocks such as ResNet included), "
            "float32 parameters and one gradient per trainable parameter. CUDA workspace and the data "
            "loader come on top." if est.deep else
            "Big graph: activations count only the tensors on the wires, not layers inside blocks.")
        self.memory_label.setText(
            f"<b>{format_bytes(est.total)}</b> per training step of {est.batch:,} samples<br>"
            f"<span style='color:{dim_color(self).name()}'>activations {format_bytes(est.activations)}"
            f" + parameters {format_bytes(est.params)} + gradients {format_bytes(est.grads)};"
            f" Adam adds {format_bytes(est.adam_state)} of optimizer state</span>")

    # -- public -----------------------------------------------------------------------------
    def totals(self) -> tuple[int, int]:
        """(total, trainable) parameters of the current graph as shown."""
        return self._total

    def memory(self) -> MemoryEstimate | None:
        shapes = getattr(self, "_shapes", None)
        if shapes is None:
            return None
        try:
            graph = self.document.graph(self.document.current_graph_id)
        except KeyError:
            graph = None
        return estimate_memory(graph, self.document.registry, shapes, self.batch_size.value())

    def rows(self) -> list[list[str]]:
        return [[self.table.topLevelItem(i).text(c) for c in range(len(COLUMNS))]
                for i in range(self.table.topLevelItemCount())]

    # -- selection --------------------------------------------------------------------------
    def _clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        ids = [i.data(0, _ID_ROLE) for i in self.table.selectedItems()]
        self.document.set_selection(self.document.current_graph_id, ids)

    def _follow_selection(self, graph_id: str, node_ids: list[str]) -> None:
        if graph_id != self.document.current_graph_id:
            return
        wanted = set(node_ids)
        self.table.blockSignals(True)
        try:
            # touch only rows whose state changes: a 60k-row table is not walked item by item
            for item in self.table.selectedItems():
                if item.data(0, _ID_ROLE) not in wanted:
                    item.setSelected(False)
            if wanted:
                for i in range(self.table.topLevelItemCount()):
                    item = self.table.topLevelItem(i)
                    if item.data(0, _ID_ROLE) in wanted and not item.isSelected():
                        item.setSelected(True)
        finally:
            self.table.blockSignals(False)
