"""The embedding projector's computations: PCA, t-SNE, cosine neighbours, and the sources of a run."""

from __future__ import annotations

import numpy as np
import pytest

from studio.analysis.projector import (
    ProjectorError,
    Source,
    find_token,
    nearest,
    neighbours,
    project_points,
    run_sources,
)


def test_pca_recovers_the_known_components_up_to_sign():
    rng = np.random.default_rng(0)
    axes = np.linalg.qr(rng.normal(size=(5, 5)))[0]  # orthonormal columns: the true directions
    scores = rng.normal(size=(400, 5)) * np.array([10.0, 3.0, 0.1, 0.1, 0.1])
    x = scores @ axes.T + 2.0
    out = project_points(x, "pca", dims=2)
    assert out.shape == (400, 2)
    for k in range(2):  # each projected coordinate is the true score along that axis, up to sign
        corr = np.corrcoef(out[:, k], scores[:, k])[0, 1]
        assert abs(corr) > 0.999
    assert out[:, 0].var() > out[:, 1].var()


def test_neighbours_are_the_most_similar_rows_by_cosine():
    v = np.array([[1.0, 0.0], [10.0, 1.0], [0.0, 1.0], [-1.0, 0.0], [1.0, 1.0]])
    found = neighbours(v, 0, k=4)
    assert [i for i, _ in found] == [1, 4, 2, 3]  # scale does not matter, direction does
    assert found[0][1] == pytest.approx(10 / np.sqrt(101))
    assert found[-1][1] == pytest.approx(-1.0)


def test_nearest_by_token_and_a_clear_error_for_an_unknown_word():
    src = Source("words", "embedding", np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]), ["Love", "heart", "time"])
    assert [w for w, _ in nearest(src, "love", k=2)] == ["heart", "time"]
    assert find_token(src.tokens, "time") == 2
    with pytest.raises(ProjectorError, match="'lov' is not in the vocabulary.*close: Love"):
        nearest(src, "lov")


def test_tsne_runs_with_a_fixed_seed_and_keeps_clusters_apart():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(0, 0.1, (30, 8)), rng.normal(5, 0.1, (30, 8))])
    a = project_points(x, "tsne", seed=3)
    b = project_points(x, "tsne", seed=3)
    assert a.shape == (60, 2)
    np.testing.assert_allclose(a, b)
    centre_gap = np.linalg.norm(a[:30].mean(0) - a[30:].mean(0))
    spread = max(a[:30].std(0).max(), a[30:].std(0).max())
    assert centre_gap > 3 * spread


def test_bad_input_is_refused_in_one_line():
    with pytest.raises(ProjectorError, match="unknown projection"):
        project_points(np.ones((5, 3)), "umap")
    with pytest.raises(ProjectorError, match="NaN"):
        project_points(np.full((5, 3), np.nan))
    assert project_points(np.ones((3, 1)), "pca").shape == (3, 2)  # one dimension: padded, not refused


def test_a_run_without_a_checkpoint_says_so(tmp_path, registry):
    from studio.core.model import new_project

    with pytest.raises(ProjectorError, match="no checkpoint"):
        run_sources(new_project(), registry, tmp_path)


@pytest.mark.slow
def test_a_latent_output_is_projected_per_validation_sample_with_its_class(registry, tmp_path):
    from bench.templates import load
    from studio.train.engine import run_to_end

    project = load("digits_clustering", registry)
    project.training.update(threads=1, device="cpu", epochs=1, steps_per_epoch=5)
    assert run_to_end(project, registry, checkpoint_dir=tmp_path, views=False).kind == "done"
    latent = [s for s in run_sources(project, registry, tmp_path, max_points=300) if s.kind == "latent"]
    assert len(latent) == 1
    src = latent[0]
    assert len(src.vectors) == len(src.labels) == 300 and src.tokens is None
    assert src.classes[:3] == ["0", "1", "2"] and src.label(0) == src.classes[int(src.labels[0])]
    assert project_points(src.vectors, "pca").shape == (300, 2)


@pytest.mark.slow
def test_a_character_models_embedding_rows_are_labelled_by_their_characters(registry, tmp_path):
    from bench.templates import load
    from studio.train.data import load_data
    from studio.train.engine import run_to_end
    from studio.train.settings import TrainingSettings

    project = load("char_gpt", registry)
    project.training.update(threads=1, device="cpu", epochs=1, steps_per_epoch=2)
    assert run_to_end(project, registry, checkpoint_dir=tmp_path, views=False).kind == "done"
    table = next(s for s in run_sources(project, registry, tmp_path) if s.kind == "embedding")
    settings = TrainingSettings.from_dict(project.training)
    chars = list(load_data(settings.dataset, settings.seed).classes)
    assert table.tokens == chars[:len(table.vectors)] and "e" in table.tokens
    assert len(nearest(table, "e", 3)) == 3
