"""nnstudio grade: a table per submission, a JSON gradebook, exit 0 only when every goal passes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli import main

ROOT = Path(__file__).resolve().parents[2] / "exercises"


@pytest.mark.slow
def test_grade_passes_the_solution_and_fails_the_unsolved_exercise(capsys):
    ex, sol = str(ROOT / "q_discount.nnstudio"), str(ROOT / "solutions" / "q_discount.nnstudio")
    assert main(["grade", ex, sol]) == 0
    out = capsys.readouterr().out
    assert "3/3 goals" in out and "PASS  setting rl.gamma >= 0.8" in out
    assert main(["grade", ex, sol, ex, "--json"]) == 1
    book = json.loads(capsys.readouterr().out)
    assert [s["passed"] for s in book["submissions"]] == [True, False]
    failed = [g for g in book["submissions"][1]["goals"] if not g["passed"]]
    assert failed[0]["detail"] == "rl.gamma = 0.1"


def test_grade_refuses_a_submission_for_another_exercise(capsys):
    code = main(["grade", str(ROOT / "q_discount.nnstudio"), str(ROOT / "solutions" / "gan_mode_collapse.nnstudio"),
                 "--no-train"])
    err = capsys.readouterr().err
    assert code == 2
    assert "is not a submission for exercise 'q_discount': it is for 'gan_mode_collapse'" in err
    assert len(err.strip().splitlines()) == 1


def test_grade_names_an_exercise_file_that_holds_no_exercise(capsys):
    from studio.io.templates import TEMPLATE_DIR

    template = str(TEMPLATE_DIR / "gridworld_q.nnstudio")
    assert main(["grade", template, str(ROOT / "q_discount.nnstudio"), "--no-train"]) == 2
    assert f"{template} holds no exercise" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.stem for p in ROOT.glob("*.nnstudio")))
def test_grade_passes_every_reference_solution_and_fails_every_unsolved_exercise(name, capsys):
    ex, sol = str(ROOT / f"{name}.nnstudio"), str(ROOT / "solutions" / f"{name}.nnstudio")
    assert main(["grade", ex, sol, ex, "--json"]) == 1  # trains each submission for its metric goals
    book = json.loads(capsys.readouterr().out)
    assert [s["passed"] for s in book["submissions"]] == [True, False], name
