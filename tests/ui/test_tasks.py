"""The task runner: results and errors on the GUI thread, progress in order, one job at a time,
cooperative cancel, and shutdown that waits instead of terminating."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QObject

from studio.ui.tasks import TaskRunner


@pytest.fixture
def runner(qtbot):
    owner = QObject()
    runner = TaskRunner(owner)
    yield runner
    assert runner.shutdown(10_000)
    owner.deleteLater()


def test_result_and_error_arrive_on_the_gui_thread(qtbot, runner):
    gui = threading.get_ident()
    seen: list = []
    runner.submit(lambda: threading.get_ident(), lambda r: seen.append(("ok", r, threading.get_ident())))
    runner.submit(lambda: 1 / 0, None, lambda m: seen.append(("err", m, threading.get_ident())))
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=5000)
    (kind1, worker, at1), (kind2, message, at2) = seen
    assert kind1 == "ok" and worker != gui and at1 == gui
    assert kind2 == "err" and "division by zero" in message and at2 == gui
    assert not runner.busy


def test_progress_comes_in_order_before_the_result(qtbot, runner):
    events: list = []

    def job(ctx):
        for i in range(5):
            ctx.report(i)
        return "done"

    task = runner.start(job, on_progress=events.append, on_result=events.append)
    with qtbot.waitSignal(task.ended, timeout=5000):
        pass
    assert events == [0, 1, 2, 3, 4, "done"]


def test_jobs_run_one_at_a_time_in_order(qtbot, runner):
    running = []
    overlap = []
    order = []

    def job(i):
        def run():
            running.append(i)
            overlap.append(len(running))
            time.sleep(0.02)
            running.remove(i)
            return i
        return run

    for i in range(4):
        runner.submit(job(i), order.append)
    assert runner.wait(10_000)
    assert order == [0, 1, 2, 3] and max(overlap) == 1


def test_cancel_is_cooperative_and_shutdown_waits(qtbot, runner):
    started = threading.Event()
    hook = []

    def job(ctx):
        started.set()
        while not ctx.cancelled:
            time.sleep(0.005)
        return "stopped"

    results = []
    task = runner.start(job, on_result=results.append, on_cancel=lambda: hook.append(True))
    queued = runner.submit(lambda: "never", results.append)
    assert started.wait(5)
    assert runner.shutdown(5000)  # cancels, drops the queued job, waits; never terminates
    assert hook == [True] and task.thread.isFinished() and queued.thread is None
    with pytest.raises(RuntimeError, match="shut down"):
        runner.submit(lambda: 1)


def test_a_result_for_a_deleted_owner_is_dropped(qtbot):
    owner = QObject()
    runner = TaskRunner(owner)
    gate = threading.Event()
    got = []
    task = runner.submit(lambda: gate.wait(5), got.append)
    thread = task.thread
    owner.deleteLater()
    qtbot.waitUntil(lambda: not _valid(runner), timeout=2000)
    gate.set()
    assert thread.wait(5000)
    qtbot.wait(50)  # the queued result would have arrived by now
    assert got == []


def _valid(obj) -> bool:
    import shiboken6

    return shiboken6.isValid(obj)


def test_the_thread_fixture_fails_a_test_that_leaves_a_thread_running(monkeypatch):
    from PySide6.QtCore import QThread

    from tests import conftest

    fixture = getattr(conftest.no_dangling_threads, "__wrapped__", None) or \
        conftest.no_dangling_threads.__pytest_wrapped__.obj
    release = threading.Event()

    class Sleeper(QThread):
        def run(self):
            release.wait(10)

    monkeypatch.setattr(conftest, "THREAD_GRACE_S", 0.05)
    check = fixture(monkeypatch)
    next(check)
    sleeper = Sleeper()
    sleeper.start()
    plain = threading.Thread(target=release.wait, args=(10,), name="left-behind")
    plain.start()
    try:
        with pytest.raises(AssertionError) as failed:
            next(check)
        assert "Sleeper" in str(failed.value) and "left-behind" in str(failed.value)
        assert "test_tasks.py" in str(failed.value)  # where the QThread was started
    finally:
        release.set()
        sleeper.wait()
        plain.join()
