"""The plain-Python topological order is networkx's lexicographical order, and it is fast."""

from __future__ import annotations

import time

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.core.graph_order import find_cycle, topological_order
from studio.core.model import Edge, Graph, Node


def _graph(n: int, wires: list[tuple[int, int]]) -> Graph:
    graph = Graph("g")
    nodes = [Node("nn.relu", f"n{i}", id=f"id{i}") for i in range(n)]
    for node in nodes:
        graph.nodes[node.id] = node
    for a, b in wires:
        edge = Edge(nodes[a].id, "out", nodes[b].id, "in")
        graph.edges[edge.id] = edge
    return graph


def _reference(graph: Graph) -> list[str] | None:
    g = nx.MultiDiGraph()
    g.add_nodes_from(graph.nodes)
    g.add_edges_from((e.src, e.dst) for e in graph.edges.values() if e.src in graph.nodes and e.dst in graph.nodes)
    position = {nid: i for i, nid in enumerate(graph.nodes)}
    try:
        return list(nx.lexicographical_topological_sort(g, key=position.__getitem__))
    except nx.NetworkXUnfeasible:
        return None


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 12).flatmap(
    lambda n: st.tuples(st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=20))))
def test_same_order_as_networkx(case):
    n, wires = case
    graph = _graph(n, wires)
    expected = _reference(graph)
    if expected is None:
        assert find_cycle(graph) is not None
    else:
        assert topological_order(graph) == expected
        assert find_cycle(graph) is None


def test_sixty_thousand_nodes_in_a_fraction_of_a_second():
    n = 60_000
    graph = _graph(n, [(i, i + 1) for i in range(n - 1)])
    start = time.process_time()
    order = topological_order(graph)
    assert find_cycle(graph) is None
    assert len(order) == n and time.process_time() - start < 1.5


def test_the_memoised_order_follows_every_change():
    graph = _graph(4, [(0, 1), (1, 2), (2, 3)])
    assert topological_order(graph) == ["id0", "id1", "id2", "id3"]
    edge = Edge("id3", "out", "id0", "in")
    graph.edges[edge.id] = edge  # now a cycle
    assert find_cycle(graph) is not None and topological_order(graph) == _reference_without_cycles(graph)
    del graph.edges[edge.id]
    back = Edge("id3", "out", "id1", "in", id="late")
    graph.edges.pop(next(e.id for e in graph.edges.values() if e.src == "id1"))  # 1 -> 2 goes
    graph.edges[back.id] = back
    assert topological_order(graph) == _reference(graph)
    node = graph.nodes.pop("id0")
    assert topological_order(graph) == _reference(graph)
    graph.nodes[node.id] = node  # back, now last in insertion order
    assert topological_order(graph) == _reference(graph)


def _reference_without_cycles(graph: Graph) -> list[str]:
    g = nx.MultiDiGraph()
    g.add_nodes_from(graph.nodes)
    g.add_edges_from((e.src, e.dst) for e in graph.edges.values())
    for component in list(nx.strongly_connected_components(g)):
        if len(component) > 1:
            g.remove_nodes_from(component)
    position = {nid: i for i, nid in enumerate(graph.nodes)}
    return list(nx.lexicographical_topological_sort(g, key=position.__getitem__))
