"""Hostile sizes end in one line without the process growing past 2 GB (measured with wait4's ru_maxrss,
under RLIMIT_DATA so that a regression fails with MemoryError instead of taking the machine)."""

from __future__ import annotations

import gzip
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from studio.io.project_file import save_project
from tests.train.helpers import chain, mlp, project

ROOT = Path(__file__).resolve().parents[2]
GB = 1 << 30
LIMIT = int(2.5 * GB)


def limited_cli(*args: str) -> tuple[int, str, str, int]:
    """(exit code, stdout, stderr, peak RSS in bytes) of ``python -m studio ARGS`` under RLIMIT_DATA."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_DATA, (LIMIT, LIMIT))

    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-m", "studio", *args], stdout=out, stderr=err, env=env, cwd=ROOT,
                                preexec_fn=limit)
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return proc.returncode, out.read(), err.read(), usage.ru_maxrss * 1024


def one_line(err: str) -> str:
    assert len(err.strip().splitlines()) == 1 and err.startswith("error:"), err
    assert "internal error" not in err and "Traceback" not in err, err
    return err


@pytest.mark.slow
def test_a_model_too_big_to_train_is_refused_before_it_is_built(registry, tmp_path):
    graph = chain(registry, "model", [20_000], [("nn.linear", {"out_features": 20_000}),
                                                ("nn.linear", {"out_features": 3})])
    path = tmp_path / "big.nnsp"
    save_project(project(graph, training={"dataset": {"name": "spirals"}, "threads": 1}), path, registry)
    code, _out, err, rss = limited_cli("train", str(path), "--out", str(tmp_path / "run"))
    assert code == 1 and "needs about" in one_line(err) and "GB" in err
    assert rss < 2 * GB, rss  # the 1.6 GB of weights were never allocated


@pytest.mark.slow
def test_huge_dataset_parameters_are_refused_in_one_line(registry, tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("abcdefghij klmnopqrstuvwxyz. " * 70_000)  # 2 MB
    cases = {
        "n": {"name": "spirals", "params": {"n": 10**9}},
        "max_windows": {"name": "text", "path": str(text), "params": {"length": 512, "max_windows": 1_000_000}},
    }
    for word, dataset in cases.items():
        path = tmp_path / f"{word}.nnsp"
        graph = mlp(registry, "model", 2, 8, 3) if word == "n" else chain(
            registry, "model", [512], [("nn.embedding", {"num_embeddings": 40, "embedding_dim": 4}),
                                       ("nn.linear", {"out_features": 40})], dtype="int64")
        save_project(project(graph, training={"dataset": dataset, "threads": 1}), path, registry)
        code, _out, err, rss = limited_cli("train", str(path), "--out", str(tmp_path / word))
        assert code in (1, 2) and word in one_line(err), err
        assert rss < 2 * GB, (word, rss)


@pytest.mark.slow
def test_a_gz_bomb_in_a_dataset_folder_is_refused(registry, tmp_path):
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    header = bytes([0, 0, 8, 3]) + (100).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    with gzip.open(raw / "train-images-idx3-ubyte.gz", "wb", compresslevel=1) as fh:
        fh.write(header + bytes(100 * 784))
        zeros = bytes(64 << 20)
        for _ in range(24):  # 1.5 GB behind a header that declares 78 KB
            fh.write(zeros)
    for stem, n in (("train-labels-idx1-ubyte", 100), ("t10k-images-idx3-ubyte", 0), ("t10k-labels-idx1-ubyte", 0)):
        dims = [n, 28, 28] if "images" in stem else [n]
        with gzip.open(raw / f"{stem}.gz", "wb") as fh:
            fh.write(bytes([0, 0, 8, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims) + bytes(n * 784
                     if "images" in stem else n))
    graph = chain(registry, "model", [1, 28, 28], [("nn.flatten", {}), ("nn.linear", {"out_features": 10})])
    path = tmp_path / "mnist.nnsp"
    save_project(project(graph, training={"dataset": {"name": "mnist", "path": str(tmp_path / "data"),
                                                      "download": False}, "threads": 1}), path, registry)
    code, _out, err, rss = limited_cli("train", str(path), "--out", str(tmp_path / "run"))
    assert code == 1 and "more data than its header" in one_line(err)
    assert rss < 2 * GB, rss
