"""At a projector's 1280×720 the run controls are on screen without scrolling, for every template and stage."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tools.screenshots import clipped


@pytest.mark.slow
@pytest.mark.parametrize("size", [(1280, 720), (1440, 900)])
def test_train_pause_stop_and_progress_are_visible_for_every_template_and_stage(window, qtbot, registry, size):
    from studio.io.stages import stages
    from studio.io.templates import list_templates, load_template

    main = window.window
    panel, dock = main.training_panel, main.training_dock
    main.resize(*size)
    seen = 0
    for info in list_templates():
        window.document.replace_project(load_template(info.key, registry))
        for stage in [None, *stages(window.document.project)]:
            panel.stage_bar.set_stage(stage)
            dock.show()
            dock.raise_()
            main.resizeDocks([dock], [360], Qt.Orientation.Vertical)
            qtbot.wait(20)
            assert clipped(panel) == [], f"{info.key} / {stage}"
            scroll = panel.settings_scroll
            assert scroll.horizontalScrollBar().maximum() == 0, f"{info.key} / {stage} scrolls sideways"
            seen += 1
    assert seen >= 7
