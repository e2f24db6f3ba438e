"""Graph algorithms on the model via networkx: order, cycles, reachability."""

from __future__ import annotations

import heapq

import networkx as nx

from studio.core.model import Graph


def _kahn(graph: Graph) -> list[str] | None:
    """Data-flow order with ties broken by insertion order, or None when the graph has a cycle.

    The same order as networkx's lexicographical sort keyed on insertion position, in plain
    Python: building a networkx graph cost seconds for 60k nodes, this costs ~0.1 s. Memoised
    on the graph until a node or wire is added or removed (validation, shape inference and the
    command line each ask for it).
    """
    nodes, edges = graph.nodes, graph.edges
    key = (id(nodes), getattr(nodes, "revision", None), id(edges), getattr(edges, "revision", None))
    memo = graph.__dict__.get("_order_memo")
    if memo is not None and memo[0] == key and None not in key:
        return None if memo[1] is None else list(memo[1])
    order = _kahn_order(graph)
    graph.__dict__["_order_memo"] = (key, None if order is None else tuple(order))
    return order


def _kahn_order(graph: Graph) -> list[str] | None:
    nodes = graph.nodes
    position = {nid: i for i, nid in enumerate(nodes)}
    forward = True
    for e in graph.edges.values():
        a, b = position.get(e.src), position.get(e.dst)
        if a is not None and b is not None and a >= b:
            forward = False
            break
    if forward:
        # every wire runs forward in insertion order (files are saved that way), so the smallest
        # remaining position is always ready: the order is the insertion order itself
        return list(nodes)
    indegree = dict.fromkeys(nodes, 0)
    after: dict[str, list[str]] = {}
    for edge in graph.edges.values():
        if edge.src in position and edge.dst in position:
            indegree[edge.dst] += 1
            after.setdefault(edge.src, []).append(edge.dst)
    ready = [(position[nid], nid) for nid, n in indegree.items() if n == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, nid = heapq.heappop(ready)
        order.append(nid)
        for nxt in after.get(nid, ()):
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                heapq.heappush(ready, (position[nxt], nxt))
    return order if len(order) == len(position) else None


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
    order = _kahn(graph)
    if order is not None:
        return order
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
    if _kahn(graph) is not None:
        return None
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
