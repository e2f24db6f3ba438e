"""``nnstudio tune PROJECT --trials N --param optimizer.lr=1e-4:1e-1:log``: hyperparameter search."""

from __future__ import annotations

import argparse
from pathlib import Path

from studio.cli.command import Command
from studio.cli.common import fmt, load
from studio.cli.output import CliError, say


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="project file (.nnstudio)")
    parser.add_argument("--trials", type=int, default=20, help="number of trials (default 20)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=RANGE",
                        help="key=low:high[:log|:int] or key=a,b,c; keys are dotted settings or nodes.NAME.PARAM")
    parser.add_argument("--sampler", choices=("tpe", "random", "grid"), default="tpe")
    parser.add_argument("--metric", default=None, help="metric to optimise (default: the paradigm's monitor)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per trial (default: the project's)")
    parser.add_argument("--study", default=None, help="SQLite file of the study (default: beside the project); "
                        "running again resumes it")
    parser.add_argument("--no-prune", action="store_true", help="run every trial to the end")


def run(args: argparse.Namespace) -> int:
    from studio.analysis.session import epoch_scores
    from studio.analysis.tune import TuneError, parse_param, search
    from studio.train.recipes.registry import metric_spec, recipe_spec
    from studio.train.settings import SettingsError, TrainingSettings

    if not 1 <= args.trials <= 10_000:
        raise CliError("--trials must be between 1 and 10000", 2)
    project, registry = load(args.project)
    try:
        params = [parse_param(p) for p in args.param]
        settings = TrainingSettings.from_dict(project.training)
    except (TuneError, SettingsError) as exc:
        raise CliError(str(exc), 2) from exc
    if args.epochs is not None:
        if not 1 <= args.epochs <= 10_000:
            raise CliError("--epochs must be between 1 and 10000", 2)
        project.training["epochs"] = args.epochs
    metric = args.metric or recipe_spec(settings.recipe).monitor
    spec = metric_spec(metric)
    higher = bool(spec and spec.higher_is_better)
    storage = Path(args.study) if args.study else Path(args.project).with_suffix(".study.sqlite")
    say(f"tuning {metric} ({'higher' if higher else 'lower'} is better), {args.sampler}, study {storage}")

    def show(trial) -> None:
        values = "  ".join(f"{k}={fmt(v)}" for k, v in trial.values.items())
        score = fmt(trial.score) if trial.score is not None else "-"
        say(f"trial {trial.number:>3}  {trial.state:<8}  {metric} {score:<10}  {values}  {trial.message}".rstrip())

    try:
        study = search(project, params, epoch_scores(registry, metric), metric=metric, higher_is_better=higher,
                       trials=args.trials, sampler=args.sampler, storage=storage,
                       study_name=Path(args.project).stem, prune=not args.no_prune, on_trial=show)
    except TuneError as exc:
        raise CliError(str(exc), 2) from exc
    best = study.best
    if best is None:
        raise CliError(f"no trial finished with a value of {metric}")
    say("best: " + "  ".join(f"{k}={fmt(v)}" for k, v in best.values.items()) + f"  ({metric} {fmt(best.score)})")
    return 0


COMMAND = Command("tune", "search settings and node parameters (grid, random, Bayesian TPE) with pruning",
                  arguments, run, order=53)
