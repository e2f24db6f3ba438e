"""File > Export PyTorch code: writes one standalone .py per graph into a folder the user picks."""

from __future__ import annotations

from pathlib import Path

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
