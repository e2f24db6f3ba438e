"""The inspector: the selected node's name, shapes and parameters, generated from its NodeSpec.

Every edit is checked first (``ParamSpec.check``, then the spec's cross-parameter check) and
only a valid value is pushed as a :class:`~studio.core.ops.SetParam`; a refused value shows its
reason under the field. Layers with weights also get their per-node training settings (freeze,
learning-rate multiplier: ``training.nodes.<name>``), each change one undoable ``SetTraining``. Typing in one field pushes one SetParam per keystroke, which the
document merges into one undo step. Shape-dependent text is refreshed after a short delay so
shape inference stays off the typing path.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from studio.core.events import Event
from studio.core.model import Graph, Node
from studio.core.ops import RenameNode, SetParam, SetTraining
from studio.core.shapes import NodeShapes
from studio.core.spec import NodeSpec, ParamError
from studio.ui.document import Document
from studio.ui.panels._common import (
    category_swatch,
    debouncer,
    dim_color,
    error_color,
    format_count,
    is_dark,
)
from studio.ui.panels.param_editors import ParamEditor, format_value

#: delay between an edit and the refresh of inferred values and shapes (ms)
SHAPES_DELAY_MS = 120


class InspectorPanel(QWidget):
    """Edits the one selected node of the current graph."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.graph_id: str | None = None
        self.node_id: str | None = None
        self.editors: dict[str, ParamEditor] = {}
        self.training_rows: dict = {}  # per-node training settings: freeze, lr_mult
        self._spec: NodeSpec | None = None
        self._last_resolved: dict[str, Any] = {}
        #: the field whose keystrokes currently merge into one undo step
        self._typing_in: str | None = None

        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll)

        self._shapes_timer = debouncer(self, SHAPES_DELAY_MS, self.refresh_shapes)
        self._theme_timer = debouncer(self, 0, lambda: self.show_node(self.graph_id, self.node_id))
        document.selection_changed.connect(self._selection_changed)
        document.current_graph_changed.connect(lambda _g: self._selection_changed(
            document.current_graph_id, document.selected))
        document.project_replaced.connect(lambda: self.show_node(None, None))
        document.changed.connect(self._model_changed)
        document.shapes_changed.connect(self._shapes_changed)
        document.undo_stack.indexChanged.connect(self._stack_moved)
        self._pushing = False
        self._show_placeholder("Select a node on the canvas to see and edit its parameters.")
        self._selection_changed(document.current_graph_id, document.selected)

    # -- what is shown ----------------------------------------------------------------------
    def _selection_changed(self, graph_id: str, node_ids: list[str]) -> None:
        if len(node_ids) == 1:
            self.show_node(graph_id, node_ids[0])
        elif node_ids:
            self.graph_id, self.node_id = graph_id, None
            self._show_placeholder(f"{len(node_ids)} nodes selected. Select one node to edit it.")
        else:
            self.show_node(None, None)

    def show_node(self, graph_id: str | None, node_id: str | None) -> None:
        """Build the form for one node (or the placeholder when there is none)."""
        node = self._node(graph_id, node_id)
        if node is None:
            self.graph_id, self.node_id, self._spec = graph_id, None, None
            self._show_placeholder("Select a node on the canvas to see and edit its parameters.")
            return
        self.graph_id, self.node_id = graph_id, node_id
        self._spec = self.document.registry.find(node.type_id)
        self._last_resolved = {}
        self._typing_in = None
        self._build(node)
        self.refresh_values()
        self.refresh_shapes()

    def _node(self, graph_id: str | None, node_id: str | None) -> Node | None:
        if graph_id is None or node_id is None:
            return None
        try:
            return self.document.graph(graph_id).nodes.get(node_id)
        except KeyError:
            return None

    def _graph(self) -> Graph | None:
        try:
            return None if self.graph_id is None else self.document.graph(self.graph_id)
        except KeyError:
            return None

    def _show_placeholder(self, text: str) -> None:
        self.editors = {}
        self.placeholder = QLabel(text)
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setMargin(16)
        self.scroll.setWidget(self.placeholder)

    # -- form -------------------------------------------------------------------------------
    def _build(self, node: Node) -> None:
        spec = self._spec
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)

        self.title = QLabel()
        title_font = QFont(self.font())
        title_font.setBold(True)
        title_font.setPointSizeF(title_font.pointSizeF() * 1.1)
        self.title.setFont(title_font)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        category = spec.category if spec else "Unknown"
        swatch = QLabel()
        swatch.setPixmap(category_swatch(category, is_dark(self), 14).pixmap(14, 14))
        swatch.setToolTip(category)
        self.title.setText(f"{spec.title if spec else node.type_id}  ·  {category}")
        self.title.setToolTip(spec.description if spec else "")
        title_row = QHBoxLayout()
        title_row.setSpacing(6)
        title_row.addWidget(swatch)
        title_row.addWidget(self.title, 1)
        layout.addLayout(title_row)
        head = QFormLayout()
        head.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        self.name_edit = QLineEdit(node.name)
        self.name_edit.setToolTip("The node's name: the attribute name in the exported PyTorch code.")
        self.name_edit.editingFinished.connect(self._rename)
        head.addRow("Name", self.name_edit)
        self.shape_in = self._info_label()
        self.shape_out = self._info_label()
        self.param_count = self._info_label()
        head.addRow("Input", self.shape_in)
        head.addRow("Output", self.shape_out)
        head.addRow("Params", self.param_count)
        layout.addLayout(head)

        self.description = QLabel(spec.description if spec else "")
        self.description.setWordWrap(True)
        self.description.setStyleSheet(f"color: {dim_color(self).name()};")
        self.description.setVisible(bool(self.description.text()))
        layout.addWidget(self.description)

        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setStyleSheet(f"color: {error_color(self).name()};")
        self.error.hide()
        layout.addWidget(self.error)

        self.editors = {}
        if spec is None or node.placeholder is not None:
            note = QLabel(f"Unknown node type '{node.type_id}': its parameters are kept as they are "
                          "but cannot be edited.")
            note.setWordWrap(True)
            layout.addWidget(note)
        elif spec.params:
            line = QFrame()
            line.setFrameShape(QFrame.Shape.HLine)
            line.setFrameShadow(QFrame.Shadow.Plain)
            line.setStyleSheet(f"color: {dim_color(self).name()};")
            layout.addWidget(line)
            form = QFormLayout()
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
            for p in spec.params:
                editor = ParamEditor(p, page)
                editor.edited.connect(lambda value, typing, name=p.name: self._edited(name, value, typing))
                editor.refused.connect(lambda message, name=p.name: self.editors[name].show_problem(message))
                editor.finished.connect(lambda name=p.name: self._finished(name))
                label = QLabel(p.display_label)
                label.setToolTip(p.help)
                form.addRow(label, editor)
                self.editors[p.name] = editor
            layout.addLayout(form)
        else:
            none = QLabel("This node has no parameters.")
            none.setStyleSheet(f"color: {dim_color(self).name()};")
            layout.addWidget(none)
        self._build_training(node, layout)
        layout.addStretch(1)
        self.scroll.setWidget(page)

    def _build_training(self, node: Node, layout: QVBoxLayout) -> None:
        """Freeze and LR multiplier rows for a layer with weights (stored in ``training.nodes.<name>``)."""
        from studio.train.settings_form import node_fields

        self.training_rows = {}
        spec = self._spec
        if spec is None or spec.role != "layer" or node.placeholder is not None:
            return
        info = self.document.shapes(self.graph_id).nodes.get(node.id) if self.graph_id else None
        if info is not None and not info.params:
            return  # nothing to freeze or to scale
        from studio.ui.training.settings_form import Row

        heading = QLabel("Training")
        heading.setStyleSheet("font-weight: bold;")
        heading.setToolTip("How this node trains: kept fixed, or learning at a multiple of the learning rate.")
        layout.addWidget(heading)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for f in node_fields(node.name):
            row = Row(f, self._check_training)
            row.edited.connect(self._training_edited)
            label = QLabel(f.label)
            label.setToolTip(f.help)
            form.addRow(label, row)
            self.training_rows[f.key.rsplit(".", 1)[1]] = row
        layout.addLayout(form)
        self.refresh_training()

    def _check_training(self, key: str, value: Any) -> str | None:
        from studio.train.settings import SettingsError
        from studio.train.settings_form import validate_setting

        try:
            validate_setting(key, value, self.document.project.training)
        except SettingsError as exc:
            return getattr(exc, "reason", None) or str(exc)
        return None

    def _training_edited(self, key: str, value: Any) -> None:
        from studio.train.settings_form import get_setting, label_for

        training = self.document.project.training
        if get_setting(training, key) == value:
            return
        words = ("on" if value else "off") if isinstance(value, bool) else f"{value:g}"
        self.document.push(SetTraining(key, value, label=f"Set {label_for(key, training)} to {words}"))

    def refresh_training(self) -> None:
        """Show the node's stored per-node training settings (defaults when it has none)."""
        from studio.train.settings_form import get_setting

        node = self._node(self.graph_id, self.node_id)
        if node is None:
            return
        for name, row in self.training_rows.items():
            row.set_value(get_setting(self.document.project.training, f"nodes.{node.name}.{name}"))

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange and self.node_id is not None:
            # colours are baked into the form; rebuild after Qt finished propagating the change
            self._theme_timer.start()

    def _info_label(self) -> QLabel:
        label = QLabel("—")
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    # -- model -> widgets -------------------------------------------------------------------
    def _model_changed(self, event: Event) -> None:
        if self.node_id is None or event.graph_id not in (self.graph_id, None):
            return
        if event.kind == "training_changed":
            self.refresh_training()
            return
        node = self._node(self.graph_id, self.node_id)
        if node is None:
            self.show_node(None, None)
            return
        if event.kind in ("param_changed", "node_added", "node_renamed"):
            self.refresh_values()
            self.refresh_training()

    def _shapes_changed(self, graph_id: str) -> None:
        if graph_id == self.graph_id and self.node_id is not None:
            self._shapes_timer.start()

    def refresh_values(self) -> None:
        """Show stored params and the name (cheap: no shape inference)."""
        node = self._node(self.graph_id, self.node_id)
        if node is None:
            return
        if not self.name_edit.hasFocus() and self.name_edit.text() != node.name:
            self.name_edit.setText(node.name)
        resolved = self._resolved_cache()
        for name, editor in self.editors.items():
            editor.set_state(node.params.get(name), resolved.get(name))

    def refresh_shapes(self) -> None:
        """Inferred values, shapes, parameter count and error (runs shape inference)."""
        self._shapes_timer.stop()
        node = self._node(self.graph_id, self.node_id)
        if node is None or self.graph_id is None:
            return
        info = self.document.shapes(self.graph_id).nodes.get(self.node_id) or NodeShapes()
        self._last_resolved = dict(info.resolved)
        self.shape_in.setText(_ports_text(info.inputs, self._spec, inputs=True))
        self.shape_out.setText(_ports_text(info.outputs, self._spec, inputs=False))
        if self._spec is not None and self._spec.role != "layer" and not info.params:
            self.param_count.setText("none")
        else:
            frozen = info.params - info.trainable
            extra = "" if not frozen else ", all frozen" if frozen == info.params else f", {frozen:,} frozen"
            self.param_count.setText(format_count(info.params) + extra)
        message = info.error
        if not message and info.blocked:
            message = "Waiting for an upstream node that has a problem."
        self.error.setText(message or "")
        self.error.setVisible(bool(message))
        self.error.setStyleSheet(f"color: {(error_color(self) if info.error else dim_color(self)).name()};")
        for name, editor in self.editors.items():
            editor.set_state(node.params.get(name), info.resolved.get(name))

    def _resolved_cache(self) -> dict[str, Any]:
        return self._last_resolved if self.node_id else {}

    # -- widgets -> model -------------------------------------------------------------------
    def _edited(self, name: str, value: Any, typing: bool = True) -> None:
        """Check a value the user typed; push it when valid, else show why it was refused.

        Keystrokes and steps in one field merge into one undo step until focus leaves it;
        discrete changes (checkbox, choice, auto toggle) are steps of their own.
        """
        node = self._node(self.graph_id, self.node_id)
        spec = self._spec
        editor = self.editors.get(name)
        if node is None or spec is None or editor is None or self.graph_id is None:
            return
        reason = self.check_value(node, spec, name, value)
        if reason is not None:
            editor.show_problem(reason)
            return
        editor.show_problem(None)
        store = spec.param(name).check(value)
        if isinstance(store, tuple):
            store = list(store)
        if name in node.params and node.params[name] == store and type(node.params[name]) is type(store):
            return
        merge = typing and self._typing_in == name
        self._typing_in = name if typing else None
        previous = self.document.merging
        self.document.merging = merge
        self._pushing = True
        try:
            self.document.push(SetParam(self.graph_id, self.node_id, name, store,
                                        label=f"Set {node.name}.{name}"))
        finally:
            self.document.merging = previous
            self._pushing = False

    def _stack_moved(self, _index: int) -> None:
        """Undo/redo or another widget's edit ends the current typing session."""
        if not self._pushing:
            self._typing_in = None

    def check_value(self, node: Node, spec: NodeSpec, name: str, value: Any) -> str | None:
        """Why ``value`` cannot be stored for ``name`` (None when it can)."""
        try:
            checked = spec.param(name).check(value)
        except ParamError as exc:
            return str(exc)
        if spec.check is None:
            return None
        merged = {p.name: node.params.get(p.name, p.default) for p in spec.params}
        merged[name] = checked
        resolved = self._resolved_cache()
        for key, current in list(merged.items()):
            if current is None and resolved.get(key) is not None:
                merged[key] = resolved[key]
        try:
            return spec.check(merged) or None
        except Exception:  # a cross-check that cannot judge unresolved values yet
            return None

    def _finished(self, name: str) -> None:
        """Focus left a field that shows a refused value: show the stored value again."""
        self._typing_in = None
        editor = self.editors.get(name)
        node = self._node(self.graph_id, self.node_id)
        if editor is None or node is None or not editor.problem_text():
            return
        kept = node.params.get(name)
        shown = format_value(editor.spec.kind, kept) if kept is not None else "auto"
        message = editor.problem_text()
        editor.set_state(kept, self._resolved_cache().get(name), force=True)
        if "(kept" not in message:
            editor.show_problem(f"{message} (kept {shown})")

    def _rename(self) -> None:
        node = self._node(self.graph_id, self.node_id)
        if node is None or self.graph_id is None:
            return
        text = self.name_edit.text().strip()
        if not text:
            self.name_edit.setText(node.name)
            return
        if text != node.name:
            self.document.push(RenameNode(self.graph_id, node.id, text))
            self.name_edit.setText(self.document.graph(self.graph_id).node(node.id).name)


def _ports_text(ports: dict, spec: NodeSpec | None, inputs: bool) -> str:
    names = (spec.input_names() if inputs else spec.output_names()) if spec else list(ports)
    if not names:
        return "none"
    parts = []
    for name in names:
        info = ports.get(name)
        shape = info.text if info is not None else "not connected" if inputs else "—"
        if info is not None and info.dtype != "float32":
            shape += f" {info.dtype}"
        parts.append(shape if len(names) == 1 else f"{name}: {shape}")
    return "\n".join(parts)
