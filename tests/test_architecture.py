"""Architecture rules that keep the core headless (like napari's import-linter contract)."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEADLESS = ["studio/core", "studio/io", "studio/compile", "studio/train", "nodes"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_headless_packages_never_import_qt():
    offenders = []
    for folder in HEADLESS:
        for path in (ROOT / folder).rglob("*.py"):
            bad = _imports(path) & {"PySide6", "pyqtgraph", "shiboken6", "PyQt5", "PyQt6"}
            if bad:
                offenders.append(f"{path.relative_to(ROOT)}: {sorted(bad)}")
    assert offenders == []


@pytest.mark.slow
def test_headless_import_does_not_load_qt():
    code = ("import sys, studio.catalog, studio.core.validation, studio.io.project_file;"
            "studio.catalog.default_registry();"
            "print(any(m.startswith(('PySide6', 'pyqtgraph')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def test_modules_stay_short():
    long_files = [f"{p.relative_to(ROOT)} ({n} lines)" for p in ROOT.glob("studio/**/*.py")
                  if (n := len(p.read_text(encoding="utf-8").splitlines())) > 700]
    long_files += [f"{p.relative_to(ROOT)} ({n} lines)" for p in ROOT.glob("nodes/*.py")
                   if (n := len(p.read_text(encoding="utf-8").splitlines())) > 700]
    assert long_files == []
