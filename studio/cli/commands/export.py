"""``nnstudio export PROJECT -o OUT``: standalone PyTorch code for every graph (and train.py)."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from studio.cli.common import load
from studio.cli.output import CliError, say
from studio.cli.registry import Command


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="project file (.nnstudio)")
    parser.add_argument("-o", "--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--train-script", action="store_true",
                        help="also write train.py (+ data.py) to reproduce training")
    parser.add_argument("--weights", default=None, help="weights file to copy beside the code (default: the project's)")


def writable_folder(path: Path, option: str = "--out") -> Path:
    """Create ``path`` if needed and prove it takes files; a :class:`CliError` (exit 2) says why not."""
    if path.exists() and not path.is_dir():
        raise CliError(f"{option} {path} is a file, not a folder", 2)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise CliError(f"cannot write to {option} {path}: {exc.strerror or exc}", 2) from exc
    return path


def run(args: argparse.Namespace) -> int:
    from studio.compile.plan import CompileError

    project, registry = load(args.project)
    out = writable_folder(Path(args.out))
    weights = args.weights
    if weights is None:
        from studio.compile.weights import weights_path

        candidate = weights_path(args.project)
        weights = str(candidate) if candidate.exists() else None
    elif not os.path.isfile(weights):
        raise CliError(f"weights file {weights} does not exist", 2)
    try:
        from studio.compile.exporter import export_project

        written = export_project(project, registry, out, weights=weights)
        if args.train_script:
            from studio.train.script_export import export_train_script

            written += export_train_script(project, registry, out)
    except (CompileError, OSError, ValueError) as exc:
        raise CliError(f"cannot export: {exc}") from exc
    for path in written:
        say(str(path))
    return 0


COMMAND = Command("export", "write standalone PyTorch code for every graph (optionally train.py)", arguments, run,
                  order=30)
