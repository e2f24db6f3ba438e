"""Curve buffers, smoothing, hover read-out, log scale, run overlays and the live views' widgets."""

from __future__ import annotations

import numpy as np

from studio.train.engine import Update
from studio.ui.training.curve_data import Series
from studio.ui.training.plots import PlotsWidget, _nice


def test_series_doubles_and_keeps_every_point():
    s = Series(capacity=4)
    for i in range(37):
        s.append(i, i * 2.0)
    x, y = s.data()
    assert len(s.x) == 64 and s.n == 37
    assert np.array_equal(x, np.arange(37)) and np.array_equal(y, np.arange(37) * 2.0)


def test_ema_smoothing_is_debiased_and_recomputable():
    s = Series()
    s.set_smoothing(0.9)
    for i in range(50):
        s.append(i, 5.0)
    assert np.allclose(s.data(smoothed=True)[1], 5.0)  # debiased: a constant stays constant
    s2 = Series()
    s2.set_smoothing(0.5)
    for v in (0.0, 10.0):
        s2.append(0, v)
    assert s2.data(smoothed=True)[1][-1] == (0.5 * 10.0) / (1 - 0.25)
    s2.set_smoothing(0.0)
    assert np.array_equal(s2.data(smoothed=True)[1], s2.data()[1])


def test_nice_steps():
    assert [_nice(v) for v in (0.7, 3, 11, 240, 999)] == [1.0, 5.0, 20.0, 250.0, 1000.0]


def feed(plots: PlotsWidget, steps: int, loss=lambda s: 1.0 / s):
    for s in range(1, steps + 1):
        plots.add_updates([Update(kind="step", step=s, points=[(s, {"loss": loss(s), "accuracy": 0.5})])])
    plots.add_updates([Update(kind="epoch", step=steps, metrics={"loss": 0.3, "val_loss": 0.4, "val_accuracy": 0.8,
                                                                  "samples_per_s": 900.0, "epoch_s": 1.0})])
    plots.redraw(force=True)


def test_curves_per_metric_with_hover_and_log(qtbot):
    plots = PlotsWidget()
    qtbot.addWidget(plots)
    plots.resize(900, 400)
    plots.show()
    plots.begin_run({"recipe": "classification"})
    feed(plots, 100)
    keys = {(k[1], k[2], k[3]) for k in plots._curves}
    assert ("loss", "step", "loss") in keys and ("metric", "step", "accuracy") in keys
    assert ("loss", "epoch", "val_loss") in keys and ("metric", "epoch", "val_accuracy") in keys
    assert not any(k[3] in ("samples_per_s", "epoch_s") for k in plots._curves)  # throughput is not a curve
    curve = plots._curves[(1, "loss", "step", "loss")]
    x, _y = curve.getData()
    assert len(x) >= 1 and x.max() == 100
    (x0, x1), (y0, y1) = plots.plots["loss"].vb.viewRange()
    assert x0 == 0 and x1 >= 100 and y0 <= 0.01 and y1 >= 1.0  # our stepwise fit covers the data
    text = plots.hover_at("loss", 50)
    assert "step 50" in text and "loss ↓ = 0.02" in text  # with the direction its paradigm declares
    plots.log_box.setChecked(True)
    assert plots.plots["loss"].ctrl.logYCheck.isChecked() or plots.plots["loss"].vb.state["logMode"][1]
    plots.smooth_slider.setValue(0)
    plots.redraw(force=True)
    assert curve.getData()[1][-1] == 1.0 / 100 or np.isclose(10 ** curve.getData()[1][-1], 0.01)


def test_runs_are_overlaid_and_toggled(qtbot):
    plots = PlotsWidget()
    qtbot.addWidget(plots)
    plots.begin_run({"optimizer": {"lr": 0.1}})
    feed(plots, 20)
    plots.end_run(Update(kind="done", history=[{"val_loss": 0.4}]))
    plots.begin_run({"optimizer": {"lr": 0.01}})
    feed(plots, 20, loss=lambda s: 2.0 / s)
    assert len(plots.runs) == 2 and plots.runs_list.count() == 2
    assert not plots.runs[0].visible  # an older run is hidden when a new one starts
    assert not plots._curves[(1, "loss", "step", "loss")].isVisible()
    item = plots.runs_list.item(0)
    assert "lr=0.1" in item.toolTip() and "✓" in item.text()
    from PySide6.QtCore import Qt

    item.setCheckState(Qt.CheckState.Checked)
    c1, c2 = plots._curves[(1, "loss", "step", "loss")], plots._curves[(2, "loss", "step", "loss")]
    assert c1.isVisible() and c2.isVisible()
    assert c1.opts["pen"].color().name() != c2.opts["pen"].color().name()  # coloured by run when overlaid
    assert "#1" in plots.legends["loss"].text() and "#2" in plots.legends["loss"].text()


