"""Classroom controls on the training panel: Step, Step epoch, Play / Pause with a speed from slow motion
to full, and live α / γ / ε sliders that act on a running reinforcement-learning agent.

They drive the run's :class:`studio.train.control.RunControl`; a slider also stores its value in the
project (one undo step when released), so what the class sees is what the project keeps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QCheckBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from studio.train.settings_form import get_setting

# speed slider positions: delay after each step, and how it reads
SPEEDS = ((0.0, "full speed"), (0.05, "20 steps/s"), (0.2, "5 steps/s"), (0.5, "2 steps/s"), (1.0, "1 step/s"))


#: what the Play button reads while nothing plays, and while a run plays
PLAY_TEXT, PAUSE_TEXT = "▶ Play", "⏸ Pause"


class StepBar(QWidget):
    """Step / Step epoch, Play / Pause and the speed slider, beside Train / Pause / Stop.

    Play starts a run when none is going (at the chosen speed), resumes a paused or stepped one and
    pauses a playing one; the speed acts at once on a running loop. Keys: Step F7, Step epoch
    Shift+F7, Play / Pause F8 (window-wide, so they work in presentation mode without the menu bar)."""

    def __init__(self, panel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("Run one step (a batch, an episode or a sweep), then pause; starts a run if "
                                    "none is going (F7)")
        self.epoch_button = QPushButton("Step epoch")
        self.epoch_button.setToolTip("Run to the end of the epoch, then pause (Shift+F7)")
        self.play_button = QPushButton(PLAY_TEXT)
        self.play_button.setToolTip("Play at the chosen speed (starts a run if none is going), or pause (F8)")
        font = self.play_button.font()
        font.setBold(True)
        self.play_button.setFont(font)
        # wide enough for either text, so the bar does not jump when it flips
        self.play_button.setMinimumWidth(max(self.play_button.fontMetrics().horizontalAdvance(t)
                                             for t in (PLAY_TEXT, PAUSE_TEXT)) + 24)
        self.speed = QSlider(Qt.Orientation.Horizontal)
        self.speed.setRange(0, len(SPEEDS) - 1)
        self.speed.setFixedWidth(90)
        self.speed.setToolTip("Speed: full, or slowed so the curves and views follow every step")
        self.speed_label = QLabel(SPEEDS[0][1])
        self.speed_label.setMinimumWidth(self.speed_label.fontMetrics().horizontalAdvance("20 steps/s") + 6)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        for w in (self.step_button, self.epoch_button, self.play_button, self.speed, self.speed_label):
            lay.addWidget(w)
        self.step_button.clicked.connect(self.step)
        self.epoch_button.clicked.connect(self.step_epoch)
        self.play_button.clicked.connect(self.play_pause)
        self.speed.valueChanged.connect(self._speed_changed)
        panel.started.connect(self._apply_speed)
        self.actions: dict[str, QAction] = {}
        for key, text, shortcut, slot in (("step", "Step", "F7", self.step),
                                          ("step_epoch", "Step epoch", "Shift+F7", self.step_epoch),
                                          ("play", "Play / Pause", "F8", self.play_pause)):
            action = QAction(text, self)
            action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(lambda _checked=False, f=slot: f())
            self.actions[key] = action
        self.show_state("idle")

    @property
    def delay_s(self) -> float:
        return SPEEDS[self.speed.value()][0]

    @property
    def playing(self) -> bool:
        """A run goes on by itself (not paused, not stepping towards a pause)."""
        control = self._control()
        return control is not None and not control.paused and not control.stepping

    def _control(self):
        session = self.panel.session
        return session.control if session is not None and self.panel.running else None

    def _run(self, ask: Callable[[Any], None]) -> None:
        """Ask the running session's control, or start a run with the request already in place."""
        control = self._control()
        if control is not None:
            ask(control)
            self.panel.show_running()
            return

        def prepare(control) -> None:
            control.set_delay(self.delay_s)
            ask(control)

        self.panel.start_training(prepare=prepare)

    def step(self) -> None:
        self._run(lambda control: control.step(1))

    def step_epoch(self) -> None:
        self._run(lambda control: control.step_epoch())

    def play_pause(self) -> None:
        """Pause a playing run; otherwise play: resume a paused (or stepping) run, or start one."""
        control = self._control()
        if control is not None and self.playing:
            control.pause()
            self.panel.show_paused()
            return

        def play(control) -> None:
            control.set_delay(self.delay_s)
            control.resume()

        self._run(play)

    def show_state(self, state: str) -> None:
        """The Play button follows the run: Pause while it plays, Play when idle or paused."""
        playing = state == "running" and (self._control() is None or not self._control().stepping)
        self.play_button.setText(PAUSE_TEXT if playing else PLAY_TEXT)

    def _speed_changed(self, _value: int) -> None:
        self.speed_label.setText(SPEEDS[self.speed.value()][1])
        self._apply_speed()

    def _apply_speed(self) -> None:
        control = self._control()
        if control is not None:
            control.set_delay(self.delay_s)


