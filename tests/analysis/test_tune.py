"""Search: parameters parsed with one-line errors, samplers that find the optimum, resumable studies."""

from __future__ import annotations

import math

import pytest

from studio.analysis.tune import SearchParam, TuneError, apply_values, parse_param, search
from studio.core.model import Project
from tests.train.helpers import mlp


def test_parse_ranges_and_choices():
    assert parse_param("optimizer.lr=1e-4:1e-1:log") == SearchParam("optimizer.lr", 1e-4, 1e-1, log=True)
    assert parse_param("epochs=2:8") == SearchParam("epochs", 2, 8, integer=True)
    assert parse_param("nodes.hidden.out_features=16,32,64").choices == (16, 32, 64)


@pytest.mark.parametrize("text, reason", [("lr", "key=low:high"), ("lr=1:0", "must be below"),
                                          ("lr=0:1:log", "log range"), ("lr=a:1", "not a number"),
                                          ("lr=1", "low:high"), ("lr=inf:1", "finite")])
def test_bad_params_get_one_line(text, reason):
    with pytest.raises(TuneError, match=reason) as info:
        parse_param(text)
    assert "\n" not in str(info.value)


def test_apply_values_sets_settings_and_node_params_on_a_copy(registry):
    project = Project(name="p", graphs=[mlp(registry, "model", 2, 8, 3)], training={"optimizer": {"lr": 0.1}})
    hidden = next(n for n in project.graphs[0].nodes.values() if n.type_id == "nn.linear")
    trial = apply_values(project, {"optimizer.lr": 0.01, f"nodes.{hidden.name}.out_features": 32})
    assert trial.training["optimizer"]["lr"] == 0.01 and project.training["optimizer"]["lr"] == 0.1
    assert next(n for n in trial.graphs[0].nodes.values() if n.name == hidden.name).params["out_features"] == 32
    with pytest.raises(TuneError, match="no node named 'ghost'"):
        apply_values(project, {"nodes.ghost.out_features": 3})


def _lr_scores(project):
    """A stand-in for training: the score peaks at lr = 1e-2, epoch by epoch."""
    lr = project.training["optimizer"]["lr"]
    for epoch in range(3):
        yield -abs(math.log10(lr) + 2) + 0.01 * epoch


def test_tpe_finds_the_optimum_with_fewer_trials_than_grid():
    project = Project(name="p", graphs=[], training={"optimizer": {"lr": 0.1}})
    param = [parse_param("optimizer.lr=1e-5:1:log")]
    grid = search(project, param, _lr_scores, metric="score", higher_is_better=True, trials=25, sampler="grid",
                  grid_points=25, prune=False)
    tpe = search(project, param, _lr_scores, metric="score", higher_is_better=True, trials=8, sampler="tpe",
                 prune=False)
    best_grid = grid.best.values["optimizer.lr"]
    best_tpe = tpe.best.values["optimizer.lr"]
    assert abs(math.log10(best_tpe / best_grid)) < math.log10(3)


def test_study_persists_and_resumes(tmp_path):
    project = Project(name="p", graphs=[], training={"optimizer": {"lr": 0.1}})
    param = [parse_param("optimizer.lr=1e-4:1e-1:log")]
    db = tmp_path / "study.sqlite"
    first = search(project, param, _lr_scores, metric="score", higher_is_better=True, trials=3, storage=db)
    assert len(first.trials) == 3
    again = search(project, param, _lr_scores, metric="score", higher_is_better=True, trials=5, storage=db)
    assert len(again.trials) == 5 and [t.number for t in again.trials] == list(range(5))


def test_failing_trials_are_recorded_not_raised():
    project = Project(name="p", graphs=[], training={})

    def broken(_project):
        raise RuntimeError("boom")
        yield 0.0

    study = search(project, [parse_param("x=0:1")], broken, metric="score", higher_is_better=True, trials=2)
    assert [t.state for t in study.trials] == ["fail", "fail"] and study.best is None
