from studio.core.model import Edge
from studio.core.ops import AddEdge, RemoveNode, SetParam
from studio.core.shapes import ShapeInferencer
from studio.core.validation import can_connect, validate
from tests.core.helpers import add, mlp, wire


def codes(issues):
    return sorted(i.code for i in issues)


def test_valid_mlp_has_no_issues(registry):
    project = mlp(registry)
    graph = project.main_graph
    assert validate(graph, registry, ShapeInferencer(registry).infer(graph)) == []


def test_missing_input_output_and_unconnected_port(registry):
    project = mlp(registry)
    graph = project.main_graph
    RemoveNode(graph.id, graph.node_by_name("x").id).apply(project)
    RemoveNode(graph.id, graph.node_by_name("output").id).apply(project)
    issues = validate(graph, registry)
    assert codes(issues) == ["no-input", "no-output", "unconnected"]
    unconnected = next(i for i in issues if i.code == "unconnected")
    assert unconnected.node_id == graph.node_by_name("linear").id and unconnected.port == "in"
    assert "linear: [in] input 'in' is not connected" == unconnected.located(graph)


def test_cycle_two_wires_and_bad_param_are_all_reported(registry):
    project = mlp(registry, widths=(8, 8))
    graph = project.main_graph
    first, relu, second = (graph.node_by_name(n) for n in ("linear", "relu", "linear_1"))
    AddEdge(graph.id, Edge(second.id, "out", first.id, "in")).apply(project)  # second wire + cycle
    SetParam(graph.id, second.id, "out_features", 0).apply(project)
    issues = validate(graph, registry)
    assert {"cycle", "multiple-wires", "bad-param"} <= set(codes(issues))
    bad = next(i for i in issues if i.code == "bad-param")
    assert bad.param == "out_features" and "at least 1" in bad.message
    cycle = next(i for i in issues if i.code == "cycle")
    assert "linear" in cycle.message and "→" in cycle.message


def test_shape_errors_land_on_the_node(registry):
    project = mlp(registry, widths=(8, 4))
    graph = project.main_graph
    second = graph.node_by_name("linear_1")
    SetParam(graph.id, second.id, "in_features", 784).apply(project)
    shapes = ShapeInferencer(registry).infer(graph)
    issues = validate(graph, registry, shapes)
    assert [(i.code, i.node_id) for i in issues] == [("shape", second.id)]
    assert issues[0].message.startswith("Linear expects 784 features, gets 8")


def test_unknown_type_and_dangling_edge(registry):
    project = mlp(registry)
    graph = project.main_graph
    node = graph.node_by_name("relu")
    node.placeholder = {"type": "plugin.fancy"}
    node.type_id = "plugin.fancy"
    graph.edges["dangling"] = Edge("nowhere", "out", node.id, "in", id="dangling")
    found = codes(validate(graph, registry))
    assert "unknown-type" in found and "dangling" in found


def test_can_connect_reasons(registry):
    project = mlp(registry)
    graph = project.main_graph
    x, lin, relu, out = (graph.node_by_name(n) for n in ("x", "linear", "relu", "output"))
    assert "loop" in can_connect(graph, registry, relu.id, "out", lin.id, "in")
    assert "itself" in can_connect(graph, registry, lin.id, "out", lin.id, "in")
    assert "no input 'nope'" in can_connect(graph, registry, x.id, "out", out.id, "nope")
    assert "already connected" in can_connect(graph, registry, x.id, "out", lin.id, "in")
    extra = add(project, registry, "nn.relu")
    assert can_connect(graph, registry, x.id, "out", extra.id, "in") is None
    wire(project, x, extra)
    assert len(graph.edges_from(x.id)) == 2
