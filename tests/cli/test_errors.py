"""Every command-line failure is one ``error:`` line with a meaningful exit code, never a traceback."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from studio.cli import main
from studio.io.project_file import save_project
from tests.train.helpers import mlp, project

ROOT = Path(__file__).resolve().parents[2]
TRAINING = {"recipe": "classification", "dataset": {"name": "spirals", "params": {"n": 200}}, "epochs": 1,
            "batch_size": 32, "optimizer": {"lr": 0.02}, "threads": 1}


def one_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error:"), err
    assert "Traceback" not in err and "internal error" not in err, err
    return err


def save(registry, tmp_path: Path, name: str = "p.nnsp", hidden: int = 16, training: dict | None = None) -> Path:
    path = tmp_path / name
    save_project(project(mlp(registry, "model", 2, hidden, 3), training=training or TRAINING), path, registry)
    return path


def test_help_lists_every_command_with_a_description():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "studio", "--help"], capture_output=True, text=True, env=env,
                       timeout=60, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    for name, words in (("check", "shape table"), ("train", "run folder"), ("export", "PyTorch code")):
        line = next((ln for ln in r.stdout.splitlines() if ln.strip().startswith(name + " ")), "")
        assert words in line, r.stdout
    assert "nnstudio [FILE]" in r.stdout  # the editor is still documented


def test_usage_errors_are_one_line(capsys):
    assert main(["train"]) == 2
    assert "project" in one_error(capsys)
    assert main(["train", "x.nnsp", "--epochs", "many"]) == 2
    assert "--epochs" in one_error(capsys)
    assert main(["frobnicate"]) == 2
    one_error(capsys)


def test_out_naming_a_file_or_an_unwritable_folder(registry, tmp_path, capsys):
    path = save(registry, tmp_path)
    a_file = tmp_path / "taken.txt"
    a_file.write_text("mine")
    for command in (["train", str(path), "--out", str(a_file)], ["export", str(path), "-o", str(a_file)]):
        assert main(command) == 2
        assert "is a file" in one_error(capsys)
    assert a_file.read_text() == "mine"
    for unwritable in (a_file / "sub", Path("/sys/nnstudio-run")):
        for command in (["train", str(path), "--out", str(unwritable)], ["export", str(path), "-o", str(unwritable)]):
            assert main(command) == 2
            assert str(unwritable) in one_error(capsys)


def test_a_pickle_checkpoint_is_refused_in_one_line(registry, tmp_path, capsys):
    path = save(registry, tmp_path)
    evil = tmp_path / "evil.pt"
    torch.save({"format": "nnstudio.checkpoint", "version": 1, "models": {}, "x": argparse.Namespace(a=1)}, evil)
    assert main(["train", str(path), "--resume", str(evil), "--out", str(tmp_path / "run")]) == 2
    err = one_error(capsys)
    assert "Python objects" in err and "argparse.Namespace" in err
    assert not (tmp_path / "run").exists()


def test_a_wrong_architecture_resume_names_the_keys(registry, tmp_path, capsys):
    small = save(registry, tmp_path, "small.nnsp", hidden=16)
    assert main(["train", str(small), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    capsys.readouterr()
    big = save(registry, tmp_path, "big.nnsp", hidden=32)
    assert main(["train", str(big), "--resume", str(tmp_path / "a" / "last.pt"), "--out", str(tmp_path / "b")]) == 2
    err = one_error(capsys)
    assert "of another shape" in err and "weight" in err and "16" in err and "32" in err, err
    assert not (tmp_path / "b").exists()


def test_a_failed_resume_never_touches_the_previous_run(registry, tmp_path, capsys):
    path = save(registry, tmp_path)
    out = tmp_path / "run"
    assert main(["train", str(path), "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    # a mistyped checkpoint path: refused before anything is written
    assert main(["train", str(path), "--out", str(out), "--resume", str(out / "lats.pt")]) == 2
    assert "lats.pt" in one_error(capsys)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("run")) == ["run"]
    # a resumed run that fails (its data is gone) writes its metrics into a new folder
    failing = save(registry, tmp_path, "gone.nnsp",
                   training=dict(TRAINING, epochs=3, dataset={"name": "csv", "path": str(tmp_path / "gone.csv")}))
    assert main(["train", str(failing), "--out", str(out), "--resume", str(out / "last.pt")]) == 1
    assert "gone.csv" in one_error(capsys)
    assert json.loads((tmp_path / "run-2" / "metrics.json").read_text())["status"] == "error"
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()} == before


def test_every_run_gets_its_own_folder(registry, tmp_path, capsys):
    path = save(registry, tmp_path)
    for _ in range(2):
        assert main(["train", str(path), "--quiet"]) == 0
    out = capsys.readouterr().out
    first, second = Path(str(path) + ".run"), Path(str(path) + ".run-2")
    assert f"in {first}" in out and f"in {second}" in out
    assert (first / "last.pt").exists() and (second / "last.pt").exists()


def test_csv_problems_are_one_line(registry, tmp_path, capsys):
    table = tmp_path / "t.csv"
    rows = ["température,b,label"] + [f"{i % 7},{(i * 3) % 5},{i % 3}" for i in range(60)]
    table.write_bytes("\n".join(rows).encode("latin-1"))
    csv_training = dict(TRAINING, dataset={"name": "csv", "path": str(table)})
    latin = save(registry, tmp_path, "latin.nnsp", training=csv_training)
    assert main(["train", str(latin), "--out", str(tmp_path / "l"), "--quiet"]) == 0  # read as latin-1
    capsys.readouterr()
    wide = tmp_path / "wide.csv"
    wide.write_text("a,b,label\n1,2,0\n3," + "4" * 131_073 + ",1\n5,6,2\n")
    huge = save(registry, tmp_path, "wide.nnsp", training=dict(TRAINING, dataset={"name": "csv", "path": str(wide)}))
    assert main(["train", str(huge), "--out", str(tmp_path / "w")]) == 1
    assert "line 3" in one_error(capsys)
    bad = save(registry, tmp_path, "features.nnsp",
               training=dict(TRAINING, dataset={"name": "csv", "path": str(table), "params": {"features": 5}}))
    assert main(["train", str(bad), "--out", str(tmp_path / "f")]) in (1, 2)
    assert "features" in one_error(capsys)


def test_an_internal_error_is_one_line_with_exit_70_and_debug_shows_it(monkeypatch, capsys):
    from studio.cli.commands import check
    from studio.cli.registry import Command

    def boom(args):
        raise ZeroDivisionError("the details")

    monkeypatch.setattr(check, "COMMAND", Command("check", "broken", check.arguments, boom))
    assert main(["check", "x.nnsp"]) == 70
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" in err and "ZeroDivisionError" in err and "--debug" in err
    assert main(["check", "x.nnsp", "--debug"]) == 70
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.slow
def test_a_closed_output_pipe_ends_quietly(registry, tmp_path):
    path = save(registry, tmp_path)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the command writes its first line (like `| head -0`)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        r = subprocess.run([sys.executable, "-m", "studio", "check", str(path)], stdout=write_end,
                           stderr=subprocess.PIPE, text=True, env=env, timeout=120, cwd=ROOT)
    finally:
        os.close(write_end)
    assert r.returncode in (0, 141) and r.stderr == "", r.stderr  # the work is done; nothing is said


def test_a_closed_pipe_during_training_keeps_the_results(registry, tmp_path, monkeypatch):
    """In-process: stdout's reader goes away mid-run; the run still saves its metrics."""
    path = save(registry, tmp_path)
    read_end, write_end = os.pipe()
    os.close(read_end)
    stream = os.fdopen(write_end, "w")
    monkeypatch.setattr(sys, "stdout", stream)
    try:
        code = main(["train", str(path), "--out", str(tmp_path / "run"), "--quiet"])
    finally:
        monkeypatch.undo()
        stream.close()
    assert code == 0
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["status"] == "done"


