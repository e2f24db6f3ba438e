"""Compiler: fx structure, groups, multiple inputs/outputs, errors located at nodes, parity with exports."""

from __future__ import annotations

import operator

import pytest
import torch

from studio.compile.compiler import CompileError, compile_graph, compile_project, parameter_counts
from studio.core.model import Edge, Node
from studio.core.ops import AddEdge, AddNode, RemoveEdge, SetParam
from tests.compile.util import Builder, check_parity


def mlp(registry, name="mnist mlp"):
    b = Builder(registry, name)
    x = b.node("io.input", "x", shape=[1, 8, 8])
    flat = b.node("nn.flatten")
    l1 = b.node("nn.linear", "hidden", out_features=32)
    act = b.node("nn.relu")
    l2 = b.node("nn.linear", "classifier", out_features=10)
    out = b.node("io.output", "logits")
    b.chain(x, flat, l1, act, l2, out)
    return b, dict(x=x, flat=flat, l1=l1, act=act, l2=l2, out=out)


def test_mlp_compiles_to_call_modules_in_order(registry, tmp_path):
    b, ids = mlp(registry)
    gm = compile_graph(b.graph, registry)
    ops = [(n.op, n.target) for n in gm.graph.nodes]
    assert ops == [("placeholder", "x"), ("call_module", "flatten"), ("call_module", "hidden"),
                   ("call_module", "relu"), ("call_module", "classifier"), ("output", "output")]
    assert type(gm).__name__ == "MnistMlp"
    assert gm.hidden.in_features == 64  # inferred from the flattened 1x8x8 input
    assert gm(torch.randn(5, 1, 8, 8)).shape == (5, 10)
    counts = parameter_counts(gm)
    assert counts.total == 64 * 32 + 32 + 32 * 10 + 10 == counts.trainable
    assert counts.by_module == {"hidden": 64 * 32 + 32, "classifier": 330}
    check_parity(b.graph, registry, tmp_path)


def test_group_becomes_named_submodule(registry, tmp_path):
    b, ids = mlp(registry)
    b.group("feature extractor", ids["l1"], ids["act"])
    gm = compile_graph(b.graph, registry)
    assert isinstance(gm.feature_extractor, torch.nn.Module)
    assert set(gm.state_dict()) == {"feature_extractor.hidden.weight", "feature_extractor.hidden.bias",
                                    "classifier.weight", "classifier.bias"}
    _, model, exported = check_parity(b.graph, registry, tmp_path)
    # a group whose layers run in one stretch is a class, called as one step
    assert "class FeatureExtractor(nn.Module):" in exported.code
    assert "self.feature_extractor = FeatureExtractor()" in exported.code
    assert "= self.feature_extractor(flatten)" in exported.code
    assert isinstance(model.feature_extractor.hidden, torch.nn.Linear)


def test_multiple_inputs_and_outputs(registry, tmp_path):
    b = Builder(registry, "two towers")
    a = b.node("io.input", "image", shape=[6])
    c = b.node("io.input", "meta", shape=[4])
    la = b.node("nn.linear", "img_fc", out_features=5)
    lc = b.node("nn.linear", "meta_fc", out_features=3)
    cat = b.node("nn.concat", "joined", dim=1)
    head = b.node("nn.linear", "head", out_features=2)
    s = b.node("nn.sigmoid")
    out1 = b.node("io.output", "score")
    out2 = b.node("io.output", "features")
    b.chain(a, la)
    b.chain(c, lc)
    b.wire(la, cat, "in1")
    b.wire(lc, cat, "in2")
    b.chain(cat, head, s, out1)
    b.wire(cat, out2)
    gm = compile_graph(b.graph, registry)
    placeholders = [n.target for n in gm.graph.nodes if n.op == "placeholder"]
    assert placeholders == ["image", "meta"]
    functions = [n.target for n in gm.graph.nodes if n.op == "call_function"]
    assert len(functions) == 1 and functions[0] is registry.get("nn.concat").function
    score, features = gm(torch.randn(2, 6), torch.randn(2, 4))
    assert score.shape == (2, 2) and features.shape == (2, 8)
    check_parity(b.graph, registry, tmp_path)


def test_multi_output_module_uses_getitem(registry, tmp_path):
    b = Builder(registry, "split")
    x = b.node("io.input", shape=[10])
    sp = b.node("nn.split", "halves", dim=1, split_size=4)
    add_first = b.node("nn.linear", "a", out_features=3)
    add_second = b.node("nn.linear", "b", out_features=3)
    plus = b.node("nn.add", "total")
    out = b.node("io.output")
    b.wire(x, sp)
    b.wire(sp, add_first, src_port="first")
    b.wire(sp, add_second, src_port="second")
    b.wire(add_first, plus, "a")
    b.wire(add_second, plus, "b")
    b.wire(plus, out)
    gm = compile_graph(b.graph, registry)
    getitems = [n.args[1] for n in gm.graph.nodes if n.target is operator.getitem]
    assert getitems == [0, 1]
    _, _, exported = check_parity(b.graph, registry, tmp_path)
    assert "halves_first, halves_second = self.halves(x)" in exported.code


