"""Headless commands: ``nnstudio train | export | check PROJECT``.

Each command prints what it did, and on failure a single ``error: ...`` line on stderr and a
non-zero exit code (1: the project or training failed, 2: bad arguments or unreadable file,
130: interrupted). No Qt is imported.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path
from typing import Any, TextIO


class CliError(Exception):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nnstudio", description="NN Studio headless commands")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a project and write metrics and checkpoints")
    t.add_argument("project")
    t.add_argument("--epochs", type=int, help="override the number of epochs")
    t.add_argument("--device", choices=("auto", "cuda", "mps", "cpu"), help="override the device")
    t.add_argument("--out", default=None, help="folder for metrics.csv, metrics.json, checkpoints (default: PROJECT.run)")
    t.add_argument("--resume", default=None, help="continue from this checkpoint (e.g. OUT/last.pt)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    e = sub.add_parser("export", help="write standalone PyTorch code for every graph")
    e.add_argument("project")
    e.add_argument("-o", "--out", required=True, help="output folder")
    e.add_argument("--train-script", action="store_true", help="also write train.py (+ data.py) to reproduce training")
    e.add_argument("--weights", default=None, help="weights file to copy beside the code (default: the project's)")
    c = sub.add_parser("check", help="print validation issues and the shape table")
    c.add_argument("project")
    return p


def main(argv: list[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(args_list)
    except SystemExit as exc:  # argparse already printed its usage line
        return int(exc.code or 0) and 2
    try:
        if args.command == "train":
            return cmd_train(args)
        if args.command == "export":
            return cmd_export(args)
        return cmd_check(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def _load(path: str):
    from studio.catalog import default_registry
    from studio.io.errors import ProjectFileError
    from studio.io.project_file import load_project

    registry = default_registry()
    try:
        return load_project(path, registry), registry
    except ProjectFileError as exc:
        raise CliError(str(exc), 2) from exc


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if abs(value) >= 10_000:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    return str(value)


def _clock(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "--:--"
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60:02d}:{rest % 60:02d}"


class _Progress:
    """A one-line progress bar on stderr (only on a terminal)."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled and stream.isatty()
        self.last = 0.0
        self.shown = False

    def show(self, u) -> None:
        now = time.perf_counter()
        if not self.enabled or now - self.last < 0.1:
            return
        self.last = now
        width = 24
        filled = int(width * u.progress)
        loss = u.metrics.get("loss")
        text = (f"\repoch {u.epoch}/{u.epochs} [{'#' * filled}{'.' * (width - filled)}] {100 * u.progress:5.1f}%"
                f"  loss {_fmt(loss) if loss is not None else '-'}  {u.samples_per_s:,.0f}/s  ETA {_clock(u.eta_s)} ")
        self.stream.write(text)
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 90 + "\r")
            self.stream.flush()
            self.shown = False


def cmd_train(args) -> int:
    from studio.train.engine import run
    from studio.train.settings import SettingsError, TrainingSettings

    project, registry = _load(args.project)
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
    _fail_on_invalid(project, registry)
    out = Path(args.out) if args.out else Path(str(args.project) + ".run")
    out.mkdir(parents=True, exist_ok=True)
    bar = _Progress(sys.stderr, not args.quiet)
    final = None
    info: dict[str, Any] = {}
    for u in run(project.snapshot(), registry, settings=settings, checkpoint_dir=out, resume_from=args.resume):
        if u.kind == "started":
            info = u.info
            sizes = ", ".join(f"{n}: {s['params']:,} params" for n, s in u.info.get("models", {}).items())
            print(f"training {project.name!r} ({settings.recipe}) on {u.info.get('device')}: {sizes}", flush=True)
        elif u.kind in ("step", "views"):
            bar.show(u)
        elif u.kind == "epoch":
            bar.clear()
            shown = "  ".join(f"{k} {_fmt(v)}" for k, v in u.metrics.items() if k not in ("lr",))
            print(f"epoch {u.epoch}/{u.epochs}  {shown}", flush=True)
        elif u.final:
            bar.clear()
            final = u
    assert final is not None
    _write_metrics(out, final, info)
    if final.kind == "error":
        where = f" [node {final.node}]" if final.node else f" [setting {final.setting}]" if final.setting else ""
        raise CliError(final.message + where)
    _save_weights(project, out)
    print(f"{final.message}: {final.step} steps in {_clock(final.elapsed_s)}; metrics and checkpoints in {out}")
    return 0 if final.kind == "done" else 1


