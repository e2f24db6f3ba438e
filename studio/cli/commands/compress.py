"""``nnstudio compress PROJECT --run RUN --prune 0.8 --quantize dynamic``: a before / after table."""

from __future__ import annotations

import argparse
import copy

from studio.cli.command import Command
from studio.cli.common import load
from studio.cli.output import CliError, say


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError("sparsity must be at least 0 and below 1")
    return value


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="project file (.nnstudio)")
    parser.add_argument("--run", required=True, help="run folder (from nnstudio train) or checkpoint file")
    parser.add_argument("--prune", type=_share, default=0.0, help="share of weights to remove (e.g. 0.8)")
    parser.add_argument("--scope", choices=("global", "layer"), default="global", help="pruning: over all layers "
                        "at once or per layer")
    parser.add_argument("--finetune", type=int, default=0, help="epochs of fine-tuning after pruning")
    parser.add_argument("--quantize", choices=("none", "dynamic", "static"), default="none",
                        help="int8 quantization on the CPU")
    parser.add_argument("-o", "--out", default=None,
                        help="write the pruned weights here (safetensors; nnstudio export --weights takes them)")


def run(args: argparse.Namespace) -> int:
    from studio.analysis import compress
    from studio.analysis.attack import accuracy
    from studio.analysis.session import RunError, open_run

    if args.prune == 0 and args.quantize == "none":
        raise CliError("nothing to do: give --prune and/or --quantize", 2)
    if not 0 <= args.finetune <= 100:
        raise CliError("--finetune must be between 0 and 100 epochs", 2)
    project, registry = load(args.project)
    try:
        data = open_run(project, registry, args.run, max_samples=2048)
    except RunError as exc:
        raise CliError(str(exc), 2) from exc

    def acc(model) -> float:
        return accuracy(model, data.val_x, data.val_y)

    rows = [compress.figures("original", data.model, data.val_x, acc)]
    model = data.model
    if args.prune:
        model = copy.deepcopy(model)
        try:
            compress.prune_model(model.module, args.prune, args.scope)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        if args.finetune:
            compress.finetune(model, data.train_x, data.train_y, args.finetune)
        compress.finalize(model.module)
        rows.append(compress.figures(f"pruned {100 * args.prune:.0f} %", model, data.val_x, acc))
        if args.out:
            from studio.compile.weights import save_weights

            say(f"pruned weights: {save_weights(project, {data.graph_name: model.module}, args.out)}")
    if args.quantize != "none":
        try:
            if args.quantize == "dynamic":
                quantized = compress.quantize_dynamic(model)
            else:
                quantized = compress.quantize_static(model.module, data.train_x[:512])
        except (RuntimeError, AssertionError, NotImplementedError, ValueError) as exc:  # ValueError: FX tracing
            raise CliError(f"cannot quantize this model: {str(exc).splitlines()[0]}") from exc
        if args.quantize == "static":
            wrapped = copy.deepcopy(model)
            wrapped.module = quantized
            quantized = wrapped
        rows.append(compress.figures(f"int8 {args.quantize}", quantized, data.val_x, acc))
    say(compress.table(rows))
    return 0


COMMAND = Command("compress", "prune and/or quantize a run and print parameters, size, latency and accuracy",
                  arguments, run, order=52)
