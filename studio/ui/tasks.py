"""The one way the editor runs work off the GUI thread: training, model import, code export, start-up, previews.

A :class:`TaskRunner` runs jobs on threads of its own (one at a time by default, so jobs that share a
model never race) and reports on the GUI thread through the :class:`Task` handle it returns:
``progress(object)`` while the job runs, then exactly one of ``finished(object)`` or ``failed(str)``,
then ``ended()``. A job that raises hands back one readable line instead of dying in its thread.

Stopping is cooperative: :meth:`Task.cancel` sets a flag the job polls (``ctx.cancelled``) and calls
the job's own cancel hook (e.g. the engine's ``RunControl.cancel``); :meth:`TaskRunner.shutdown`
cancels everything and waits. Threads are never terminated.

Lifetimes: a running thread is owned by this module, not by a widget, so closing the dialog or
panel that started a job can never destroy a running ``QThread``; results for an owner that is gone
are dropped, because the handle that relays them is a child of that owner's runner.
"""

from __future__ import annotations

import threading
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot


class TaskContext:
    """What a job sees of its task: ``report(value)`` for progress and ``cancelled`` to poll."""

    def __init__(self, thread: _TaskThread) -> None:
        self._thread = thread
        self._cancelled = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def report(self, value: Any) -> None:
        """Send ``value`` to the task's ``progress`` signal (queued to the GUI thread)."""
        self._thread.progressed.emit(value)


def describe(exc: BaseException) -> str:
    """One readable line for a failure (with the innermost frames when the message is empty)."""
    text = str(exc).strip()
    if not text:
        return f"{type(exc).__name__}\n" + "".join(traceback.format_exception(exc, limit=-3))
    return text


