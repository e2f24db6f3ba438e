"""The training worker: runs the engine's loop as a task of the editor's task runner and hands updates to the GUI in batches.

The GUI thread never trains. :class:`TrainingSession` (GUI side) runs one :class:`TrainingLoop`
as a task of the editor's task runner (:mod:`studio.ui.tasks`). The loop iterates
:func:`studio.train.engine.run` over a frozen snapshot of the project and reports what arrived at
most ~25 times a second as one ``list[Update]`` (``updates``), so a fast loop cannot flood the
event queue. Every way a run can end — done, stopped, a fault in a layer, a bug — arrives as one
final ``Update`` on ``finished``; faults additionally emit ``failed(str)``. Stopping asks the
engine's :class:`RunControl` to cancel (it saves a checkpoint and returns within one step); the
thread is then waited for, never terminated.
"""

from __future__ import annotations

import os
import re
import time
import traceback
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from studio.ui.tasks import Task, TaskContext, TaskRunner

EMIT_INTERVAL_S = 0.04  # ~25 batches a second at most
IMMEDIATE = ("started", "epoch", "paused", "done", "cancelled", "error")


def runs_dir() -> Path:
    """Where run checkpoints go (``NNSTUDIO_RUNS_DIR`` overrides; default: beside the settings)."""
    env = os.environ.get("NNSTUDIO_RUNS_DIR")
    if env:
        return Path(env)
    from studio.ui.files import config_dir

    return config_dir() / "runs"


def new_run_dir(project_name: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", project_name).strip("._") or "project"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = runs_dir() / safe
    path = base / stamp
    n = 1
    while path.exists():
        n += 1
        path = base / f"{stamp}-{n}"
    path.mkdir(parents=True)
    return path


def error_update(message: str, **kw: Any):
    from studio.train.engine import Update

    return Update(kind="error", message=message, **kw)


class TrainingLoop:
    """The body of a training task (no Qt): iterates the engine and reports updates in batches."""

    def __init__(self, project, registry, settings: dict | None, control, checkpoint_dir: Path | None,
                 resume_from: str | None = None, view_interval_s: float = 1.0) -> None:
        self.project, self.registry, self.settings = project, registry, settings
        self.control, self.checkpoint_dir, self.resume_from = control, checkpoint_dir, resume_from
        self.view_interval_s = view_interval_s
        self.batches = 0

    def __call__(self, ctx: TaskContext):
        """Run to the end; every way a run ends comes back as the final Update (never raises)."""
        final = None
        pending: list = []
        last = 0.0
        try:
            from studio.train.engine import run

            for update in run(self.project, self.registry, self.settings, control=self.control,
                              checkpoint_dir=self.checkpoint_dir, resume_from=self.resume_from,
                              throttle_s=EMIT_INTERVAL_S, view_interval_s=self.view_interval_s):
                if update.final:
                    final = update
                    break
                pending.append(update)
                now = time.perf_counter()
                if update.kind in IMMEDIATE or now - last >= EMIT_INTERVAL_S:
                    ctx.report(pending)
                    self.batches += 1
                    pending, last = [], now
        except BaseException as exc:  # noqa: BLE001 - a run must end with a message, never die silently
            final = error_update(f"internal error: {type(exc).__name__}: {exc}",
                                 info={"traceback": traceback.format_exc()})
        if pending:
            ctx.report(pending)
        if final is None:
            final = error_update("the training loop ended without a final report")
        return final


class TrainingSession(QObject):
    """GUI-side handle of one run: start, pause/resume, stop, wait. One session per run.

    The run is one task on a :class:`~studio.ui.tasks.TaskRunner` (its own unless one is given);
    stopping cancels the engine's :class:`RunControl`, which saves a checkpoint and returns.
    """

    #: list[Update] — everything since the previous batch, in order; the final Update comes last
    updates = Signal(object)
    #: the final Update (done / cancelled / error)
    finished = Signal(object)
    #: a readable message when the run ended in a fault
    failed = Signal(str)

    def __init__(self, project, registry, settings: dict | None = None, checkpoint_dir: Path | None = None,
                 resume_from: str | None = None, parent: QObject | None = None,
                 view_interval_s: float = 1.0, runner: TaskRunner | None = None) -> None:
        super().__init__(parent)
        from studio.train.engine import RunControl

        self.control = RunControl()
        self.project = project
        self.checkpoint_dir = checkpoint_dir
        self.final = None
        self.loop = TrainingLoop(project, registry, settings, self.control, checkpoint_dir, resume_from,
                                 view_interval_s)
        self.runner = runner if runner is not None else TaskRunner(self, name="nnstudio-training")
        self.task: Task | None = None

    def start(self) -> None:
        self.task = self.runner.start(self.loop, name="nnstudio-training", on_progress=self.updates.emit,
                                      on_result=self._on_finished, on_error=self._on_crashed,
                                      on_cancel=self.control.cancel)

    @property
    def thread(self):
        """The run's thread (None before :meth:`start`)."""
        return None if self.task is None else self.task.thread

    @property
    def running(self) -> bool:
        """The run's thread is alive (what shutting down waits for)."""
        thread = self.thread
        return thread is not None and not thread.isFinished()

    @property
    def in_progress(self) -> bool:
        """Started and its final Update not handled on the GUI thread yet.

        Stays True after the thread has ended until ``finished`` was emitted: a run that fails in its
        first step can end before the GUI has handled anything, and a second run started in that gap
        would get the first one's ending."""
        return self.task is not None and self.final is None

    @property
    def paused(self) -> bool:
        return self.control.paused

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def stop(self) -> None:
        """Ask the loop to stop; it saves a checkpoint and ends within one step."""
        self.control.cancel()

    def wait(self, timeout_ms: int | None = None) -> bool:
        """Block until the thread has ended (``None`` = as long as it takes); never terminates it."""
        return True if self.task is None else self.task.wait(timeout_ms)

    def _on_crashed(self, message: str) -> None:
        """The loop itself raised (it reports every fault as its final Update, so this is a bug)."""
        self._on_finished(error_update(f"internal error: {message}"))

    def _on_finished(self, final) -> None:
        self.final = final
        self.updates.emit([final])
        if final.kind == "error":
            self.failed.emit(final.message)
        self.finished.emit(final)


def gui_settings(training: dict) -> dict:
    """The project's settings with torch threads kept below the core count, so the GUI keeps a core."""
    import copy
    import os

    out = copy.deepcopy(training)
    cores = os.cpu_count() or 2
    threads = out.get("threads", 0)
    if isinstance(threads, int) and not isinstance(threads, bool) and threads >= cores:
        out["threads"] = max(1, cores - 1)
    return out
