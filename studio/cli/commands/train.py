"""``nnstudio train PROJECT``: train headless into a new run folder (metrics, checkpoints, weights).

Every run gets a folder of its own (:mod:`studio.train.run_folder`), so a failed run, or a
``--resume`` from a mistyped or unfitting checkpoint, never touches an earlier run's files.
A ``--resume`` checkpoint is checked before the folder is made.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

from studio.cli.command import Command
from studio.cli.common import Progress, clock, fail_on_invalid, fmt, load
from studio.cli.output import EXIT_INTERNAL, CliError, say, warn


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="project file (.nnstudio)")
    parser.add_argument("--epochs", type=int, help="override the number of epochs")
    parser.add_argument("--device", choices=("auto", "cuda", "mps", "cpu"), help="override the device")
    parser.add_argument("--out", default=None,
                        help="folder for this run's metrics and checkpoints (default: PROJECT.run); when it "
                             "already holds a run, OUT-2, OUT-3, ... is used instead, so no run overwrites another")
    parser.add_argument("--resume", default=None, help="continue from this checkpoint (e.g. OUT/last.pt)")
    parser.add_argument("--memory-limit", type=int, metavar="MB", default=None,
                        help="refuse the run when it would need more memory than this (default: what is free)")
    parser.add_argument("--stage", default=None, help="train this template stage instead of the project's own "
                        "settings (nnstudio check lists them)")
    parser.add_argument("--with", dest="subs", action="append", default=[], metavar="NAME=VALUE",
                        help="a value the stage needs, e.g. --with pretrain=RUN/last.pt")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from studio.train.checkpoint import CheckpointError
    from studio.train.run_folder import RunFolderError, claim_run_folder
    from studio.train.settings import SettingsError, TrainingSettings

    project, registry = load(args.project)
    if args.stage is not None:
        project = _staged(project, args.stage, args.subs, Path(args.project).parent)
    try:
        settings = TrainingSettings.from_dict(project.training)
    except SettingsError as exc:
        raise CliError(str(exc)) from exc
    if args.epochs is not None:
        if args.epochs < 1:
            raise CliError("--epochs must be at least 1", 2)
        settings.epochs = args.epochs
    if args.device:
        settings.device = args.device
    if args.memory_limit is not None:
        if args.memory_limit < 1:
            raise CliError("--memory-limit must be at least 1 (MB)", 2)
        settings.memory_limit_mb = args.memory_limit
    fail_on_invalid(project, registry)
    if args.resume:
        from studio.train.checkpoint_fit import check_checkpoint_fits

        if not Path(args.resume).is_file():
            raise CliError(f"--resume: checkpoint {args.resume} does not exist", 2)
        try:
            check_checkpoint_fits(project, registry, args.resume, settings)
        except CheckpointError as exc:
            raise CliError(f"--resume: {exc}", 2) from exc
    try:
        out = claim_run_folder(args.out if args.out else str(args.project) + ".run")
    except RunFolderError as exc:
        raise CliError(str(exc), 2) from exc
    return _train(project, registry, settings, out, args)


def _staged(project: Any, stage: str, subs: list[str], folder: Path) -> Any:
    """The project with a template stage applied; unknown stages and missing values are one-line errors."""
    from studio.io.stages import StageError, apply_stage, default_subs, stages

    known = stages(project)
    if stage not in known:
        raise CliError(f"--stage: the project has no stage '{stage}' (stages: {', '.join(known) or 'none'})", 2)
    values = default_subs(project, stage, folder)
    for item in subs:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise CliError(f"--with '{item}': write NAME=VALUE", 2)
        values[name.strip()] = value
    try:
        return apply_stage(project, stage, values)
    except StageError as exc:
        raise CliError(f"--stage: {exc} (give it with --with NAME=VALUE)", 2) from exc


def _train(project: Any, registry: Any, settings: Any, out: Path, args: argparse.Namespace) -> int:
    from studio.train.engine import run as run_engine

    bar = Progress(sys.stderr, not args.quiet)
    final = None
    info: dict[str, Any] = {}
    # views=False: nothing shows live views here (per-node statistics and view data would only cost time)
    for u in run_engine(project.snapshot(), registry, settings=settings, checkpoint_dir=out, resume_from=args.resume,
                        views=False):
        if u.kind == "started":
            info = u.info
            sizes = ", ".join(f"{n}: {s['params']:,} params" for n, s in u.info.get("models", {}).items())
            say(f"training {project.name!r} ({settings.recipe}) on {u.info.get('device')}: {sizes}; run folder {out}")
        elif u.kind in ("step", "views"):
            bar.show(u)
        elif u.kind == "epoch":
            bar.clear()
            shown = "  ".join(f"{k} {fmt(v)}" for k, v in u.metrics.items() if k not in ("lr", "epoch"))
            say(f"epoch {u.epoch}/{u.epochs}  {shown}")
        elif u.final:
            bar.clear()
            final = u
    if final is None:
        raise CliError("the training loop ended without a result")
    _write_metrics(out, final, info)
    if final.kind == "error":
        debug = getattr(args, "debug", False)
        if debug and final.info.get("traceback"):
            sys.stderr.write(str(final.info["traceback"]))
        where = f" [node {final.node}]" if final.node else f" [setting {final.setting}]" if final.setting else ""
        if final.message.startswith("internal error"):  # a bug, not the user's input: say how to see more
            raise CliError(final.message + where + ("" if debug else "; run again with --debug for the details"),
                           EXIT_INTERNAL)
        raise CliError(final.message + where, 130 if final.message == "interrupted" else 1)
    _save_weights(project, out)
    say(f"{final.message}: {final.step} steps in {clock(final.elapsed_s)}; metrics and checkpoints in {out}")
    return 0 if final.kind == "done" else 1


def _write_metrics(out: Path, final: Any, info: dict[str, Any]) -> None:
    history = final.history
    keys: list[str] = []
    for row in history:
        keys += [k for k in row if k not in keys]
    with open(out / "metrics.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys or ["epoch"])
        writer.writeheader()
        for row in history:
            writer.writerow(row)
    payload = {"status": final.kind, "message": final.message, "steps": final.step, "elapsed_s": final.elapsed_s,
               "history": history, "node": final.node, "setting": final.setting, "checkpoint": final.checkpoint,
               "info": _jsonable({k: v for k, v in info.items() if k != "traceback"})}
    (out / "metrics.json").write_text(json.dumps(payload, indent=2, allow_nan=True) + "\n", encoding="utf-8")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def _save_weights(project: Any, out: Path) -> None:
    """Final weights as safetensors beside the checkpoints (what ``export --weights`` takes)."""
    from studio.train.checkpoint import load_checkpoint

    last = out / "last.pt"
    if not last.exists():
        return
    try:
        from studio.compile.weights import save_weights

        save_weights(project, load_checkpoint(last)["models"], out / "weights.safetensors")
    except Exception as exc:  # weights are a convenience; the checkpoint already holds them
        warn(f"could not write weights.safetensors ({exc})")


COMMAND = Command("train", "train a project headless into a new run folder (metrics, checkpoints, weights)",
                  arguments, run, order=20)