class _TaskThread(QThread):
    """Runs one job. Owned by :data:`_LIVE` until it has ended, never by a widget."""

    progressed = Signal(object)
    # one (ok, value) tuple: a bare None through a queued ``object`` signal upsets PySide's refcounts
    outcome = Signal(object)

    def __init__(self, job: Callable[[TaskContext], Any], name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.job = job
        self.context = TaskContext(self)

    def run(self) -> None:
        try:
            result = (True, self.job(self.context))
        except SystemExit:  # a user's file that calls exit() must not end the thread without a word
            result = (False, "the code called exit()")
        except BaseException as exc:  # noqa: BLE001 - reported to the GUI as text
            result = (False, describe(exc))
        self.outcome.emit(result)


class _Reaper(QObject):
    """Lives on the GUI thread; forgets a thread once it has fully ended (so it is deleted there)."""

    @Slot()
    def reap(self) -> None:
        thread = self.sender()
        for item in list(_LIVE):
            if item is thread:
                item.wait()  # finished was emitted from the thread's last instructions
                item.job = None  # what the job captured is freed here, on the GUI thread
                _LIVE.discard(item)


_LIVE: set[_TaskThread] = set()
_reaper: _Reaper | None = None


def _get_reaper() -> _Reaper:
    global _reaper
    if _reaper is None:
        _reaper = _Reaper()
    return _reaper


class Task(QObject):
    """GUI-side handle of one job: signals, :meth:`cancel`, :meth:`wait`."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    #: after ``finished`` or ``failed`` (or when cancelled before it started)
    ended = Signal()

    def __init__(self, runner: TaskRunner, job: Callable[[TaskContext], Any], name: str,
                 on_cancel: Callable[[], None] | None) -> None:
        super().__init__(runner)
        self.name = name
        self._job = job
        self._on_cancel = on_cancel
        self.thread: _TaskThread | None = None
        self.done = False
        self.ok: bool | None = None
        self.result: Any = None
        self.error: str | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and not self.done

    @property
    def cancelled(self) -> bool:
        return self.thread is not None and self.thread.context.cancelled

    def _start(self) -> None:
        thread = _TaskThread(self._job, self.name)
        self._job = None
        self.thread = thread
        thread.progressed.connect(self._relay_progress)
        thread.outcome.connect(self._relay_outcome)
        thread.finished.connect(_get_reaper().reap)
        _LIVE.add(thread)
        thread.start()

    def cancel(self) -> None:
        """Ask the job to stop (it polls ``ctx.cancelled``; ``on_cancel`` tells a loop directly)."""
        if self.thread is not None:
            self.thread.context._cancelled.set()
        if self._on_cancel is not None:
            self._on_cancel()

    def wait(self, timeout_ms: int | None = None) -> bool:
        """Block until the thread has ended (``None`` = as long as it takes); never terminates it."""
        if self.thread is None:
            return True
        return self.thread.wait() if timeout_ms is None else self.thread.wait(timeout_ms)

    @Slot(object)
    def _relay_progress(self, value: Any) -> None:
        if not self.done:
            self.progress.emit(value)

    @Slot(object)
    def _relay_outcome(self, outcome: tuple[bool, Any]) -> None:
        self.ok, value = outcome
        self.done = True
        runner = self.parent()
        if isinstance(runner, TaskRunner):  # not busy with this one any more, inside the callbacks too
            runner._task_ended(self)
        if self.ok:
            self.result = value
            self.finished.emit(value)
        else:
            self.error = value
            self.failed.emit(value)
        self.ended.emit()
        if isinstance(runner, TaskRunner):
            runner._start_next()


class TaskRunner(QObject):
    """Runs jobs on their own threads, ``max_threads`` at a time, in submission order.

    ``start(job)`` runs ``job(ctx)`` and returns its :class:`Task`; ``submit(fn, on_result, on_error)``
    is the short form for a plain ``fn()``.
    """

    def __init__(self, parent: QObject | None = None, max_threads: int = 1, name: str = "nnstudio-task") -> None:
        super().__init__(parent)
        self.max_threads = max_threads
        self.name = name
        self._queue: deque[Task] = deque()
        self._running: list[Task] = []
        self._closed = False

    def start(self, job: Callable[[TaskContext], Any], *, name: str | None = None,
              on_result: Callable[[Any], None] | None = None, on_error: Callable[[str], None] | None = None,
              on_progress: Callable[[Any], None] | None = None,
              on_cancel: Callable[[], None] | None = None) -> Task:
        """Queue ``job(ctx)``; the callbacks run on the GUI thread."""
        if self._closed:
            raise RuntimeError(f"{self.name}: the task runner was shut down")
        task = Task(self, job, name or self.name, on_cancel)
        if on_result is not None:
            task.finished.connect(on_result)
        if on_error is not None:
            task.failed.connect(on_error)
        if on_progress is not None:
            task.progress.connect(on_progress)
        self._queue.append(task)
        self._start_next()
        return task

    def submit(self, fn: Callable[[], Any], on_result: Callable[[Any], None] | None = None,
               on_error: Callable[[str], None] | None = None, name: str | None = None) -> Task:
        """Run ``fn()`` in the background and call back with its result or its error message."""
        return self.start(lambda _ctx: fn(), name=name, on_result=on_result, on_error=on_error)

    def _start_next(self) -> None:
        while not self._closed and self._queue and len(self._running) < self.max_threads:
            task = self._queue.popleft()
            self._running.append(task)
            task._start()

    def _task_ended(self, task: Task) -> None:
        if task in self._running:
            self._running.remove(task)
        task.deleteLater()

    @property
    def busy(self) -> bool:
        return bool(self._running or self._queue)

    def cancel_all(self) -> None:
        """Drop queued jobs and ask running ones to stop."""
        for task in self._queue:
            task.deleteLater()
        self._queue.clear()
        for task in list(self._running):
            task.cancel()

    def wait(self, msecs: int = -1) -> bool:
        """Block until every queued and running job has ended and its result was delivered."""
        deadline = None if msecs < 0 else msecs
        while self.busy:
            for task in list(self._running):
                if not task.wait(deadline):
                    return False
                QCoreApplication.sendPostedEvents(task)  # deliver its outcome (that starts the next job)
                if task in self._running:  # the outcome was not posted yet: let it arrive
                    QCoreApplication.processEvents()
        return True

    def shutdown(self, msecs: int = -1) -> bool:
        """Cancel everything and wait for the threads to end (closing a window or panel). No new jobs after."""
        self._closed = True
        self.cancel_all()
        ok = True
        for task in list(self._running):
            ok = task.wait(None if msecs < 0 else msecs) and ok
        return ok


_shared: TaskRunner | None = None


def shared_runner() -> TaskRunner:
    """The application's runner for jobs that outlive the widget that asked (import, start-up).

    Shut down when the application quits; jobs run one at a time.
    """
    global _shared
    if _shared is None:
        app = QCoreApplication.instance()
        _shared = TaskRunner(app, name="nnstudio-shared")
        if app is not None:
            app.aboutToQuit.connect(_shared.shutdown)
    return _shared
