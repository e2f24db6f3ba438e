"""``nnstudio explain PROJECT --run RUN --method ig``: attribution pictures for validation samples."""

from __future__ import annotations

import argparse

from studio.cli.command import Command
from studio.cli.common import load
from studio.cli.output import CliError, say


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="project file (.nnstudio)")
    parser.add_argument("--run", required=True, help="run folder (from nnstudio train) or checkpoint file")
    parser.add_argument("--method", default="ig", choices=("saliency", "ig", "gradcam", "occlusion", "lrp"))
    parser.add_argument("--samples", type=int, default=8, help="validation samples to explain (default 8)")
    parser.add_argument("--target", type=int, default=None, help="class to explain (default: the prediction)")
    parser.add_argument("--node", default=None, help="Grad-CAM: the conv node to look at (default: the last)")
    parser.add_argument("--position", type=int, default=None,
                        help="sequence models that predict at every position: the position to explain "
                             "(default: the last; negative counts from the end)")
    parser.add_argument("-o", "--out", required=True, help="folder for the PNG pictures")


def run(args: argparse.Namespace) -> int:
    from studio.analysis.explain import ExplainError, attribute, conv_layers
    from studio.analysis.pictures import write_pictures
    from studio.analysis.session import RunError, open_run

    if not 1 <= args.samples <= 1000:
        raise CliError("--samples must be between 1 and 1000", 2)
    project, registry = load(args.project)
    try:
        data = open_run(project, registry, args.run, max_samples=args.samples)
    except RunError as exc:
        raise CliError(str(exc), 2) from exc
    try:
        data.set_position(args.position)
    except RunError as exc:
        raise CliError(f"--position: {exc}", 2) from exc
    layer = None
    if args.method == "gradcam":
        convs = {name.removeprefix("module."): m for name, m in conv_layers(data.model).items()}
        if not convs:
            raise CliError("Grad-CAM needs a conv node; this model has none", 2)
        if args.node and args.node not in convs:
            raise CliError(f"no conv node '{args.node}' (conv nodes: {', '.join(convs)})", 2)
        layer = convs[args.node] if args.node else list(convs.values())[-1]
    try:
        result = attribute(data.model, data.val_x, args.target, args.method, layer=layer)
    except ExplainError as exc:
        raise CliError(str(exc)) from exc
    from studio.analysis.tokens import token_label

    names = []
    for i, (label, tgt) in enumerate(zip(data.val_y.tolist(), result.target.tolist(), strict=True)):
        true, shown = file_part(token_label(label, data.classes)), file_part(token_label(tgt, data.classes))
        names.append(f"{i:03d}_true-{true}_explained-{shown}")
    tokens = titles = None
    if data.tokens:
        tokens = [[token_label(t, data.vocab) for t in row] for row in data.val_x.tolist()]
        where = f"position {data.position}: " if data.position is not None else ""
        titles = [f"{args.method} · {where}explaining '{token_label(t, data.classes)}'"
                  for t in result.target.tolist()]
    for path in write_pictures(data.val_x, result.values, names, args.out, tokens, titles, data.position):
        say(str(path))
    if result.delta is not None:
        say(f"Integrated Gradients convergence delta: max {float(result.delta.max()):.2e} ({result.steps} steps)")
    return 0


def file_part(text: str) -> str:
    """A class name safe in a file name (characters of a text vocabulary can be '/' or ':')."""
    return "".join(c if c.isalnum() or c in "-+." else f"u{ord(c):04x}" for c in text)


COMMAND = Command("explain", "write attribution pictures (saliency, IG, Grad-CAM, occlusion, LRP) of a run",
                  arguments, run, order=50)
