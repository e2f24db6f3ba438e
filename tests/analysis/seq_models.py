"""Tiny sequence models for the analysis tests: token ids -> Embedding -> attention or LSTM -> class scores.

``attention_graph`` also sends the attention weights to an Output with role ``attention``, as a user
wires one to see the map; ``train_sequence_run`` trains a project briefly on the digit-reversal task.
"""

from __future__ import annotations

from pathlib import Path

from studio.core.factory import chain_graph, make_node
from studio.core.model import Edge, Graph, Project

LENGTH, VOCAB = 6, 6
TRAINING = {"recipe": "sequence",
            "dataset": {"name": "sequences", "params": {"n": 1500, "length": LENGTH, "vocab": VOCAB, "task": "reverse"}},
            "epochs": 8, "batch_size": 32, "optimizer": {"lr": 0.01}, "threads": 1, "seed": 0}


def attention_graph(registry) -> Graph:
    """Embedding -> positions -> self-attention -> a class per position, the weights on an attention Output."""
    graph = chain_graph(registry, "seq", [LENGTH], [
        ("nn.embedding", {"num_embeddings": VOCAB, "embedding_dim": 16}),
        ("nn.positional_encoding", {"max_len": 16, "kind": "learned"}),
        ("nn.self_attention", {"num_heads": 1}), ("nn.linear", {"out_features": VOCAB})],
        dtype="int64", names=["embed", "positions", "attention", "scores"])
    att = next(n for n in graph.nodes.values() if n.name == "attention")
    out = make_node(registry.get("io.output"), graph, (900.0, 200.0), name="weights", role="attention")
    graph.nodes[out.id] = out
    edge = Edge(att.id, "weights", out.id, "in")
    graph.edges[edge.id] = edge
    return graph


def lstm_graph(registry) -> Graph:
    """Embedding -> LSTM (every step) -> a class per position: the char-model template's shape."""
    return chain_graph(registry, "lstm", [LENGTH], [
        ("nn.embedding", {"num_embeddings": VOCAB, "embedding_dim": 8}),
        ("nn.lstm", {"hidden_size": 16, "output": "sequence"}), ("nn.linear", {"out_features": VOCAB})],
        dtype="int64", names=["embed", "lstm", "scores"])


def train_sequence_run(registry, graph: Graph, folder: Path, **training) -> tuple[Project, Path]:
    from studio.train.engine import run_to_end

    proj = Project(name="seq", graphs=[graph], training={**TRAINING, **training})
    last = run_to_end(proj, registry, checkpoint_dir=folder, views=False)
    assert last.kind == "done", last.message
    return proj, folder