@pytest.mark.parametrize("command", ["check", "train", "export"])
def test_a_missing_project_is_one_line(command, tmp_path, capsys):
    extra = ["-o", str(tmp_path / "o")] if command == "export" else []
    assert main([command, str(tmp_path / "missing.nnsp"), *extra]) == 2
    one_error(capsys)


def test_resuming_with_another_optimizer_is_refused_before_the_run(registry, tmp_path, capsys):
    adam = save(registry, tmp_path, "adam.nnsp")
    assert main(["train", str(adam), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    capsys.readouterr()
    sgd = save(registry, tmp_path, "sgd.nnsp", training=dict(TRAINING, optimizer={"name": "sgd", "lr": 0.1}))
    assert main(["train", str(sgd), "--resume", str(tmp_path / "a" / "last.pt"), "--out", str(tmp_path / "b")]) == 2
    assert "adam" in one_error(capsys) and not (tmp_path / "b").exists()


def test_a_bug_inside_the_training_loop_exits_70_in_one_line(registry, tmp_path, monkeypatch, capsys):
    import studio.train.engine as engine

    def broken(ctx):
        raise ZeroDivisionError("deep inside")

    monkeypatch.setattr(engine, "make_recipe", broken)
    path = save(registry, tmp_path)
    assert main(["train", str(path), "--out", str(tmp_path / "run")]) == 70
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ZeroDivisionError" in err and "--debug" in err
    assert main(["train", str(path), "--out", str(tmp_path / "run"), "--debug"]) == 70
    assert "Traceback" in capsys.readouterr().err


def test_export_refuses_weights_that_are_not_this_projects_safetensors(registry, tmp_path, capsys):
    path = save(registry, tmp_path)
    evil = tmp_path / "evil.pt"
    torch.save({"x": argparse.Namespace(a=1)}, evil)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\xff" * 100)
    for weights in (evil, junk):
        assert main(["export", str(path), "-o", str(tmp_path / "out"), "--weights", str(weights)]) == 2
        assert "--weights" in one_error(capsys)
        assert not (tmp_path / "out" / "weights.safetensors").exists()
    assert main(["train", str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    capsys.readouterr()
    trained = tmp_path / "run" / "weights.safetensors"
    assert main(["export", str(path), "-o", str(tmp_path / "out"), "--weights", str(trained)]) == 0
    assert (tmp_path / "out" / "weights.safetensors").read_bytes() == trained.read_bytes()


def test_check_reports_the_memory_estimate_and_what_train_would_refuse(registry, tmp_path, capsys):
    path = save(registry, tmp_path)
    assert main(["check", str(path)]) == 0
    assert "memory: about" in capsys.readouterr().out
    heavy = save(registry, tmp_path, "heavy.nnsp", training=dict(TRAINING, memory_limit_mb=16, dataset={
        "name": "spirals", "params": {"n": 1_000_000}}))
    assert main(["check", str(heavy)]) == 1
    out = capsys.readouterr().out
    assert "needs about" in out and "dataset.params.n" in out
