"""An operation that raises changes nothing: the editor refuses it without a phantom undo step."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.core.model import Edge, Graph, new_project
from studio.core.ops import (
    AddEdge,
    AddGraph,
    Batch,
    MoveNodes,
    RemoveEdge,
    RenameNode,
    SetParam,
    SetTraining,
)
from studio.core.validation import operation_problem
from studio.io.project_file import project_to_dict
from tests.core.helpers import mlp


def _state(project, registry):
    return copy.deepcopy(project_to_dict(project, registry)), copy.deepcopy(project.training)


@pytest.mark.parametrize("make", [
    lambda p, g, ids: SetTraining("optimizer.lr", 0.1),                       # optimizer is 5, not a section
    lambda p, g, ids: SetTraining("optimizer.lr.deeper", 0.1),
    lambda p, g, ids: SetTraining("a..b", 1),
    lambda p, g, ids: MoveNodes(g.id, {ids[0]: ((0, 0), (5, 5)), "ghost": ((0, 0), (1, 1))}),
    lambda p, g, ids: MoveNodes(g.id, {ids[0]: ((0, 0), (10 ** 400, 0))}),
    lambda p, g, ids: MoveNodes(g.id, {ids[0]: ((0, 0), (float("nan"), 0))}),
    lambda p, g, ids: AddEdge(g.id, Edge(ids[0], "out", "ghost", "in")),
    lambda p, g, ids: AddEdge(g.id, Edge(ids[0], "out", ids[1], "in", id=next(iter(g.edges)))),
    lambda p, g, ids: RemoveEdge(g.id, "ghost"),
    lambda p, g, ids: RenameNode(g.id, ids[0], 5),
    lambda p, g, ids: AddGraph(Graph("again", id=g.id)),
    lambda p, g, ids: Batch([SetParam(g.id, ids[1], "out_features", 7), SetTraining("optimizer.lr", 1.0)]),
])
def test_a_failing_operation_leaves_the_project_unchanged(registry, make):
    project = mlp(registry)
    project.training = {"optimizer": 5, "epochs": 3}
    graph = project.main_graph
    op = make(project, graph, list(graph.nodes))
    before = _state(project, registry)
    with pytest.raises(Exception):  # noqa: B017 - any error, as long as nothing changed
        op.apply(project)
    assert _state(project, registry) == before


def test_set_training_creates_sections_and_undo_removes_them(registry):
    project = new_project()
    op = SetTraining("schedule.step.gamma", 0.5)
    op.apply(project)
    assert project.training == {"schedule": {"step": {"gamma": 0.5}}}
    op.revert(project)
    assert project.training == {}


def test_operation_problem_refuses_values_the_spec_refuses(registry):
    project = mlp(registry)
    graph = project.main_graph
    linear = next(n for n in graph.nodes.values() if n.type_id == "nn.linear")
    assert operation_problem(project, registry, SetParam(graph.id, linear.id, "out_features", 4)) is None
    for value in (0, -3, "x", 10 ** 400, 2.5):
        op = SetParam(graph.id, linear.id, "out_features", value)
        op.apply(project)
        assert operation_problem(project, registry, op), value
        op.revert(project)
    op = Batch([SetParam(graph.id, linear.id, "no_such", 1)])
    op.apply(project)
    assert "no parameter" in operation_problem(project, registry, op)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["move", "wire", "unwire", "train", "rename"]),
                          st.integers(0, 10), st.integers(0, 10),
                          st.sampled_from([1.0, -1.0, 1e300, float("inf"), 10 ** 30, "x", None])),
                min_size=1, max_size=20))
def test_random_valid_and_invalid_ops_apply_fully_or_not_at_all(registry, steps):
    project = mlp(registry, widths=(8, 4))
    project.training = {"optimizer": {"lr": 0.1}, "flat": 3}
    graph = project.main_graph
    applied = []
    for kind, a, b, value in steps:
        ids = list(graph.nodes) + ["ghost"]
        x, y = ids[a % len(ids)], ids[b % len(ids)]
        edges = list(graph.edges) + ["ghost"]
        if kind == "move":
            old = graph.nodes[x].position if x in graph.nodes else (0, 0)
            op = MoveNodes(graph.id, {x: (old, (value, 0))})
        elif kind == "wire":
            op = AddEdge(graph.id, Edge(x, "out", y, "in"))
        elif kind == "unwire":
            op = RemoveEdge(graph.id, edges[a % len(edges)])
        elif kind == "train":
            op = SetTraining(["optimizer.lr", "flat.x", "new.key"][a % 3], value)
        else:
            op = RenameNode(graph.id, x, value)
        before = _state(project, registry)
        try:
            op.apply(project)
        except Exception:  # noqa: BLE001
            assert _state(project, registry) == before
        else:
            applied.append((op, before))
    for op, before in reversed(applied):
        op.revert(project)
        assert _state(project, registry) == before


def test_an_edit_may_only_store_what_a_file_can_hold(registry, tmp_path):
    """Anything an edit stores must load back, or saving would make a file that never opens again."""
    from studio.core.ops import RenameGraph
    from studio.io.project_file import load_project, save_project

    project = mlp(registry)
    graph = project.main_graph
    refused = [RenameGraph(graph.id, "g" * 201), SetTraining("dataset.params.n", 10 ** 400),
               SetTraining("dataset.params.x", float("nan")), SetTraining("meta.deep", [[[[[[[[[[]]]]]]]]]] * 1),
               SetTraining("a.b", {"k": "v" * 1_000_001})]
    deep = 0
    for _ in range(40):
        deep = [deep]
    refused.append(SetTraining("dataset.params.deep", deep))
    for op in refused[:3] + refused[4:]:
        op.apply(project)
        assert operation_problem(project, registry, op), op
        op.revert(project)
    accepted = [RenameGraph(graph.id, "g" * 200), SetTraining("dataset.params.n", 2 ** 53),
                SetTraining("dataset.params.nested", {"a": [1, 2.5, None, "x"]})]
    for op in accepted:
        op.apply(project)
        assert operation_problem(project, registry, op) is None, op
    path = save_project(project, tmp_path / "held.nnstudio", registry)
    assert project_to_dict(load_project(path, registry), registry) == project_to_dict(project, registry)
