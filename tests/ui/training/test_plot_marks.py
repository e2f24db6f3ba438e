"""Runs trained on flipped labels or adversarial examples say so on the curves and in the runs list."""

from __future__ import annotations

import copy

import pytest

from studio.ui.training.curve_data import run_marks
from studio.ui.training.plots import PlotsWidget
from tests.ui.training.projects import classification


@pytest.fixture(scope="module")
def registry():
    from studio.catalog import default_registry

    return default_registry()


def _train_into(plots: PlotsWidget, registry, training: dict) -> None:
    """Train for real and feed the engine's updates to the plots, as the training panel does."""
    from studio.train.engine import run

    proj = classification(registry, epochs=1)
    proj.training["dataset"].update(copy.deepcopy(training.get("dataset", {})))
    plots.begin_run(proj.training)
    updates = list(run(proj, registry, throttle_s=0.05, view_interval_s=1e9))
    assert updates[-1].kind == "done", updates[-1].message
    plots.add_updates(updates[:-1])
    plots.end_run(updates[-1])
    plots.redraw(force=True)


def _item_texts(plots: PlotsWidget) -> list[str]:
    return [plots.runs_list.item(i).text() for i in range(plots.runs_list.count())]


@pytest.mark.slow
def test_a_noisy_an_adversarial_and_a_clean_run_overlaid_are_told_apart(qtbot, registry):
    from PySide6.QtCore import Qt

    plots = PlotsWidget()
    qtbot.addWidget(plots)
    plots.resize(1280, 420)
    plots.show()
    _train_into(plots, registry, {"dataset": {"label_noise": 0.3}})
    assert "label noise 30 %" in _item_texts(plots)[0]
    assert "label noise" not in plots.legends["loss"].text()  # one run: its entry in the list says it
    _train_into(plots, registry, {"dataset": {"augment": {"adversarial": "fgsm", "adversarial_eps": 0.03}}})
    _train_into(plots, registry, {})
    noisy, adversarial, clean = _item_texts(plots)
    assert "label noise 30 %" in noisy and "FGSM" not in noisy
    assert "FGSM ε=0.03" in adversarial and "label noise" not in adversarial
    assert "label noise" not in clean and "FGSM" not in clean
    for i in range(2):  # tick the earlier runs to overlay all three
        plots.runs_list.item(i).setCheckState(Qt.CheckState.Checked)
    legend = plots.legends["loss"].text().replace("&nbsp;", " ")
    groups = legend.split("<br>")  # one line per run, named with what it trained on
    assert len(groups) == 3
    assert "#1 (label noise 30 %)</b>:" in groups[0] and "val_loss" in groups[0]
    assert "#2 (FGSM ε=0.03)</b>:" in groups[1] and "#3</b>:" in groups[2]
    assert "label noise" not in groups[2] and "FGSM" not in groups[2]
    import pyqtgraph as pg

    vb = plots.plots["metric"].vb
    (_x0, _x1), (y0, y1) = vb.viewRange()
    plots._hover("metric", vb.mapViewToScene(pg.Point(5, (y0 + y1) / 2)))  # the mouse over the middle of the plot
    hover = plots.hover_label.text()
    assert "(label noise 30 %)" in hover and "(FGSM ε=0.03)" in hover
    assert "label noise 30 %" in plots.runs_list.item(0).toolTip()
    assert not plots.grab().isNull()


def test_marks_follow_what_the_paradigm_applied_once_the_run_started():
    asked = {"dataset": {"label_noise": 0.25, "augment": {"adversarial": "pgd", "adversarial_eps": 0.1}}}
    assert run_marks(asked) == ["label noise 25 %", "PGD ε=0.1"]  # before the start: what was asked
    assert run_marks(asked, {"task": "regression"}) == []  # started, and nothing was applied
    applied = {"label_noise": {"share": 0.25, "flipped": 10, "of": 40}, "adversarial": {"method": "pgd", "eps": 0.1}}
    assert run_marks({}, applied) == ["label noise 25 %", "PGD ε=0.1"]
    assert run_marks({"dataset": {"label_noise": 0.0, "augment": {"adversarial": "off"}}}) == []
