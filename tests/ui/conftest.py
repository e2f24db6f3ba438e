"""Editor fixtures: a real MainWindow on a small project, with its dialogs answered by the test."""

from __future__ import annotations

import gc

import pytest

from tests.factories import chain, mlp_layers, project


@pytest.fixture(scope="session", autouse=True)
def _gui_thread_gc(qapp):
    """As in the app: cyclic garbage (closed windows, dialogs) is collected on the GUI thread only."""
    from studio.ui import gc_guard

    collector = gc_guard.install(qapp)
    yield
    collector.stop()


@pytest.fixture(autouse=True)
def _editor_config(tmp_path, monkeypatch):
    """Settings, recent files and recovery files go to a private folder per test; each test's Qt garbage
    is collected right after it, on the GUI thread, before the next test starts threads."""
    monkeypatch.setenv("NNSTUDIO_CONFIG_DIR", str(tmp_path / "config"))
    yield
    gc.collect()


def small_project(registry):
    """Input(784) -> Linear(32) -> ReLU -> Linear(10) -> Output, laid out left to right."""
    return project(chain(registry, "model", [784], mlp_layers([32, 10]), spacing=240.0), name="small")


class Editor:
    """The window under test plus shortcuts to its parts."""

    def __init__(self, window, qtbot):
        self.window = window
        self.qtbot = qtbot
        self.document = window.document
        self.answers = {"unsaved": "discard", "yes_no": True}
        self.warnings: list[str] = []
        files = window.files
        files.ask_unsaved = lambda _t, _x: self.answers["unsaved"]
        files.ask_yes_no = lambda _t, _x: self.answers["yes_no"]
        files.warn = lambda _t, text: self.warnings.append(text)

    @property
    def view(self):
        return self.window.current_view()

    @property
    def scene(self):
        return self.view.graph_scene

    @property
    def graph(self):
        return self.scene.graph

    def node_named(self, name):
        node = self.graph.node_by_name(name)
        assert node is not None, f"no node {name}"
        return node

    def flush(self):
        self.qtbot.wait(1)
        for view in self.window.views.values():
            view.graph_scene.flush()


def open_editor(qtbot, registry, project=None, training=True):
    """The whole editor window (``training=False`` leaves out the training dock, tested in tests/ui/training)."""
    from studio.ui.document import Document
    from studio.ui.main_window import MainWindow

    document = Document(registry, project or small_project(registry))
    window = MainWindow(document, restore_state=False, training=training)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    editor = Editor(window, qtbot)
    window.fit_all()
    editor.flush()
    return editor


def close_editor(ed) -> None:
    """Close and delete the window and its document now, not at interpreter exit (PySide dislikes that)."""
    from PySide6.QtCore import QCoreApplication, QEvent

    ed.window.files.autosave_enabled = False
    ed.window.files.discard_recovery()
    ed.answers["unsaved"] = "discard"
    ed.window.close()
    ed.document.undo_stack.blockSignals(True)  # the stack outlives the Python side of the document
    ed.window.deleteLater()
    ed.document.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def editor(qtbot, registry):
    ed = open_editor(qtbot, registry, training=False)
    yield ed
    close_editor(ed)
