"""Deep clustering: purity, k-means on the autoencoder's codes against k-means on raw pixels, and setup
errors that say what to add."""

from __future__ import annotations

import numpy as np
import pytest

from bench.templates import load, train
from studio.train.engine import run_to_end
from studio.train.recipes.clustering import kmeans_purity, purity

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
