"""The Generated text tab: a held-out prompt, then the model's own characters at the slider's temperature."""

from __future__ import annotations

import os

from studio.train.text_sampling import DEFAULT_TEMPERATURE, TEMPERATURES


def _payload(written: int = 1, prefix: str = "") -> dict:
    return {"prompt": "Shall I compare thee to a summer's day?\n", "temperatures": list(TEMPERATURES),
            "texts": [f"{prefix}text at {t:.2f}: " + "thou art more lovely <and> more temperate\n" * 4
                      for t in TEMPERATURES],
            "default": DEFAULT_TEMPERATURE, "written": written}


def test_the_slider_picks_a_temperature_and_keeps_it_for_the_next_sample(qtbot):
    from studio.ui.training.views import LiveViews

    views = LiveViews()
    qtbot.addWidget(views)
    views.resize(1280, 720)
    views.show()
    views.last_step = 1234
    views.show_views({"text_generation": _payload()})
    assert [views.tabText(i) for i in range(views.count())] == ["Generated text"]
    page = views.parts["text_generation"]
    assert page.slider.maximum() == len(TEMPERATURES) - 1
    assert page.temperature() == DEFAULT_TEMPERATURE and page.value.text() == "Temperature 0.80"
    shown = page.text.toPlainText()
    assert shown.startswith("Shall I compare thee") and "text at 0.80" in shown and "<and>" in shown  # text, not markup
    assert "Sample 1" in page.status.text() and "1,234" in page.status.text()
    page.slider.setValue(len(TEMPERATURES) - 1)
    assert page.temperature() == 2.0 and "text at 2.00" in page.text.toPlainText()
    views.show_views({"text_generation": _payload(written=2, prefix="new ")})
    assert page.temperature() == 2.0 and "new text at 2.00" in page.text.toPlainText()  # the user's choice stays
    if os.environ.get("NNSTUDIO_SHOTS"):  # a look at the page: NNSTUDIO_SHOTS=/some/dir
        views.grab().save(os.path.join(os.environ["NNSTUDIO_SHOTS"], "text_generation.png"))


def test_the_sequence_paradigm_page_is_built_before_the_run(qtbot):
    from studio.train.recipes.registry import recipe_spec
    from studio.ui.training.views import LiveViews

    views = LiveViews()
    qtbot.addWidget(views)
    views.prepare(recipe_spec("sequence").views)
    assert "text" in views._built  # built ahead, so the first sample costs no widget construction
