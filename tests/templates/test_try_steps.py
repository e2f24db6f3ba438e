"""Honest explanations: every "Try" step of every template names a control that exists in the app.

Each template lists its Try steps in ``meta.try_steps`` (templates/build_templates.py). Opened in the real
editor at 1280×720, each step must resolve to a visible, enabled control (a Training-panel setting, an
Inspector parameter or per-node training row, a Stage, a panel button), and the Try paragraph must call
it by the name the app shows.
"""

from __future__ import annotations

import pytest

from studio.io.stages import stage_label, stages
from studio.io.templates import list_templates, load_template

KEYS = [t.key for t in list_templates()]


def try_text(project) -> str:
    text = project.meta["explanation"]
    assert "Try:" in text, "the explanation has no Try paragraph"
    return " ".join(text.split("Try:", 1)[1].split())


@pytest.fixture
def editor(qtbot, registry, tmp_path, monkeypatch):
    monkeypatch.setenv("NNSTUDIO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("NNSTUDIO_RUNS_DIR", str(tmp_path / "runs"))
    from tests.ui.conftest import close_editor, open_editor

    ed = open_editor(qtbot, registry)
    ed.window.resize(1280, 720)
    yield ed
    ed.window.training_panel.shutdown()
    close_editor(ed)


def shown(widget) -> bool:
    return widget is not None and widget.isVisible() and widget.isEnabled() and not widget.visibleRegion().isEmpty()


@pytest.mark.parametrize("key", KEYS)
def test_every_try_step_names_a_visible_enabled_control(editor, qtbot, registry, key):
    from PySide6.QtWidgets import QPushButton

    from studio.train.settings_form import label_for

    window, doc = editor.window, editor.document
    doc.replace_project(load_template(key, registry))
    project = doc.project
    text, whole = try_text(project), " ".join(project.meta["explanation"].split())
    steps = project.meta.get("try_steps")
    assert steps, f"{key}: no try_steps listed for its Try paragraph"
    panel = window.training_panel
    window.training_dock.show()
    window.training_dock.raise_()
    qtbot.wait(50)  # the dock lays itself out
    for step in steps:
        what = f"{key}: {step}"
        if "setting" in step:
            panel.stage_bar.set_stage(None)  # the project's own settings (a stage's are read-only)
            qtbot.wait(10)
            widget = panel.control_for(step["setting"])
            qtbot.wait(10)
            assert shown(widget), f"{what}: no visible, enabled control in the Training panel"
            assert label_for(step["setting"], project.training) in text, f"{what}: Try does not use its label"
        elif "stage" in step:
            assert step["stage"] in stages(project), what
            panel.stage_bar.set_stage(step["stage"])
            panel.reveal(panel.stage_bar.combo)
            qtbot.wait(10)
            assert shown(panel.stage_bar.combo), what
            assert stage_label(project, step["stage"]) in whole, f"{what}: the explanation does not name the stage"
            panel.stage_bar.set_stage(None)
        elif "button" in step:
            buttons = [b for b in panel.findChildren(QPushButton) if b.text() == step["button"]]
            if buttons:
                panel.reveal(buttons[0])
                qtbot.wait(10)
            assert buttons and shown(buttons[0]), f"{what}: no such button on screen"
            assert step["button"] in text, what
        elif "node" in step:
            graphs = [g for g in project.graphs if g.name == step.get("graph", g.name)]
            found = [(g, g.node_by_name(step["node"])) for g in graphs if g.node_by_name(step["node"]) is not None]
            assert found, f"{what}: no node named {step['node']}"
            graph, node = found[0]
            assert step["node"] in text, f"{what}: Try does not name the node"
            if step.get("graph"):
                assert step["graph"] in text, f"{what}: Try does not say which graph"
            if "param" not in step and "training" not in step:
                continue
            doc.set_current_graph(graph.id)
            doc.set_selection(graph.id, [node.id])
            window.docks["inspector"].show()
            window.docks["inspector"].raise_()
            inspector = window.panels["inspector"]
            qtbot.wait(10)
            if "param" in step:
                editor_row = inspector.editors.get(step["param"])
                assert editor_row is not None, f"{what}: the Inspector has no row {step['param']}"
                inspector.scroll.ensureWidgetVisible(editor_row.field)
                qtbot.wait(10)
                assert shown(editor_row.field), f"{what}: the Inspector row is not usable"
                assert editor_row.spec.display_label in text, f"{what}: Try does not use the Inspector's label"
            else:
                row = inspector.training_rows.get(step["training"])
                assert row is not None, f"{what}: the Inspector shows no training row {step['training']}"
                inspector.scroll.ensureWidgetVisible(row.editor)
                qtbot.wait(10)
                assert shown(row.editor), f"{what}: the Inspector training row is not usable"
                assert row.field_spec.label in text, what
        else:
            raise AssertionError(f"{what}: unknown kind of step")
