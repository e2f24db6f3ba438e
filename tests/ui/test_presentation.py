"""Presentation mode: F11 hides the editing chrome and scales the UI; leaving restores it; nothing clipped
at 1280×720 and 1920×1080 at 150 %; ``--screenshot --presentation`` renders it."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from studio.io.templates import load_template
from tests.ui.conftest import close_editor, open_editor
from tools.presentation_screens import squeezed
from tools.screenshots import clipped


@pytest.fixture
def editor(qtbot, registry):
    ed = open_editor(qtbot, registry, load_template("gan_ring", registry))
    yield ed
    if ed.window.presentation.active:
        ed.window.presentation.leave()
    QApplication.instance().setStyleSheet("")
    close_editor(ed)


def test_f11_enters_and_leaves_presentation_mode(editor, qtbot):
    window = editor.window
    pres = window.presentation
    app = QApplication.instance()
    base = app.font().pointSizeF()
    app.setStyleSheet("QToolTip { padding: 4px; }")  # the theme's sheet: polished widgets keep their font
    assert pres.action.shortcut().toString() == "F11" and pres.action in window.view_menu.actions()
    pres.set_scale(150)
    pres.action.trigger()
    assert pres.active
    qtbot.waitUntil(lambda: window.docks["palette"].isHidden(), timeout=2000)
    for key in ("palette", "inspector", "summary", "code", "problems", "explanation", "goals"):
        assert not window.docks[key].isVisible(), key
    assert not window.menuBar().isVisible() and not window.training_panel.settings_scroll.isVisible()
    assert app.font().pointSizeF() == pytest.approx(base * 1.5)
    train = window.training_panel.train_button  # built before: it follows the scale too
    qtbot.waitUntil(lambda: train.font().pointSizeF() == pytest.approx(base * 1.5), timeout=2000)
    assert window.training_dock.height() >= 0.4 * window.height()
    title = window.training_dock.titleBarWidget()  # the dock's title grows with the rest
    assert title.text() == "Training"
    qtbot.waitUntil(lambda: title.font().pointSizeF() == pytest.approx(base * 1.5), timeout=2000)
    pres.set_scale(200)
    assert app.font().pointSizeF() == pytest.approx(base * 2.0)
    qtbot.waitUntil(lambda: title.font().pointSizeF() == pytest.approx(base * 2.0), timeout=2000)
    pres.action.trigger()  # F11 again leaves
    assert window.training_dock.titleBarWidget() is None  # Qt's title bar with its buttons again
    assert not pres.active and app.font().pointSizeF() == pytest.approx(base)
    qtbot.waitUntil(lambda: train.font().pointSizeF() == pytest.approx(base), timeout=2000)
    assert window.menuBar().isVisible() and window.docks["palette"].isVisible()
    assert window.training_panel.settings_scroll.isVisible()
    with pytest.raises(ValueError, match="100, 125, 150, 200"):
        pres.set_scale(175)


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
@pytest.mark.parametrize("template", ["gan_ring", pytest.param("transfer_cnn", marks=pytest.mark.slow)])
def test_nothing_is_clipped_at_150_percent(qtbot, registry, size, template):
    ed = open_editor(qtbot, registry, load_template(template, registry))
    try:
        window = ed.window
        window.resize(*size)
        window.presentation.set_scale(150)
        window.presentation.enter(full_screen=False)
        window.presentation.relayout()
        qtbot.wait(50)
        assert clipped(window.training_panel) == []
        assert squeezed(window) == []
        canvas = window.current_view()
        assert canvas.viewport().rect().contains(canvas.mapFromScene(canvas.content_rect()).boundingRect())
        window.presentation.leave()
    finally:
        close_editor(ed)


@pytest.mark.slow
def test_screenshot_renders_presentation_mode(tmp_path):
    from studio.ui.app import main

    base = QApplication.instance().font().pointSizeF()
    out = tmp_path / "shot.png"
    assert main(["--screenshot", str(out), "--template", "gan_ring", "--presentation", "--size", "1280x720"]) == 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 720)
    assert QApplication.instance().font().pointSizeF() == base  # left presentation mode before closing


@pytest.mark.slow
def test_every_template_at_both_sizes_by_the_screenshot_script(tmp_path):
    from tools.presentation_screens import main

    assert main([str(tmp_path)]) == 0  # exit 1 lists anything clipped
    shots = sorted(tmp_path.glob("*.png"))
    assert len(shots) >= 20 and {QImage(str(p)).width() for p in shots} == {1280, 1920}


@pytest.mark.slow
def test_a_big_graph_keeps_readable_nodes_and_shows_where_data_comes_in(qtbot, registry):
    from studio.ui.canvas.items import LOD_SIMPLE

    ed = open_editor(qtbot, registry, load_template("conv_autoencoder", registry))
    try:
        window = ed.window
        window.resize(1280, 720)
        window.presentation.enter(full_screen=False)
        window.presentation.relayout()
        view = window.current_view()
        assert view.zoom_level() > LOD_SIMPLE  # node text is drawn, not the low-detail strips
        x = ed.node_named("x")
        item = view.graph_scene.item_for_node(x.id)
        assert view.viewport().rect().contains(view.mapFromScene(item.sceneBoundingRect()).boundingRect())
        window.presentation.leave()
    finally:
        close_editor(ed)