# (setting keys it writes, label, maximum): ε writes both ends of its schedule, so it is constant
LIVE = ((("rl.lr",), "α (learning rate)", 1.0), (("rl.gamma",), "γ (discount)", 1.0),
        (("rl.epsilon_start", "rl.epsilon_end"), "ε (exploration)", 1.0))


class LiveRLControls(QWidget):
    """α, γ, ε sliders and a Learning switch for the reinforcement-learning paradigms."""

    STEPS = 100

    def __init__(self, panel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.sliders: dict[str, QSlider] = {}
        self.values: dict[str, QLabel] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 2, 0, 2)
        grid.addWidget(QLabel("<b>Live controls</b>"), 0, 0, 1, 3)
        for row, (keys, label, top) in enumerate(LIVE, start=1):
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, self.STEPS)
            slider.setToolTip(f"{label}: acts on the running agent before its next episode")
            value = QLabel()
            value.setMinimumWidth(36)
            slider.valueChanged.connect(lambda v, k=keys, t=top, lab=value: self._moved(k, v * t / self.STEPS, lab))
            slider.sliderReleased.connect(lambda k=keys, s=slider, t=top: self._store(k, s.value() * t / self.STEPS))
            slider.actionTriggered.connect(lambda _a, k=keys, s=slider, t=top: None if s.isSliderDown()
                                           else self._store(k, s.sliderPosition() * t / self.STEPS))
            grid.addWidget(QLabel(label), row, 0)
            grid.addWidget(slider, row, 1)
            grid.addWidget(value, row, 2)
            self.sliders[keys[0]], self.values[keys[0]] = slider, value
        self.learning = QCheckBox("Learning")
        self.learning.setToolTip("Off: the agent keeps playing what it has learned, without updating its values")
        self.learning.toggled.connect(self._learning)
        grid.addWidget(self.learning, len(LIVE) + 1, 0, 1, 3)
        self._syncing = False
        self.sync()

    def sync(self) -> None:
        """Show the project's values (after an undo, a new project or another paradigm)."""
        training = self.panel.shown_training()[0] if hasattr(self.panel, "shown_training") else \
            self.panel.document.project.training
        from studio.train.recipes.registry import recipe_spec

        try:
            is_rl = recipe_spec(str(get_setting(training, "recipe"))).section == "rl"
        except KeyError:
            is_rl = False
        self.setVisible(is_rl)
        if not is_rl:
            return
        self._syncing = True
        for keys, _label, top in LIVE:
            value = float(get_setting(training, keys[0]))
            self.sliders[keys[0]].setValue(round(value / top * self.STEPS))
            self.values[keys[0]].setText(f"{value:.2f}")
        self.learning.setChecked(bool(get_setting(training, "rl.learning")))
        self._syncing = False

    def _send_live(self, keys: tuple[str, ...], value: Any) -> None:
        control = self.panel.session.control if self.panel.session is not None and self.panel.running else None
        if control is not None and not self._syncing:
            for key in keys:
                control.set_live(key, value)

    def _moved(self, keys: tuple[str, ...], value: float, label: QLabel) -> None:
        label.setText(f"{value:.2f}")
        self._send_live(keys, value)

    def _store(self, keys: tuple[str, ...], value: Any) -> None:
        """The project keeps what the slider shows: one undo step, named in words."""
        if self._syncing:
            return
        from studio.core.ops import Batch, SetTraining
        from studio.train.settings_form import label_for

        document = self.panel.document
        training = document.project.training
        value = round(value, 4) if isinstance(value, float) else value
        ops = [SetTraining(key, value) for key in keys if get_setting(training, key) != value]
        if ops:
            document.push(Batch(ops, label=f"Set {label_for(keys[0], training).lower()} to {value}"))

    def _learning(self, on: bool) -> None:
        self._send_live(("rl.learning",), bool(on))
        self._store(("rl.learning",), bool(on))
