"""The gridworld live view: walls, pits and goal; each free cell coloured by its value (max Q), the greedy
action as an arrow, and the agent replaying its last episode at a speed the user picks."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QWidget


def heat(v: float) -> QColor:
    """0..1 -> a perceptually even blue-to-yellow ramp (viridis-like)."""
    stops = [(0.0, (68, 1, 84)), (0.25, (59, 82, 139)), (0.5, (33, 145, 140)), (0.75, (94, 201, 98)),
             (1.0, (253, 231, 37))]
    v = float(np.clip(v, 0, 1)) if np.isfinite(v) else 0.0
    for (a, ca), (b, cb) in zip(stops, stops[1:], strict=False):
        if v <= b:
            t = (v - a) / (b - a)
            return QColor(*(int(ca[i] + (cb[i] - ca[i]) * t) for i in range(3)))
    return QColor(*stops[-1][1])


class GridworldView(QWidget):
    """The gridworld: walls, pits, goal; each cell coloured by its value; greedy arrows; the agent walking."""

    COLORS = {1: QColor(70, 70, 78), 2: QColor(40, 180, 80), 3: QColor(200, 50, 50), 4: QColor(150, 60, 40)}

    def __init__(self) -> None:
        super().__init__()
        self.cells: np.ndarray | None = None
        self.values: np.ndarray | None = None
        self.actions: np.ndarray | None = None
        self.path: list[tuple[int, int]] = []
        self.agent = 0
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._step_agent)
        self.timer.setInterval(150)
        self.setMinimumSize(220, 220)

    def set_speed(self, per_second: int) -> None:
        self.timer.setInterval(max(10, int(1000 / max(1, per_second))))

    def set_world(self, payload: dict[str, Any]) -> None:
        self.cells = np.asarray(payload["cells"])
        self.values = np.asarray(payload["values"], dtype=np.float64)
        self.actions = np.asarray(payload["actions"])
        path = [tuple(int(v) for v in rc) for rc in payload.get("path", [])]
        if path != self.path:
            self.path, self.agent = path, 0
        if self.path and not self.timer.isActive():
            self.timer.start()
        self.update()

    def _step_agent(self) -> None:
        if self.path:
            self.agent = (self.agent + 1) % (len(self.path) + 3)  # linger a moment at the end
            self.update()

    def paintEvent(self, _e) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.cells is None:
            p.setPen(self.palette().windowText().color())
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "waiting for the first episode")
            return
        h, w = self.cells.shape
        side = min((self.width() - 60) / w, (self.height() - 8) / h)
        x0, y0 = 4.0, 4.0
        free = (self.cells == 0) | (self.cells == 5)
        vals = self.values[free] if self.values is not None and free.any() else np.zeros(1)
        lo, hi = float(np.nanmin(vals)), float(np.nanmax(vals))
        span = hi - lo or 1.0
        for r in range(h):
            for c in range(w):
                rect = QRectF(x0 + c * side, y0 + r * side, side, side)
                code = int(self.cells[r, c])
                if code in self.COLORS:
                    p.fillRect(rect, self.COLORS[code])
                else:
                    p.fillRect(rect, heat((self.values[r, c] - lo) / span))
                p.setPen(QPen(QColor(0, 0, 0, 60), 1))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(rect)
                label = {2: "G", 3: "X", 4: "C", 5: "S"}.get(code)
                if label:
                    p.setPen(QColor("white"))
                    f = QFont(self.font())
                    f.setBold(True)
                    p.setFont(f)
                    p.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, " " + label)
                a = int(self.actions[r, c]) if self.actions is not None else -1
                if a >= 0 and code in (0, 5):
                    self._arrow(p, rect, a)
        # colour bar
        bx = x0 + w * side + 10
        for i in range(50):
            p.fillRect(QRectF(bx, y0 + (h * side) * (1 - (i + 1) / 50), 12, h * side / 50 + 1), heat(i / 49))
        p.setPen(self.palette().windowText().color())
        p.drawText(QRectF(bx + 14, y0 - 2, 40, 16), Qt.AlignmentFlag.AlignLeft, f"{hi:.2f}")
        p.drawText(QRectF(bx + 14, y0 + h * side - 14, 40, 16), Qt.AlignmentFlag.AlignLeft, f"{lo:.2f}")
        if self.path:
            k = min(self.agent, len(self.path) - 1)
            r, c = self.path[k]
            center = QPointF(x0 + (c + 0.5) * side, y0 + (r + 0.5) * side)
            p.setBrush(QColor(255, 255, 255))
            p.setPen(QPen(QColor(20, 20, 20), 2))
            p.drawEllipse(center, side * 0.28, side * 0.28)
        p.end()

    @staticmethod
    def _arrow(p: QPainter, rect: QRectF, action: int) -> None:
        c = rect.center()
        s = rect.width() * 0.3
        dx, dy = [(0, -1), (1, 0), (0, 1), (-1, 0)][action % 4]
        tip = QPointF(c.x() + dx * s, c.y() + dy * s)
        tail = QPointF(c.x() - dx * s * 0.6, c.y() - dy * s * 0.6)
        p.setPen(QPen(QColor(255, 255, 255, 220), max(1.0, rect.width() / 18)))
        p.drawLine(tail, tip)
        ox, oy = -dy * s * 0.35, dx * s * 0.35
        back = QPointF(tip.x() - dx * s * 0.45, tip.y() - dy * s * 0.45)
        p.setBrush(QColor(255, 255, 255, 220))
        p.drawPolygon(QPolygonF([tip, QPointF(back.x() + ox, back.y() + oy), QPointF(back.x() - ox, back.y() - oy)]))
