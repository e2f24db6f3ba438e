"""Output roles: training reads the Output node's ``role`` param, never its name; older files get
roles from the name guess they trained with, so they train exactly as before."""

from __future__ import annotations

import copy
import json

import pytest

from studio.catalog import default_registry
from studio.core.factory import make_node
from studio.core.model import Edge
from studio.io.migrations import CURRENT_VERSION, migrate
from studio.io.project_file import project_from_dict, project_to_dict
from studio.io.templates import TEMPLATE_DIR, load_template
from studio.train.build import build_model
from studio.train.engine import run_to_end
from tests.train.helpers import chain, project


@pytest.fixture(scope="module")
def registry():
    return default_registry()


def _two_outputs(registry, first: tuple[str, str], second: tuple[str, str]):
    """Input -> Linear(3) -> two Outputs, in this node order: (name, role) each."""
    g = chain(registry, "model", [2], [("nn.linear", {"out_features": 3})], names=["fc"])
    out = next(n for n in g.nodes.values() if n.type_id == "io.output")
    src = next(e.src for e in g.edges.values() if e.dst == out.id)
    del g.nodes[out.id]
    for e in [e for e in g.edges.values() if e.dst == out.id]:
        del g.edges[e.id]
    for name, role in (first, second):
        node = make_node(registry.get("io.output"), g, name=name, role=role)
        g.nodes[node.id] = node
        edge = Edge(src, "out", node.id, "in")
        g.edges[edge.id] = edge
    return g


def test_an_output_named_like_a_code_with_role_prediction_stays_the_prediction(registry):
    g = _two_outputs(registry, ("scores", "auxiliary"), ("latent_code", "prediction"))
    built = build_model(g, registry)
    assert built.outputs == ["scores", "latent_code"]
    assert built.prediction_index == 1
    assert built.tap_outputs() == {}
    # and it trains on it
    last = run_to_end(project(g, training={"dataset": {"name": "spirals", "params": {"n": 200}}, "epochs": 1,
                                           "batch_size": 32, "threads": 1, "device": "cpu"}), registry)
    assert last.kind == "done", last.message


def test_latent_and_attention_roles_feed_the_views_whatever_their_names(registry):
    g = _two_outputs(registry, ("out", "prediction"), ("features", "latent"))
    built = build_model(g, registry)
    assert built.prediction_index == 0 and built.tap_outputs() == {"features": 1}
    assert built.outputs_with_role("latent") == {"features": 1}


def _v2(outputs: list[dict]) -> dict:
    nodes = [{"id": f"o{i}", "type": "io.output", "name": o["name"], "params": o.get("params", {})}
             for i, o in enumerate(outputs)]
    return {"format": "nnstudio.project", "version": 2, "graphs": [{"id": "g", "name": "m", "nodes": nodes,
                                                                     "edges": []}]}


@pytest.mark.parametrize("names, roles", [
    (["reconstruction", "latent"], ["prediction", "latent"]),
    (["attn_weights", "logits", "extra", "bottleneck"], ["attention", "prediction", "auxiliary", "latent"]),
    (["code", "attention"], ["prediction", "attention"]),  # all named like taps: the first predicts
    (["output"], ["prediction"]),
])
def test_migration_sets_roles_from_the_old_name_guess(names, roles):
    data = migrate(_v2([{"name": n} for n in names]))
    assert data["version"] == CURRENT_VERSION
    assert [n["params"]["role"] for n in data["graphs"][0]["nodes"]] == roles


def test_migration_keeps_an_explicit_role():
    data = migrate(_v2([{"name": "latent", "params": {"role": "prediction"}}, {"name": "x"}]))
    assert [n["params"]["role"] for n in data["graphs"][0]["nodes"]] == ["prediction", "auxiliary"]


def test_every_template_loads_with_roles_and_round_trips(registry):
    for path in sorted(TEMPLATE_DIR.glob("*.nnstudio")):
        p = load_template(path.stem, registry)
        for g in p.graphs:
            outs = [n for n in g.nodes.values() if n.type_id == "io.output"]
            roles = [n.params["role"] for n in outs]
            # one prediction at most (a VAE's encoder returns a mean and a log-variance instead)
            assert outs and roles.count("prediction") <= 1, (path.name, g.name, roles)
        saved = project_to_dict(p, registry)
        assert saved["version"] == CURRENT_VERSION
        again = project_from_dict(json.loads(json.dumps(copy.deepcopy(saved))), registry)
        assert project_to_dict(again, registry) == saved
    auto = load_template("conv_autoencoder", registry).graphs[0]
    assert {n.name: n.params["role"] for n in auto.nodes.values() if n.type_id == "io.output"} == {
        "reconstruction": "prediction", "latent": "latent"}
