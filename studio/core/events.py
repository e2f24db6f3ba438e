"""A tiny observer mechanism with no Qt: the model announces changes, views subscribe."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

EVENT_KINDS = (
    "node_added",
    "node_removed",
    "edge_added",
    "edge_removed",
    "param_changed",
    "node_moved",
    "node_renamed",
    "group_changed",
    "graph_added",
    "graph_removed",
    "graph_renamed",
    "training_changed",
    "project_reset",
)


@dataclass(frozen=True)
class Event:
    """What changed: ``kind`` is one of :data:`EVENT_KINDS`; ``graph_id`` is None for project-level events."""

    kind: str
    graph_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


Listener = Callable[[Event], None]


class EventBus:
    """Synchronous fan-out of :class:`Event` to subscribers, in subscription order."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._muted = 0

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add a listener; returns a function that removes it again."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def emit(self, kind: str, graph_id: str | None = None, **data: Any) -> None:
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}")
        event = Event(kind, graph_id, data)
        for listener in list(self._listeners):
            listener(event)
