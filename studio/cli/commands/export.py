"""``nnstudio export PROJECT -o OUT``: standalone PyTorch code for every graph (and train.py)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from studio.cli.command import Command
from studio.cli.common import load, writable_folder
from studio.cli.output import CliError, say


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="project file (.nnstudio)")
    parser.add_argument("-o", "--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--train-script", action="store_true",
                        help="also write train.py (+ data.py) to reproduce training")
    parser.add_argument("--weights", default=None, help="weights file to copy beside the code (default: the project's)")
    parser.add_argument("--onnx", action="store_true",
                        help="also write <graph>.onnx (dynamic batch), checked against PyTorch by onnxruntime")


def run(args: argparse.Namespace) -> int:
    from studio.compile.plan import CompileError

    project, registry = load(args.project)
    out = writable_folder(Path(args.out))
    weights = _weights(project, args)
    try:
        from studio.compile.exporter import export_project

        written = export_project(project, registry, out, weights=weights)
        if args.train_script:
            from studio.train.script_export import export_train_script

            written += export_train_script(project, registry, out)
        checked = []
        if args.onnx:
            from studio.compile.onnx_export import export_project_onnx

            checked = export_project_onnx(project, registry, out, weights=weights)
    except (CompileError, OSError, ValueError) as exc:
        raise CliError(f"cannot export: {exc}") from exc
    for path in written:
        say(str(path))
    for result in checked:
        say(result.summary())
    return 0


def _weights(project, args: argparse.Namespace) -> str | None:
    """The weights to ship: ``--weights`` checked to be a safetensors file that holds this project's
    graphs (a copied file is never opened by NN Studio again), else the project's own file, if any."""
    from studio.compile.weights import WeightsError, find_weights, load_weights

    if args.weights is None:
        found = find_weights(args.project, project)
        return str(found) if found is not None else None
    if not os.path.isfile(args.weights):
        raise CliError(f"weights file {args.weights} does not exist", 2)
    try:
        held = load_weights(project, args.weights)
    except WeightsError as exc:
        raise CliError(f"--weights: {exc}", 2) from exc
    if not held:
        names = ", ".join(g.name for g in project.graphs)
        raise CliError(f"--weights: {args.weights} holds no weights for this project's graphs ({names})", 2)
    return args.weights


COMMAND = Command("export", "write standalone PyTorch code for every graph (optionally train.py)", arguments, run,
                  order=30)
