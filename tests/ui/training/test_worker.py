"""The worker thread itself: trains off the GUI thread, turns any exception into a message, and the
PySide reference-count workaround it relies on."""

from __future__ import annotations

import threading

from tests.ui.training import projects

TIMEOUT = 60_000


def test_training_runs_off_the_gui_thread_in_batches(qtbot, registry, tmp_path, monkeypatch):
    from studio.train import engine
    from studio.ui.training.worker import TrainingSession

    threads: list[int] = []
    real_run = engine.run

    def spy(*args, **kwargs):
        threads.append(threading.get_ident())
        yield from real_run(*args, **kwargs)

    monkeypatch.setattr(engine, "run", spy)
    batches: list[list] = []
    session = TrainingSession(projects.classification(registry).snapshot(), registry, None, tmp_path)
    session.updates.connect(batches.append)
    with qtbot.waitSignal(session.finished, timeout=TIMEOUT) as got:
        session.start()
    assert session.wait(5000)
    assert got.args[0].kind == "done"
    assert threads and threads[0] != threading.get_ident()
    kinds = [u.kind for batch in batches for u in batch]
    assert kinds[0] == "started" and kinds[-1] == "done"
    assert len(batches) < len(kinds)  # updates arrive grouped, not one signal each
    assert (tmp_path / "last.pt").exists()


def test_a_crash_outside_the_engine_becomes_failed_not_a_dead_thread(qtbot, registry, tmp_path, monkeypatch):
    from studio.train import engine
    from studio.ui.training.worker import TrainingSession

    def broken(*_args, **_kwargs):
        raise RuntimeError("engine exploded")
        yield  # pragma: no cover

    monkeypatch.setattr(engine, "run", broken)
    session = TrainingSession(projects.classification(registry).snapshot(), registry, None, tmp_path)
    messages: list[str] = []
    session.failed.connect(messages.append)
    with qtbot.waitSignal(session.finished, timeout=TIMEOUT) as got:
        session.start()
    assert session.wait(5000) and session.thread.isFinished()
    assert got.args[0].kind == "error" and "engine exploded" in got.args[0].message
    assert messages and "engine exploded" in messages[0]
