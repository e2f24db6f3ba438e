"""Skip-gram word embeddings: the vocabulary, the pairs, subsampling, a short run, and its projector."""

from __future__ import annotations

import numpy as np
import pytest

from bench.templates import load
from studio.train.recipes.skipgram import encode, keep_probability, pair_auc, pairs, vocabulary, words

SHORT = {"threads": 1, "device": "cpu", "seed": 0}


def test_words_vocabulary_and_pairs():
    tokens = words("Shall I compare thee to a summer's day? Thou art more lovely, thee; O'er thee.")
    assert tokens[:4] == ["shall", "i", "compare", "thee"] and "summer's" in tokens and "o'er" in tokens
    vocab, counts = vocabulary(tokens, 2)
    assert vocab == ["thee"] and counts.tolist() == [3]
    vocab, counts = vocabulary(["b", "a", "b", "c", "a", "b"], 1)
    assert vocab == ["b", "a", "c"] and counts.tolist() == [3, 2, 1]  # most frequent first
    ids = encode(["a", "x", "b", "c"], vocab)
    assert ids.tolist() == [1, 0, 2]  # words outside the vocabulary are dropped
    got = {tuple(p) for p in pairs(np.array([0, 1, 2]), 1)}
    assert got == {(0, 1), (1, 0), (1, 2), (2, 1)}
    assert len(pairs(np.array([0, 1, 2, 3]), 2)) == 2 * (3 + 2)


def test_subsampling_keeps_rare_words_and_thins_frequent_ones():
    keep = keep_probability(np.array([1000, 10, 1]), 0.001)
    assert keep[2] == 1.0 and keep[0] < keep[1] <= 1.0
    assert keep_probability(np.array([5, 5]), 0.0).tolist() == [1.0, 1.0]


def test_pair_auc_is_the_chance_of_a_real_pair_beating_a_shuffled_one():
    assert pair_auc(np.array([0.9, 0.8]), np.array([0.1, 0.2])) == 1.0
    assert pair_auc(np.array([0.1]), np.array([0.9])) == 0.0
    assert pair_auc(np.array([0.5, 0.5]), np.array([0.5])) == 0.5


@pytest.mark.slow
def test_short_skipgram_run_learns_word_vectors_and_opens_in_the_projector(registry, tmp_path):
    from studio.analysis.projector import nearest, run_sources
    from studio.train.engine import run_to_end

    project = load("sonnets_skipgram", registry)
    project.training.update(SHORT, epochs=4, optimizer={"name": "adam", "lr": 0.01})  # shortened: a faster rate
    last = run_to_end(project, registry, checkpoint_dir=tmp_path, throttle_s=1e9, view_interval_s=0.0)
    assert last.kind == "done", last.message
    final = last.history[-1]  # the untrained table scores about 0.5 (chance); the full template reaches 0.57+
    assert final["val_pair_auc"] > 0.515 and final["val_pair_cos"] > final["val_random_cos"]
    shown = last.views["projector"]
    assert len(shown["tokens"]) == len(shown["vectors"]) and shown["tokens"][:3] == ["and", "the", "to"]
    sources = run_sources(project, registry, tmp_path)
    table = next(s for s in sources if s.kind == "embedding")
    assert table.tokens is not None and table.tokens[0] == "and" and table.vectors.shape[1] == 48
    found = nearest(table, "love", 5)
    assert len(found) == 5 and "love" not in [w for w, _ in found]
    assert all(a[1] >= b[1] for a, b in zip(found, found[1:], strict=False))


def test_a_table_smaller_than_the_vocabulary_is_named(registry):
    from studio.train.engine import run_to_end

    project = load("sonnets_skipgram", registry)
    node = next(n for n in project.graphs[0].nodes.values() if n.name == "embed")
    node.params["num_embeddings"] = 10
    project.training.update(SHORT, epochs=1)
    last = run_to_end(project, registry, throttle_s=1e9, view_interval_s=1e9)
    assert last.kind == "error" and last.node == "embed"
    assert "set its num_embeddings to" in last.message


@pytest.mark.slow
def test_exported_train_py_trains_the_same_skipgram_without_nnstudio(registry, tmp_path):
    import csv
    import subprocess
    import sys

    from studio.compile.exporter import export_project
    from studio.train.engine import run_to_end
    from studio.train.script_export import export_train_script
    from tests.train.test_script_export import _env

    project = load("sonnets_skipgram", registry)
    project.training.update(SHORT, epochs=1, steps_per_epoch=30)
    app = run_to_end(project.snapshot(), registry, views=False)
    assert app.kind == "done", app.message
    out = tmp_path / "export"
    export_project(project, registry, out)
    export_train_script(project, registry, out)
    assert (out / "texts" / "sonnets.txt").is_file()  # the text its copied task reads
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select",
                           "E,F,W,I,B,UP", "--line-length", "120", "train.py"], cwd=out, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    r = subprocess.run([sys.executable, "train.py", "--out", "w", "--epochs", "1"], cwd=out, capture_output=True,
                       text=True, timeout=300, env=_env(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    with open(out / "w" / "metrics.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1 and list(rows[0]) == list(app.history[0])
    for metric in ("val_pair_auc", "val_held_pair_auc", "val_loss"):  # same seed, same steps: the same run
        assert float(rows[0][metric]) == pytest.approx(app.history[0][metric], abs=1e-4)
