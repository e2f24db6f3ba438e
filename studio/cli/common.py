"""Helpers the subcommands share: loading a project, number formats, the progress bar."""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from studio.cli.output import CliError


def load(path: str) -> tuple[Any, Any]:
    """(project, registry) or a :class:`CliError` with exit code 2 naming the file."""
    from studio.catalog import default_registry
    from studio.io.errors import ProjectFileError
    from studio.io.project_file import load_project

    registry = default_registry()
    try:
        return load_project(path, registry), registry
    except ProjectFileError as exc:
        raise CliError(str(exc), 2) from exc


def writable_folder(path: Path, option: str = "--out") -> Path:
    """Create ``path`` if needed and prove it takes files; a :class:`CliError` (exit 2) says why not.

    For every command with an output folder option: a file or an unwritable place is one line."""
    if path.exists() and not path.is_dir():
        raise CliError(f"{option} {path} is a file, not a folder", 2)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise CliError(f"cannot write to {option} {path}: {exc.strerror or exc}", 2) from exc
    return path


def fail_on_invalid(project: Any, registry: Any) -> None:
    """Refuse a project whose graphs have validation errors (the first one named, with a count)."""
    from studio.core.shapes import ShapeInferencer
    from studio.core.validation import validate

    inferencer = ShapeInferencer(registry)
    for graph in project.graphs:
        issues = [i for i in validate(graph, registry, inferencer.infer(graph)) if i.severity == "error"]
        if issues:
            more = f" (and {len(issues) - 1} more; run nnstudio check)" if len(issues) > 1 else ""
            raise CliError(f"graph '{graph.name}' is invalid: {issues[0].located(graph)}{more}")


def fmt(value: Any) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if abs(value) >= 10_000:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    return str(value)


def clock(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "--:--"
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60:02d}:{rest % 60:02d}"


class Progress:
    """A one-line progress bar on stderr (only on a terminal)."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled and stream.isatty()
        self.last = 0.0
        self.shown = False

    def show(self, u: Any) -> None:
        now = time.perf_counter()
        if not self.enabled or now - self.last < 0.1:
            return
        self.last = now
        width = 24
        filled = int(width * u.progress)
        loss = u.metrics.get("loss")
        text = (f"\repoch {u.epoch}/{u.epochs} [{'#' * filled}{'.' * (width - filled)}] {100 * u.progress:5.1f}%"
                f"  loss {fmt(loss) if loss is not None else '-'}  {u.samples_per_s:,.0f}/s  ETA {clock(u.eta_s)} ")
        self._write(text)
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self._write("\r" + " " * 90 + "\r")
            self.shown = False

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (BrokenPipeError, OSError, ValueError):
            self.enabled = False
