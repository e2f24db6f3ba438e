"""Training-panel fixtures: a real editor window, private run folders, and a guard against leaked threads."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NNSTUDIO_RUNS_DIR", str(tmp_path / "runs"))


@pytest.fixture(autouse=True)
def no_thread_left(monkeypatch):
    """Fail a test that leaves a training thread running (after stopping it so later tests are not hurt)."""
    from studio.ui.training import worker

    sessions: list = []
    original = worker.TrainingSession.__init__

    def record(self, *args, **kwargs):
        original(self, *args, **kwargs)
        sessions.append(self)

    monkeypatch.setattr(worker.TrainingSession, "__init__", record)
    yield sessions
    leaked = [s for s in sessions if s.running]
    for s in leaked:
        s.stop()
        s.wait()
    assert not leaked, f"{len(leaked)} training thread(s) still running at the end of the test"


@pytest.fixture
def window(qtbot, registry):
    from tests.ui.conftest import close_editor, open_editor

    ed = open_editor(qtbot, registry)
    yield ed
    ed.window.training_panel.shutdown()
    close_editor(ed)  # deleted now: a window left alive slows every later test (restyling, garbage collection)


@pytest.fixture
def failing_relu(monkeypatch):
    """Every ReLU raises "boom from inside the layer" on real tensors (shape inference on meta tensors still
    works); returns a function that heals the layers again."""
    import torch

    real = torch.nn.ReLU.forward

    def boom(self, x):
        if not x.is_meta:
            raise ValueError("boom from inside the layer")
        return real(self, x)

    monkeypatch.setattr(torch.nn.ReLU, "forward", boom)
    return lambda: monkeypatch.setattr(torch.nn.ReLU, "forward", real)
