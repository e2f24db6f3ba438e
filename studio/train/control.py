"""What the driver of a run (the GUI, a test) can ask of the loop while it trains.

Every switch is thread-safe and read by the loop between two steps: cancel, pause and resume,
step a given number of steps (or to the end of the epoch) and pause again, a delay after every
step (slow motion, for a classroom), and live setting changes (α, γ, ε moved on a slider reach
the running agent before its next step). ``watching`` tells the loop that someone follows every
step, so it sends curves and views after each one instead of throttling them.
"""

from __future__ import annotations

import threading
from typing import Any


class RunControl:
    """Thread-safe switches checked by the loop before every step."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._lock = threading.Lock()
        self._budget: int | None = None  # steps left before pausing again (None: run freely)
        self._to_epoch_end = False
        self._live: dict[str, Any] = {}
        self._moves = False  # steps asked for are single moves of the agent
        self.delay_s = 0.0

    # -- from the driver ------------------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()
        self._running.set()  # wake a paused loop so it can stop

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        with self._lock:
            self._budget, self._to_epoch_end, self._moves = None, False, False
        self._running.set()

    def step(self, steps: int = 1) -> None:
        """Run ``steps`` more steps (one batch, one episode or one sweep each), then pause."""
        with self._lock:
            self._budget, self._to_epoch_end, self._moves = max(1, int(steps)), False, False
        self._running.set()

    def step_move(self) -> None:
        """Run one move of the agent, then pause: recipes that play moves (tabular TD) make one step one
        move until the driver asks for anything else; others run one ordinary step."""
        with self._lock:
            self._budget, self._to_epoch_end, self._moves = 1, False, True
        self._running.set()

    def step_epoch(self) -> None:
        """Run to the end of the current epoch, then pause."""
        with self._lock:
            self._budget, self._to_epoch_end, self._moves = None, True, False
        self._running.set()

    def set_delay(self, seconds: float) -> None:
        """Wait this long after every step (0: full speed; about 1 s: slow motion)."""
        self.delay_s = max(0.0, min(10.0, float(seconds)))

    def set_live(self, key: str, value: Any) -> None:
        """Change the dotted training setting ``key`` of the running recipe before its next step."""
        with self._lock:
            self._live[key] = value

    # -- for the loop -----------------------------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def by_move(self) -> bool:
        """The driver steps single moves: a recipe that can plays one move per step."""
        return self._moves

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stepping(self) -> bool:
        """A step budget or an epoch end will pause the loop by itself (Step / Step epoch asked for)."""
        return self._budget is not None or self._to_epoch_end

    @property
    def watching(self) -> bool:
        """Someone follows single steps (stepping or slow motion): send every step's curves and views."""
        return self.delay_s > 0 or self.stepping

    def wait_while_paused(self, poll: float = 0.1) -> None:
        while not self._running.wait(poll):
            pass

    def take_live(self) -> dict[str, Any]:
        """The setting changes asked for since the last call (the loop applies them)."""
        with self._lock:
            live, self._live = self._live, {}
        return live

    def after_step(self) -> None:
        """Called by the loop after each step: slow motion, and the end of a step budget."""
        with self._lock:
            if self._budget is not None:
                self._budget -= 1
                if self._budget <= 0:
                    self._budget = None
                    self._running.clear()
        if self.delay_s > 0 and not self.paused:
            self._cancel.wait(self.delay_s)  # a cancel ends the wait at once

    def after_epoch(self) -> None:
        with self._lock:
            if self._to_epoch_end:
                self._to_epoch_end = False
                self._running.clear()


def apply_live(settings: Any, changes: dict[str, Any]) -> list[str]:
    """Set each dotted key on a settings object in place; returns the keys that could not be set."""
    refused = []
    for key, value in changes.items():
        *parents, leaf = key.split(".")
        target = settings
        try:
            for part in parents:
                target = getattr(target, part)
            if not hasattr(target, leaf):
                raise AttributeError(leaf)
            setattr(target, leaf, type(getattr(target, leaf))(value))
        except (AttributeError, TypeError, ValueError):
            refused.append(key)
    return refused
