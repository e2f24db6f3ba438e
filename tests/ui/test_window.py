"""The window around the canvas: problems click, palette double-click, graph tabs, menus, help, gallery, themes, screenshots."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from studio.core.ops import SetParam
from studio.ui import theme


def test_problem_click_selects_and_centres_the_node(editor, qtbot):
    bad = editor.node_named("linear_1")
    editor.document.push(SetParam(editor.graph.id, bad.id, "in_features", 5))
    problems = editor.window.panels["problems"]
    problems.refresh()
    tree = problems.list
    row = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
               if "5" in tree.topLevelItem(i).text(0) or bad.name in tree.topLevelItem(i).text(1))
    view = editor.view
    view.centerOn(-5000, -5000)
    rect = tree.visualItemRect(row)
    QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
    assert editor.document.selected == [bad.id]
    centre = view.mapToScene(view.viewport().rect().center())
    assert editor.scene.nodes[bad.id].sceneBoundingRect().adjusted(-5, -5, 5, 5).contains(centre)


def test_palette_double_click_adds_in_view_centre(editor):
    palette = editor.window.panels["palette"]
    before = len(editor.graph.nodes)
    palette.add_requested.emit("nn.tanh")
    assert len(editor.graph.nodes) == before + 1
    node = next(n for n in editor.graph.nodes.values() if n.type_id == "nn.tanh")
    centre = editor.view.mapToScene(editor.view.viewport().rect().center())
    assert abs(node.position[0] - centre.x()) <= 20 and abs(node.position[1] - centre.y()) <= 20


def test_graph_tabs_follow_the_project(editor):
    window = editor.window
    assert not window.tabs.tabBar().isVisible()  # one graph: no tab bar
    window.add_graph()
    assert window.tabs.count() == 2 and window.tabs.tabBar().isVisible()
    second = editor.document.current_graph_id
    assert window.current_view() is window.views[second]
    editor.view.add_node_at("io.input", QPointF(0, 0))
    assert len(editor.document.project.graph(second).nodes) == 1
    window.tabs.setCurrentIndex(0)
    assert editor.document.current_graph_id == editor.document.project.graphs[0].id
    editor.document.undo_stack.undo()
    editor.document.undo_stack.undo()
    assert window.tabs.count() == 1


def test_context_menu_offers_the_edit_actions(editor):
    relu = editor.node_named("relu")
    item = editor.scene.nodes[relu.id]
    pos = editor.view.mapFromScene(item.mapToScene(QPointF(30, 8)))
    menu = editor.window.canvas_menu(editor.view, pos)
    texts = [a.text() for a in menu.actions() if a.text()]
    assert {"Delete", "Group", "Auto-layout", "Copy", "Paste"} <= set(texts)
    assert editor.document.selected == [relu.id]  # right-click selects what it hits


def test_shortcuts_dialog_lists_the_common_shortcuts(editor):
    from studio.ui.help import ShortcutsDialog, shortcut_rows

    rows = dict((what, keys) for keys, what in shortcut_rows(editor.window))
    assert "Ctrl+Z" in rows["Undo"] and "Ctrl+Y" in rows["Redo"]
    assert rows["Delete"].startswith("Del")
    assert rows["Group"] == "Ctrl+G" and rows["Auto-layout"] == "Ctrl+L"
    dialog = ShortcutsDialog(editor.window)
    assert dialog.table.rowCount() == len(rows)
    dialog.deleteLater()


def test_gallery_shows_templates_with_pictures(registry, qtbot, tmp_path):
    from studio.io.project_file import save_project
    from studio.ui.gallery import GalleryDialog
    from tools.demo import window_demo as demo_project

    project = demo_project(registry)
    project.meta = {"title": "Tiny demo", "description": "A small test template"}
    save_project(project, tmp_path / "tiny.nnstudio", registry)
    dialog = GalleryDialog(registry, folder=tmp_path)
    qtbot.addWidget(dialog)
    assert dialog.list.count() == 1
    item = dialog.list.item(0)
    assert "Tiny demo" in item.text() and "small test template" in item.text()
    image = item.icon().pixmap(200, 100).toImage()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 3  # boxes and wires were drawn, not just a background
    dialog.open_button.click()
    assert dialog.chosen == tmp_path / "tiny.nnstudio"


def test_theme_switch_repaints_canvas(editor):
    editor.window.set_theme("light")
    try:
        assert theme.current().name == "light"
        assert QApplication.instance().palette().base().color().lightness() > 200
        image = editor.view.grab().toImage()
        assert image.pixelColor(3, 3).lightness() > 180
    finally:
        editor.window.set_theme("dark")
    assert editor.view.grab().toImage().pixelColor(3, 3).lightness() < 80


def test_status_bar_shows_model_size(editor, qtbot):
    qtbot.waitUntil(lambda: "params" in editor.window.size_label.text(), timeout=2000)
    assert editor.window.device_label.text().startswith(("CPU", "GPU"))


@pytest.mark.slow
def test_screenshot_command_writes_a_png(tmp_path):
    from PySide6.QtGui import QImage

    from studio.ui.app import main

    out = tmp_path / "shot.png"
    assert main(["--screenshot", str(out), "--template", "demo", "--theme", "light", "--size", "1200x800"]) == 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1200, 800)
    theme.apply_theme(QApplication.instance(), "dark")


def test_escape_cancels_a_connection(editor):
    view = editor.view
    relu = editor.node_named("relu")
    start = view.mapFromScene(editor.scene.nodes[relu.id].port_scene_pos("out", True))
    QTest.mousePress(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(view.viewport(), start + QPoint(60, 40))
    assert view._temp is not None
    QTest.keyClick(view, Qt.Key.Key_Escape)
    assert view._temp is None
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(60, 40))
    assert editor.document.undo_stack.count() == 0


@pytest.mark.slow
def test_launch_shows_the_window_before_loading_torch(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", NNSTUDIO_CONFIG_DIR=str(tmp_path), PYTHONPATH=str(root))
    code = ("import sys, runpy; sys.argv = ['studio']; "
            "import studio.ui.app as app; rc = app.main([]); "
            "print('torch loaded before window:', 'torch' in sys.modules)")
    env["NNSTUDIO_STARTUP_PROBE"] = "shown"
    shown = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr[-1500:]
    assert "shown" in shown.stdout and "torch loaded before window: False" in shown.stdout
    env["NNSTUDIO_STARTUP_PROBE"] = "ready"
    ready = subprocess.run([sys.executable, "-m", "studio"], cwd=root, env=env, capture_output=True, text=True,
                           timeout=120)
    assert ready.returncode == 0 and ready.stdout.startswith("ready"), ready.stderr[-1500:]


def test_export_code_writes_a_module_per_graph(editor, tmp_path):
    import ast

    from studio.ui.exporting import export_code_to

    written = export_code_to(editor.window, tmp_path)
    assert [p.suffix for p in written] == [".py"]
    source = written[0].read_text()
    ast.parse(source)
    assert "nn.Linear" in source
