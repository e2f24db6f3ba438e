from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLineEdit, QSpinBox

from studio.core.ops import SetParam
from studio.ui.panels.inspector import InspectorPanel
from tests.ui.panels.conftest import node_named


def _select(qtbot, document, name):
    panel = InspectorPanel(document)
    qtbot.addWidget(panel)
    panel.show()
    node = node_named(document, name)
    document.set_selection(document.project.main_graph.id, [node.id])
    return panel, node


def _type(qtbot, spin: QSpinBox, text: str) -> None:
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin.lineEdit(), text)


def test_selecting_shows_params(qtbot, document):
    panel, node = _select(qtbot, document, "fc1")
    assert set(panel.editors) == {"in_features", "out_features", "bias"}
    assert isinstance(panel.editors["out_features"].field, QSpinBox)
    assert isinstance(panel.editors["bias"].field, QCheckBox)
    assert panel.editors["out_features"].field.value() == 128
    assert panel.editors["out_features"].field.minimum() == 1
    assert panel.name_edit.text() == "fc1"
    assert "784" in panel.shape_in.text() and "128" in panel.shape_out.text()
    assert panel.param_count.text().startswith("100,480")
    document.set_selection(document.project.main_graph.id, [])
    assert panel.editors == {}


def test_edit_pushes_one_setparam_and_shapes_change(qtbot, document):
    panel, fc1 = _select(qtbot, document, "fc1")
    graph = document.project.main_graph
    act = node_named(document, "act")
    fc2 = node_named(document, "fc2")
    assert document.shapes(graph.id).nodes[act.id].outputs["out"].shape[-1] == 128
    before = document.undo_stack.count()
    _type(qtbot, panel.editors["out_features"].field, "7")
    assert document.undo_stack.count() == before + 1
    assert isinstance(document.undo_stack.command(before).op, SetParam)
    assert fc1.params["out_features"] == 7
    assert document.shapes(graph.id).nodes[act.id].outputs["out"].shape[-1] == 7
    assert document.shapes(graph.id).nodes[fc2.id].resolved["in_features"] == 7
    qtbot.waitUntil(lambda: "7" in panel.shape_out.text())


def test_typing_digits_merges_into_one_undo_step(qtbot, document):
    panel, fc1 = _select(qtbot, document, "fc1")
    before = document.undo_stack.count()
    _type(qtbot, panel.editors["out_features"].field, "2561")
    assert fc1.params["out_features"] == 2561
    assert document.undo_stack.count() == before + 1
    document.undo_stack.undo()
    assert fc1.params["out_features"] == 128
    assert panel.editors["out_features"].field.value() == 128  # follows undo


def test_invalid_value_refused_with_reason(qtbot, document):
    panel, fc1 = _select(qtbot, document, "fc1")
    before = document.undo_stack.count()
    editor = panel.editors["out_features"]
    _type(qtbot, editor.field, "0")
    assert document.undo_stack.count() == before
    assert fc1.params["out_features"] == 128
    assert "at least 1" in editor.problem_text()
    assert editor.problem.isVisible()
    # a list field with text that is not numbers
    x = node_named(document, "x")
    document.set_selection(document.project.main_graph.id, [x.id])
    shape = panel.editors["shape"]
    assert isinstance(shape.field, QLineEdit)
    assert shape.field.text() == "784"
    shape.field.setFocus()
    shape.field.selectAll()
    qtbot.keyClicks(shape.field, "a")
    assert "'a' is not one" in shape.problem_text()
    shape.field.selectAll()
    qtbot.keyClicks(shape.field, "-28")
    assert "at least 1" in shape.problem_text()
    assert x.params["shape"] == [784]
    assert document.undo_stack.count() == before
    shape.field.selectAll()
    qtbot.keyClicks(shape.field, "2, 392")
    assert shape.problem_text() == ""
    assert x.params["shape"] == [2, 392]
    assert document.undo_stack.count() == before + 1  # the whole typing is one step