def test_gridworld_and_confusion_views_paint(qtbot):
    from studio.ui.training.views import LiveViews

    views = LiveViews()
    qtbot.addWidget(views)
    views.resize(900, 400)
    views.show()
    cells = np.zeros((3, 4), int)
    cells[1, 1], cells[2, 3], cells[1, 2], cells[0, 0] = 1, 2, 3, 5
    views.show_views({
        "gridworld": {"cells": cells, "values": np.random.default_rng(0).random((3, 4)),
                      "actions": np.ones((3, 4), int), "path": [(0, 0), (0, 1), (0, 2)]},
        "returns": {"episodes": list(range(10)), "returns": list(np.linspace(-1, 1, 10)), "lengths": [5] * 10},
        "confusion": {"matrix": np.array([[5, 1], [2, 7]]), "classes": ["a", "b"]},
    })
    assert {"grid", "classify"} <= set(views.pages)
    world = views.parts["grid_world"]
    views.parts["grid_speed"].setValue(50)
    assert world.timer.interval() == 20
    qtbot.waitUntil(lambda: world.agent > 0, timeout=2000)  # the agent walks its last episode
    views.setCurrentWidget(views.pages["grid"])
    assert not views.grab().isNull()
    views.clear_views()
    assert views.pages == {} and views.received == set()


def test_gan_image_samples_show_as_a_grid(qtbot):
    from studio.ui.training.views import LiveViews

    views = LiveViews()
    qtbot.addWidget(views)
    views.show()
    images = np.random.default_rng(1).random((16, 1, 12, 12)).astype(np.float32)
    views.show_views({"gan_samples": {"samples": images, "real": None, "centres": None}})
    grid = views.parts["gan_grid"]
    assert len(grid.tiles) == 16 and all(t.image is not None for t in grid.tiles)
    assert views.parts["gan_scatter"].isHidden() and not grid.isHidden()


def test_gui_settings_keep_a_core_for_the_ui():
    import os

    from studio.ui.training.panel import gui_settings

    cores = os.cpu_count() or 2
    assert gui_settings({"threads": cores + 4})["threads"] == max(1, cores - 1)
    assert gui_settings({"threads": 1})["threads"] == 1
    assert "threads" not in gui_settings({})  # 0/absent: the engine already leaves one core


def test_a_single_runs_list_colour_is_its_loss_curve_colour_and_runs_never_share_one(qtbot):
    plots = PlotsWidget()
    qtbot.addWidget(plots)
    plots.begin_run({"recipe": "classification"})
    feed(plots, 5)
    item = plots.runs_list.item(0)
    loss_pen = plots._curves[(1, "loss", "step", "loss")].opts["pen"].color().name()
    assert item.foreground().color().name() == loss_pen == plots.runs[0].color
    accuracy_pen = plots._curves[(1, "metric", "step", "accuracy")].opts["pen"].color().name()
    assert accuracy_pen != loss_pen  # other metrics never take the run's own colour
    for _ in range(11):
        plots.begin_run({"recipe": "classification", "dataset": {"name": "a rather long dataset name"}})
    colours = [r.color for r in plots.runs]
    assert len(set(colours)) == len(colours) == 12
    assert plots.runs_list.wordWrap()  # long run names wrap instead of being cut


def test_plots_follow_the_light_theme(qtbot, qapp):
    from PySide6.QtGui import QColor

    from studio.ui import theme

    plots = PlotsWidget()
    qtbot.addWidget(plots)
    plots.show()
    previous = theme.current().name
    try:
        theme.apply_theme(qapp, "light")
        qtbot.wait(20)
        background = plots.widgets["loss"].backgroundBrush().color()
        assert background.lightness() > 200  # not pyqtgraph's black
        axis = plots.plots["loss"].getAxis("left").textPen().color()
        assert axis.lightness() < 100 and axis != QColor("black").lighter(300)
        theme.apply_theme(qapp, "dark")
        qtbot.wait(20)
        assert plots.widgets["loss"].backgroundBrush().color().lightness() < 80
    finally:
        theme.apply_theme(qapp, previous)
