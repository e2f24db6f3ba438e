"""explain / attack / compress / tune on a small trained shapes CNN, end to end through the CLI."""

from __future__ import annotations

import pytest

from studio.cli import main
from studio.core.factory import chain_graph
from studio.io.project_file import save_project
from tests.train.helpers import project

TRAINING = {"recipe": "classification", "dataset": {"name": "shapes", "params": {"n": 400, "size": 12}},
            "epochs": 2, "batch_size": 32, "optimizer": {"lr": 0.01}, "threads": 1}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from studio.catalog import default_registry

    registry = default_registry()
    folder = tmp_path_factory.mktemp("analysis")
    graph = chain_graph(registry, "cnn", [1, 12, 12], [
        ("nn.conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}), ("nn.relu", {}),
        ("nn.max_pool2d", {"kernel_size": 2}), ("nn.flatten", {}), ("nn.linear", {"out_features": 6})],
        names=["conv", "relu", "pool", "flat", "head"])
    path = folder / "shapes.nnstudio"
    save_project(project(graph, training=TRAINING), path, registry)
    run = folder / "run"
    assert main(["train", str(path), "--out", str(run), "--quiet"]) == 0
    return path, run


def test_explain_writes_one_picture_per_sample(trained, tmp_path, capsys):
    path, run = trained
    assert main(["explain", str(path), "--run", str(run), "--method", "ig", "--samples", "3",
                 "-o", str(tmp_path / "pics")]) == 0
    assert len(list((tmp_path / "pics").glob("*.png"))) == 3
    assert "convergence delta" in capsys.readouterr().out
    assert main(["explain", str(path), "--run", str(run), "--method", "gradcam", "--node", "conv", "--samples",
                 "2", "-o", str(tmp_path / "cam")]) == 0


def test_attack_prints_a_row_per_eps(trained, capsys):
    path, run = trained
    assert main(["attack", str(path), "--run", str(run), "--eps", "0.05,0.2", "--samples", "64"]) == 0
    rows = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip().endswith("p") and "%" in ln]
    assert len(rows) == 3  # clean plus two ε


def test_compress_prints_before_and_after_and_writes_exportable_weights(trained, tmp_path, capsys):
    path, run = trained
    out = tmp_path / "pruned.safetensors"
    assert main(["compress", str(path), "--run", str(run), "--prune", "0.5", "--quantize", "dynamic",
                 "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "original" in text and "pruned 50 %" in text and "int8 dynamic" in text and out.exists()
    assert main(["export", str(path), "--weights", str(out), "-o", str(tmp_path / "code")]) == 0


def test_tune_runs_trials_and_resumes_its_study(trained, tmp_path, capsys):
    path, _ = trained
    study = tmp_path / "study.sqlite"
    args = ["tune", str(path), "--param", "optimizer.lr=1e-3:1e-1:log", "--epochs", "1", "--study", str(study)]
    assert main([*args, "--trials", "2"]) == 0
    assert main([*args, "--trials", "3"]) == 0
    out = capsys.readouterr().out
    assert out.count("trial ") == 3 and "best: optimizer.lr=" in out


@pytest.mark.parametrize("argv, reason", [
    (["attack", "{p}", "--run", "{r}/missing"], "does not exist"),
    (["compress", "{p}", "--run", "{r}"], "nothing to do"),
    (["tune", "{p}", "--param", "lr=1:0"], "must be below"),
    (["explain", "{p}", "--run", "{r}", "--method", "gradcam", "--node", "nope", "-o", "{r}/x"], "no conv node"),
])
def test_bad_input_is_one_line(trained, capsys, argv, reason):
    path, run = trained
    code = main([a.format(p=path, r=run) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and reason in err and len(err.strip().splitlines()) == 1

