"""The explanation panel: template text as headings/paragraphs/bullets, empty state, follows the document."""

from __future__ import annotations

import pytest

from studio.core.model import new_project
from studio.io.templates import list_templates, load_template
from studio.ui.panels.explanation import ExplanationPanel, explanation_html, paragraphs


@pytest.fixture(scope="module")
def registry():
    from studio.catalog import default_registry

    return default_registry()


@pytest.fixture
def doc(qtbot, registry):
    from studio.ui.document import Document

    return Document(registry, new_project())


def test_paragraph_labels_become_sections():
    text = "What it is: a net.\nIt has layers.\n\nTry: set a to 1; or delete b. Or add c.\n\nPlain words here."
    assert paragraphs(text) == [("What it is", "A net. It has layers."), ("Try", "Set a to 1; or delete b. Or add c."),
                                ("", "Plain words here.")]
    assert paragraphs("What to watch: val_mse falls.\n\nWeights: weights = file loads it.") == [
        ("What to watch", "val_mse falls."), ("Weights", "weights = file loads it.")]  # names keep their case
    html = explanation_html("T", "d", text, [("1. Pretrain", "about it")], dark=False)
    assert "<h3>What it is</h3>" in html and "<h3>Try</h3>" in html
    assert html.count("<li>") == 4  # three alternatives of "Try" and one stage
    assert "<b>1. Pretrain</b>" in html


def test_markup_in_the_text_is_shown_not_interpreted():
    html = explanation_html("<b>x</b>", "", "What it is: a <script> & 'shapes' set.", [], dark=True)
    assert "<b>x</b>" not in html and "&lt;script&gt;" in html and "<code>shapes</code>" in html


def test_empty_state_then_a_template_then_empty_again(qtbot, doc, registry):
    panel = ExplanationPanel(doc)
    qtbot.addWidget(panel)
    assert not panel.has_explanation and "no explanation" in panel.text()
    project = load_template("attention_reverse", registry)
    doc.replace_project(project)
    text = panel.text()
    assert project.meta["title"] in text
    for heading in ("What it is", "Why it is wired this way", "What to watch", "Try"):
        assert heading in text
    assert "What it is:" not in text  # the label became a heading, not a run-in
    doc.replace_project(new_project())
    assert "no explanation" in panel.text()


def test_every_template_renders_its_sections_and_stages(qtbot, doc, registry):
    panel = ExplanationPanel(doc)
    qtbot.addWidget(panel)
    for info in list_templates():
        project = load_template(info.key, registry)
        doc.replace_project(project)
        text = panel.text()
        assert info.title in text and "What to watch" in text, info.key
        for spec in project.meta.get("stages", {}).values():
            assert spec["label"] in text, info.key


def test_window_docks_it_beside_the_inspector_and_raises_it_for_templates(qtbot, registry):
    from tests.ui.conftest import close_editor, open_editor

    ed = open_editor(qtbot, registry, training=False)
    try:
        window = ed.window
        dock = window.docks["explanation"]
        assert dock in window.tabifiedDockWidgets(window.docks["inspector"])
        qtbot.waitUntil(lambda: dock.visibleRegion().isEmpty())  # no explanation: the Inspector stays in front
        from studio.io.templates import TEMPLATE_DIR

        assert window.files.open_template(TEMPLATE_DIR / "lstm_forecast.nnstudio")
        qtbot.waitUntil(lambda: not dock.visibleRegion().isEmpty())
        assert "char_model" in window.panels["explanation"].text()
    finally:
        close_editor(ed)
