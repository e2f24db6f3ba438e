from studio.core.ops import SetParam
from studio.core.shapes import ShapeInferencer
from studio.ui.panels.memory import estimate_memory
from studio.ui.panels.summary import SummaryPanel
from tests.ui.panels.conftest import node_named


def test_totals_match_shape_inferencer(qtbot, document):
    panel = SummaryPanel(document)
    qtbot.addWidget(panel)
    panel.show()
    graph = document.project.main_graph
    fresh = ShapeInferencer(document.registry).infer(graph)
    assert panel.totals() == (fresh.total_params, fresh.trainable_params)
    assert panel.totals()[0] == 784 * 128 + 128 + 128 * 10 + 10  # the unconnected Linear counts 0
    assert f"{fresh.total_params:,}" in panel.totals_label.text()
    rows = {r[0]: r for r in panel.rows()}
    assert set(rows) == {n.name for n in graph.nodes.values()}
    assert rows["fc1"][2] == "B×128" and rows["fc1"][3] == "100,480"
    assert rows["unused"][2] == "error"
    assert sum(int(r[3].replace(",", "")) for r in rows.values()) == fresh.total_params
    assert panel.table.isColumnHidden(4)  # nothing frozen: the trainable column adds nothing


def test_frozen_params_show_trainable_column(qtbot, document, monkeypatch):
    from studio.core.shapes import GraphShapes

    fc1 = node_named(document, "fc1")
    real = document.shapes

    def frozen(graph_id):
        shapes: GraphShapes = real(graph_id)
        shapes.nodes[fc1.id].trainable = 0
        return shapes

    monkeypatch.setattr(document, "shapes", frozen)
    panel = SummaryPanel(document)
    qtbot.addWidget(panel)
    panel.show()
    total, trainable = panel.totals()
    assert trainable == total - 100_480
    assert not panel.table.isColumnHidden(4)
    assert "frozen" in panel.totals_label.text()


def test_updates_live_and_memory_follows_batch(qtbot, document):
    panel = SummaryPanel(document)
    qtbot.addWidget(panel)
    panel.show()
    graph = document.project.main_graph
    fc1 = node_named(document, "fc1")
    document.push(SetParam(graph.id, fc1.id, "out_features", 64))
    expected = 784 * 64 + 64 + 64 * 10 + 10
    qtbot.waitUntil(lambda: panel.totals()[0] == expected, timeout=2000)
    shapes = document.shapes(graph.id)
    est = estimate_memory(graph, document.registry, shapes, 32)
    assert est.deep
    # activations: input 784 + fc1 64 + relu 64 + fc2 10 floats per sample (plain layers: the
    # leaf outputs are the node outputs)
    assert est.activations == 32 * 4 * (784 + 64 + 64 + 10)
    assert est.params == expected * 4 and est.grads == expected * 4
    panel.batch_size.setValue(64)
    assert panel.memory().activations == 2 * est.activations
    assert "MiB" in panel.memory_label.text() or "KiB" in panel.memory_label.text()


def test_clicking_row_selects_node(qtbot, document):
    panel = SummaryPanel(document)
    qtbot.addWidget(panel)
    panel.show()
    fc2 = node_named(document, "fc2")
    item = next(panel.table.topLevelItem(i) for i in range(panel.table.topLevelItemCount())
                if panel.table.topLevelItem(i).text(0) == "fc2")
    item.setSelected(True)
    panel.table.itemClicked.emit(item, 0)
    assert document.selected == [fc2.id]


def test_layers_inside_blocks_count_as_activations(qtbot, document):
    """A transformer block keeps far more than its output for the backward pass."""
    from studio.core.factory import make_node
    from studio.core.model import Edge, Graph

    registry = document.registry
    spec = registry.get("nn.transformer_encoder_layer")
    graph = Graph("t")
    x = make_node(registry.get("io.input"), graph, shape=[8, 64])
    block = make_node(spec, graph)
    for node in (x, block):
        graph.nodes[node.id] = node
    edge = Edge(x.id, "out", block.id, spec.inputs[0].name)
    graph.edges[edge.id] = edge
    shapes = ShapeInferencer(registry).infer(graph)
    assert shapes.nodes[block.id].error is None, shapes.nodes[block.id].error
    deep = estimate_memory(graph, registry, shapes, 4)
    flat = estimate_memory(graph, registry, shapes, 4, deep=False)
    wires = 4 * 4 * sum(t.numel_per_sample for n in shapes.nodes.values() for t in n.outputs.values())
    assert flat.activations == wires
    assert deep.activations > 3 * flat.activations
