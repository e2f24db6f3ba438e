"""Hand-built demo projects for screenshots, benchmarks and the panel tests.

Every straight part is built with :func:`studio.core.factory.chain_graph`; only what a chain cannot
say (a side branch with an error, a group, hand-placed positions) is added here.
"""

from __future__ import annotations

from studio.core.factory import chain_graph, make_node
from studio.core.model import Edge, Graph, Group, Project
from studio.core.registry import Registry


def _add(graph: Graph, registry: Registry, type_id: str, position: tuple[float, float] = (0.0, 0.0),
         name: str | None = None, **params: object) -> str:
    node = make_node(registry.get(type_id), graph, position, name=name, **params)
    graph.nodes[node.id] = node
    return node.id


def _wire(graph: Graph, src: str, dst: str) -> None:
    edge = Edge(src, "out", dst, "in")
    graph.edges[edge.id] = edge


def window_demo(registry: Registry) -> Project:
    """A small classifier with a grouped block and one deliberate error (the window's ``--template demo``)."""
    graph = chain_graph(registry, "classifier", [784],
                        [("nn.linear", {"out_features": 256}), ("nn.relu", {}),
                         ("nn.linear", {"out_features": 128}), ("nn.gelu", {}),
                         ("nn.linear", {"out_features": 10}), ("nn.log_softmax", {})])
    x, h1, a1, h2, a2, out, sm, y = (n.id for n in graph.nodes.values())
    # a side branch with a wrong, hand-typed size: shows the red error outline
    bad = _add(graph, registry, "nn.linear", in_features=100, out_features=4)
    _wire(graph, a1, bad)
    block = Group("hidden_block")
    graph.groups[block.id] = block
    for nid in (h2, a2):
        graph.nodes[nid].group = block.id
    # hand-placed in three bands so the wires, the group frame and the error all read at a glance
    spots = {x: (0, 0), h1: (290, 0), a1: (580, 0), bad: (870, 0), h2: (0, 300), a2: (290, 300),
             out: (580, 300), sm: (870, 300), y: (0, 560)}
    for nid, (px, py) in spots.items():
        graph.nodes[nid].position = (float(px), float(py))
    return Project(name="Demo classifier", graphs=[graph],
                   meta={"title": "Demo classifier", "description": "A hand-built MLP with a group and an error"})


def panel_demo(registry: Registry) -> Project:
    """x(784) -> fc1(128) -> act -> fc2(10) -> logits, plus one unconnected Linear named ``unused``."""
    graph = chain_graph(registry, "model", [784],
                        [("nn.linear", {"out_features": 128}), ("nn.relu", {}), ("nn.linear", {"out_features": 10})],
                        names=["fc1", "act", "fc2"], output_name="logits")
    _add(graph, registry, "nn.linear", (440.0, 200.0), name="unused", out_features=32)
    return Project(name="Demo", graphs=[graph])


def cnn_demo(registry: Registry) -> Project:
    """image 1×28×28 -> conv1 -> relu1 -> pool1 -> flat -> head -> logits, plus a loose ``unused`` Linear."""
    graph = chain_graph(registry, "classifier", [1, 28, 28],
                        [("nn.conv2d", {"out_channels": 16}), ("nn.relu", {}), ("nn.max_pool2d", {}),
                         ("nn.flatten", {}), ("nn.linear", {"out_features": 10})],
                        names=["conv1", "relu1", "pool1", "flat", "head"], input_name="image", output_name="logits")
    _add(graph, registry, "nn.linear", (440.0, 200.0), name="unused", in_features=100)
    return Project(name="CNN demo", graphs=[graph])


def big_project(registry: Registry, n_nodes: int = 1000, width: int = 10) -> Project:
    """``n_nodes`` nodes in ``width`` parallel Linear/ReLU chains, wrapped into a roughly square block."""
    graph = Graph(name="big")
    per_chain = max(2, n_nodes // width)
    for c in range(width):
        chain = chain_graph(registry, "chain", [64],
                            [("nn.linear", {"out_features": 64}) if i % 2 == 0 else ("nn.relu", {})
                             for i in range(per_chain - 2)])
        for k, node in enumerate(chain.nodes.values()):
            node.name = graph.unique_name(node.name)
            band, col = divmod(k, 25)  # each chain wraps into bands of 25: a roughly square graph
            node.position = (col * 260.0, (c * 4 + band) * 160.0)
            graph.nodes[node.id] = node
        graph.edges.update(chain.edges)
    return Project(name="Big graph", graphs=[graph])


def training_demos(registry: Registry) -> dict[str, Project]:
    """Small projects for the live views no template covers on a CPU in seconds."""
    cnn = chain_graph(registry, "classifier", [1, 28, 28],
                      [("nn.conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}), ("nn.relu", {}),
                       ("nn.max_pool2d", {"kernel_size": 2}),
                       ("nn.conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}),
                       ("nn.relu", {}), ("nn.max_pool2d", {"kernel_size": 2}), ("nn.flatten", {}),
                       ("nn.linear", {"out_features": 6})],
                      names=["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "head"],
                      input_name="image", output_name="logits")
    shapes = Project(name="shapes classifier", graphs=[cnn], training={
        "recipe": "classification", "dataset": {"name": "shapes", "params": {"n": 3000, "classes": 6, "noise": 0.25}},
        "epochs": 12, "batch_size": 64, "steps_per_epoch": 10, "optimizer": {"name": "adam", "lr": 0.003}})
    mlp = chain_graph(registry, "model", [2],
                      [("nn.linear", {"out_features": 64}), ("nn.relu", {}), ("nn.linear", {"out_features": 64}),
                       ("nn.relu", {}), ("nn.linear", {"out_features": 3})],
                      names=["fc1", "relu1", "fc2", "relu2", "head"], output_name="logits")
    spirals = Project(name="spirals", graphs=[mlp], training={
        "recipe": "classification", "dataset": {"name": "spirals", "params": {"n": 3000}}, "epochs": 30,
        "batch_size": 64, "steps_per_epoch": 15, "optimizer": {"name": "adam", "lr": 0.01}})
    return {"shapes": shapes, "spirals": spirals}
