"""Shape inference speed: a full pass over a 200-node graph and a single-parameter edit.

Targets (issue 2): under 100 ms full, under 10 ms incremental, on a 2-core machine.
Run: python -m bench.shapes
"""

from __future__ import annotations

import statistics
import time

from studio.catalog import default_registry
from studio.core.factory import make_node
from studio.core.model import Project, new_project
from studio.core.ops import AddNode, SetParam, connect
from studio.core.shapes import ShapeInferencer


def build_graph(n_nodes: int = 200) -> Project:
    """A deep MLP of Linear/ReLU(/LayerNorm) blocks, each of a different width."""
    registry = default_registry()
    project = new_project("bench")
    graph = project.main_graph

    def add(type_id: str, **params):
        node = make_node(registry.get(type_id), graph, (len(graph.nodes) * 10.0, 0.0), **params)
        AddNode(graph.id, node).apply(project)
        return node

    prev = add("io.input", shape=[256])
    block = ["nn.linear", "nn.relu"]
    if "nn.layer_norm" in registry:
        block.append("nn.layer_norm")
    while len(graph.nodes) < n_nodes - 1:
        for type_id in block:
            # distinct widths so the memo cannot share work between nodes: every node is computed
            width = 128 + len(graph.nodes)
            node = add(type_id, out_features=width) if type_id == "nn.linear" else add(type_id)
            connect(graph, prev.id, "out", node.id, "in").apply(project)
            prev = node
    out = add("io.output")
    connect(graph, prev.id, "out", out.id, "in").apply(project)
    return project


def measure(repeats: int = 15) -> dict[str, float]:
    registry = default_registry()
    project = build_graph()
    graph = project.main_graph
    ShapeInferencer(registry).infer(graph)  # warm torch up (first meta ops load kernels)
    full = []
    for _ in range(repeats):
        inferencer = ShapeInferencer(registry)  # cold cache: every node computed
        t0 = time.perf_counter()
        inferencer.infer(graph)
        full.append(time.perf_counter() - t0)
    inferencer = ShapeInferencer(registry)
    inferencer.infer(graph)
    linears = [n for n in graph.nodes.values() if n.type_id == "nn.linear"]
    middle = linears[len(linears) // 2]
    incremental = []
    recomputed = []
    for i in range(repeats):
        SetParam(graph.id, middle.id, "out_features", 128 + (i % 2) * 64 + i).apply(project)
        t0 = time.perf_counter()
        inferencer.infer(graph)
        incremental.append(time.perf_counter() - t0)
        recomputed.append(inferencer.computed)
    return {
        "nodes": len(graph.nodes),
        "full_ms": statistics.median(full) * 1000,
        "full_max_ms": max(full) * 1000,
        "incremental_ms": statistics.median(incremental) * 1000,
        "incremental_max_ms": max(incremental) * 1000,
        "recomputed": statistics.median(recomputed),
    }


def main() -> None:
    from bench.report import write_section

    r = measure()
    table = (
        "| measure | median | max | target |\n|---|---|---|---|\n"
        f"| full inference, {r['nodes']} nodes (cold cache) | {r['full_ms']:.1f} ms | {r['full_max_ms']:.1f} ms | < 100 ms |\n"
        f"| one parameter edit (incremental, {r['recomputed']:.0f} nodes recomputed) | {r['incremental_ms']:.2f} ms"
        f" | {r['incremental_max_ms']:.2f} ms | < 10 ms |\n"
    )
    print(table)
    write_section("Shape inference", table)


if __name__ == "__main__":
    main()
