"""The chosen stage's graph on the canvas: what the stage will train, its changes outlined, read-only.

Choosing a template stage (see :mod:`studio.ui.training.stages`) shows, on every canvas of the
window, the graph :func:`studio.io.stages.apply_stage` builds for that stage: renamed nodes under
their new names, changed parameters with their stage values, each changed node outlined with what
the stage sets. The preview lives in its own :class:`~studio.ui.document.Document`, so nothing of it
reaches the saved project or its undo history; a glass pane over each canvas says so and keeps
clicks and drags off the hidden editable graph (the wheel still zooms). "Project as it is" puts the
editable graph back; *Apply to project* turns the stage into one undoable edit of the project.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QRectF, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsSimpleTextItem, QLabel, QVBoxLayout, QWidget
from shiboken6 import isValid

from studio.io.stages import apply_stage, placeholders, stage_label, stages

#: the outline and note colour of a node the stage changes (amber: "look here", not an error's red)
ACCENT = QColor(245, 166, 35)


def stage_changes(project: Any, stage: str) -> dict[str, list[str]]:
    """What the stage does to each node, by the node's name in the project: ``{name: ["freeze = all", ...]}``."""
    spec = stages(project).get(stage, {})
    out: dict[str, list[str]] = {}
    for node, params in (spec.get("node_params") or {}).items():
        out.setdefault(str(node), []).extend(f"{k} = {v}" for k, v in params.items())
    for old, new in (spec.get("rename") or {}).items():
        out.setdefault(str(old), []).append(f"renamed {new}")
    return out


def preview_project(project: Any, stage: str, subs: dict[str, str]) -> Any:
    """The project as ``stage`` trains it; placeholders without a value yet read as words, not errors."""
    filled = dict(subs)
    for name in placeholders(project, stage):
        if name not in filled:
            filled[name] = (f"(checkpoint of '{stage_label(project, name)}')" if name in stages(project)
                            else f"({name} file)")
    return apply_stage(project, stage, filled)


def stage_ops(project: Any, stage: str, subs: dict[str, str]) -> Any:
    """One undoable edit that makes ``project`` what ``stage`` trains (None when it already is).

    Raises :class:`studio.io.stages.StageError` when a placeholder (another stage's checkpoint, a file)
    has no value yet."""
    from studio.core.ops import Batch, RenameNode, SetParam, SetTraining

    target = apply_stage(project, stage, subs)
    ops: list[Any] = []
    for graph in project.graphs:
        changed = target.graph(graph.id)
        for node in graph.nodes.values():
            new = changed.nodes[node.id]
            ops += [SetParam(graph.id, node.id, k, v) for k, v in new.params.items() if node.params.get(k) != v]
            if new.name != node.name:
                ops.append(RenameNode(graph.id, node.id, new.name))
    ops += [SetTraining(k, v) for k, v in target.training.items() if project.training.get(k) != v]
    return Batch(ops, label=f"Apply stage '{stage_label(project, stage)}'") if ops else None