def test_dead_branch_is_left_out(registry):
    b, ids = mlp(registry)
    stray = b.node("nn.linear", "unused", out_features=3)
    b.wire(ids["act"], stray)
    gm = compile_graph(b.graph, registry)
    assert not hasattr(gm, "unused")


def _error(graph, registry) -> CompileError:
    with pytest.raises(CompileError) as info:
        compile_graph(graph, registry)
    return info.value


def test_shape_error_points_at_node(registry):
    b, ids = mlp(registry)
    SetParam(b.graph.id, ids["l2"], "in_features", 7).apply(b.project)
    err = _error(b.graph, registry)
    assert err.node_id == ids["l2"]
    assert "classifier" in str(err) and "32" in str(err)


def test_unconnected_input_points_at_node(registry):
    b, ids = mlp(registry)
    edge = b.graph.edge_into(ids["l2"], "in")
    RemoveEdge(b.graph.id, edge.id).apply(b.project)
    err = _error(b.graph, registry)
    assert err.node_id == ids["l2"]
    assert "not connected" in str(err)


def test_unknown_type_points_at_node(registry):
    b, ids = mlp(registry)
    ghost = Node(type_id="plugin.mystery", name="mystery", placeholder={"type": "plugin.mystery"})
    AddNode(b.graph.id, ghost).apply(b.project)
    RemoveEdge(b.graph.id, b.graph.edge_into(ids["l2"], "in").id).apply(b.project)
    AddEdge(b.graph.id, Edge(ids["act"], "out", ghost.id, "in0")).apply(b.project)
    AddEdge(b.graph.id, Edge(ghost.id, "out", ids["l2"], "in")).apply(b.project)
    err = _error(b.graph, registry)
    assert err.node_id == ghost.id and "plugin.mystery" in str(err)


def test_cycle_and_missing_output_are_errors(registry):
    b, ids = mlp(registry)
    out_edge = b.graph.edge_into(ids["out"], "in")
    RemoveEdge(b.graph.id, out_edge.id).apply(b.project)
    err = _error(b.graph, registry)
    assert err.node_id == ids["out"] and "not connected" in str(err)

    b2, ids2 = mlp(registry)
    loop_add = b2.node("nn.add", "loop")
    b2.wire(ids2["act"], loop_add, "a")
    b2.wire(ids2["l2"], loop_add, "b")
    RemoveEdge(b2.graph.id, b2.graph.edge_into(ids2["l2"], "in").id).apply(b2.project)
    b2.wire(loop_add, ids2["l2"])
    err = _error(b2.graph, registry)
    assert "loop" in str(err) and err.node_id in (loop_add, ids2["l2"])

    b3 = Builder(registry, "empty")
    b3.node("io.input")
    assert "no Output" in str(_error(b3.graph, registry))


def test_compile_project_names_graph(registry):
    b, ids = mlp(registry, "first")
    good = compile_project(b.project, registry)
    assert list(good) == ["first"]
    SetParam(b.graph.id, ids["l2"], "in_features", 7).apply(b.project)
    with pytest.raises(CompileError) as info:
        compile_project(b.project, registry)
    assert info.value.graph_name == "first" and info.value.node_id == ids["l2"]


def test_unknown_node_off_the_output_path_does_not_block(registry):
    b, ids = mlp(registry)
    ghost = Node(type_id="plugin.mystery", name="mystery", placeholder={"type": "plugin.mystery"})
    AddNode(b.graph.id, ghost).apply(b.project)
    # unconnected: not on the way to the Output, so the model still compiles
    gm = compile_graph(b.graph, registry)
    assert gm(torch.randn(2, 1, 8, 8)).shape == (2, 10)


def test_package_api_is_lazy():
    import studio.compile as api

    assert api.compile_graph is compile_graph
    assert "export_graph_code" in api.__all__


def test_hand_built_graphs_keep_their_weight_keys(registry, tmp_path):
    """Weights saved before submodule paths existed still load: plain names and groups key as they did."""
    b, ids = mlp(registry)
    b.group("conv-block", ids["l1"], ids["act"])  # a user's hyphenated group is no path: conv_block as before
    keys = set(compile_graph(b.graph, registry).state_dict())
    assert keys == {"conv_block.hidden.weight", "conv_block.hidden.bias", "classifier.weight", "classifier.bias"}
    b2, ids2 = mlp(registry)
    b2.group("block1", ids2["l1"])
    b2.graph.nodes[ids2["l1"]].name = "block1_hidden"  # inside group block1: block1.hidden
    assert "block1.hidden.weight" in compile_graph(b2.graph, registry).state_dict()
