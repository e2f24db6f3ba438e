"""Per-node training settings in the Inspector: freeze and LR multiplier, one undoable step each, refused
values shown at the field, and the stored table stays what the engine reads (``training.nodes.<name>``)."""

from studio.core.ops import SetTraining
from studio.ui.panels.inspector import InspectorPanel
from tests.ui.panels.conftest import node_named


def _select(qtbot, document, name):
    panel = InspectorPanel(document)
    qtbot.addWidget(panel)
    panel.show()
    node = node_named(document, name)
    document.set_selection(document.project.main_graph.id, [node.id])
    return panel


def test_a_layer_with_weights_can_be_frozen_and_slowed_each_in_one_undo_step(qtbot, document):
    panel = _select(qtbot, document, "fc1")
    stack = document.undo_stack
    assert set(panel.training_rows) == {"freeze", "lr_mult"}
    assert panel.training_rows["lr_mult"].value_text() == "1"
    before = stack.count()
    panel.training_rows["freeze"].editor.setChecked(True)
    assert document.project.training["nodes"]["fc1"]["freeze"] is True
    assert stack.count() == before + 1 and isinstance(stack.command(before).op, SetTraining)
    assert stack.undoText() == "Set Freeze of fc1 to on"
    assert panel.training_rows["lr_mult"].type_text("0.1") == ""
    assert document.project.training["nodes"]["fc1"]["lr_mult"] == 0.1
    assert stack.undoText() == "Set LR multiplier of fc1 to 0.1"
    stack.undo()
    stack.undo()
    assert "fc1" not in document.project.training.get("nodes", {}) or \
        document.project.training["nodes"]["fc1"] == {}
    assert not panel.training_rows["freeze"].editor.isChecked()


def test_a_bad_multiplier_is_refused_with_the_reason(qtbot, document):
    panel = _select(qtbot, document, "fc1")
    before = document.undo_stack.count()
    assert "not a number" in panel.training_rows["lr_mult"].type_text("abc")
    reason = panel.training_rows["lr_mult"].type_text("5000")
    assert "1000" in reason
    assert document.undo_stack.count() == before


def test_nodes_without_weights_have_no_training_rows(qtbot, document):
    panel = _select(qtbot, document, "act")
    assert panel.training_rows == {}
