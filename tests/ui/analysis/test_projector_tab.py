"""The projector on screen: PCA at once, t-SNE in the background, the nearest-neighbour box, the
workspace's Projector tab on a word-vector run and on a run with nothing to project."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from studio.analysis.projector import Source


def _words() -> Source:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(6, 8))
    vectors = np.concatenate([base, base[:3] + 0.01 * rng.normal(size=(3, 8))])
    tokens = ["night", "heart", "love", "eyes", "time", "thee", "day", "mind", "dear"]
    return Source("words", "embedding", vectors, tokens)


def test_pca_draws_every_point_and_the_query_lists_its_nearest(qtbot):
    from studio.ui.analysis.projector_tab import ProjectorView

    view = ProjectorView(runner=None)
    qtbot.addWidget(view)
    view.set_source(_words())
    x, _y = view.scatter.getData()
    assert len(x) == 9 and not view.nearest.isHidden()  # tokens: the query box shows
    view.query.setText("night")
    view.find()
    assert view.neighbour_tokens()[0] == "day"  # row 6 is row 0 plus a little noise
    assert len(view.neighbour_tokens()) == 8  # k = 10, but only 8 other words
    rx, _ = view.rings.getData()
    assert len(rx) == 9  # the query and its neighbours ringed
    view.query.setText("nigth")
    view.find()
    assert "not in the vocabulary" in view.answer.text() and view.neighbour_tokens() == []


@pytest.mark.slow
def test_tsne_runs_in_the_background_and_is_kept(qtbot):
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    from studio.ui.analysis.projector_tab import ProjectorView
    from studio.ui.tasks import TaskRunner

    box = QWidget()  # as in the workspace: the runner belongs to the window that holds the view
    qtbot.addWidget(box)
    runner = TaskRunner(box, name="test-projector")
    view = ProjectorView(runner, box)
    QVBoxLayout(box).addWidget(view)
    view.set_source(_words())
    pca = view.scatter.getData()[0].copy()
    view.method.setCurrentIndex(view.method.findData("tsne"))
    assert "t-SNE of 9 points" in view.status.text()
    runner.wait()
    qtbot.waitUntil(lambda: "tsne" in view.points, timeout=5000)
    assert not np.allclose(view.scatter.getData()[0], pca)
    assert view.plot.getPlotItem().getAxis("bottom").labelText == "t-SNE 1"
    runner.shutdown()


def test_live_view_shows_word_vectors_and_keeps_the_query_across_updates(qtbot):
    from studio.ui.training.views import LiveViews

    views = LiveViews()
    qtbot.addWidget(views)
    words = _words()
    views.show_views({"projector": {"vectors": words.vectors, "tokens": words.tokens, "title": "Word vectors"}})
    assert views.tabText(views.currentIndex()) == "Word vectors"
    view = views.parts["projector"]
    assert view.scatter.data["data"][0] == "night"  # what hovering the first point shows
    view.query.setText("night")
    view.find()
    views.show_views({"projector": {"vectors": words.vectors * 2, "tokens": words.tokens}})  # a later epoch
    assert view.neighbour_tokens()[0] == "day" and view.query.text() == "night"


@pytest.mark.slow
def test_workspace_opens_a_word_vector_run_on_its_projector(qtbot, registry, tmp_path):
    from bench.templates import load
    from studio.train.engine import run_to_end
    from studio.ui.analysis import AnalysisWorkspace
    from studio.ui.document import Document

    project = load("sonnets_skipgram", registry)
    project.training.update(threads=1, device="cpu", epochs=1, steps_per_epoch=20)
    assert run_to_end(project, registry, checkpoint_dir=tmp_path, views=False).kind == "done"
    ws = AnalysisWorkspace(Document(registry, copy.deepcopy(project)), tmp_path)
    qtbot.addWidget(ws)
    ws.runner.wait()
    qtbot.waitUntil(lambda: ws.projector.choice.count() == 1, timeout=5000)
    assert ws.tabs.currentWidget() is ws.projector  # no classifier: the workspace says so and shows vectors
    assert "no classifier" in ws.status.text()
    view = ws.projector.view
    assert view.source.tokens[:2] == ["and", "the"] and len(view.scatter.getData()[0]) == 457
    view.query.setText("night")
    view.find()
    assert len(view.neighbour_tokens()) == 10
    ws.shutdown()


def test_a_run_with_nothing_to_project_says_so(workspace, mlp_run):
    ws = workspace(mlp_run)
    assert ws.projector.choice.count() == 0
    assert "no Embedding node and no Output with role 'latent'" in ws.projector.info.text()


def test_at_150_percent_the_nearest_column_and_the_written_words_are_whole(qtbot):
    from PySide6.QtGui import QFont, QFontMetricsF

    from studio.ui.analysis.projector_tab import ProjectorView

    view = ProjectorView(runner=None)
    qtbot.addWidget(view)
    font = QFont(view.font())
    font.setPointSizeF(font.pointSizeF() * 1.5)
    view.setFont(font)  # presentation mode's scale reaches the view as a font change
    view.resize(1230, 210)  # the live view's share of a 1280×720 window
    view.show()
    view.set_source(_words())
    title = view.side_title
    assert title.width() >= title.sizeHint().width()  # "Nearest (cosine similarity)" is not elided
    box = view.plot.getPlotItem().getViewBox()
    (x0, x1), (y0, y1) = box.viewRange()
    fm = QFontMetricsF(view.texts[0].textItem.font())
    for text in view.texts:  # each word (above-right of its point) lies inside the plot
        top = text.pos().y() + fm.height() * (y1 - y0) / box.height()
        assert top <= y1 + 1e-9 and x0 <= text.pos().x() <= x1, text.toPlainText()


def test_on_a_short_page_the_plot_takes_the_whole_height_and_the_controls_stay_reachable(qtbot):
    """A projector's live page at 150 % is ~240 px tall: the projection switch, its status, the legend and the
    query sit beside the plot (scrolling if they must), none above or below it."""
    from studio.ui.analysis.projector_tab import ProjectorView

    view = ProjectorView(runner=None)
    qtbot.addWidget(view)
    font = view.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)
    view.setFont(font)
    view.resize(1270, 240)
    view.show()
    view.set_source(_words())
    qtbot.waitUntil(lambda: view.plot.height() > 0)
    assert view.plot.height() >= view.height() - 8
    assert view.side.geometry().left() >= view.plot.geometry().right()
    for control in (view.method, view.query, view.find_button, view.results):
        assert view.side.widget().isAncestorOf(control)  # in the column: scrolled to, never cut away
    assert view.results.minimumHeight() >= 60
