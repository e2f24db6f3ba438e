from studio.core.ops import SetParam
from studio.ui.panels.code_view import CodePanel
from tests.ui.panels.conftest import node_named


def _fixed_document(document):
    """The demo minus its deliberately unconnected node, so it exports."""
    from studio.core.ops import RemoveNode

    document.push(RemoveNode(document.project.main_graph.id, node_named(document, "unused").id))
    return document


def test_shows_code_and_follows_edits(qtbot, document):
    _fixed_document(document)
    panel = CodePanel(document)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: "class " in panel.text(), timeout=3000)
    assert "def forward" in panel.text()
    assert panel.error is None
    assert panel.editor.isReadOnly()
    fc1 = node_named(document, "fc1")
    document.push(SetParam(document.project.main_graph.id, fc1.id, "out_features", 77))
    qtbot.waitUntil(lambda: "77" in panel.text(), timeout=3000)
    panel.copy()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == panel.code


def test_error_shown_instead_of_code(qtbot, document, monkeypatch):
    import studio.ui.panels.code_view as code_view

    def broken(graph, registry, shapes=None):
        return "", "fc9: this layer cannot be exported"

    monkeypatch.setattr(code_view, "generate_code", broken)
    panel = CodePanel(document)
    qtbot.addWidget(panel)
    panel.show()
    panel.refresh()
    assert "cannot be exported" in panel.text()
    assert panel.error and not panel.copy_button.isEnabled()


def test_generate_code_never_raises(document, monkeypatch):
    import studio.ui.panels.code_view as code_view

    def boom(*args, **kwargs):
        raise RuntimeError("exporter exploded on node 'act'")

    monkeypatch.setattr(code_view, "export_graph_code", boom)
    code, error = code_view.generate_code(document.project.main_graph, document.registry)
    assert code == "" and "exploded" in error


def test_big_graphs_export_in_a_worker_on_a_snapshot(qtbot, document):
    _fixed_document(document)
    panel = CodePanel(document)
    qtbot.addWidget(panel)
    panel.async_threshold = 0  # treat the demo as big
    panel.show()
    qtbot.waitUntil(lambda: "def forward" in panel.text(), timeout=5000)
    fc1 = node_named(document, "fc1")
    graph_id = document.project.main_graph.id
    for value in (31, 32, 33):  # edits while a worker may be running: the last state wins
        document.push(SetParam(graph_id, fc1.id, "out_features", value))
        panel.refresh()
    qtbot.waitUntil(lambda: "nn.Linear(784, 33)" in panel.text(), timeout=5000)
    assert panel.wait_idle()
    assert "nn.Linear(784, 31)" not in panel.text() and not panel.tasks.busy


def test_highlighter_colours_keywords(qtbot, document):
    panel = CodePanel(document)
    qtbot.addWidget(panel)
    panel.highlighter.set_source('class A:\n    """doc\n    more"""\n    def f(self):\n        return 1\n')
    block = panel.editor.document().findBlockByNumber(0)
    formats = block.layout().formats()
    assert any(f.start == 0 and f.length == 5 for f in formats)  # 'class'
    doc_line = panel.editor.document().findBlockByNumber(2)
    assert doc_line.layout().formats(), "multi-line docstring continues on the next line"
