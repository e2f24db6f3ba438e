"""The contrastive template's Augmented views tab and the Reverse process tab on images (tiles, a slider
from pure noise to the samples, and Play)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from bench.templates import load, train


def _views(qtbot, payload, size=(1280, 720)):
    from studio.ui.training.views import LiveViews

    views = LiveViews()
    qtbot.addWidget(views)
    views.resize(*size)
    views.show()
    views.show_views(payload)
    return views


def test_augmented_views_show_each_image_twice_one_row_per_view(qtbot):
    rng = np.random.default_rng(0)
    views = _views(qtbot, {"pairs": {"first": rng.random((8, 1, 8, 8)), "second": rng.random((8, 1, 8, 8))}})
    assert [views.tabText(i) for i in range(views.count())] == ["Augmented views"]
    grid = views.parts["pairs"]
    assert len(grid.tiles) == 16 and grid.columns == 8
    assert grid.tiles[0].caption == "view 1" and grid.tiles[8].caption == "view 2"


@pytest.mark.slow
def test_reverse_process_of_digits_steps_through_image_frames(qtbot, registry):
    r = train(load("digits_diffusion", registry), registry,
              {"epochs": 1, "steps_per_epoch": 3, "threads": 1, "diffusion": {"steps": 20, "samples": 40}})
    views = _views(qtbot, r.update.views)
    views.setCurrentIndex([views.tabText(i) for i in range(views.count())].index("Reverse process"))
    grid, slider = views.parts["diffusion_grid"], views.parts["diffusion_slider"]
    assert grid.isVisibleTo(views) and not views.parts["diffusion"].isVisibleTo(views)
    assert slider.value() == slider.maximum() and "t = 0 of 20" in grid.title
    assert len(grid.tiles) == 32 and grid.columns == 8
    slider.setValue(0)
    assert "t = 20 of 20" in grid.title
    page = views.parts["diffusion_page"]
    page.play.click()
    assert page.timer.isActive() and page.play.text() == "Pause"
    qtbot.waitUntil(lambda: not page.timer.isActive(), timeout=20_000)
    assert slider.value() == slider.maximum() and page.play.text() == "Play"
    if os.environ.get("NNSTUDIO_SHOTS"):
        views.grab().save(os.path.join(os.environ["NNSTUDIO_SHOTS"], "diffusion_digits.png"))
