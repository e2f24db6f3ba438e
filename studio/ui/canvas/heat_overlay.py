"""What the canvas paints over its nodes: the training heat map and problem marks.

- **Heat** ("where does the gradient vanish?"): one value per node (gradient norm, update/weight
  ratio, activation std, dead ReLUs; see :mod:`studio.train.inspect_stats`), coloured on a log
  scale from cold (dark blue: almost nothing) to hot (yellow), with the value in a badge. Toggled
  from the training panel's Inside tab.
- **Marks**: nodes that a check outside shape inference flags (the model's output does not fit
  the paradigm's target) get a red outline, like a shape error.

State lives per document (weakly held), so every canvas of that document shows the same overlay;
``NodeItem.paint`` calls :func:`paint_overlay` (the one hook in the items module).
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen

# cold -> hot (viridis-like stops): a vanished gradient reads as dark, a healthy one as bright
_STOPS = ((0.0, (48, 18, 59)), (0.25, (50, 100, 200)), (0.5, (30, 170, 140)), (0.75, (150, 210, 50)),
          (1.0, (250, 230, 40)))
_BADGE_FONT = QFont()
_BADGE_FONT.setPixelSize(10)
_BADGE_FONT.setBold(True)


@dataclass
class _State:
    enabled: bool = False
    label: str = ""
    heat: dict[str, dict[str, tuple[float, str]]] = field(default_factory=dict)  # graph id -> node id -> (0..1, text)
    marks: dict[str, dict[str, str]] = field(default_factory=dict)  # graph id -> node id -> message
    scenes: weakref.WeakSet = field(default_factory=weakref.WeakSet)


_STATES: weakref.WeakKeyDictionary[Any, _State] = weakref.WeakKeyDictionary()


def state(document: Any) -> _State:
    st = _STATES.get(document)
    if st is None:
        st = _STATES[document] = _State()
    return st


def heat_color(frac: float, alpha: int = 255) -> QColor:
    f = min(1.0, max(0.0, frac))
    for (a, ca), (b, cb) in zip(_STOPS, _STOPS[1:], strict=False):
        if f <= b:
            t = (f - a) / (b - a) if b > a else 0.0
            return QColor(*(int(x + (y - x) * t) for x, y in zip(ca, cb, strict=True)), alpha)
    return QColor(*_STOPS[-1][1], alpha)


def scale(values: dict[str, float | None], log: bool = True) -> dict[str, float]:
    """Values to 0..1 over the nodes that have one (log scale: gradients span orders of magnitude)."""
    shown = {k: v for k, v in values.items() if v is not None and math.isfinite(v) and (v > 0 or not log)}
    if not shown:
        return {}
    tr = {k: math.log10(v) if log else v for k, v in shown.items()}
    lo, hi = min(tr.values()), max(tr.values())
    span = hi - lo
    return {k: (v - lo) / span if span > 1e-12 else 1.0 for k, v in tr.items()}


def fmt(v: float) -> str:
    if v == 0:
        return "0"
    return f"{v:.2g}" if 1e-2 <= abs(v) < 1e3 else f"{v:.1e}".replace("e-0", "e-").replace("e+0", "e")


def set_heat(document: Any, heat: dict[str, dict[str, tuple[float, str]]], label: str = "") -> None:
    """Show ``heat`` (graph id -> node id -> (0..1, text)); repaints every canvas of ``document``."""
    st = state(document)
    st.heat, st.label = heat, label
    _repaint(st)


def set_enabled(document: Any, on: bool) -> None:
    st = state(document)
    if st.enabled != on:
        st.enabled = on
        _repaint(st)


def set_marks(document: Any, graph_id: str, marks: dict[str, str]) -> None:
    """Red outlines on ``marks``' nodes of ``graph_id`` (replacing that graph's previous marks)."""
    st = state(document)
    if st.marks.get(graph_id, {}) == marks:
        return
    st.marks[graph_id] = dict(marks)
    _repaint(st)


def _repaint(st: _State) -> None:
    for scene in list(st.scenes):
        for item in getattr(scene, "nodes", {}).values():
            item.update()  # items cache their painting: each one must be told


def paint_overlay(item: Any, painter: QPainter) -> None:
    """Called at the end of ``NodeItem.paint``: marks and heat of this node, if any."""
    scene = item.canvas
    document = getattr(scene, "document", None)
    if document is None:
        return
    st = state(document)
    st.scenes.add(scene)
    gid = scene.graph_id
    rect = QRectF(0, 0, item.width, item.height)
    message = st.marks.get(gid, {}).get(item.node_id)
    if message and not item.error:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(QColor(224, 72, 72), 3))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect.adjusted(1.5, 1.5, -1.5, -1.5), 6, 6)
        painter.restore()
    if not st.enabled:
        return
    value = st.heat.get(gid, {}).get(item.node_id)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    if value is None:  # no statistic for this node (no parameters, a function): fade it
        painter.fillRect(rect, QColor(128, 128, 128, 70))
        painter.restore()
        return
    frac, text = value
    color = heat_color(frac)
    tint = QColor(color)
    tint.setAlpha(70)
    painter.fillRect(rect.adjusted(0, 22, 0, 0), tint)
    painter.setPen(QPen(color, 4))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(rect.adjusted(2, 2, -2, -2), 6, 6)
    painter.setFont(_BADGE_FONT)
    fm = QFontMetricsF(_BADGE_FONT)
    w = fm.horizontalAdvance(text) + 10
    badge = QRectF(rect.left() + 6, rect.bottom() - 19, w, 15)  # left: the parameter count sits right
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawRoundedRect(badge, 4, 4)
    painter.setPen(QColor(20, 20, 20) if frac > 0.45 else QColor(245, 245, 245))
    painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
    painter.restore()
