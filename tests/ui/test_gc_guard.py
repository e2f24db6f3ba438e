"""Cyclic garbage must be collected on the GUI thread, never on a worker that happens to allocate."""

import gc
import threading

from PySide6.QtCore import QObject


def test_worker_allocations_do_not_collect_and_the_gui_timer_does(qtbot, qapp):
    from studio.ui import gc_guard

    gc_guard.install(qapp)
    assert not gc.isenabled()
    collected_on: list[str] = []

    class Cycle(QObject):
        def __init__(self):
            super().__init__()
            self.me = self

        def __del__(self):
            collected_on.append(threading.current_thread().name)

    Cycle()  # unreachable now, but kept alive by its own cycle

    kept = []

    def allocate():  # crosses the gen-0 threshold many times over: automatic gc would run right here
        kept.extend([i] for i in range(50_000))

    worker = threading.Thread(target=allocate, name="worker")
    worker.start()
    worker.join()
    assert collected_on == []  # nothing was collected on the worker
    qtbot.waitUntil(lambda: bool(collected_on), timeout=3000)
    assert collected_on == [threading.main_thread().name]
