import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.core.model import Group, identifier
from studio.core.ops import (
    AddEdge,
    Batch,
    MoveNodes,
    RemoveEdge,
    RemoveNode,
    RenameNode,
    SetGroup,
    SetParam,
    SetTraining,
    remove_nodes,
)
from studio.io.project_file import project_to_dict
from tests.core.helpers import add, mlp, wire


def test_every_op_reverts_exactly(registry):
    project = mlp(registry)
    graph = project.main_graph
    before = project_to_dict(project, registry)
    ids = list(graph.nodes)
    edge = next(iter(graph.edges.values()))
    ops = [
        SetParam(graph.id, ids[1], "out_features", 33),
        MoveNodes(graph.id, {ids[0]: (graph.nodes[ids[0]].position, (5.0, 6.0))}),
        RenameNode(graph.id, ids[1], "hidden"),
        RemoveEdge(graph.id, edge.id),
        RemoveNode(graph.id, ids[2]),
        SetGroup(graph.id, [ids[0]], Group("block")),
        SetTraining("optimizer.lr", 0.1),
    ]
    for op in ops:
        op.apply(project)
        assert project_to_dict(project, registry) != before or isinstance(op, SetGroup)
    for op in reversed(ops):
        op.revert(project)
    assert project_to_dict(project, registry) == before


def test_remove_node_takes_its_edges_and_undo_restores_them(registry):
    project = mlp(registry)
    graph = project.main_graph
    hidden = graph.node_by_name("relu")
    n_edges = len(graph.edges)
    op = RemoveNode(graph.id, hidden.id)
    op.apply(project)
    assert hidden.id not in graph.nodes and len(graph.edges) == n_edges - 2
    op.revert(project)
    assert len(graph.edges) == n_edges


def test_events_announce_changes(registry):
    project = mlp(registry)
    seen = []
    project.events.subscribe(lambda e: seen.append(e.kind))
    graph = project.main_graph
    remove_nodes(graph, [graph.node_by_name("relu").id]).apply(project)
    assert seen == ["edge_removed", "edge_removed", "node_removed"]


def test_batch_rolls_back_when_a_step_fails(registry):
    project = mlp(registry)
    graph = project.main_graph
    before = project_to_dict(project, registry)
    bad = Batch([SetParam(graph.id, next(iter(graph.nodes)), "shape", [3]),
                 AddEdge(graph.id, next(iter(graph.edges.values())).__class__("missing", "out", "x", "in"))])
    with pytest.raises(KeyError):
        bad.apply(project)
    assert project_to_dict(project, registry) == before


def test_param_edits_merge(registry):
    project = mlp(registry)
    graph = project.main_graph
    nid = graph.node_by_name("linear").id
    first, second = SetParam(graph.id, nid, "out_features", 1), SetParam(graph.id, nid, "out_features", 12)
    assert first.merge(second) and first.value == 12
    assert not first.merge(SetParam(graph.id, nid, "bias", False))


def test_unique_names(registry):
    project = mlp(registry, widths=(8, 8, 8))
    names = [n.name for n in project.main_graph.nodes.values()]
    assert len(names) == len(set(names))
    assert "linear_2" in names


@given(st.text(max_size=40))
def test_identifier_is_always_safe(text):
    import keyword

    name = identifier(text)
    assert name.isidentifier() and not keyword.iskeyword(name)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["param", "move", "remove", "rename", "wire"]), min_size=1, max_size=15),
       st.randoms(use_true_random=False))
def test_random_op_sequences_undo_to_the_start(registry, kinds, rnd):
    project = mlp(registry, widths=(8, 4))
    graph = project.main_graph
    start = copy.deepcopy(project_to_dict(project, registry))
    done = []
    for kind in kinds:
        ids = list(graph.nodes)
        if not ids:
            break
        nid = rnd.choice(ids)
        if kind == "param" and graph.nodes[nid].type_id == "nn.linear":
            op = SetParam(graph.id, nid, "out_features", rnd.randint(1, 50))
        elif kind == "move":
            op = MoveNodes(graph.id, {nid: (graph.nodes[nid].position, (rnd.random(), rnd.random()))})
        elif kind == "remove":
            op = RemoveNode(graph.id, nid)
        elif kind == "rename":
            op = RenameNode(graph.id, nid, rnd.choice(["a", "b", "class", "x y"]))
        else:
            other = rnd.choice(ids)
            op = Batch([])
            if other != nid and graph.nodes[other].type_id == "nn.relu":
                from studio.core.ops import connect
                op = connect(graph, nid, "out", other, "in")
        op.apply(project)
        done.append(op)
    for op in reversed(done):
        op.revert(project)
    assert project_to_dict(project, registry) == start


def test_snapshot_is_independent(registry):
    project = mlp(registry)
    snap = project.snapshot()
    graph = project.main_graph
    add(project, registry, "nn.relu")
    wire(project, graph.node_by_name("x"), graph.node_by_name("relu_1"))
    assert len(snap.main_graph.nodes) == len(graph.nodes) - 1


def test_ungrouping_every_node_removes_the_group_and_undo_brings_it_back(registry):
    project = mlp(registry)
    graph = project.main_graph
    ids = [graph.node_by_name("linear").id, graph.node_by_name("relu").id]
    SetGroup(graph.id, ids, Group("block")).apply(project)
    before = project_to_dict(project, registry)
    ungroup = SetGroup(graph.id, ids, None)
    ungroup.apply(project)
    assert graph.groups == {} and all(graph.nodes[i].group is None for i in ids)
    ungroup.revert(project)
    assert project_to_dict(project, registry) == before
