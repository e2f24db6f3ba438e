"""Layered left-to-right layout (Sugiyama-style columns by longest path), for auto-layout and imports."""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from studio.core.graph_order import to_networkx
from studio.core.model import Graph

COLUMN_GAP = 260.0
ROW_GAP = 130.0


def layered_layout(graph: Graph, node_ids: Iterable[str] | None = None,
                   origin: tuple[float, float] | None = None) -> dict[str, tuple[float, float]]:
    """Positions for ``node_ids`` (default: all) in columns by data-flow depth, left to right.

    Within a column nodes are ordered by the mean row of their predecessors (one barycentre
    sweep), which keeps wires short and mostly straight. A selection is laid out in place,
    starting at its current top-left corner.
    """
    ids = list(graph.nodes) if node_ids is None else [n for n in node_ids if n in graph.nodes]
    if not ids:
        return {}
    g = nx.DiGraph(to_networkx(graph).subgraph(ids))
    g.remove_edges_from(list(nx.selfloop_edges(g)))
    while not nx.is_directed_acyclic_graph(g):  # a cycle is an error elsewhere; lay it out anyway
        u, v, *_ = nx.find_cycle(g)[0]
        g.remove_edge(u, v)
    depth: dict[str, int] = {}
    index = {nid: i for i, nid in enumerate(ids)}
    for nid in nx.lexicographical_topological_sort(g, key=index.__getitem__):
        depth[nid] = max((depth[p] + 1 for p in g.predecessors(nid)), default=0)
    columns: dict[int, list[str]] = {}
    for nid in ids:
        columns.setdefault(depth[nid], []).append(nid)
    row: dict[str, float] = {}
    for d in sorted(columns):
        column = columns[d]
        if d > 0:
            column.sort(key=lambda n: (_mean([row[p] for p in g.predecessors(n) if p in row], index[n]), index[n]))
        for i, nid in enumerate(column):
            row[nid] = float(i)
    tallest = max(len(c) for c in columns.values())
    if origin is None:
        if node_ids is None:
            origin = (0.0, 0.0)
        else:
            origin = (min(graph.nodes[n].position[0] for n in ids), min(graph.nodes[n].position[1] for n in ids))
    x0, y0 = origin
    positions = {}
    for d, column in columns.items():
        offset = (tallest - len(column)) * ROW_GAP / 2.0
        for i, nid in enumerate(column):
            positions[nid] = (x0 + d * COLUMN_GAP, y0 + offset + i * ROW_GAP)
    return positions


def _mean(values: list[float], fallback: float) -> float:
    return sum(values) / len(values) if values else float(fallback)
