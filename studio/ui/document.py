"""The open document: one project, its undo stack, and Qt signals mirroring core events.

Widgets observe this object and change the project only through :meth:`Document.push`, which
wraps a core :class:`~studio.core.ops.Operation` in a ``QUndoCommand``. Shape inference results
are recomputed after every change and announced with :attr:`Document.shapes_changed`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from studio.core.events import Event
from studio.core.model import Graph, Project, new_project
from studio.core.ops import Operation
from studio.core.registry import Registry
from studio.core.shapes import GraphShapes, ShapeInferencer


class OperationCommand(QUndoCommand):
    """One user action: redo applies the core operation, undo reverts it."""

    _ids: dict[tuple, int] = {}

    def __init__(self, document: Document, op: Operation) -> None:
        super().__init__(op.label)
        self.document = document
        self.op = op
        key = op.merge_key()
        self._id = -1 if key is None else OperationCommand._ids.setdefault(key, len(OperationCommand._ids) + 1)

    def redo(self) -> None:
        self.op.apply(self.document.project)

    def undo(self) -> None:
        self.op.revert(self.document.project)

    def id(self) -> int:  # noqa: A003 - Qt's name
        return self._id

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, OperationCommand) or not self.document.merging:
            return False
        return self.op.merge(other.op)


class Document(QObject):
    """The editor's model-side hub (one per open project)."""

    #: a core event (studio.core.events.Event) after it happened
    changed = Signal(object)
    #: graph id whose shapes were recomputed
    shapes_changed = Signal(str)
    #: the whole project was replaced (new/open)
    project_replaced = Signal()
    #: path or None
    path_changed = Signal(object)
    dirty_changed = Signal(bool)
    #: (graph_id, [node_id, ...]) whenever the canvas selection changes
    selection_changed = Signal(str, list)
    #: graph id of the tab now shown
    current_graph_changed = Signal(str)

    def __init__(self, registry: Registry, project: Project | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.registry = registry
        self.undo_stack = QUndoStack(self)
        # a bound method (not a lambda) so Qt drops the connection when this object is deleted
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.inferencer = ShapeInferencer(registry)
        self.path: Path | None = None
        self.merging = True  # typing in a field merges into one undo step
        self._shapes: dict[str, GraphShapes] = {}
        self._unsubscribe = None
        self.project: Project = project or new_project()
        self.current_graph_id: str = self.project.main_graph.id
        self.selected: list[str] = []
        self._attach()

    def _on_clean_changed(self, clean: bool) -> None:
        self.dirty_changed.emit(not clean)

    # -- project lifetime -------------------------------------------------------------------
    def _attach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._unsubscribe = self.project.events.subscribe(self._on_event)
        self._shapes.clear()

    def replace_project(self, project: Project, path: Path | None = None) -> None:
        """New/open: swap the project, clear undo, recompute shapes."""
        self.project = project
        self._attach()
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.path = path
        self.current_graph_id = project.main_graph.id
        self.selected = []
        self.path_changed.emit(path)
        self.project_replaced.emit()
        for graph in project.graphs:
            self.shapes_changed.emit(graph.id)

    # -- editing ---------------------------------------------------------------------------
    def push(self, op: Operation) -> None:
        """Apply ``op`` as one undoable step."""
        self.undo_stack.push(OperationCommand(self, op))

    def graph(self, graph_id: str) -> Graph:
        return self.project.graph(graph_id)

    @property
    def dirty(self) -> bool:
        return not self.undo_stack.isClean()

    def mark_saved(self, path: Path) -> None:
        self.path = path
        self.undo_stack.setClean()
        self.path_changed.emit(path)

    # -- view state shared by panels -------------------------------------------------------
    def set_current_graph(self, graph_id: str) -> None:
        if graph_id != self.current_graph_id:
            self.current_graph_id = graph_id
            self.selected = []
            self.current_graph_changed.emit(graph_id)

    def set_selection(self, graph_id: str, node_ids: list[str]) -> None:
        if graph_id != self.current_graph_id or list(node_ids) != self.selected:
            self.current_graph_id = graph_id
            self.selected = list(node_ids)
            self.selection_changed.emit(graph_id, list(node_ids))

    # -- shapes ----------------------------------------------------------------------------
    def shapes(self, graph_id: str) -> GraphShapes:
        """Shapes of a graph, computed on demand and cached until the graph changes."""
        shapes = self._shapes.get(graph_id)
        if shapes is None:
            shapes = self.inferencer.infer(self.project.graph(graph_id))
            self._shapes[graph_id] = shapes
        return shapes

    def _on_event(self, event: Event) -> None:
        if event.graph_id is not None:
            self._shapes.pop(event.graph_id, None)
        self.changed.emit(event)
        if event.graph_id is not None and event.kind not in ("node_moved", "group_changed", "graph_renamed"):
            self.shapes_changed.emit(event.graph_id)
