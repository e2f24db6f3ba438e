"""The Problems list's view of :mod:`studio.train.target_check`: output-vs-target problems while
editing, the culprit node outlined in red on the canvas, and one-click fixes (each one undo step).
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from studio.core.validation import Issue
from studio.ui.canvas import heat_overlay

_CACHE: dict[int, tuple[tuple, list]] = {}


def target_issues(document, graph_id: str) -> list:
    """The target-check issues of ``graph_id`` (cached per undo state; never raises)."""
    from studio.train.target_check import check

    project = document.project
    try:
        import json

        key = (graph_id, document.undo_stack.index(), id(project), json.dumps(project.training, sort_keys=True,
                                                                                default=str))
    except (TypeError, ValueError):
        key = None
    cached = _CACHE.get(id(document))
    if key is not None and cached is not None and cached[0] == key:
        return cached[1]
    try:
        graph = document.graph(graph_id)
        found = check(project, graph, document.registry, document.shapes(graph_id))
    except Exception:  # the check is advice: a failure in it must not take the Problems list down
        found = []
    _CACHE[id(document)] = (key, found)
    heat_overlay.set_marks(document, graph_id, {t.node_id: t.message for t in found if t.node_id})
    return found


def as_issues(found: list) -> list[Issue]:
    return [Issue("error", t.message, t.node_id, code=f"target.{t.code}") for t in found]


class FixBar(QWidget):
    """Buttons for the fixes of the current graph's target problems; hidden when there are none."""

    def __init__(self, document, panel) -> None:
        super().__init__(panel)
        self.document = document
        self.panel = panel
        self.buttons: list[QPushButton] = []
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(2, 0, 2, 0)
        self.label = QLabel("Fix:")
        self.layout_.addWidget(self.label)
        self.layout_.addStretch(1)
        self.hide()
        document.changed.connect(self._changed)

    def _changed(self, event) -> None:
        if event.kind == "training_changed":  # another dataset or paradigm: the target changed
            self.panel._maybe_refresh(self.document.current_graph_id)

    def refresh(self, graph_id: str) -> None:
        for b in self.buttons:
            self.layout_.removeWidget(b)
            b.deleteLater()
        self.buttons = []
        fixes = [f for t in target_issues(self.document, graph_id) for f in t.fixes]
        for fix in fixes:
            button = QPushButton(fix.label)
            button.setToolTip("Apply this fix (one undo step)")
            button.clicked.connect(lambda _c=False, fix=fix: self.apply(fix))
            self.layout_.insertWidget(self.layout_.count() - 1, button)
            self.buttons.append(button)
        self.setVisible(bool(fixes))

    def apply(self, fix) -> bool:
        return bool(self.document.push(fix.make()))
