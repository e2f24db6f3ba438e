"""Hand-built demo projects: the screenshot script's ``--template demo`` and the editor benchmark's big graph."""

from __future__ import annotations

from studio.core.factory import make_node
from studio.core.model import Edge, Graph, Group, Project, new_project
from studio.core.registry import Registry


def _add(graph: Graph, registry: Registry, type_id: str, **params: object) -> str | None:
    spec = registry.find(type_id)
    if spec is None:
        return None
    node = make_node(spec, graph, **params)
    graph.nodes[node.id] = node
    return node.id


def _chain(graph: Graph, ids: list[str | None]) -> None:
    present = [i for i in ids if i is not None]
    for a, b in zip(present, present[1:], strict=False):
        edge = Edge(a, "out", b, "in")
        graph.edges[edge.id] = edge


def demo_project(registry: Registry) -> Project:
    """A small classifier with a grouped block and one deliberate error (built directly, not via ops)."""
    project = new_project("Demo classifier", "classifier")
    graph = project.main_graph
    x = _add(graph, registry, "io.input", shape=[784])
    h1 = _add(graph, registry, "nn.linear", out_features=256)
    a1 = _add(graph, registry, "nn.relu")
    h2 = _add(graph, registry, "nn.linear", out_features=128)
    a2 = _add(graph, registry, "nn.gelu")
    out = _add(graph, registry, "nn.linear", out_features=10)
    sm = _add(graph, registry, "nn.log_softmax")
    y = _add(graph, registry, "io.output")
    _chain(graph, [x, h1, a1, h2, a2, out, sm, y])
    # a side branch with a wrong, hand-typed size: shows the red error outline
    bad = _add(graph, registry, "nn.linear", in_features=100, out_features=4)
    if bad is not None and a1 is not None:
        edge = Edge(a1, "out", bad, "in")
        graph.edges[edge.id] = edge
    block = Group("hidden_block")
    graph.groups[block.id] = block
    for nid in (h2, a2):
        if nid is not None:
            graph.nodes[nid].group = block.id
    # hand-placed in three bands so the wires, the group frame and the error all read at a glance
    spots = {x: (0, 0), h1: (290, 0), a1: (580, 0), bad: (870, 0), h2: (0, 300), a2: (290, 300),
             out: (580, 300), sm: (870, 300), y: (0, 560)}
    for nid, pos in spots.items():
        if nid is not None:
            graph.nodes[nid].position = (float(pos[0]), float(pos[1]))
    project.meta = {"title": "Demo classifier", "description": "A hand-built MLP with a group and an error"}
    return project


def big_project(registry: Registry, n_nodes: int = 1000, width: int = 10) -> Project:
    """``n_nodes`` nodes in ``width`` parallel Linear/ReLU chains, wrapped into a roughly square block."""
    project = new_project("Big graph", "big")
    graph = project.main_graph
    per_chain = max(2, n_nodes // width)
    for c in range(width):
        ids: list[str | None] = [_add(graph, registry, "io.input", shape=[64])]
        for i in range(per_chain - 2):
            ids.append(_add(graph, registry, "nn.linear" if i % 2 == 0 else "nn.relu",
                            **({"out_features": 64} if i % 2 == 0 else {})))
        ids.append(_add(graph, registry, "io.output"))
        _chain(graph, ids)
        for k, nid in enumerate(i for i in ids if i is not None):
            band, col = divmod(k, 25)  # each chain wraps into bands of 25: a roughly square graph
            graph.nodes[nid].position = (col * 260.0, (c * 4 + band) * 160.0)
    return project
