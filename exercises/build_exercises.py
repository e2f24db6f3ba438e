"""Builds every exercise and its reference solution: ``python -m exercises.build_exercises``.

Each exercise is a project built through :mod:`studio.core` (the template builder's ``GraphBuilder``,
or a shipped template changed with core operations) with an exercise in ``meta["exercise"]``
(:mod:`studio.exercises.format`). The solution is the same project after the student's fix, so it
carries the same exercise id. Metric goals train on small datasets for a few epochs: grading each takes
1–15 s on a 2-core CPU. Edit an exercise here, never the generated JSON.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.catalog import default_registry
from studio.core.factory import make_node
from studio.core.model import Edge, Project
from studio.core.ops import AddEdge, AddNode, RemoveEdge, SetParam
from studio.core.registry import Registry
from studio.exercises.format import Exercise, Goal, set_exercise
from studio.io.project_file import SUFFIX, save_project
from studio.io.templates import load_template
from templates.build_templates import GraphBuilder, L, stable_ids

HERE = Path(__file__).resolve().parent


def _project(key: str, title: str, text: str, training: dict[str, Any]) -> Project:
    return Project(name=title, graphs=[], training={"seed": 0, "device": "cpu", **training},
                   meta={"title": title, "description": text, "explanation": text})


def _node(project: Project, name: str) -> tuple[Any, Any]:
    for g in project.graphs:
        for n in g.nodes.values():
            if n.name == name:
                return g, n
    raise KeyError(name)


def _insert_after(project: Project, reg: Registry, after: str, type_id: str, name: str, **params: Any) -> None:
    """Put a new node on every wire leaving ``after`` (core operations, as an edit in the app would)."""
    graph, src = _node(project, after)
    node = make_node(reg.get(type_id), graph, name=name, **params)
    AddNode(graph.id, node).apply(project)
    graph = project.graph(graph.id)
    for edge in [e for e in graph.edges.values() if e.src == src.id]:
        RemoveEdge(graph.id, edge.id).apply(project)
        AddEdge(graph.id, Edge(node.id, "out", edge.dst, edge.dst_port)).apply(project)
    AddEdge(graph.id, Edge(src.id, "out", node.id, "in")).apply(project)


def _set(project: Project, name: str, param: str, value: Any) -> None:
    graph, node = _node(project, name)
    SetParam(graph.id, node.id, param, value).apply(project)


def _spirals_mlp(reg: Registry, title: str, text: str, layers: list, training: dict[str, Any]) -> Project:
    p = _project("", title, text, {"recipe": "classification",
                                   "dataset": {"name": "spirals", "params": {"n": 600, "classes": 3}},
                                   "batch_size": 32, "optimizer": {"name": "adam", "lr": 0.01}, **training})
    g = GraphBuilder(p, reg, "classifier")
    g.sequential([2], layers)
    g.layout()
    return p


# -- the exercises: each returns (exercise project, solution project) -----------------------------------

def shape_mismatch(reg: Registry) -> tuple[Project, Project]:
    text = ("The classifier gets 1×12×12 images, but its Linear layers act on the last axis only, so the "
            "output is B×1×12×3 instead of B×3 and training fails. Make the output one score per class.")
    p = _project("", "Fix a shape mismatch", text, {
        "recipe": "classification", "epochs": 8, "batch_size": 32, "optimizer": {"name": "adam", "lr": 0.01},
        "dataset": {"name": "shapes", "params": {"n": 1500, "classes": 3, "size": 12, "noise": 0.02,
                                                 "rotation": 0.0}}})
    g = GraphBuilder(p, reg, "classifier")
    g.sequential([1, 12, 12], [L("nn.linear", "hidden", out_features=32), L("nn.relu", "act"),
                               L("nn.linear", "head", out_features=3)])
    g.layout()
    ex = Exercise(id="shape_mismatch", title=p.name, locked=["x"], goals=[
        Goal(kind="output_shape", shape=[3]),
        Goal(kind="require_nodes", types=["nn.flatten"]),
        Goal(kind="metric", metric="val_accuracy", op=">=", value=0.7, epochs=8)])
    sol = copy.deepcopy(p)
    _insert_after(sol, reg, "x", "nn.flatten", "flatten")
    return _finish(p, sol, ex)


def overfitting(reg: Registry) -> tuple[Project, Project]:
    text = ("A wide network on 120 noisy spiral points learns them by heart: the validation loss falls for a "
            "while, then climbs as the network memorises the noise. Regularise it: add a Dropout layer "
            "(p around 0.5) and weight decay (Optimisation) so the validation loss is still low after 100 epochs.")
    layers = [L("nn.linear", "fc1", out_features=128), L("nn.relu", "act1"),
              L("nn.linear", "fc2", out_features=128), L("nn.relu", "act2"), L("nn.linear", "head", out_features=3)]
    p = _spirals_mlp(reg, "Beat overfitting", text, layers,
                     {"epochs": 100, "dataset": {"name": "spirals", "params": {"n": 600, "classes": 3, "noise": 0.5},
                                                 "limit": 120}})
    # the last epoch's loss, not the best one: an overfitting model was good once and is worse at the end
    ex = Exercise(id="overfitting", title=p.name, locked=["x", "output"], goals=[
        Goal(kind="require_nodes", types=["nn.dropout"]),
        Goal(kind="param_budget", max=20_000),
        Goal(kind="metric", metric="val_loss", op="<=", value=1.0, epochs=100, at="last")])
    sol = copy.deepcopy(p)
    _insert_after(sol, reg, "act2", "nn.dropout", "dropout", p=0.5)
    sol.training["optimizer"] = {"name": "adam", "lr": 0.01, "weight_decay": 0.003}
    return _finish(p, sol, ex)


def vanishing_gradients(reg: Registry) -> tuple[Project, Project]:
    text = ("Eight sigmoid layers: the gradient shrinks at every layer and the first ones barely learn. "
            "Change the activations to ReLU and use Kaiming initialisation.")
    layers = []
    for i in range(1, 8):
        layers += [L("nn.linear", f"fc{i}", out_features=32), L("nn.sigmoid", f"act{i}")]
    layers.append(L("nn.linear", "head", out_features=3))
    p = _spirals_mlp(reg, "Vanishing gradients", text, layers, {"epochs": 15})
    ex = Exercise(id="vanishing_gradients", title=p.name, goals=[
        Goal(kind="forbid_nodes", types=["nn.sigmoid"]),
        Goal(kind="setting", key="init.scheme", op="==", value="kaiming"),
        Goal(kind="metric", metric="val_accuracy", op=">=", value=0.6, epochs=15)])
    sol = copy.deepcopy(p)
    for i in range(1, 8):
        _swap(sol, reg, f"act{i}", "nn.relu", f"relu{i}")
    sol.training["init"] = {"scheme": "kaiming"}
    return _finish(p, sol, ex)


def _swap(project: Project, reg: Registry, name: str, type_id: str, new_name: str, **params: Any) -> None:
    """Replace the node ``name`` by a new ``type_id`` node on the same wires (as a student would)."""
    from studio.core.ops import RemoveNode

    graph, old = _node(project, name)
    node = make_node(reg.get(type_id), graph, name=new_name, **params)
    AddNode(graph.id, node).apply(project)
    graph = project.graph(graph.id)
    for edge in [e for e in graph.edges.values() if old.id in (e.src, e.dst)]:
        RemoveEdge(graph.id, edge.id).apply(project)
        src = node.id if edge.src == old.id else edge.src
        dst = node.id if edge.dst == old.id else edge.dst
        AddEdge(graph.id, Edge(src, edge.src_port, dst, edge.dst_port)).apply(project)
    RemoveNode(graph.id, old.id).apply(project)


def exploding_rnn(reg: Registry) -> tuple[Project, Project]:
    text = ("This plain ReLU RNN forecaster trains with plain SGD at a large learning rate: within a few steps "
            "one steep batch blows the weights up and the loss becomes NaN. Turn on gradient clipping "
            "(Regularisation) with a small maximum norm, 0.1 or less: each step then moves the weights a "
            "bounded amount (at most learning rate × clip) and it trains.")
    p = load_template("lstm_forecast", reg)
    p.graphs = [g for g in p.graphs if g.name == "forecaster"]
    p.meta = {"title": "Gradient clipping on an exploding RNN", "description": text, "explanation": text}
    _swap(p, reg, "lstm", "nn.rnn", "rnn", hidden_size=64, nonlinearity="relu", output="last step")
    p.training = {**p.training, "graph": "forecaster", "grad_clip": 0.0, "optimizer": {"name": "sgd", "lr": 10.0},
                  "epochs": 4}
    p.training["dataset"] = {**p.training["dataset"], "params": {**p.training["dataset"]["params"], "n": 2000}}
    p.training.pop("stages", None)
    p.meta.pop("stages", None)
    ex = Exercise(id="exploding_rnn", title="Gradient clipping on an exploding RNN", locked=["x", "rnn"], goals=[
        Goal(kind="setting", key="grad_clip", op=">", value=0.0),
        Goal(kind="setting", key="grad_clip", op="<=", value=0.1),
        Goal(kind="metric", metric="val_loss", op="<=", value=0.25, epochs=4)])
    sol = copy.deepcopy(p)
    sol.training["grad_clip"] = 0.05
    return _finish(p, sol, ex)


def transfer_few_labels(reg: Registry) -> tuple[Project, Project]:
    text = ("Only 60 labelled images: a ResNet-18 trained end to end overfits them. Freeze the backbone "
            "(freeze = all) so only the new head learns, and keep the trainable parameters small.")
    p = load_template("transfer_cnn", reg)
    p.meta = {"title": "Transfer learning with few labels", "description": text, "explanation": text}
    _set(p, "backbone", "freeze", "none")
    _set(p, "backbone", "weights", "none")
    ex = Exercise(id="transfer_few_labels", title=p.meta["title"], locked=["head"],
                  hidden_palette=["tv.resnet50", "tv.efficientnet_b0"], goals=[
                      Goal(kind="node_param", node="backbone", key="freeze", op="==", value="all"),
                      Goal(kind="require_nodes", types=["tv.resnet18"])])
    sol = copy.deepcopy(p)
    _set(sol, "backbone", "freeze", "all")
    return _finish(p, sol, ex)


def autoencoder_bottleneck(reg: Registry) -> tuple[Project, Project]:
    text = ("Squeeze the images through a code of at most 16 numbers and keep the whole autoencoder under "
            "60,000 parameters: set the bottleneck's out_features (and the expand layer follows).")
    p = load_template("conv_autoencoder", reg)
    p.meta = {"title": "An autoencoder under a bottleneck budget", "description": text, "explanation": text}
    _set(p, "bottleneck", "out_features", 256)
    ex = Exercise(id="autoencoder_bottleneck", title=p.meta["title"], locked=["x", "reconstruction"], goals=[
        Goal(kind="node_param", node="bottleneck", key="out_features", op="<=", value=16),
        Goal(kind="param_budget", max=60_000),
        Goal(kind="output_shape", output="reconstruction", shape=[1, 28, 28]),
        # a floor, not the lesson: the 16-number code must still reconstruct (half the mean-image baseline)
        Goal(kind="metric", metric="val_loss", op="<=", value=0.035, epochs=5)])
    sol = copy.deepcopy(p)
    _set(sol, "bottleneck", "out_features", 16)
    return _finish(p, sol, ex)


def gan_mode_collapse(reg: Registry) -> tuple[Project, Project]:
    text = ("Trained with one discriminator step and the plain BCE loss, this generator collapses onto a "
            "few of the ring's modes. Switch to the Wasserstein loss with gradient penalty (GAN loss = "
            "wgan_gp) and give the discriminator more steps per generator step.")
    p = load_template("gan_ring", reg)
    p.meta = {"title": "GAN mode collapse", "description": text, "explanation": text}
    p.training = {**p.training, "gan": {**p.training["gan"], "d_steps": 1, "loss": "bce", "r1": 0.0}}
    ex = Exercise(id="gan_mode_collapse", title=p.meta["title"], locked=["batch_mean", "spread"], goals=[
        Goal(kind="setting", key="gan.loss", op="==", value="wgan_gp"),
        Goal(kind="setting", key="gan.d_steps", op=">=", value=3)])
    sol = copy.deepcopy(p)
    sol.training["gan"] = {**sol.training["gan"], "loss": "wgan_gp", "d_steps": 5}
    return _finish(p, sol, ex)


def attention_sequence(reg: Registry) -> tuple[Project, Project]:
    text = ("Reverse a sequence of 8 digits: every output position needs the input at the mirrored "
            "position. Each token only sees itself here. Put a Transformer encoder layer (attention) "
            "between the positions and the scores.")
    p = _project("", "Attention on a sequence task", text, {
        "recipe": "sequence", "epochs": 4, "batch_size": 64, "optimizer": {"name": "adam", "lr": 0.003},
        "dataset": {"name": "sequences", "params": {"n": 3000, "task": "reverse", "length": 8, "vocab": 10}}})
    g = GraphBuilder(p, reg, "transformer")
    g.sequential([8], [L("nn.embedding", "embed", num_embeddings=10, embedding_dim=32),
                       L("nn.positional_encoding", "positions"), L("nn.linear", "scores", out_features=10)],
                 dtype="int64")
    g.layout()
    ex = Exercise(id="attention_sequence", title=p.name, locked=["x", "embed"],
                  hidden_palette=["nn.lstm", "nn.gru", "nn.rnn"], goals=[
                      Goal(kind="require_nodes", types=["nn.transformer_encoder_layer"]),
                      Goal(kind="output_shape", shape=[8, 10]),
                      Goal(kind="metric", metric="val_accuracy", op=">=", value=0.6, epochs=4)])
    sol = copy.deepcopy(p)
    _insert_after(sol, reg, "positions", "nn.transformer_encoder_layer", "attention", nhead=4,
                  dim_feedforward=64, dropout=0.0)
    return _finish(p, sol, ex)


def q_discount(reg: Registry) -> tuple[Project, Project]:
    text = ("The floor is slippery (one move in five goes a random way). With a discount factor of 0.1 a goal "
            "14 steps away is worth 0.1^14 of its reward: the values fade to nearly nothing a few cells from "
            "the goal, the noise of slipping swamps them and the greedy arrows point anywhere. Raise the "
            "discount factor (gamma) to 0.8 or more so the goal's value reaches the start.")
    p = load_template("gridworld_q", reg)
    p.meta = {"title": "The discount factor in Q-learning", "description": text, "explanation": text}
    rl = p.training["rl"]
    p.training = {**p.training, "rl": {**rl, "gamma": 0.1, "lr": 0.1, "grid": {**rl.get("grid", {}), "slip": 0.2}}}
    ex = Exercise(id="q_discount", title=p.meta["title"], goals=[
        Goal(kind="setting", key="rl.gamma", op=">=", value=0.8),
        Goal(kind="metric", metric="val_optimal_paths", op=">=", value=0.9, epochs=3)])
    sol = copy.deepcopy(p)
    sol.training["rl"] = {**sol.training["rl"], "gamma": 0.95}
    return _finish(p, sol, ex)


def _finish(p: Project, sol: Project, ex: Exercise) -> tuple[Project, Project]:
    for project in (p, sol):
        project.meta.pop("template", None)
        set_exercise(project, ex)
    sol.meta["solution"] = True
    return p, sol


EXERCISES: dict[str, Callable[[Registry], tuple[Project, Project]]] = {
    "shape_mismatch": shape_mismatch,
    "overfitting": overfitting,
    "vanishing_gradients": vanishing_gradients,
    "exploding_rnn": exploding_rnn,
    "transfer_few_labels": transfer_few_labels,
    "autoencoder_bottleneck": autoencoder_bottleneck,
    "gan_mode_collapse": gan_mode_collapse,
    "attention_sequence": attention_sequence,
    "q_discount": q_discount,
}


def build(names: list[str] | None = None, out: Path = HERE) -> list[Path]:
    reg = default_registry()
    written = []
    for name, builder in EXERCISES.items():
        if names and name not in names:
            continue
        exercise, solution = builder(reg)
        (out / "solutions").mkdir(parents=True, exist_ok=True)
        # ids from names (uuid5): a rebuild writes identical bytes, and the solution shares the exercise's ids
        save_project(stable_ids(exercise, reg), out / f"{name}{SUFFIX}", reg)
        save_project(stable_ids(solution, reg), out / "solutions" / f"{name}{SUFFIX}", reg)
        written.append(out / f"{name}{SUFFIX}")
    return written


if __name__ == "__main__":
    for path in build(sys.argv[1:]):
        print(path.name)
