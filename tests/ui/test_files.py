"""Files through the window: save/open round trip, recent files, the unsaved prompt, autosave and crash recovery."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF

from studio.core.ops import SetParam
from studio.io.project_file import project_to_dict
from tests.ui.conftest import close_editor, open_editor

ROOT = Path(__file__).resolve().parents[2]


def test_save_then_open_round_trip_and_recent_list(editor, tmp_path):
    editor.view.add_node_at("nn.sigmoid", QPointF(100, 200))
    assert editor.document.dirty
    path = tmp_path / "proj"
    assert editor.window.files.save_as(path)
    saved = path.with_suffix(".nnstudio")
    assert saved.is_file() and not editor.document.dirty
    assert "proj.nnstudio" in editor.window.windowTitle() and "*" not in editor.window.windowTitle()
    before = project_to_dict(editor.document.project)
    assert editor.window.files.new()
    assert len(editor.document.project.main_graph.nodes) == 0
    assert editor.window.files.open(saved)
    assert project_to_dict(editor.document.project) == before
    assert editor.window.files.recent()[0] == str(saved.resolve())
    assert editor.window.recent_menu.actions()[0].text() == "proj.nnstudio"
    assert set(editor.scene.nodes) == set(editor.graph.nodes)


def test_unsaved_changes_prompt(editor, tmp_path):
    editor.view.add_node_at("nn.tanh", QPointF(0, 200))
    editor.answers["unsaved"] = "cancel"
    assert not editor.window.files.new()
    assert any(n.type_id == "nn.tanh" for n in editor.graph.nodes.values())
    editor.window.files.choose_save_path = lambda: tmp_path / "kept.nnstudio"
    editor.answers["unsaved"] = "save"
    assert editor.window.files.new()
    assert (tmp_path / "kept.nnstudio").is_file()
    assert not editor.graph.nodes


def test_open_reports_a_broken_file(editor, tmp_path):
    bad = tmp_path / "bad.nnstudio"
    bad.write_text('{"format": "nnstudio.project", "version": 2, "graphs": [')
    assert not editor.window.files.open(bad)
    assert editor.warnings and "bad.nnstudio" in editor.warnings[0]
    assert editor.graph.nodes  # the open project is untouched


def test_autosave_follows_every_action(editor, registry):
    from studio.io.project_file import load_project

    files = editor.window.files
    graph = editor.graph
    for value in (20, 21, 22):  # typing in a field: the three edits merge into one undo step
        editor.document.push(SetParam(graph.id, editor.node_named("linear").id, "out_features", value))
        saved = load_project(files.recovery_path, registry)
        assert project_to_dict(saved) == project_to_dict(editor.document.project)
    assert editor.document.undo_stack.count() == 1
    saves = files.autosave_count
    editor.view.add_node_at("nn.relu", QPointF(0, 400))
    assert files.autosave_count == saves + 1  # one write per action
    editor.document.undo_stack.setIndex(0)  # back to the clean state: nothing to recover
    assert not files.recovery_path.exists()


CRASHER = r"""
import json, os, sys
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication
app = QApplication([])
from studio.catalog import default_registry
from studio.ui.document import Document
from studio.ui.main_window import MainWindow
from studio.core.ops import SetParam
from tests.ui.conftest import small_project
registry = default_registry()
window = MainWindow(Document(registry, small_project(registry)), restore_state=False)
window.show()
view = window.current_view()
view.add_node_at("nn.gelu", QPointF(500, 300))
graph = window.document.project.main_graph
window.document.push(SetParam(graph.id, graph.node_by_name("linear").id, "out_features", 99))
from studio.io.project_file import project_to_dict
with open(sys.argv[1], "w") as fh:
    json.dump(project_to_dict(window.document.project), fh)
os._exit(3)  # a crash: no clean shutdown, the autosave stays behind
"""


@pytest.mark.slow
def test_recovers_after_a_crash(qtbot, registry, tmp_path):
    expected_path = tmp_path / "expected.json"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", CRASHER, str(expected_path)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 3, result.stderr[-2000:]
    expected = json.loads(expected_path.read_text())
    editor = open_editor(qtbot, registry, training=False)
    try:
        files = editor.window.files
        assert len(files.orphaned_autosaves()) == 1
        asked = []
        files.ask_yes_no = lambda title, text: asked.append(text) or True
        assert files.offer_recovery()
        assert asked and "autosaved" in asked[0]
        assert project_to_dict(editor.document.project) == expected
        assert editor.document.dirty  # recovered work still needs saving
        assert any(n.type_id == "nn.gelu" for n in editor.graph.nodes.values())
        assert not files.orphaned_autosaves()  # offered once
    finally:
        close_editor(editor)
