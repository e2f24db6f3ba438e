from studio.core.ops import RemoveNode
from studio.ui.panels.problems import ProblemsPanel
from tests.ui.panels.conftest import node_named


def test_lists_unconnected_input_and_click_selects(qtbot, document):
    panel = ProblemsPanel(document)
    qtbot.addWidget(panel)
    panel.show()
    unused = node_named(document, "unused")
    item = panel.item_for(unused.id, "not connected")
    assert item is not None, [i.message for i in panel.issues]
    assert item.text(1).startswith("unused")
    assert "error" in panel.summary.text()
    with qtbot.waitSignal(panel.node_activated) as blocker:
        panel.list.itemClicked.emit(item, 0)
    assert blocker.args == [document.project.main_graph.id, unused.id]
    assert document.selected == [unused.id]


def test_refreshes_after_fix(qtbot, document):
    panel = ProblemsPanel(document)
    qtbot.addWidget(panel)
    panel.show()
    unused = node_named(document, "unused")
    errors = []
    panel.counts_changed.connect(lambda e, w: errors.append(e))
    assert panel.item_for(unused.id) is not None
    document.push(RemoveNode(document.project.main_graph.id, unused.id))
    qtbot.waitUntil(lambda: panel.item_for(unused.id) is None, timeout=2000)
    assert errors and errors[-1] == sum(1 for i in panel.issues if i.severity == "error")
    document.undo_stack.undo()
    qtbot.waitUntil(lambda: panel.item_for(unused.id) is not None, timeout=2000)