class _Glass(QWidget):
    """Covers a canvas while it previews: eats clicks and keys (no edits), lets the wheel zoom, says why."""

    def __init__(self, view: QWidget, text: str, tip: str) -> None:
        super().__init__(view)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.banner = QLabel(text, self)
        self.banner.setToolTip(tip)
        self.setToolTip(tip)
        self.banner.setStyleSheet("QLabel { background: rgba(60, 40, 5, 225); color: #ffe9c2; padding: 3px 8px;"
                                  " border: 1px solid #f5a623; border-radius: 3px; }")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.addStretch(1)  # one line at the bottom left: the graph stays in sight
        lay.addWidget(self.banner, 0, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
        view.installEventFilter(self)
        self._fit(view)

    def _fit(self, view: QWidget) -> None:
        self.setGeometry(view.rect())
        self.raise_()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Resize:
            self._fit(obj)  # type: ignore[arg-type]
        return False

    def event(self, event: QEvent) -> bool:
        blocked = (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick,
                   QEvent.Type.MouseMove, QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ContextMenu,
                   QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop)
        if event.type() in blocked:
            event.accept()
            return True
        return super().event(event)  # the wheel goes on to the canvas: zooming a preview is fine


class StagePreview(QObject):
    """Puts the chosen stage's graph on the window's canvases and takes it off again."""

    def __init__(self, bar) -> None:
        super().__init__(bar)
        self.bar = bar
        self.document = bar.document
        self.stage: str | None = None
        self.document_preview = None  # the preview's own Document (never the saved project)
        self.scenes: dict[str, Any] = {}  # graph id -> preview GraphScene
        self.glass: dict[str, _Glass] = {}
        self.marked: dict[str, list[str]] = {}  # graph id -> ids of the nodes outlined there
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(0)
        self._refresh.timeout.connect(lambda: self.show(self.stage))
        self.document.changed.connect(self._on_change)

    def show_later(self, stage: str | None) -> None:
        """Preview ``stage`` once pending events (the window rebuilding its canvases) are done."""
        self.stage = stage
        if stage is not None:
            self._refresh.start()

    @property
    def active(self) -> bool:
        return self.stage is not None and bool(self.scenes)

    def _views(self) -> dict[str, Any]:
        window = getattr(self.bar.panel, "window", None)
        return dict(getattr(window, "views", {}) or {})

    def show(self, stage: str | None) -> None:
        """Preview ``stage`` on every canvas (None: the editable project again)."""
        self.clear()
        self.stage = stage
        views = self._views()
        if stage is None or not views:
            return
        from studio.ui.canvas.scene import GraphScene
        from studio.ui.document import Document

        project = self.document.project
        preview = preview_project(project, stage, self.bar.subs())
        self.document_preview = Document(self.document.registry, preview, parent=self)
        label = stage_label(project, stage)
        changes = stage_changes(project, stage)
        text = f"Preview of stage '{label}' · read-only"
        tip = (f"The graph stage '{label}' trains, its changes outlined. The project is unchanged: choose "
               "'Project as it is' to edit it, or Apply to make the project this stage.")
        known = {g.id for g in preview.graphs}
        for graph_id, view in views.items():
            if graph_id not in known:
                continue
            self.document.set_selection(graph_id, [])  # nothing hidden under the glass stays selected
            scene = GraphScene(self.document_preview, graph_id)
            scene.flush()
            self.scenes[graph_id] = scene
            self.marked[graph_id] = self._outline(scene, project.graph(graph_id), changes)
            view.setScene(scene)
            self.glass[graph_id] = glass = _Glass(view, text, tip)
            glass.show()

    def _outline(self, scene: Any, original: Any, changes: dict[str, list[str]]) -> list[str]:
        """An amber frame and a note above every node the stage changes (ids are the same in the preview)."""
        marked = []
        font = QFont()
        font.setBold(True)
        for node in original.nodes.values():
            notes = changes.get(node.name)
            item = scene.nodes.get(node.id)
            if not notes or item is None:
                continue
            rect = item.sceneBoundingRect().adjusted(2, 0, -2, 0)
            frame = QGraphicsRectItem(QRectF(rect).adjusted(-4, -4, 4, 4))
            frame.setPen(QPen(ACCENT, 3))
            frame.setBrush(QBrush(Qt.BrushStyle.NoBrush))
            frame.setZValue(50)
            scene.addItem(frame)
            note = QGraphicsSimpleTextItem("stage: " + ", ".join(notes))
            note.setFont(font)
            note.setBrush(QBrush(ACCENT))
            note.setZValue(50)
            note.setPos(rect.left(), rect.top() - note.boundingRect().height() - 6)
            scene.addItem(note)
            marked.append(node.id)
        return marked

    def clear(self) -> None:
        """The editable graphs back on the canvases; the preview dropped."""
        views = self._views()
        for graph_id, scene in self.scenes.items():
            view = views.get(graph_id)
            if view is not None and view.scene() is scene:
                view.setScene(view.graph_scene)
            glass = self.glass.get(graph_id)
            if glass is not None and isValid(glass):  # gone with its canvas when the project was replaced
                glass.hide()
                glass.deleteLater()
            scene.detach()
            scene.deleteLater()
        self.scenes.clear()
        self.glass.clear()
        self.marked.clear()
        if self.document_preview is not None:
            self.document_preview.deleteLater()
            self.document_preview = None

    def _on_change(self, _event) -> None:
        if self.stage is not None:
            self._refresh.start()  # the project changed under the preview: show the stage of the new one
