"""The classic-control live view: the last episode replayed (CartPole's cart and pole, Acrobot's two
links, MountainCar's car on its hill) beside the episode-return curve with its running mean."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QWidget

X_LIMIT = 2.4  # CartPole's track half-length: the episode ends beyond it


class ControlView(QWidget):
    """Replays the states of the last episode at ``fps`` frames a second."""

    def __init__(self) -> None:
        super().__init__()
        self.env = ""
        self.states = np.zeros((0, 0), np.float32)
        self.frame = 0
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._next)
        self.timer.setInterval(40)
        self.setMinimumSize(260, 180)

    def set_episode(self, env: str, states: np.ndarray) -> None:
        self.env, self.states, self.frame = env, np.asarray(states, np.float32), 0
        if len(self.states) and not self.timer.isActive():
            self.timer.start()
        self.update()

    def _next(self) -> None:
        if len(self.states):
            self.frame = (self.frame + 1) % (len(self.states) + 10)  # linger on the last frame
            self.update()

    @property
    def state(self) -> np.ndarray | None:
        if not len(self.states):
            return None
        return self.states[min(self.frame, len(self.states) - 1)]

    def paintEvent(self, _e) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        ink = self.palette().windowText().color()
        s = self.state
        if s is None:
            p.setPen(ink)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "waiting for the first episode")
            return
        draw = {"CartPole-v1": self._cartpole, "Acrobot-v1": self._acrobot, "MountainCar-v0": self._mountain_car}
        draw.get(self.env, self._cartpole)(p, s, ink)
        p.setPen(ink)
        p.drawText(QRectF(6, 4, self.width() - 12, 18), Qt.AlignmentFlag.AlignLeft,
                   f"{self.env}  step {min(self.frame, len(self.states) - 1) + 1} of {len(self.states)}")
        p.end()

    def _cartpole(self, p: QPainter, s: np.ndarray, ink: QColor) -> None:
        w, h = self.width(), self.height()
        scale = (w - 40) / (2 * X_LIMIT)
        ground = h * 0.72
        p.setPen(QPen(ink, 2))
        p.drawLine(QPointF(20, ground), QPointF(w - 20, ground))
        cx = w / 2 + float(s[0]) * scale
        cart = QRectF(cx - 28, ground - 22, 56, 22)
        p.fillRect(cart, QColor(59, 130, 246))
        length = min(h * 0.55, 1.0 * scale)
        angle = float(s[2])
        tip = QPointF(cx + length * math.sin(angle), ground - 22 - length * math.cos(angle))
        p.setPen(QPen(QColor(234, 88, 12), 8, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.drawLine(QPointF(cx, ground - 22), tip)

    def _acrobot(self, p: QPainter, s: np.ndarray, ink: QColor) -> None:
        w, h = self.width(), self.height()
        t1 = math.atan2(float(s[1]), float(s[0]))
        t2 = math.atan2(float(s[3]), float(s[2]))
        link = min(w, h) * 0.22
        base = QPointF(w / 2, h * 0.45)
        a = QPointF(base.x() + link * math.sin(t1), base.y() + link * math.cos(t1))
        b = QPointF(a.x() + link * math.sin(t1 + t2), a.y() + link * math.cos(t1 + t2))
        p.setPen(QPen(ink, 1, Qt.PenStyle.DashLine))
        p.drawLine(QPointF(20, base.y() - link), QPointF(w - 20, base.y() - link))  # the height to swing above
        p.setPen(QPen(QColor(59, 130, 246), 7, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.drawLine(base, a)
        p.setPen(QPen(QColor(234, 88, 12), 7, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.drawLine(a, b)

    def _mountain_car(self, p: QPainter, s: np.ndarray, ink: QColor) -> None:
        w, h = self.width(), self.height()

        def at(x: float) -> QPointF:  # the hill is y = sin(3x), x in [-1.2, 0.6]
            return QPointF(20 + (x + 1.2) / 1.8 * (w - 40), h * 0.55 - math.sin(3 * x) * h * 0.3)

        hill = QPainterPath(at(-1.2))
        for i in range(1, 61):
            hill.lineTo(at(-1.2 + 1.8 * i / 60))
        p.setPen(QPen(ink, 2))
        p.drawPath(hill)
        flag = at(0.5)
        p.drawLine(flag, QPointF(flag.x(), flag.y() - 24))
        car = at(float(s[0]))
        p.setBrush(QColor(59, 130, 246))
        p.drawEllipse(car, 9, 9)
