"""Upgrading older project files, one version step at a time.

Each step takes the raw dict of version N and returns version N+1. Steps only reshape data;
they never look up node types (that happens after, in :mod:`studio.io.project_file`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from studio.io.errors import ProjectFileError

CURRENT_VERSION = 3


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 held one graph under "graph", positions as x/y and flat edge records."""
    graph = data.pop("graph", None)
    if not isinstance(graph, dict):
        raise ProjectFileError(None, "graph", "a version 1 file needs a 'graph' object")
    nodes = []
    for i, node in enumerate(graph.get("nodes", [])):
        if not isinstance(node, dict):
            raise ProjectFileError(None, f"graph.nodes[{i}]", "must be an object")
        node = dict(node)
        node["position"] = [node.pop("x", 0.0), node.pop("y", 0.0)]
        nodes.append(node)
    edges = []
    for i, edge in enumerate(graph.get("edges", [])):
        if not isinstance(edge, dict):
            raise ProjectFileError(None, f"graph.edges[{i}]", "must be an object")
        edges.append({
            "id": edge.get("id"),
            "from": {"node": edge.get("src"), "port": edge.get("src_port", "out")},
            "to": {"node": edge.get("dst"), "port": edge.get("dst_port", "in")},
        })
    data["graphs"] = [{"id": graph.get("id") or "g0", "name": graph.get("name", "model"),
                       "nodes": nodes, "edges": edges, "groups": []}]
    data["version"] = 2
    return data


# Before version 3 the trainer guessed an Output's purpose from its name: the first Output not named
# like a view tap was the prediction; Outputs named like these words fed the live views.
_ATTENTION_WORDS = ("attn", "attention")
_LATENT_WORDS = ("latent", "code", "bottleneck")


def _guessed_role(name: str) -> str | None:
    low = name.lower()
    if any(w in low for w in _ATTENTION_WORDS):
        return "attention"
    if any(w in low for w in _LATENT_WORDS):
        return "latent"
    return None


def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Outputs get an explicit ``role`` param, set from the name guess version 2 trained with, so
    every file trains exactly as before: the first Output not named like a tap is the prediction
    (or the first Output when all are), later untapped Outputs are auxiliary."""
    graphs = data.get("graphs")
    for gi, graph in enumerate(graphs if isinstance(graphs, list) else []):
        if not isinstance(graph, dict) or not isinstance(graph.get("nodes"), list):
            continue
        outputs = [n for n in graph["nodes"] if isinstance(n, dict) and n.get("type") == "io.output"]
        for node in outputs:
            if not isinstance(node.get("params", {}), dict):
                raise ProjectFileError(None, f"graphs[{gi}].nodes", f"Output '{node.get('name')}': params must be an object")
        explicit = [n.get("params", {}).get("role") for n in outputs]
        guesses = [_guessed_role(str(n.get("name", ""))) for n in outputs]
        prediction = (-1 if "prediction" in explicit else
                      next((i for i, g in enumerate(guesses) if g is None and explicit[i] is None), 0))
        for i, node in enumerate(outputs):
            params = node.get("params", {})
            if "role" in params:
                continue
            role = "prediction" if i == prediction else guesses[i] or "auxiliary"
            node["params"] = {**params, "role": role}
    data["version"] = 3
    return data


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2, 2: _v2_to_v3}


def migrate(data: dict[str, Any], source: str | None = None) -> dict[str, Any]:
    """Bring ``data`` up to :data:`CURRENT_VERSION`, or raise a clear error for unknown versions."""
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ProjectFileError(source, "version", f"must be a whole number, got {version!r}")
    if version > CURRENT_VERSION:
        raise ProjectFileError(source, "version", f"this file was saved by a newer NN Studio (format version "
                                                  f"{version}); this version reads up to {CURRENT_VERSION}. "
                                                  "Update NN Studio to open it.")
    if version < 1:
        raise ProjectFileError(source, "version", f"unknown format version {version}")
    while version < CURRENT_VERSION:
        try:
            data = MIGRATIONS[version](data)
        except ProjectFileError as exc:
            raise ProjectFileError(source, exc.field, exc.message) from None
        version = data["version"]
    return data
