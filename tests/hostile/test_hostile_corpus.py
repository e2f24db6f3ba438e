"""The hostile-file corpus through load, ``nnstudio check``, ``nnstudio export`` and the editor's open.

Every file is generated here (tests/hostile/corpus.py) and run in a child process
(tests/hostile/worker.py). Held: 0 tracebacks (every refusal is one line), 0 hangs, 0 native
crashes, 0 runs over 2 GB, 0 corpus files changed or removed, nothing written outside the export folders.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.hostile import corpus
from tests.hostile.worker import BUDGET_BYTES

ROOT = Path(__file__).resolve().parents[2]


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _run(mode: str, cases: list[corpus.Case], tmp_path: Path, timeout: float) -> list[dict]:
    out = tmp_path / f"out-{mode}"
    out.mkdir()
    manifest = tmp_path / f"{mode}.json"
    manifest.write_text(json.dumps({"out": str(out), "cases": [asdict(c) for c in cases]}))
    results = tmp_path / f"{mode}-results.json"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "tests.hostile.worker", mode, str(manifest), str(results)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    progress = results.with_suffix(".progress")
    last = progress.read_text() if progress.exists() else "?"
    assert proc.returncode == 0, (f"{mode} worker died (exit {proc.returncode}) on case {last!r}: "
                                  f"{proc.stderr[-3000:]}")
    return json.loads(results.read_text())


def _one_line(text: str) -> bool:
    return "Traceback" not in text and len(text.strip().splitlines()) <= 1


def _headless_failures(cases: list[corpus.Case], results: list[dict]) -> list[str]:
    expected = {c.name: c.expect for c in cases}
    failures = []
    for r in results:
        name = r["name"]
        if "failure" in r:
            failures.append(f"{name}: {r['failure']} {r.get('traceback', '')[-600:]}")
            continue
        if expected[name] == "ok" and r["load"] != "ok":
            failures.append(f"{name}: should load, got {r.get('load_message')}")
        if expected[name] == "refused" and r["load"] != "refused":
            failures.append(f"{name}: should be refused, but it loaded")
        if r["load"] == "refused" and not _one_line(r["load_message"]):
            failures.append(f"{name}: refusal is not one line: {r['load_message']!r}")
        for command in ("check", "export"):
            run = r.get(command)
            if run is None:
                continue
            if run["rc"] not in (0, 1, 2) or not _one_line(run["stderr"]):
                failures.append(f"{name}: {command} exit {run['rc']}: {run['stderr'][-600:]!r}")
        if r["peak_rss"] > BUDGET_BYTES:
            failures.append(f"{name}: peak RSS {r['peak_rss'] / 2 ** 30:.2f} GiB")
    return failures


def _editor_failures(results: list[dict]) -> list[str]:
    failures = []
    for r in results:
        name = r["name"]
        if "failure" in r:
            failures.append(f"{name}: {r['failure']} {r.get('traceback', '')[-600:]}")
            continue
        if r["open"] == "refused" and (len(r["dialogs"]) != 1 or not _one_line(r["dialogs"][0])):
            failures.append(f"{name}: refused without exactly one one-line dialog: {r['dialogs']}")
        if r["open"] == "ok" and not r["undo_exact"]:
            failures.append(f"{name}: undo after edits did not restore the project")
    return failures


@pytest.mark.slow
def test_hostile_files_through_load_check_and_export(tmp_path):
    folder = tmp_path / "corpus"
    cases = corpus.build(folder) + corpus.add_fuzzed(folder, 40, seed=16)
    before = _hashes(folder)
    results = _run("headless", cases, tmp_path, timeout=300)
    assert len(results) == len(cases)
    assert _headless_failures(cases, results) == []
    assert _hashes(folder) == before  # nothing lost, changed or added beside the inputs
    long_names = next(r for r in results if r["name"] == "long_names_swapped_order")
    assert long_names["check"]["rc"] in (0, 1)


@pytest.mark.slow
def test_hostile_files_in_the_editor(tmp_path):
    folder = tmp_path / "corpus"
    cases = corpus.build(folder) + corpus.add_fuzzed(folder, 10, seed=61)
    before = _hashes(folder)
    results = _run("editor", cases, tmp_path, timeout=400)
    assert len(results) == len(cases)
    assert _editor_failures(results) == []
    assert _hashes(folder) == before
    opened = {r["name"] for r in results if r["open"] == "ok"}
    assert {"utf8_bom", "long_names_swapped_order", "unknown_type_sane"} <= opened
    refused = {r["name"] for r in results if r["open"] == "refused"}
    assert {"position_400_digits", "optimizer_is_a_number", "unknown_type_1e400"} <= refused


@pytest.mark.slow
def test_sixty_thousand_node_files(tmp_path):
    folder = tmp_path / "corpus"
    cases = [c for c in corpus.build(folder, large=True) if not c.small]
    results = _run("headless", cases, tmp_path, timeout=500)
    assert _headless_failures(cases, results) == []
    for r in results:
        assert r["check"]["seconds"] < 30, r  # it used to take longer than 90 s


def test_export_never_takes_another_projects_weights(registry, tmp_path):
    """``exp.v2.nnstudio`` beside ``exp.nnstudio`` and its weights: the export of exp.v2 has no weights
    (it used to copy exp's), and exp's own export still has them."""
    import contextlib
    import io

    from studio.cli import main
    from studio.compile.compiler import compile_graph
    from studio.compile.weights import save_weights, weights_path
    from studio.io.project_file import loads

    data = json.dumps(corpus.base_project())
    for stem in ("exp", "exp.v2"):
        (tmp_path / f"{stem}.nnstudio").write_text(data)
    exp = loads(data, registry)
    save_weights(exp, {exp.main_graph.id: compile_graph(exp.main_graph, registry)},
                 weights_path(tmp_path / "exp.nnstudio"))
    before = _hashes(tmp_path)
    for stem in ("exp", "exp.v2"):
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["export", str(tmp_path / f"{stem}.nnstudio"), "-o", str(tmp_path / f"out-{stem}")]) == 0
    assert (tmp_path / "out-exp" / "weights.safetensors").is_file()
    assert not (tmp_path / "out-exp.v2" / "weights.safetensors").exists()
    after = _hashes(tmp_path)
    assert {k: v for k, v in after.items() if not k.startswith("out-")} == before