def _fail_on_invalid(project, registry) -> None:
    from studio.core.shapes import ShapeInferencer
    from studio.core.validation import validate

    inferencer = ShapeInferencer(registry)
    for graph in project.graphs:
        issues = [i for i in validate(graph, registry, inferencer.infer(graph)) if i.severity == "error"]
        if issues:
            more = f" (and {len(issues) - 1} more; run nnstudio check)" if len(issues) > 1 else ""
            raise CliError(f"graph '{graph.name}' is invalid: {issues[0].located(graph)}{more}")


def _write_metrics(out: Path, final, info: dict[str, Any]) -> None:
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


def _save_weights(project, out: Path) -> None:
    """Final weights as safetensors beside the checkpoints (what ``export --weights`` takes)."""
    from studio.train.checkpoint import load_checkpoint

    last = out / "last.pt"
    if not last.exists():
        return
    try:
        from studio.compile.weights import save_weights

        save_weights(project, load_checkpoint(last)["models"], out / "weights.safetensors")
    except Exception as exc:  # weights are a convenience; the checkpoint already holds them
        print(f"warning: could not write weights.safetensors ({exc})", file=sys.stderr)


def cmd_export(args) -> int:
    from studio.compile.plan import CompileError

    project, registry = _load(args.project)
    out = Path(args.out)
    weights = args.weights
    if weights is None:
        from studio.compile.weights import weights_path

        candidate = weights_path(args.project)
        weights = str(candidate) if candidate.exists() else None
    elif not Path(weights).exists():
        raise CliError(f"weights file {weights} does not exist", 2)
    try:
        from studio.compile.exporter import export_project

        written = export_project(project, registry, out, weights=weights)
        if args.train_script:
            from studio.train.script_export import export_train_script

            written += export_train_script(project, registry, out)
    except CompileError as exc:
        raise CliError(f"cannot export: {exc}") from exc
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot export: {exc}") from exc
    for path in written:
        print(path)
    return 0


def cmd_check(args) -> int:
    from studio.core.shapes import ShapeInferencer
    from studio.core.validation import validate
    from studio.train.settings import SettingsError, TrainingSettings

    project, registry = _load(args.project)
    inferencer = ShapeInferencer(registry)
    errors = 0
    for graph in project.graphs:
        shapes = inferencer.infer(graph)
        issues = validate(graph, registry, shapes)
        print(f"graph '{graph.name}': {len(graph.nodes)} nodes, {shapes.total_params:,} parameters")
        rows = [("node", "type", "output", "params")]
        from studio.core.graph_order import topological_order

        for node_id in topological_order(graph):
            node = graph.nodes[node_id]
            spec = registry.find(node.type_id)
            ns = shapes.nodes.get(node_id)
            outs = ", ".join(t.text for t in ns.outputs.values()) if ns and ns.outputs else ("-" if ns and not ns.error else "?")
            rows.append((node.name, spec.title if spec else node.type_id, outs, f"{ns.params:,}" if ns else "0"))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        for r in rows:
            print("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
        for issue in issues:
            print(f"  {issue.severity}: {issue.located(graph)}")
            errors += issue.severity == "error"
    try:
        TrainingSettings.from_dict(project.training)
    except SettingsError as exc:
        print(f"error: {exc}")
        errors += 1
    if errors:
        print(f"error: {errors} problem(s) found", file=sys.stderr)
        return 1
    print("ok")
    return 0
