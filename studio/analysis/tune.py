"""Hyperparameter search over training settings and node parameters, through optuna.

Why optuna: grid, random and TPE samplers, median pruning of bad trials and an SQLite storage
that lets a study resume after a restart, all maintained upstream. A parameter is written as
``optimizer.lr=1e-4:1e-1:log`` (a range), ``epochs=5:20`` (an integer range) or
``nodes.hidden.out_features=16,32,64`` (choices); ``nodes.NAME.PARAM`` is a node parameter,
anything else a dotted training setting.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SAMPLERS = ("grid", "random", "tpe")


class TuneError(ValueError):
    """A search parameter or study that cannot be used; the message names it."""


@dataclass(frozen=True)
class SearchParam:
    key: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    choices: tuple[Any, ...] = ()

    def suggest(self, trial) -> Any:
        if self.choices:
            return trial.suggest_categorical(self.key, list(self.choices))
        if self.integer:
            return trial.suggest_int(self.key, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.key, self.low, self.high, log=self.log)

    def grid(self, points: int) -> list[Any]:
        """Values a grid search tries: the choices, or ``points`` evenly spaced (in log space if log)."""
        if self.choices:
            return list(self.choices)
        lo, hi = (math.log(self.low), math.log(self.high)) if self.log else (self.low, self.high)
        values = [lo + (hi - lo) * i / max(1, points - 1) for i in range(points)]
        values = [min(max(math.exp(v) if self.log else v, self.low), self.high) for v in values]
        return sorted({int(round(v)) for v in values}) if self.integer else values


def _number(text: str, key: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise TuneError(f"--param {key}: '{text}' is not a number") from None
    if not math.isfinite(value):
        raise TuneError(f"--param {key}: '{text}' is not a finite number")
    return value


def _literal(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def parse_param(text: str) -> SearchParam:
    """``key=low:high[:log|:int]`` or ``key=a,b,c`` -> SearchParam; one-line TuneError otherwise."""
    key, sep, spec = text.partition("=")
    key = key.strip()
    if not sep or not key or not spec.strip():
        raise TuneError(f"--param '{text}': write key=low:high[:log] or key=a,b,c")
    if "," in spec:
        choices = tuple(_literal(c.strip()) for c in spec.split(",") if c.strip())
        if len(choices) < 2:
            raise TuneError(f"--param {key}: give at least two choices")
        return SearchParam(key, choices=choices)
    parts = spec.split(":")
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] not in ("log", "int")):
        raise TuneError(f"--param {key}: write low:high, low:high:log or low:high:int")
    low, high = _number(parts[0], key), _number(parts[1], key)
    if not low < high:
        raise TuneError(f"--param {key}: low ({parts[0]}) must be below high ({parts[1]})")
    log = len(parts) == 3 and parts[2] == "log"
    if log and low <= 0:
        raise TuneError(f"--param {key}: a log range needs low > 0")
    integer = (len(parts) == 3 and parts[2] == "int") or (float(low).is_integer() and float(high).is_integer()
                                                          and "." not in spec and "e" not in spec.lower())
    return SearchParam(key, low, high, log, integer)


def apply_values(project, values: dict[str, Any]):
    """A copy of ``project`` with the trial's values set (the original is never touched)."""
    trial_project = copy.deepcopy(project)
    for key, value in values.items():
        if key.startswith("nodes."):
            _, name, param = key.split(".", 2) if key.count(".") >= 2 else (None, None, None)
            nodes = [n for g in trial_project.graphs for n in g.nodes.values() if n.name == name]
            if not nodes or param is None:
                raise TuneError(f"--param {key}: no node named '{name}'")
            for node in nodes:
                if param not in node.params:
                    raise TuneError(f"--param {key}: node '{name}' has no parameter '{param}'")
                node.params[param] = value
        else:
            target = trial_project.training
            *parents, leaf = key.split(".")
            for part in parents:
                target = target.setdefault(part, {})
                if not isinstance(target, dict):
                    raise TuneError(f"--param {key}: '{part}' is not a group of settings")
            target[leaf] = value
    return trial_project


@dataclass
class TrialResult:
    number: int
    values: dict[str, Any]
    score: float | None
    state: str  # complete / pruned / fail
    message: str = ""


@dataclass
class Study:
    """A finished or running search: its trials, the best one, and the optuna study behind it."""

    metric: str
    higher_is_better: bool
    trials: list[TrialResult] = field(default_factory=list)
    optuna_study: Any = None

    @property
    def best(self) -> TrialResult | None:
        done = [t for t in self.trials if t.state == "complete" and t.score is not None]
        if not done:
            return None
        return (max if self.higher_is_better else min)(done, key=lambda t: t.score)


EpochScores = Callable[[Any], Iterator[float]]


def search(project, params: list[SearchParam], epoch_scores: EpochScores, *, metric: str,
           higher_is_better: bool, trials: int, sampler: str = "tpe", seed: int = 0,
           storage: str | Path | None = None, study_name: str = "nnstudio", grid_points: int = 5,
           prune: bool = True, on_trial: Callable[[TrialResult], None] | None = None,
           should_stop: Callable[[], bool] | None = None) -> Study:
    """Run ``trials`` trials; ``epoch_scores(trial_project)`` yields the watched metric after each epoch.

    Intermediate scores go to optuna's median pruner, which stops trials that trail the others.
    With ``storage`` (an SQLite file) the study persists and a second call resumes it.
    """
    import optuna

    if sampler not in SAMPLERS:
        raise TuneError(f"unknown sampler '{sampler}' (choose {', '.join(SAMPLERS)})")
    if not params:
        raise TuneError("nothing to search: give at least one --param")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if sampler == "grid":
        chosen = optuna.samplers.GridSampler({p.key: p.grid(grid_points) for p in params}, seed=seed)
    elif sampler == "random":
        chosen = optuna.samplers.RandomSampler(seed=seed)
    else:
        chosen = optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(5, max(1, trials // 3)))
    pruner = optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1) if prune \
        else optuna.pruners.NopPruner()
    url = f"sqlite:///{Path(storage).resolve()}" if storage else None
    study = optuna.create_study(study_name=study_name, storage=url, load_if_exists=True, sampler=chosen,
                                pruner=pruner, direction="maximize" if higher_is_better else "minimize")
    result = Study(metric, higher_is_better, optuna_study=study)
    result.trials.extend(_from_optuna(t) for t in study.trials if t.state.is_finished())

    def objective(trial) -> float:
        values = {p.key: p.suggest(trial) for p in params}
        last = None
        for epoch, score in enumerate(epoch_scores(apply_values(project, values))):
            if not math.isfinite(score):
                raise optuna.TrialPruned(f"{metric} is not finite")
            last = score
            trial.report(score, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned after epoch {epoch + 1}")
        if last is None:
            raise TuneError(f"the run reported no '{metric}'")
        return last

    def callback(study_, trial) -> None:
        row = _from_optuna(trial)
        result.trials.append(row)
        if on_trial:
            on_trial(row)
        if should_stop and should_stop():
            study_.stop()

    remaining = trials - len([t for t in study.trials if t.state.is_finished()])
    if remaining > 0:
        study.optimize(objective, n_trials=remaining, callbacks=[callback], catch=(Exception,))
    return result


def _from_optuna(trial) -> TrialResult:
    state = trial.state.name.lower()
    message = str(trial.system_attrs.get("fail_reason", "")).splitlines()[-1:] if state == "fail" else []
    return TrialResult(trial.number, dict(trial.params), trial.value, state, message[0] if message else "")
