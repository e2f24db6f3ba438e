from studio.core.ops import SetParam
from studio.core.shapes import SHAPE_BATCH, ShapeInferencer
from tests.core.helpers import add, mlp, wire


def test_shapes_params_and_inferred_values(registry):
    project = mlp(registry, widths=(64, 10))
    graph = project.main_graph
    shapes = ShapeInferencer(registry).infer(graph)
    first = shapes.nodes[graph.node_by_name("linear").id]
    assert first.outputs["out"].shape == (SHAPE_BATCH, 64)
    assert first.outputs["out"].text == "B×64"
    assert first.resolved["in_features"] == 784
    assert first.params == 784 * 64 + 64
    assert shapes.total_params == 784 * 64 + 64 + 64 * 10 + 10
    edge = graph.edges_into(graph.node_by_name("output").id)[0]
    assert shapes.edge_info(edge).shape == (SHAPE_BATCH, 10)


def test_edit_recomputes_only_downstream(registry):
    project = mlp(registry, widths=(32, 32, 32, 10))
    graph = project.main_graph
    inferencer = ShapeInferencer(registry)
    inferencer.infer(graph)
    # identical layers on identical shapes (the 32->32 Linears, the ReLUs) are computed once
    assert inferencer.computed == 6
    inferencer.infer(graph)
    assert inferencer.computed == 0
    last_hidden = graph.node_by_name("linear_2")
    SetParam(graph.id, last_hidden.id, "out_features", 16).apply(project)
    shapes = inferencer.infer(graph)
    # the edited layer, the next ReLU and the next Linear; the Output still receives B×10
    assert inferencer.computed == 3
    assert shapes.nodes[graph.node_by_name("linear_3").id].resolved["in_features"] == 16


def test_error_blocks_downstream_without_repeating_it(registry):
    project = mlp(registry, widths=(8, 4))
    graph = project.main_graph
    SetParam(graph.id, graph.node_by_name("linear").id, "in_features", 10).apply(project)
    shapes = ShapeInferencer(registry).infer(graph)
    assert shapes.errors() == {graph.node_by_name("linear").id:
                               "Linear expects 10 features, gets 784 (input B×784)"}
    downstream = shapes.nodes[graph.node_by_name("linear_1").id]
    assert downstream.blocked and downstream.error is None


def test_unconnected_required_input_is_an_error(registry):
    project = mlp(registry)
    lonely = add(project, registry, "nn.linear")
    shapes = ShapeInferencer(registry).infer(project.main_graph)
    assert shapes.nodes[lonely.id].error == "input 'in' is not connected"


def test_integer_inputs_keep_their_dtype(registry):
    project = mlp(registry)
    graph = project.main_graph
    x = graph.node_by_name("x")
    SetParam(graph.id, x.id, "dtype", "int64").apply(project)
    shapes = ShapeInferencer(registry).infer(graph)
    assert shapes.nodes[x.id].outputs["out"].dtype == "int64"


def test_cycle_nodes_are_marked(registry):
    project = mlp(registry, widths=(8, 8))
    graph = project.main_graph
    wire(project, graph.node_by_name("linear_1"), graph.node_by_name("linear"))
    shapes = ShapeInferencer(registry).infer(graph)
    assert "cycle" in shapes.nodes[graph.node_by_name("relu").id].error
