"""Panels follow an app-wide theme switch (colours are read from the palette, not fixed)."""

import pytest
from PySide6.QtWidgets import QApplication

from studio.ui import theme
from studio.ui.panels._common import error_color, is_dark
from studio.ui.panels.code_view import CodePanel
from studio.ui.panels.inspector import InspectorPanel
from studio.ui.panels.palette import PalettePanel
from studio.ui.panels.problems import ProblemsPanel
from studio.ui.panels.summary import SummaryPanel
from tests.ui.panels.conftest import node_named


@pytest.fixture
def restore_app_look():
    app = QApplication.instance()
    palette, style, sheet = app.palette(), app.style().name(), app.styleSheet()
    yield app
    app.setStyleSheet(sheet)
    app.setStyle(style)
    app.setPalette(palette)


def test_panels_follow_theme_switch(qtbot, document, restore_app_look):
    app = restore_app_look
    theme.apply_theme(app, "dark")
    panels = [cls(document) for cls in (PalettePanel, InspectorPanel, SummaryPanel, CodePanel, ProblemsPanel)]
    for panel in panels:
        qtbot.addWidget(panel)
        panel.show()
    inspector = panels[1]
    document.set_selection(document.project.main_graph.id, [node_named(document, "unused").id])
    assert is_dark(inspector)
    dark_red = error_color(inspector).name()
    assert dark_red in inspector.error.styleSheet()
    theme.apply_theme(app, "light")
    QApplication.processEvents()
    assert not is_dark(inspector)
    light_red = error_color(inspector).name()
    assert light_red != dark_red
    assert light_red in inspector.error.styleSheet()
    assert panels[0].tree.topLevelItemCount() == len(document.registry.categories())
