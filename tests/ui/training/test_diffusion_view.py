"""The diffusion recipe's Reverse process tab: a slider steps from pure noise to the samples."""

from __future__ import annotations

import os

from bench.templates import load, train


def test_reverse_process_slider_plays_the_frames(qtbot, registry):
    from studio.ui.training.views import LiveViews

    overrides = {"epochs": 2, "steps_per_epoch": 10, "threads": 1, "diffusion": {"steps": 20, "samples": 300}}
    r = train(load("diffusion_ring", registry), registry, overrides)
    views = LiveViews()
    qtbot.addWidget(views)
    views.resize(1280, 720)
    views.show()
    views.show_views(r.update.views)
    assert [views.tabText(i) for i in range(views.count())] == ["Generated samples", "Reverse process"]
    slider = views.parts["diffusion_slider"]
    last = len(r.update.views["diffusion"]["frames"]) - 1
    assert slider.maximum() == last and slider.value() == last
    assert "step t = 0 of 20" in views.parts["diffusion"].plot.getPlotItem().titleLabel.text
    slider.setValue(0)
    assert "step t = 20 of 20" in views.parts["diffusion"].plot.getPlotItem().titleLabel.text
    if os.environ.get("NNSTUDIO_SHOTS"):  # a look at the page: NNSTUDIO_SHOTS=/some/dir
        views.setCurrentIndex(1)
        for v in (0, last // 2, last):
            slider.setValue(v)
            qtbot.wait(50)
            views.grab().save(os.path.join(os.environ["NNSTUDIO_SHOTS"], f"diffusion_{v}.png"))
