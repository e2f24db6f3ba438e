"""The small GPT on the bundled Sonnets: causal from nodes, exports (model and train.py), learns
shortened, writes text, reports perplexity; the LSTM's character stage writes too."""

from __future__ import annotations

import csv
import math
import subprocess
import sys

import pytest

from bench.templates import apply_stage, default_subs, load, train, unigram_perplexity
from studio.train.bundled import bundled_text, text_split

TEXT_TEMPLATES = ("char_gpt",)
SHORT = {"threads": 1, "device": "cpu", "seed": 0}


def test_char_gpt_is_a_causal_transformer_that_exports_exactly(registry):
    from studio.compile.exporter import export_graph
    from tests.templates.test_templates import _checked  # that module lists these templates as covered

    project = _checked(load("char_gpt", registry), registry)  # validates; exported outputs bit-identical
    graph = project.graph_by_name("gpt")
    types = [n.type_id for n in graph.nodes.values()]
    assert types.count("nn.transformer_encoder_layer") == 2 and "nn.positional_encoding" in types
    blocks = [n for n in graph.nodes.values() if n.type_id == "nn.transformer_encoder_layer"]
    assert all(b.params["causal"] for b in blocks)
    vocab = len(set(bundled_text("sonnets")))
    assert graph.node_by_name("next_char").params["out_features"] == vocab
    code = export_graph(graph, registry).code
    assert code.count("causal=True") == 2  # readable in the exported model
    ds = project.training["dataset"]
    assert ds["name"] == "bundled_text" and ds["params"]["length"] == graph.node_by_name("x").params["shape"][0]
    assert project.meta.get("try_steps")


@pytest.mark.slow
def test_char_gpt_shortened_beats_the_unigram_model_and_writes(registry):
    r = train(load("char_gpt", registry), registry, {**SHORT, "epochs": 2, "steps_per_epoch": 15})
    head, tail = text_split("sonnets", 0.1)
    unigram = unigram_perplexity(head, tail, bundled_text("sonnets"))
    ppl = r.curve("val_perplexity")
    assert ppl[-1] < unigram and ppl[-1] < ppl[0]
    assert r.last("val_perplexity") == pytest.approx(math.exp(r.last("val_loss")), rel=1e-4)  # plain cross-entropy
    d = r.update.views["text_generation"]
    assert d["prompt"] in tail and len(d["texts"]) == len(d["temperatures"]) == 10
    assert all(len(t) == 200 and set(t) <= set(bundled_text("sonnets")) for t in d["texts"])
    tokens = r.update.views["attention"]["tokens"]  # the heatmap's keys are the prompt's characters
    assert len(tokens) == 64 and all(isinstance(t, str) and len(t) == 1 for t in tokens)
    assert r.update.views["predictions"]["text"] is True  # its prediction tiles show characters, not token ids


def test_unigram_perplexity_is_the_frequency_model():
    assert unigram_perplexity("aaab", "ab", "ab") == pytest.approx(math.exp(-(math.log(4 / 6) + math.log(2 / 6)) / 2))
    assert unigram_perplexity("abcd", "dcba") == pytest.approx(4.0)  # uniform over four characters


@pytest.mark.slow
def test_char_gpt_exports_a_train_py_that_trains_on_the_bundled_text(registry, tmp_path):
    import numpy as np

    from studio.compile.exporter import export_project
    from studio.train.data import load_data
    from studio.train.script_export import export_train_script
    from studio.train.settings import DatasetSettings
    from tests.train.test_script_export import _env

    project = load("char_gpt", registry)
    project.training.update(epochs=1, steps_per_epoch=3)
    project.training["dataset"]["params"]["max_windows"] = 300
    export_project(project, registry, tmp_path)
    export_train_script(project, registry, tmp_path)
    assert (tmp_path / "texts" / "sonnets.txt").read_text(encoding="utf-8") == bundled_text("sonnets")
    r = subprocess.run([sys.executable, "train.py", "--out", "w"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=300, env=_env(tmp_path))
    assert r.returncode == 0, r.stderr[-2000:]
    with open(tmp_path / "w" / "metrics.csv", encoding="utf-8") as fh:
        row = next(csv.DictReader(fh))
    assert math.isfinite(float(row["val_perplexity"])) and float(row["val_perplexity"]) > 1
    code = ("import data, numpy as np\n"  # the exported data.py makes the very windows the app trains on
            f"x, y, info = data.load('bundled_text', {project.training['dataset']['params']!r}, 0)\n"
            "np.save('val.npy', info['val_x'])\n")
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, timeout=60, env=_env(tmp_path))
    ds = DatasetSettings.model_validate(project.training["dataset"])
    assert np.array_equal(np.load(tmp_path / "val.npy"), load_data(ds, 0).val_x.numpy())


@pytest.mark.slow
def test_lstm_character_stage_writes_text_too(registry):
    project = load("lstm_forecast", registry)
    variant = apply_stage(project, "characters", default_subs(project, "characters"))
    r = train(variant, registry, {**SHORT, "epochs": 1, "steps_per_epoch": 10})
    d = r.update.views["text_generation"]
    assert len(d["prompt"]) == 64 and all(len(t) == 200 for t in d["texts"])
    assert "val_perplexity" in r.history[-1]
    assert r.update.views["predictions"]["text"] is True  # its prediction tiles show characters too


def test_the_sequence_paradigm_declares_perplexity_and_the_view():
    from studio.train.recipes.registry import metric_spec, recipe_spec

    spec = recipe_spec("sequence")
    assert "text_generation" in spec.views
    ppl = metric_spec("val_perplexity")
    assert ppl is not None and not ppl.higher_is_better
