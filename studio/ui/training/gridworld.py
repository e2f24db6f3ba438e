"""The gridworld live view: walls, pits, cliffs and goals; each free cell coloured by its value with the
number written in it (or the four action values), every tied greedy action as an arrow, teleports as
curved arrows, and the agent replaying its last episode with its trail, at a speed the user picks.

:class:`MoveBar` steps a tabular TD run one move at a time: the agent stands where the move took it, the
trail shows the episode so far, the updated action is outlined and the bar writes the update
Q(s, a) ← old + α · (target − old)."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QFontMetricsF, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QBoxLayout, QFrame, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

TIE = 1e-9
NUMBERS_FROM = 26  # the cell side (px) from which a cell's numbers are written
DIRECTIONS = ((0, -1), (1, 0), (0, 1), (-1, 0))  # up, right, down, left as (dx, dy)


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


def ink_on(colour: QColor) -> QColor:
    """Black or white, whichever reads better on ``colour`` (numbers on light yellow cells stay legible)."""
    luma = 0.299 * colour.red() + 0.587 * colour.green() + 0.114 * colour.blue()
    return QColor(20, 20, 20) if luma > 150 else QColor(250, 250, 250)


def number(v: float) -> str:
    if not np.isfinite(v):
        return ""
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"


class GridworldView(QWidget):
    """The gridworld: walls, pits, goal; each cell coloured by its value; greedy arrows; the agent walking."""

    COLORS = {1: QColor(70, 70, 78), 2: QColor(40, 180, 80), 3: QColor(200, 50, 50), 4: QColor(150, 60, 40)}
    #: the payload's stepped move (a dict) or None, after each new payload
    move_shown = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.cells: np.ndarray | None = None
        self.values: np.ndarray | None = None
        self.actions: np.ndarray | None = None
        self.q: np.ndarray | None = None
        self.policy: np.ndarray | None = None
        self.improvements: int | None = None
        self.teleports: list[tuple[int, int, int, int, float]] = []
        self.path: list[tuple[int, int]] = []
        self.agent = 0
        self.move: dict[str, Any] | None = None
        self.show_numbers = True
        self.show_q = False
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._step_agent)
        self.timer.setInterval(150)
        self.setMinimumSize(160, 120)  # the page may be short on a projector at a large UI scale

    def set_speed(self, per_second: int) -> None:
        self.timer.setInterval(max(10, int(1000 / max(1, per_second))))

    def set_numbers(self, on: bool) -> None:
        self.show_numbers = bool(on)
        self.update()

    def set_q_values(self, on: bool) -> None:
        """Four action values per cell (at its edges) instead of the cell's value."""
        self.show_q = bool(on)
        self.update()

    def set_world(self, payload: dict[str, Any]) -> None:
        self.cells = np.asarray(payload["cells"])
        self.values = np.asarray(payload["values"], dtype=np.float64)
        self.actions = np.asarray(payload["actions"])
        self.q = np.asarray(payload["q"], dtype=np.float64) if payload.get("q") is not None else None
        self.policy = np.asarray(payload["policy"], dtype=bool) if payload.get("policy") is not None else None
        self.improvements = payload.get("improvements")
        self.teleports = [tuple(t) for t in payload.get("teleports", [])]
        path = [tuple(int(v) for v in rc) for rc in payload.get("path", [])]
        self.move = payload.get("move")
        if self.move is not None:  # a stepped move: the agent stands where it went, no replay
            self.timer.stop()
            self.path, self.agent = path, max(0, len(path) - 1)
        else:
            if path != self.path:
                self.path, self.agent = path, 0
            if self.path and not self.timer.isActive():
                self.timer.start()
        self.move_shown.emit(self.move)
        self.update()

    def best_actions(self, r: int, c: int) -> list[int]:
        """Every greedy action of a cell (ties shown), from Q when the view has it; the evaluated policy's
        actions when the payload names one (policy evaluation of arrows, policy iteration)."""
        if self.policy is not None:
            return [int(a) for a in np.flatnonzero(self.policy[r, c])]
        if self.q is not None:
            row = self.q[r, c]
            return [int(a) for a in np.flatnonzero(row >= row.max() - TIE)]
        a = int(self.actions[r, c]) if self.actions is not None else -1
        return [a] if a >= 0 else []

    def _step_agent(self) -> None:
        if self.path:
            self.agent = (self.agent + 1) % (len(self.path) + 3)  # linger a moment at the end
            self.update()

    def _bar_width(self) -> float:
        """Room for the colour bar and its numbers at the current font (a larger UI scale needs more)."""
        metrics = QFontMetrics(self.font())
        return 26.0 + metrics.horizontalAdvance("-000.00")

    def geometry_of_grid(self) -> tuple[float, float, float]:
        h, w = self.cells.shape
        side = min((self.width() - 8 - self._bar_width()) / w, (self.height() - 8) / h)
        return 4.0, 4.0, max(4.0, side)

    def paintEvent(self, _e) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.cells is None:
            p.setPen(self.palette().windowText().color())
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "waiting for the first episode")
            return
        h, w = self.cells.shape
        x0, y0, side = self.geometry_of_grid()
        free = (self.cells == 0) | (self.cells == 5)
        vals = self.values[free] if self.values is not None and free.any() else np.zeros(1)
        vals = vals[np.isfinite(vals)] if np.isfinite(vals).any() else np.zeros(1)
        lo, hi = float(vals.min()), float(vals.max())
        span = hi - lo or 1.0
        font = self._number_font(side)
        letter = QFont(self.font())
        letter.setBold(True)
        letter.setPixelSize(max(8, int(side * 0.4)))  # S, G, X, C: one letter in a corner reads at any size
        for r in range(h):
            for c in range(w):
                rect = QRectF(x0 + c * side, y0 + r * side, side, side)
                code = int(self.cells[r, c])
                fill = self.COLORS.get(code) or heat((self.values[r, c] - lo) / span)
                p.fillRect(rect, fill)
                p.setPen(QPen(QColor(0, 0, 0, 60), 1))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(rect)
                label = {2: "G", 3: "X", 4: "C", 5: "S"}.get(code)
                if label:
                    p.setFont(letter)
                    p.setPen(QColor("white") if code != 5 else ink_on(fill))
                    p.drawText(rect.adjusted(2, 1, 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, label)
                if code in (0, 5):
                    for a in self.best_actions(r, c):
                        self._arrow(p, rect, a, ink_on(fill))
                    if self.show_numbers and side >= NUMBERS_FROM:
                        self._numbers(p, rect, r, c, font, ink_on(fill))
        self._draw_teleports(p, x0, y0, side, font)
        self._draw_move(p, x0, y0, side)
        self._draw_trail(p, x0, y0, side)
        self._colour_bar(p, x0 + w * side + 10, y0, h * side, lo, hi)
        p.end()

    def _number_font(self, side: float) -> QFont:
        """The largest font at which the widest number fits its place in a cell: the lower half of the cell
        (a value), or a third of its height and half its width (four Q values around the arrows). Scaling
        with the cell, numbers stay readable at a presentation's scale where a fixed size came out ~7 px."""
        font = QFont(self.font())
        source = self.q if self.show_q and self.q is not None else self.values
        texts = [number(float(v)) for v in np.asarray(source).reshape(-1)[:400]] if source is not None else []
        font.setPixelSize(100)
        fm = QFontMetricsF(font)
        wide = max((fm.horizontalAdvance(t) for t in texts if t), default=fm.horizontalAdvance("0.00"))
        room_w, room_h = ((side - 4) / 2, side / 3.2) if self.show_q else (side - 4, side * 0.36)
        fit = min(100 * room_w / max(wide, 1.0), 100 * room_h / fm.height())
        font.setPixelSize(max(7, min(int(fit), 28)))
        return font

    def _numbers(self, p: QPainter, rect: QRectF, r: int, c: int, font: QFont, ink: QColor) -> None:
        p.setFont(font)
        p.setPen(ink)
        if self.show_q and self.q is not None:
            inset = rect.adjusted(2, 1, -2, -1)
            spots = (Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                     Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                     Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                     Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            for a, align in enumerate(spots):
                p.drawText(inset, align, number(float(self.q[r, c, a])))
        elif self.values is not None:
            low = rect.adjusted(0, rect.height() * 0.55, 0, 0)
            p.drawText(low, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, number(float(self.values[r, c])))

    def _draw_teleports(self, p: QPainter, x0: float, y0: float, side: float, font: QFont) -> None:
        for r, c, tr, tc, reward in self.teleports:
            a = QPointF(x0 + (c + 0.5) * side, y0 + (r + 0.5) * side)
            b = QPointF(x0 + (tc + 0.5) * side, y0 + (tr + 0.5) * side)
            bend = QPointF((a.x() + b.x()) / 2 + side * 0.6, (a.y() + b.y()) / 2)
            path = QPainterPath(a)
            path.quadTo(bend, b)
            p.setPen(QPen(QColor(255, 140, 0, 230), max(1.5, side / 14)))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(path)
            p.setBrush(QColor(255, 140, 0, 230))
            p.drawEllipse(b, side * 0.08, side * 0.08)
            p.setFont(font)
            p.drawText(QRectF(bend.x() - side / 2, bend.y() - side / 4, side, side / 2),
                       Qt.AlignmentFlag.AlignCenter, f"{reward:+g}")

    def _draw_move(self, p: QPainter, x0: float, y0: float, side: float) -> None:
        """Outline the cell the stepped move left and mark the action whose value it updated."""
        if self.move is None:
            return
        r, c = (int(v) for v in self.move["from"])
        rect = QRectF(x0 + c * side, y0 + r * side, side, side)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor(255, 140, 0), max(2.0, side / 12)))
        p.drawRect(rect.adjusted(1, 1, -1, -1))
        dx, dy = DIRECTIONS[int(self.move["action"]) % 4]
        centre = rect.center()
        edge = QPointF(centre.x() + dx * side * 0.36, centre.y() + dy * side * 0.36)
        p.setBrush(QColor(255, 140, 0))
        p.drawEllipse(edge, side * 0.09, side * 0.09)

    def _draw_trail(self, p: QPainter, x0: float, y0: float, side: float) -> None:
        if not self.path:
            return
        k = min(self.agent, len(self.path) - 1)
        points = [QPointF(x0 + (c + 0.5) * side, y0 + (r + 0.5) * side) for r, c in self.path[:k + 1]]
        if len(points) > 1:
            p.setPen(QPen(QColor(255, 255, 255, 150), max(1.0, side / 10), Qt.PenStyle.SolidLine,
                          Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPolyline(QPolygonF(points))
        p.setBrush(QColor(255, 255, 255))
        p.setPen(QPen(QColor(20, 20, 20), 2))
        p.drawEllipse(points[-1], side * 0.26, side * 0.26)

    def _colour_bar(self, p: QPainter, bx: float, y0: float, height: float, lo: float, hi: float) -> None:
        for i in range(50):
            p.fillRect(QRectF(bx, y0 + height * (1 - (i + 1) / 50), 12, height / 50 + 1), heat(i / 49))
        p.setPen(self.palette().windowText().color())
        p.setFont(self.font())
        text_h = QFontMetrics(self.font()).height()
        room = self._bar_width() - 14
        p.drawText(QRectF(bx + 14, y0, room, text_h), Qt.AlignmentFlag.AlignLeft, number(hi))
        p.drawText(QRectF(bx + 14, y0 + height - text_h, room, text_h), Qt.AlignmentFlag.AlignLeft, number(lo))

    @staticmethod
    def _arrow(p: QPainter, rect: QRectF, action: int, ink: QColor) -> None:
        c = QPointF(rect.center().x(), rect.top() + rect.height() * 0.38)
        s = rect.width() * 0.24
        dx, dy = DIRECTIONS[action % 4]
        tip = QPointF(c.x() + dx * s, c.y() + dy * s)
        colour = QColor(ink)
        colour.setAlpha(200)
        p.setPen(QPen(colour, max(1.0, rect.width() / 22)))
        p.drawLine(c, tip)
        ox, oy = -dy * s * 0.35, dx * s * 0.35
        back = QPointF(tip.x() - dx * s * 0.45, tip.y() - dy * s * 0.45)
        p.setBrush(colour)
        p.drawPolygon(QPolygonF([tip, QPointF(back.x() + ox, back.y() + oy), QPointF(back.x() - ox, back.y() - oy)]))


ARROWS = "↑→↓←"


def move_text(move: dict[str, Any]) -> str:
    """The stepped move's update in words and numbers: Q(s, a) ← old + α · (target − old) = new."""
    r, c = (int(v) for v in move["from"])
    tr, tc = (int(v) for v in move["to"])
    old, target, new, alpha = (float(move[k]) for k in ("old", "target", "new", "alpha"))
    end = " · episode over" if move.get("done") else ""
    return (f"Moved {ARROWS[int(move['action']) % 4]} from ({r}, {c}) to ({tr}, {tc}), reward {move['reward']:+g}{end}\n"
            f"Q({r}, {c}, {ARROWS[int(move['action']) % 4]}) ← {old:.3f} + {alpha:g} · ({target:.3f} − {old:.3f})"
            f" = {new:.3f}")


class MoveBar(QWidget):
    """"Step move" on the gridworld page and the last stepped move's update under the grid.

    It drives the training panel's run like the Step button does (starting a run when none is going)
    but asks for one move of the agent (:meth:`RunControl.step_move`); DP recipes run one sweep."""

    def __init__(self, world: GridworldView) -> None:
        super().__init__()
        self.world = world
        self.button = QPushButton("Step move")
        self.button.setToolTip("Play one move of the agent and show its Q-value update, then pause (tabular TD "
                               "paradigms; a DP paradigm runs one sweep). Each stepped move counts as one of the "
                               "run's steps; Train or Step goes on from the episode in progress.")
        self.button.clicked.connect(self.step_move)
        self.update_label = QLabel("Step move: one move at a time, with its update")
        self.update_label.setWordWrap(True)
        self.update_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.box = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)  # top to bottom in a narrow column
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.addWidget(self.button, 0, Qt.AlignmentFlag.AlignLeft)
        self.box.addWidget(self.update_label, 1)
        world.move_shown.connect(self.show_move)

    def show_move(self, move: dict[str, Any] | None) -> None:
        if move is not None:
            self.update_label.setText(move_text(move))
        elif self.world.policy is not None:  # policy evaluation of a given policy: say whose arrows these are
            rounds = self.world.improvements
            self.update_label.setText("Arrows: the policy being evaluated" + (
                f" · improved {rounds} time{'s' if rounds != 1 else ''} so far (policy iteration)" if rounds else ""))

    def panel(self) -> Any:
        """The training panel this page belongs to (the widget that starts and steers runs)."""
        w = self.parentWidget()
        while w is not None and not (hasattr(w, "start_training") and hasattr(w, "session")):
            w = w.parentWidget()
        return w if w is not None else getattr(self, "driver", None)

    def step_move(self) -> None:
        panel = self.panel()
        if panel is None:
            return
        session = panel.session
        if session is not None and panel.running:
            session.control.step_move()
            panel.show_running()
            return
        bar = getattr(panel, "step_bar", None)

        def prepare(control) -> None:
            control.set_delay(bar.delay_s if bar is not None else 0.0)
            control.step_move()

        panel.start_training(prepare=prepare)


class GridPage(QWidget):
    """The grid first: its caption and controls sit in a column beside it when the page is wide (a docked
    panel, a projector's short page), below it when the page is tall, so the grid, whose cells are square,
    gets the page's short side in full. The controls scroll rather than being cut when the page is tiny."""

    def __init__(self, world: GridworldView, controls: list[QWidget], move: MoveBar) -> None:
        super().__init__()
        self.world, self.move = world, move
        column = QWidget()
        lay = QVBoxLayout(column)
        lay.setContentsMargins(0, 0, 0, 0)
        for w in [*controls, move]:
            lay.addWidget(w)
        lay.addStretch(1)
        self.controls = QScrollArea()
        self.controls.setWidget(column)
        self.controls.setWidgetResizable(True)
        self.controls.setFrameShape(QFrame.Shape.NoFrame)
        self.controls.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.box = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.addWidget(world, 1)
        self.box.addWidget(self.controls)
        self._arrange()

    def column_width(self) -> int:
        """Wide enough for the caption's first half and the speed row at the current UI scale."""
        return int(QFontMetrics(self.font()).horizontalAdvance("Colour and number: value · arrows") + 40)

    def beside(self) -> bool:
        return self.width() - self.column_width() >= self.height()

    def _arrange(self) -> None:
        column = self.controls.widget()
        if self.beside():
            self.box.setDirection(QBoxLayout.Direction.LeftToRight)
            self.move.box.setDirection(QBoxLayout.Direction.TopToBottom)
            self.controls.setFixedWidth(self.column_width())
            self.controls.setMaximumHeight(16777215)
        else:
            self.box.setDirection(QBoxLayout.Direction.TopToBottom)
            self.move.box.setDirection(QBoxLayout.Direction.LeftToRight)
            self.controls.setMinimumWidth(0)
            self.controls.setMaximumWidth(16777215)
            self.controls.setMaximumHeight(column.sizeHint().height() + 4)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._arrange()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == event.Type.FontChange:
            self._arrange()
