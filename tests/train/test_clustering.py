"""Deep clustering: purity, k-means on the autoencoder's codes against k-means on raw pixels, and setup
errors that say what to add."""

from __future__ import annotations

import numpy as np
import pytest

from bench.templates import load, train
from studio.train.engine import run_to_end
from studio.train.nnloop.clustering import kmeans_purity, purity

SHORT = {"threads": 1, "device": "cpu", "seed": 0}


def test_purity_counts_each_clusters_majority_class():
    labels = np.array([0, 0, 1, 1, 2, 2])
    assert purity(np.array([5, 5, 7, 7, 9, 9]), labels) == 1.0
    assert purity(np.array([0, 0, 0, 1, 1, 1]), labels) == pytest.approx(4 / 6)
    assert purity(np.zeros(6, int), labels) == pytest.approx(2 / 6)


@pytest.mark.slow  # scikit-learn's k-means loads its thread pools on first use
def test_kmeans_finds_well_separated_groups():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 50)
    points = np.eye(3)[labels] * 10 + rng.normal(size=(150, 3))
    value, found = kmeans_purity(points, labels, 3, 0)
    assert value == 1.0 and len(set(found.tolist())) == 3


@pytest.mark.slow
def test_the_template_reports_code_and_raw_pixel_purity(registry):
    r = train(load("digits_clustering", registry), registry, {**SHORT, "epochs": 6})
    raw = r.last("val_raw_purity")
    assert 0.5 < raw < 0.95 and r.curve("val_raw_purity")[0] == raw  # the baseline, measured once
    assert r.curve("val_purity")[-1] > r.curve("val_purity")[0]  # codes cluster better as the autoencoder learns
    assert r.last("val_vs_baseline") > 1.5
    latent = r.update.views["latent"]
    assert latent["classes"][0] == "cluster 1" and len(latent["classes"]) == 10


def test_a_graph_without_a_latent_output_is_refused_with_what_to_add(registry):
    project = load("digits_clustering", registry).snapshot()
    project.graph_by_name("autoencoder").node_by_name("code").params["role"] = "auxiliary"
    project.training.update(SHORT, epochs=1)
    final = run_to_end(project, registry)
    assert final.kind == "error" and "role 'latent'" in final.message and "autoencoder" in final.message


def test_no_validation_images_is_refused_at_the_setting(registry):
    project = load("digits_clustering", registry).snapshot()
    project.training.update(SHORT, epochs=1, dataset={"name": "digits", "val_fraction": 0.0})
    final = run_to_end(project, registry)
    assert final.kind == "error" and final.setting == "dataset.val_fraction" and "k-means" in final.message


def test_the_template_exports_a_ruff_clean_train_py_with_its_settings(registry, tmp_path):
    import ast
    import subprocess
    import sys

    from studio.compile.exporter import export_project
    from studio.train.script_export import export_train_script

    project = load("digits_clustering", registry).snapshot()
    project.training.update(SHORT, epochs=1, clustering={"clusters": 7})
    export_project(project, registry, tmp_path)
    export_train_script(project, registry, tmp_path)
    text = (tmp_path / "train.py").read_text()
    assert "clustering.train_clustering(" in text and (tmp_path / "nnloop" / "clustering.py").exists()
    settings = next(ast.literal_eval(n.value) for n in ast.parse(text).body
                    if isinstance(n, ast.Assign) and n.targets[0].id == "SETTINGS")
    assert settings["clustering"] == {"clusters": 7} and set(settings["loss"]) == {"name", "noise"}
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select", "E,F,W,I,B,UP",
                        "--line-length", "120", "train.py", "data.py", "nnloop"], cwd=tmp_path, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout


def test_an_export_without_a_latent_output_says_what_to_add(registry):
    from studio.train.script_export import train_source

    project = load("digits_clustering", registry).snapshot()
    project.graph_by_name("autoencoder").node_by_name("code").params["role"] = "auxiliary"
    with pytest.raises(ValueError, match="role 'latent'.*k-means"):
        train_source(project, registry)