def test_inferred_param_shows_auto_value_and_can_be_overridden(qtbot, document):
    panel, fc2 = _select(qtbot, document, "fc2")
    editor = panel.editors["in_features"]
    assert editor.toggle is not None and editor.toggle.isChecked()
    assert not editor.field.isEnabled()
    assert editor.field.value() == 128  # inferred from fc1's 128 outputs
    before = document.undo_stack.count()
    editor.toggle.click()  # override: starts from the inferred value
    assert fc2.params["in_features"] == 128
    assert editor.field.isEnabled()
    editor.toggle.click()  # back to auto
    assert fc2.params["in_features"] is None
    assert document.undo_stack.count() == before + 2


def test_bool_and_rename_and_undo_follow(qtbot, document):
    panel, fc1 = _select(qtbot, document, "fc1")
    panel.editors["bias"].field.click()
    assert fc1.params["bias"] is False
    qtbot.waitUntil(lambda: panel.param_count.text().startswith("100,352"))
    panel.name_edit.setFocus()
    panel.name_edit.selectAll()
    qtbot.keyClicks(panel.name_edit, "hidden")
    qtbot.keyClick(panel.name_edit, Qt.Key.Key_Return)
    assert fc1.name == "hidden"
    document.undo_stack.undo()
    assert fc1.name == "fc1" and panel.name_edit.text() == "fc1"
    document.undo_stack.undo()
    assert fc1.params["bias"] is True and panel.editors["bias"].field.isChecked()


def test_error_of_node_shown(qtbot, document):
    panel, _ = _select(qtbot, document, "unused")
    assert panel.error.isVisible()
    assert "not connected" in panel.error.text()


def _add_selected(qtbot, document, type_id, **params):
    from studio.core.factory import make_node
    from studio.core.ops import AddNode

    graph = document.project.main_graph
    node = make_node(document.registry.get(type_id), graph, (0.0, 0.0), **params)
    document.push(AddNode(graph.id, node))
    panel = InspectorPanel(document)
    qtbot.addWidget(panel)
    panel.show()
    document.set_selection(graph.id, [node.id])
    return panel, graph.nodes[node.id]


def test_float_field_typing_and_range_refusal(qtbot, document):
    panel, node = _add_selected(qtbot, document, "nn.leaky_relu")
    editor = panel.editors["negative_slope"]
    before = document.undo_stack.count()
    _type(qtbot, editor.field, "0.25")
    assert node.params["negative_slope"] == 0.25
    _type(qtbot, editor.field, "2")
    assert "at most 1" in editor.problem_text()
    assert node.params["negative_slope"] == 0.25
    editor.field.selectAll()
    qtbot.keyClicks(editor.field.lineEdit(), "1e-3")
    assert node.params["negative_slope"] == 0.001
    assert editor.problem_text() == ""
    assert document.undo_stack.count() == before + 1


def test_optional_param_none_toggle(qtbot, document):
    panel, node = _add_selected(qtbot, document, "nn.max_pool2d")
    editor = panel.editors["stride"]
    assert node.params["stride"] is None
    assert editor.toggle.text() == "none" and editor.toggle.isChecked()
    editor.toggle.click()
    assert isinstance(node.params["stride"], int) and node.params["stride"] >= 1
    _type(qtbot, editor.field, "3")
    assert node.params["stride"] == 3
    editor.toggle.click()
    assert node.params["stride"] is None and not editor.field.isEnabled()


def test_cross_parameter_check_refuses_with_reason(qtbot, document):
    panel, node = _add_selected(qtbot, document, "nn.conv2d", out_channels=16)
    editor = panel.editors["groups"]
    before = document.undo_stack.count()
    _type(qtbot, editor.field, "3")
    assert "must divide" in editor.problem_text() and "16" in editor.problem_text()
    assert node.params["groups"] == 1
    assert document.undo_stack.count() == before
    panel._finished("groups")  # focus leaves: the stored value is shown again, the reason stays
    assert editor.field.value() == 1 and "kept 1" in editor.problem_text()
    _type(qtbot, editor.field, "4")
    assert node.params["groups"] == 4 and editor.problem_text() == ""
