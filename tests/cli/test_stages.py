"""nnstudio train --stage: every template stage runs headless; check lists them."""

from __future__ import annotations

from studio.cli import main


def test_train_runs_a_template_stage_and_check_lists_the_stages(tmp_path, capsys):
    from studio.io.templates import TEMPLATE_DIR

    template = TEMPLATE_DIR / "gridworld_cliff.nnstudio"
    assert main(["check", str(template)]) == 0
    assert "stage sarsa: SARSA (nnstudio train --stage sarsa)" in capsys.readouterr().out
    assert main(["train", str(template), "--stage", "sarsa", "--out", str(tmp_path / "run"), "--quiet"]) == 0
    header = (tmp_path / "run" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"return", "val_greedy_return", "val_optimal_action_share", "val_v_error"} <= set(header)
    assert main(["train", str(template), "--stage", "nope", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "no stage 'nope'" in err and "sarsa" in err and len(err.strip().splitlines()) == 1
