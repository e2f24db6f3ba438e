"""Test set-up: headless Qt before any Qt import, a private settings folder per test process, torch kept to one
thread per test process, and the shared imports loaded once and kept out of the garbage collector's walks."""

import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# One settings folder per test process (an xdist worker inherits its parent's environment, so the folder
# the parent made is replaced, while one the user set is kept): parallel workers never share settings.
if os.environ.get("NNSTUDIO_TEST_CONFIG_PID", str(os.getpid())) != str(os.getpid()) \
        or "NNSTUDIO_CONFIG_DIR" not in os.environ:
    _private_config = tempfile.mkdtemp(prefix="nnstudio-test-config-")
    os.environ["NNSTUDIO_CONFIG_DIR"] = _private_config
    os.environ["NNSTUDIO_TEST_CONFIG_PID"] = str(os.getpid())

import threading  # noqa: E402
import traceback  # noqa: E402
import weakref  # noqa: E402

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# CI runs the same examples every time (a red CI must be reproducible); local runs keep exploring.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


#: cases of tests parametrized over files (one per template) that are slow on their own; the rest stay fast
SLOW_CASES = {"tests/compile/test_onnx.py::test_template_onnx_parity[char_gpt]"}


@pytest.hookimpl(tryfirst=True)  # before -m "not slow" deselects
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid in SLOW_CASES:
            item.add_marker(pytest.mark.slow)


def pytest_unconfigure(config):
    if "_private_config" in globals():
        shutil.rmtree(_private_config, ignore_errors=True)


def _load_what_every_test_shares(ui: bool) -> None:
    """Import up front what tests otherwise pull in lazily, one by one (the first meta-device forward imports
    sympy for torch's shape rules; the graph order imports networkx)."""
    import torch

    from studio.catalog import default_registry
    from studio.core import graph_order  # noqa: F401

    default_registry()
    torch.nn.Linear(2, 2, device="meta")(torch.empty(1, 2, device="meta"))
    if ui:
        import pyqtgraph  # noqa: F401

        import studio.ui.document  # noqa: F401
        import studio.ui.main_window  # noqa: F401
        import studio.ui.training.panel  # noqa: F401


def pytest_collection_finish(session):
    """Load what the run's tests share and move it out of the cyclic collector's sight (``gc.freeze``).

    Each UI test's ``gc.collect()`` and the GUI-thread collector then walk only what tests create, not the
    ~400k objects of torch, sympy and Qt (0.3-0.9 s per collection, about a second per UI test)."""
    import gc

    if not session.items:
        return
    _load_what_every_test_shares(any(item.nodeid.startswith(("tests/ui/", "tests/templates/"))
                                     for item in session.items))
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session", autouse=True)
def _torch_threads():
    import torch

    torch.set_num_threads(1)
    yield


#: a thread that is ending anyway (it emitted its last signal) gets this long before it counts as left behind
THREAD_GRACE_S = 1.0


def _started_where() -> str:
    frames = [f for f in traceback.extract_stack()[:-2] if "site-packages" not in f.filename]
    return "".join(traceback.format_list(frames[-3:])).rstrip()


@pytest.fixture(autouse=True)
def no_dangling_threads(monkeypatch):
    """Fail a test that leaves a Python thread or a QThread running (as napari's ``dangling_qthreads``).

    Every ``QThread.start`` is recorded with where it was called; after the test each recorded thread
    and every Python thread the test started must have ended (within a short grace for threads that
    are in their last instructions). Threads that library pools keep for reuse are not the test's.
    """
    from PySide6.QtCore import QThread

    started: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    original_start = QThread.start

    def start(self, *args, **kwargs):
        started[self] = _started_where()
        return original_start(self, *args, **kwargs)

    monkeypatch.setattr(QThread, "start", start)
    before = set(threading.enumerate())
    yield
    left: list[str] = []
    for thread, where in list(started.items()):
        try:
            if thread.isRunning() and not thread.wait(int(THREAD_GRACE_S * 1000)):
                left.append(f"QThread {thread.objectName() or type(thread).__name__!r} started at\n{where}")
        except RuntimeError:  # its C++ side is gone: it cannot be running
            continue
    for thread in set(threading.enumerate()) - before:
        if isinstance(thread, threading._DummyThread):  # a QThread seen from Python: checked above
            continue
        thread.join(THREAD_GRACE_S)
        if thread.is_alive():
            left.append(f"Python thread {thread.name!r} ({type(thread).__name__})")
    assert not left, "threads left running by this test:\n" + "\n".join(left)


@pytest.fixture(scope="session")
def registry():
    from studio.catalog import default_registry

    return default_registry()
