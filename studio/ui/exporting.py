"""File > Export PyTorch code / Export ONNX…: files for each graph in a folder the user picks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget


def export_code_to(window, folder: str | Path) -> list[Path]:
    """Export every graph of the window's project; raises the compiler's error (with the node) on failure."""
    from studio.compile.exporter import export_project

    document = window.document
    # with the project path, saved weights beside the project are copied next to the code
    return export_project(document.project, document.registry, folder, project_path=document.path)


def export_code_dialog(window: QWidget) -> None:
    start = str(window.document.path.parent) if window.document.path else str(Path.home())
    folder = QFileDialog.getExistingDirectory(window, "Export PyTorch code into folder", start)
    if not folder:
        return
    try:
        written = export_code_to(window, folder)
    except Exception as exc:  # CompileError names the node; anything else still gets a readable box
        QMessageBox.warning(window, "Cannot export", f"The model cannot be exported yet:\n{exc}")
        return
    window.show_message("Exported " + ", ".join(p.name for p in written))


def onnx_job(window, folder: str | Path):
    """A job for the task runner: ONNX files for a snapshot of the project (editing may go on meanwhile)."""
    from studio.compile.onnx_export import export_project_onnx
    from studio.compile.weights import find_weights

    document = window.document
    project = document.project.snapshot()
    registry = document.registry
    weights = find_weights(document.path, project) if document.path else None

    def run(_ctx: Any) -> list[Any]:
        return export_project_onnx(project, registry, folder, weights=weights)

    return run


def export_onnx_to(window, folder: str | Path) -> list[Any]:
    """Synchronous ONNX export of every graph (checked by onnxruntime); raises a one-line error."""
    return onnx_job(window, folder)(None)


def onnx_message(results: list[Any]) -> str:
    worst = max((r.max_abs_diff for r in results), default=0.0)
    names = ", ".join(r.path.name for r in results)
    return f"Exported {names} (onnxruntime matches PyTorch, max |diff| {worst:.1e})"


def export_onnx_dialog(window: QWidget, folder: str | None = None):
    """Ask for a folder, then export on a worker thread; the result or the reason shows when done."""
    from studio.ui.tasks import shared_runner

    if folder is None:
        start = str(window.document.path.parent) if window.document.path else str(Path.home())
        folder = QFileDialog.getExistingDirectory(window, "Export ONNX into folder", start)
        if not folder:
            return None
    window.show_message("Exporting ONNX and checking it with onnxruntime…")

    def failed(message: str) -> None:
        QMessageBox.warning(window, "Cannot export ONNX", f"The model cannot be exported to ONNX:\n{message}")

    return shared_runner().start(onnx_job(window, folder), name="nnstudio-onnx",
                                 on_result=lambda results: window.show_message(onnx_message(results)),
                                 on_error=failed)
