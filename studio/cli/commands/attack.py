"""``nnstudio attack PROJECT --run RUN --eps 0.01,0.03,0.1``: accuracy under FGSM / PGD."""

from __future__ import annotations

import argparse

from studio.cli.command import Command
from studio.cli.common import load
from studio.cli.output import CliError, say


def _eps_list(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of numbers") from None
    if not values or any(not 0 <= v <= 10 for v in values):
        raise argparse.ArgumentTypeError("every ε must be between 0 and 10")
    return values


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="project file (.nnstudio)")
    parser.add_argument("--run", required=True, help="run folder (from nnstudio train) or checkpoint file")
    parser.add_argument("--eps", type=_eps_list, default=[0.01, 0.03, 0.1], help="ε values, comma-separated")
    parser.add_argument("--method", default="fgsm", choices=("fgsm", "pgd"))
    parser.add_argument("--samples", type=int, default=512, help="validation samples attacked (default 512)")


def run(args: argparse.Namespace) -> int:
    from studio.analysis.attack import robustness_curve
    from studio.analysis.session import RunError, open_run

    project, registry = load(args.project)
    try:
        data = open_run(project, registry, args.run, max_samples=max(1, min(args.samples, 100_000)))
    except RunError as exc:
        raise CliError(str(exc), 2) from exc
    rows = robustness_curve(data.model, data.val_x, data.val_y, [0.0, *args.eps], args.method, data.bounds)
    say(f"{args.method.upper()} on {len(data.val_x)} validation samples of '{data.graph_name}'")
    say(f"{'eps':>8}  {'accuracy':>9}  {'drop':>7}")
    for row in rows:
        say(f"{row.eps:>8.4g}  {100 * row.accuracy:>8.1f}%  {row.drop:>6.1f}p")
    return 0


COMMAND = Command("attack", "accuracy of a run under FGSM or PGD adversarial examples, per ε", arguments, run,
                  order=51)
