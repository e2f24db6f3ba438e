"""End-to-end checks of ``python -m studio train|export|check`` on small project files."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.io.project_file import save_project
from tests.train.helpers import mlp, project

ROOT = Path(__file__).resolve().parents[2]
TRAINING = {"recipe": "classification", "dataset": {"name": "spirals", "params": {"n": 300}}, "epochs": 2,
            "batch_size": 32, "optimizer": {"lr": 0.02}, "threads": 1}


def cli(*args, cwd=None):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "studio", *map(str, args)], capture_output=True, text=True,
                          timeout=180, cwd=cwd or ROOT, env=env)


@pytest.fixture
def project_file(registry, tmp_path):
    path = tmp_path / "spiral.nnsp"
    save_project(project(mlp(registry, "model", 2, 16, 3), training=TRAINING), path, registry)
    return path


@pytest.mark.slow  # two training subprocesses; tests/cli/test_errors.py trains in-process for the fast loop
def test_train_writes_metrics_and_checkpoints(project_file, tmp_path):
    out = tmp_path / "run"
    r = cli("train", project_file, "--epochs", 3, "--device", "cpu", "--out", out)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("epoch ")]
    assert len(lines) == 3 and "val_accuracy" in lines[-1]
    data = json.loads((out / "metrics.json").read_text())
    assert data["status"] == "done" and len(data["history"]) == 3
    assert data["history"][-1]["loss"] < data["history"][0]["loss"]
    header = (out / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header[0] == "epoch" and "val_loss" in header
    assert (out / "last.pt").exists() and (out / "best.pt").exists() and (out / "weights.safetensors").exists()
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # resume continues from the checkpoint, in a new folder beside the first run's
    r2 = cli("train", project_file, "--epochs", 4, "--out", out, "--resume", out / "last.pt")
    assert r2.returncode == 0, r2.stderr
    assert [ln.split()[1] for ln in r2.stdout.splitlines() if ln.startswith("epoch ")] == ["4/4"]
    second = tmp_path / "run-2"
    assert str(second) in r2.stdout and json.loads((second / "metrics.json").read_text())["status"] == "done"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the first run is untouched


@pytest.mark.slow
def test_export_with_train_script(project_file, tmp_path):
    out = tmp_path / "code"
    r = cli("export", project_file, "-o", out, "--train-script")
    assert r.returncode == 0, r.stderr
    assert {p.name for p in out.iterdir()} >= {"model.py", "train.py", "data.py"}


@pytest.mark.slow
def test_check_prints_shape_table(project_file):
    r = cli("check", project_file)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "B×16" in r.stdout and "B×3" in r.stdout and r.stdout.strip().endswith("ok")


@pytest.mark.slow
def test_bad_file_exits_2_with_one_line(tmp_path):
    missing = cli("train", tmp_path / "nope.nnsp")
    assert missing.returncode == 2 and missing.stderr.startswith("error:") and len(missing.stderr.splitlines()) == 1


def test_failures_exit_non_zero_with_one_line(registry, tmp_path, capsys):
    from studio.cli import main

    def one_line(code: int) -> str:
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and err.startswith("error:"), err
        return err

    garbage = tmp_path / "bad.nnsp"
    garbage.write_text("{not json")
    assert main(["check", str(garbage)]) == 2
    one_line(2)
    # an invalid graph: Linear with nothing feeding it
    p = project(mlp(registry, "model", 2, 16, 3), training=TRAINING)
    g = p.graphs[0]
    edge = next(e for e in g.edges.values() if g.nodes[e.dst].type_id == "nn.linear")
    del g.edges[edge.id]
    broken = tmp_path / "broken.nnsp"
    save_project(p, broken, registry)
    assert main(["train", str(broken)]) == 1
    assert "not connected" in one_line(1)
    assert main(["check", str(broken)]) == 1
    capsys.readouterr()
    # a training fault: NaN loss
    nan = tmp_path / "nan.nnsp"
    save_project(project(mlp(registry, "model", 2, 16, 3),
                         training=dict(TRAINING, optimizer={"name": "sgd", "lr": 1e12})), nan, registry)
    assert main(["train", str(nan), "--out", str(tmp_path / "nanrun")]) == 1
    assert "step" in one_line(1)
    bad_setting = tmp_path / "setting.nnsp"
    save_project(project(mlp(registry, "model", 2, 16, 3), training={"epochz": 3}), bad_setting, registry)
    assert main(["train", str(bad_setting)]) in (1, 2)  # refused by the loader (2) or the settings (1)
    assert "epochz" in one_line(1)
    assert main(["train", str(bad_setting), "--epochs", "0"]) in (1, 2)
    capsys.readouterr()
