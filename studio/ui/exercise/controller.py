"""Exercise authoring and enforcement: locks through the document's guard hook, hidden palette entries,
and the Exercise menu (add goal, lock node, hide palette entries, save as exercise)."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from studio.core.ops import AddNode, Batch, Operation, RemoveNode, RenameNode, SetParam
from studio.exercises import Exercise, ExerciseError, Goal, exercise_of, set_exercise


class ExerciseController(QObject):
    """Reads and writes the exercise in ``document.project.meta``; refuses edits of locked nodes."""

    #: the exercise changed (goals, locks, hidden entries)
    changed = Signal()
    message = Signal(str)

    def __init__(self, document, palette=None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.palette = palette
        document.guards.append(self.guard)
        document.project_replaced.connect(self._sync)
        self._sync()

    # -- reading --------------------------------------------------------------------------------
    @property
    def exercise(self) -> Exercise | None:
        try:
            return exercise_of(self.document.project)
        except ExerciseError as exc:
            self.message.emit(str(exc))
            return None

    def _editable(self) -> Exercise:
        ex = self.exercise
        if ex is None:
            project = self.document.project
            key = re.sub(r"[^a-z0-9]+", "_", (project.name or "exercise").lower()).strip("_") or "exercise"
            ex = Exercise(id=key, title=project.name or key)
        return ex

    def _store(self, ex: Exercise) -> None:
        set_exercise(self.document.project, ex)
        self._sync()
        self.changed.emit()

    def _sync(self) -> None:
        ex = self.exercise
        if self.palette is not None:
            self.palette.hidden_types = set(ex.hidden_palette) if ex else set()
            self.palette.apply_filter(self.palette.filter.text())
        self.changed.emit()

    # -- locks ----------------------------------------------------------------------------------
    def locked_names(self) -> set[str]:
        ex = self.exercise
        return set(ex.locked) if ex else set()

    def guard(self, op: Operation) -> str | None:
        """Why ``op`` may not run: it edits, renames or deletes a locked node (moving and wiring are allowed),
        or adds a node type the exercise hides (a paste or a saved block would bring it in)."""
        ex = self.exercise
        if ex is None or not (ex.locked or ex.hidden_palette):
            return None
        locked, hidden = set(ex.locked), set(ex.hidden_palette)
        ops = op.ops if isinstance(op, Batch) else [op]
        for sub in ops:
            if isinstance(sub, Batch):
                reason = self.guard(sub)
                if reason:
                    return reason
            if isinstance(sub, AddNode) and sub.node.type_id in hidden:
                return f"{sub.node.type_id} is not available in this exercise"
            if isinstance(sub, RemoveNode | SetParam | RenameNode):
                graph = next((g for g in self.document.project.graphs if g.id == sub.graph_id), None)
                node = graph.nodes.get(sub.node_id) if graph is not None else None
                if node is not None and node.name in locked:
                    verb = "deleted" if isinstance(sub, RemoveNode) else "edited"
                    return f"'{node.name}' is locked by the exercise and cannot be {verb}"
        return None

    def toggle_lock(self, node_names: list[str]) -> bool:
        """Lock the named nodes (or unlock them when all are locked already); True when now locked."""
        ex = self._editable()
        locked = list(ex.locked)
        if node_names and all(n in locked for n in node_names):
            locked = [n for n in locked if n not in node_names]
            now = False
        else:
            locked += [n for n in node_names if n not in locked]
            now = True
        self._store(ex.model_copy(update={"locked": locked}))
        self.message.emit(f"{'Locked' if now else 'Unlocked'} {', '.join(node_names)}")
        return now

    # -- goals and palette ----------------------------------------------------------------------
    def add_goal(self, goal: Goal) -> None:
        ex = self._editable()
        self._store(ex.model_copy(update={"goals": [*ex.goals, goal]}))
        self.message.emit(f"Goal added: {goal.describe()}")

    def remove_goal(self, index: int) -> None:
        ex = self._editable()
        goals = list(ex.goals)
        goals.pop(index)
        self._store(ex.model_copy(update={"goals": goals}))

    def set_hidden(self, type_ids: list[str]) -> None:
        ex = self._editable()
        self._store(ex.model_copy(update={"hidden_palette": sorted(set(type_ids))}))

    def save_as_exercise(self, files, path: str | Path, exercise_id: str | None = None) -> bool:
        """Write the project with its exercise (``exercise_id`` names it; submissions must carry it)."""
        ex = self._editable()
        if exercise_id:
            ex = ex.model_copy(update={"id": exercise_id})
        self._store(ex)
        return bool(files.save_as(path))
