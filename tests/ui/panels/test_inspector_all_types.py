"""The inspector is generated from specs: every registered node type must get a working form."""

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from studio.core.factory import make_node
from studio.core.ops import AddNode, RemoveNode
from studio.ui.panels.inspector import InspectorPanel

FIELD_TYPES = {"int": QSpinBox, "float": QDoubleSpinBox, "bool": QCheckBox, "choice": QComboBox,
               "str": QLineEdit, "ints": QLineEdit, "floats": QLineEdit}


def test_every_node_type_gets_a_form(qtbot, document):
    panel = InspectorPanel(document)
    qtbot.addWidget(panel)
    panel.show()
    graph = document.project.main_graph
    for spec in document.registry:
        node = make_node(spec, graph, (0.0, 0.0))
        document.push(AddNode(graph.id, node))
        document.set_selection(graph.id, [node.id])
        assert list(panel.editors) == [p.name for p in spec.params], spec.type_id
        for p in spec.params:
            editor = panel.editors[p.name]
            assert isinstance(editor.field, FIELD_TYPES[p.kind]), (spec.type_id, p.name)
            assert (editor.toggle is not None) == (p.inferable or p.optional)
            stored = graph.nodes[node.id].params.get(p.name)
            if stored is None and editor.toggle is not None:
                assert editor.toggle.isChecked() and not editor.field.isEnabled()
            elif p.kind == "choice":
                assert editor.field.currentData() == stored
            elif p.kind == "bool":
                assert editor.field.isChecked() == bool(stored)
            elif p.kind in ("int", "float"):
                assert editor.field.value() == stored, (spec.type_id, p.name)
            assert editor.problem_text() == ""
        count = document.undo_stack.count()
        panel.refresh_shapes()
        assert document.undo_stack.count() == count  # showing a node never edits it
        document.push(RemoveNode(graph.id, node.id))
        assert panel.editors == {}  # the shown node was deleted


def test_follows_graph_switch_and_choice_edits(qtbot, document):
    from studio.core.model import Graph
    from studio.core.ops import AddGraph

    panel = InspectorPanel(document)
    qtbot.addWidget(panel)
    graph = document.project.main_graph
    x = graph.node_by_name("x")
    document.set_selection(graph.id, [x.id])
    dtype = panel.editors["dtype"].field
    before = document.undo_stack.count()
    dtype.setCurrentIndex(dtype.findData("float64"))
    assert x.params["dtype"] == "float64"
    dtype.setCurrentIndex(dtype.findData("float32"))
    assert document.undo_stack.count() == before + 2  # choices are separate steps
    other = Graph("second")
    document.push(AddGraph(other))
    document.set_current_graph(other.id)
    assert panel.editors == {}
