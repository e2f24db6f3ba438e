"""Graph algorithms on the model via networkx: order, cycles, reachability."""

from __future__ import annotations

import networkx as nx

from studio.core.model import Graph


def to_networkx(graph: Graph) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    g.add_nodes_from(graph.nodes)
    for edge in graph.edges.values():
        if edge.src in graph.nodes and edge.dst in graph.nodes:
            g.add_edge(edge.src, edge.dst, key=edge.id)
    return g


def topological_order(graph: Graph) -> list[str]:
    """Nodes in data-flow order, ties broken by insertion order (stable for exports).

    Nodes that sit on a cycle are left out; validation reports the cycle.
    """
    g = to_networkx(graph)
    position = {nid: i for i, nid in enumerate(graph.nodes)}
    try:
        return list(nx.lexicographical_topological_sort(g, key=position.__getitem__))
    except nx.NetworkXUnfeasible:
        acyclic = g.copy()
        for component in nx.strongly_connected_components(g):
            if len(component) > 1 or any(g.has_edge(n, n) for n in component):
                acyclic.remove_nodes_from(component)
        # nodes downstream of a cycle stay in the order and see their input as missing
        return list(nx.lexicographical_topological_sort(acyclic, key=position.__getitem__))


def find_cycle(graph: Graph) -> list[str] | None:
    try:
        cycle = nx.find_cycle(to_networkx(graph))
    except nx.NetworkXNoCycle:
        return None
    return [edge[0] for edge in cycle]


def would_create_cycle(graph: Graph, src: str, dst: str) -> bool:
    """Would a wire src -> dst close a loop? (True when dst already reaches src.)"""
    if src == dst:
        return True
    return nx.has_path(to_networkx(graph), dst, src)


def downstream(graph: Graph, node_id: str) -> set[str]:
    return set(nx.descendants(to_networkx(graph), node_id)) | {node_id}
