"""File > Export ONNX…: a worker writes a checked .onnx per graph; the status bar says how close it is."""

from __future__ import annotations

import onnxruntime as ort
import torch


def test_file_menu_offers_onnx_export(editor):
    titles = [a.text() for a in editor.window.menuBar().actions()[0].menu().actions()]
    assert "Export ONNX…" in titles


def test_export_onnx_writes_checked_files_off_the_gui_thread(editor, qtbot, tmp_path):
    from studio.ui.exporting import export_onnx_dialog

    shown: list[str] = []
    editor.window.show_message = lambda text, *a, **k: shown.append(text)
    task = export_onnx_dialog(editor.window, folder=str(tmp_path))
    qtbot.waitUntil(lambda: any("max |diff|" in s for s in shown), timeout=60_000)
    task.wait()
    files = sorted(tmp_path.glob("*.onnx"))
    assert len(files) == len(editor.document.project.graphs)
    session = ort.InferenceSession(str(files[0]), providers=["CPUExecutionProvider"])
    feed = {i.name: torch.randn(5, *i.shape[1:]).numpy() for i in session.get_inputs()}  # batch 5: dynamic
    assert session.run(None, feed)[0].shape[0] == 5


def test_export_onnx_failure_is_shown_not_raised(editor, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from studio.ui.exporting import export_onnx_dialog

    boxes: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _w, _t, text, *a, **k: boxes.append(text))
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    task = export_onnx_dialog(editor.window, folder=str(blocker / "sub"))
    qtbot.waitUntil(lambda: bool(boxes), timeout=60_000)
    task.wait()
    assert "cannot be exported to ONNX" in boxes[0]
