"""The open document: one project, its undo stack, and Qt signals mirroring core events.

Widgets observe this object and change the project only through :meth:`Document.push`, which
wraps a core :class:`~studio.core.ops.Operation` in a ``QUndoCommand``. Shape inference results
are recomputed after every change and announced with :attr:`Document.shapes_changed`.
"""

from __future__ import annotations

import weakref
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from studio.core.events import Event
from studio.core.model import Graph, Project, new_project
from studio.core.ops import Operation
from studio.core.registry import Registry
from studio.core.shapes import GraphShapes, NodeShapes, ShapeInferencer
from studio.core.validation import operation_problem, touches_training


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _training_problem(training: dict, op: Operation) -> str | None:
    """The settings schema's verdict on ``training``, when it concerns a key ``op`` changed.

    A project may hold a setting the schema already refused before this edit (made in memory);
    only an edit that breaks its own key (or a section around it) is refused.
    """
    from studio.train.settings import SettingsError, TrainingSettings

    try:
        TrainingSettings.from_dict(training)
    except SettingsError as exc:
        key = str(getattr(exc, "key", ""))
        for changed in touches_training(op):
            if not key or key == changed or key.startswith(changed + ".") or changed.startswith(key + "."):
                return str(exc)
    return None


class OperationCommand(QUndoCommand):
    """One user action: redo applies the core operation, undo reverts it.

    :meth:`Document.push` applies (and checks) the operation before the command exists, so the
    stack's first ``redo`` is skipped. ``redo``/``undo`` are called from Qt's C++: an exception
    must never cross back into it, so a failure is reported and the command made obsolete.
    """

    _ids: dict[tuple, int] = {}

    def __init__(self, document: Document, op: Operation, applied: bool = False) -> None:
        super().__init__(op.label)
        # a weak reference: the undo stack (a C++ child of the Document) owns the commands, so a strong one
        # would close a cycle through C++ that only a late collection breaks, into a half-destroyed Document
        self._document = weakref.ref(document)
        self.op = op
        self._applied = applied
        key = op.merge_key()
        self._id = -1 if key is None else OperationCommand._ids.setdefault(key, len(OperationCommand._ids) + 1)

    @property
    def document(self) -> Document:
        document = self._document()
        if document is None:
            raise RuntimeError("the document of this undo step is gone")
        return document

    def redo(self) -> None:
        if self._applied:
            self._applied = False  # push already applied it
            return
        self._guard("Redo", self.op.apply)

    def undo(self) -> None:
        self._guard("Undo", self.op.revert)

    def _guard(self, what: str, step) -> None:
        try:
            step(self.document.project)
        except Exception as exc:  # noqa: BLE001 - nothing may propagate into Qt's C++
            self.setObsolete(True)
            self.document.report(f"{what} of '{self.op.label}' failed: {_one_line(exc)}")

    def id(self) -> int:  # noqa: A003 - Qt's name
        return self._id

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, OperationCommand) or not self.document.merging:
            return False
        try:
            return bool(self.op.merge(other.op))
        except Exception:  # noqa: BLE001 - called from Qt's C++; unmerged is always correct
            return False


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
    #: a one-line reason an edit was refused or failed (shown in the status bar)
    refused = Signal(str)

    def __init__(self, registry: Registry, project: Project | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.registry = registry
        self.undo_stack = QUndoStack(self)
        # a bound method (not a lambda) so Qt drops the connection when this object is deleted
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.inferencer = ShapeInferencer(registry)
        self.path: Path | None = None
        self.merging = True  # typing in a field merges into one undo step
        #: checks run before any edit: ``guard(op) -> reason | None``; a reason refuses the edit (exercise locks)
        self.guards: list = []
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
    def push(self, op: Operation) -> bool:
        """Apply ``op``, check the result, and only then make it one undoable step.

        A failing or refused operation leaves the project and the undo stack as they were, says
        why on :attr:`refused` and returns False; nothing raises into the caller (often a Qt slot).
        """
        for guard in self.guards:
            reason = guard(op)
            if reason:
                self.report(f"{op.label}: {reason}")
                return False
        try:
            op.apply(self.project)
        except Exception as exc:  # noqa: BLE001 - operations are atomic: nothing changed
            self.report(f"{op.label}: {_one_line(exc)}")
            return False
        problem = self.check_applied(op)
        if problem is not None:
            try:
                op.revert(self.project)
            except Exception as exc:  # noqa: BLE001 - the exact inverse of a successful apply
                problem += f" (and undoing it failed: {_one_line(exc)})"
            self.report(f"{op.label}: {problem}")
            return False
        self.undo_stack.push(OperationCommand(self, op, applied=True))
        return True

    def check_applied(self, op: Operation) -> str | None:
        """Why the just-applied ``op`` must be refused (a value its spec or setting schema refuses)."""
        try:
            problem = operation_problem(self.project, self.registry, op)
            if problem is None and touches_training(op):
                problem = _training_problem(self.project.training, op)
        except Exception:  # noqa: BLE001 - a broken checker neither blocks the edit nor takes the editor down
            problem = None
        return problem

    def report(self, message: str) -> None:
        """Say why something failed, on :attr:`refused` (never raises)."""
        self.refused.emit(message)

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
            graph = self.project.graph(graph_id)
            try:
                shapes = self.inferencer.infer(graph)
            except Exception as exc:  # noqa: BLE001 - panels call this from Qt slots
                message = f"shape inference failed: {_one_line(exc)}"
                shapes = GraphShapes({nid: NodeShapes(error=message, blocked=True) for nid in graph.nodes})
            self._shapes[graph_id] = shapes
        return shapes

    def _on_event(self, event: Event) -> None:
        """Mirror a core event as Qt signals. Runs inside an operation's apply/revert: it must not
        raise, or the operation would stop half-done."""
        try:
            self._announce(event)
        except Exception as exc:  # noqa: BLE001 - see above
            self.report(f"display update failed: {_one_line(exc)}")

    def _announce(self, event: Event) -> None:
        if event.graph_id is not None:
            self._shapes.pop(event.graph_id, None)
        self.changed.emit(event)
        if event.graph_id is not None and event.kind not in ("node_moved", "group_changed", "graph_renamed"):
            self.shapes_changed.emit(event.graph_id)
