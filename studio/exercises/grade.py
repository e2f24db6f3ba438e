"""Grading: each goal of an exercise checked against a submission, with a one-line reason per goal."""

from __future__ import annotations

import copy
import math
import operator
from dataclasses import dataclass
from typing import Any

from studio.exercises.format import Exercise, ExerciseError, Goal, exercise_of

_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq}


@dataclass(frozen=True)
class GoalResult:
    """One goal's verdict: ``passed``, what was measured (``value``) and why, in words (``detail``)."""

    goal: str
    passed: bool
    detail: str
    value: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"goal": self.goal, "passed": self.passed, "detail": self.detail, "value": self.value}


def check_same_exercise(exercise: Exercise, submission: Any, source: str = "submission") -> None:
    """Refuse a submission made from another exercise (or from no exercise) with a clear one-line error."""
    theirs = exercise_of(submission, source)
    if theirs is None:
        raise ExerciseError(f"{source} is not a submission for exercise '{exercise.id}': it carries no exercise")
    if theirs.id != exercise.id:
        raise ExerciseError(f"{source} is not a submission for exercise '{exercise.id}': it is for '{theirs.id}'")


def grade(exercise_project: Any, submission: Any, registry: Any, *, train: bool = True,
          source: str = "submission", exercise_source: str = "the exercise file") -> list[GoalResult]:
    """Every goal of ``exercise_project``'s exercise checked on ``submission`` (both loaded projects).

    The goals come from the exercise file, never from the submission, so a student cannot edit them
    away; locked nodes are compared with the exercise's. ``train=False`` skips metric goals (reported
    as not passed), as the live Goals panel does while editing."""
    exercise = exercise_of(exercise_project, exercise_source)
    if exercise is None:
        raise ExerciseError(f"{exercise_source} holds no exercise (Exercise > Save as exercise makes one)")
    check_same_exercise(exercise, submission, source)
    results = grade_structure(exercise, submission, registry, reference=exercise_project)
    metric_goals = [g for g in exercise.goals if g.kind == "metric"]
    if metric_goals:
        if train and all(r.passed for r in results if r.goal.startswith("model is valid")):
            history, error = _train(submission, registry, max(g.epochs for g in metric_goals))
            results += [_metric(g, history, error) for g in metric_goals]
        else:
            why = "not trained (the model is invalid)" if train else "checked after training"
            results += [GoalResult(g.describe(), False, why) for g in metric_goals]
    return results


def grade_structure(exercise: Exercise, project: Any, registry: Any, reference: Any = None) -> list[GoalResult]:
    """The goals that need no training (cheap: the Goals panel calls this after every edit)."""
    from studio.core.shapes import ShapeInferencer
    from studio.core.validation import validate

    inferencer = ShapeInferencer(registry)
    shapes = {g.id: inferencer.infer(g) for g in project.graphs}
    errors = [f"'{g.name}': {i.located(g)}" for g in project.graphs
              for i in validate(g, registry, shapes[g.id]) if i.severity == "error"]
    results = [GoalResult("model is valid", not errors, errors[0] if errors else "no errors", len(errors))]
    if reference is not None and exercise.locked:
        results.append(_locked(exercise, reference, project))
    for goal in exercise.goals:
        if goal.kind != "metric":
            results.append(_structural(goal, project, registry, shapes))
    return results


def _graphs(project: Any, name: str) -> list[Any]:
    return [g for g in project.graphs if not name or g.name == name]


def _structural(goal: Goal, project: Any, registry: Any, shapes: dict) -> GoalResult:
    label = goal.describe()
    graphs = _graphs(project, goal.graph)
    if not graphs:
        return GoalResult(label, False, f"no graph named '{goal.graph}'")
    if goal.kind == "output_shape":
        return _output_shape(goal, label, graphs[0], shapes[graphs[0].id])
    if goal.kind == "param_budget":
        total = sum(shapes[g.id].total_params for g in graphs)
        ok = (goal.max is None or total <= goal.max) and (goal.min is None or total >= goal.min)
        return GoalResult(label, ok, f"{total:,} parameters", total)
    used = {registry.canonical_id(n.type_id) for g in graphs for n in g.nodes.values()}
    wanted = {registry.canonical_id(t) for t in goal.types}
    if goal.kind == "require_nodes":
        missing = sorted(wanted - used)
        return GoalResult(label, not missing, f"missing {', '.join(missing)}" if missing else "all present", missing)
    if goal.kind == "forbid_nodes":
        found = sorted(wanted & used)
        return GoalResult(label, not found, f"uses {', '.join(found)}" if found else "none used", found)
    if goal.kind == "node_param":
        return _node_param(goal, label, graphs)
    return _setting(goal, label, project)


def _node_param(goal: Goal, label: str, graphs: list[Any]) -> GoalResult:
    node = next((n for g in graphs for n in g.nodes.values() if n.name == goal.node), None)
    if node is None:
        return GoalResult(label, False, f"no node named '{goal.node}'")
    value = node.params.get(goal.key)
    try:
        ok = bool(_OPS[goal.op](value, goal.value))
    except TypeError:
        ok = False
    return GoalResult(label, ok, f"{goal.node}.{goal.key} = {value}", value)


def _output_shape(goal: Goal, label: str, graph: Any, shapes: Any) -> GoalResult:
    outs = [n for n in graph.nodes.values() if n.type_id == "io.output" and (not goal.output or n.name == goal.output)]
    if not outs:
        return GoalResult(label, False, f"no Output{' named ' + repr(goal.output) if goal.output else ''} "
                                        f"in '{graph.name}'")
    ns = shapes.nodes.get(outs[0].id)
    info = next(iter(ns.inputs.values()), None) if ns else None
    if info is None:
        return GoalResult(label, False, f"'{outs[0].name}' has no shape (is it connected, is the model valid?)")
    ok = list(info.shape[1:]) == list(goal.shape)
    return GoalResult(label, ok, f"'{outs[0].name}' gets {info.text}", info.text)


def _setting(goal: Goal, label: str, project: Any) -> GoalResult:
    from studio.train.settings_form import get_setting

    try:
        value = get_setting(project.training, goal.key)
    except (KeyError, ValueError) as exc:
        return GoalResult(label, False, f"unknown setting {goal.key}: {exc}")
    try:
        ok = bool(_OPS[goal.op](value, goal.value))
    except TypeError:
        ok = False
    return GoalResult(label, ok, f"{goal.key} = {value}", value)


def _locked(exercise: Exercise, reference: Any, project: Any) -> GoalResult:
    """Locked nodes (by name) keep their type and parameters."""
    label = "locked nodes unchanged: " + ", ".join(exercise.locked)

    def by_name(p: Any) -> dict[str, Any]:
        return {n.name: n for g in p.graphs for n in g.nodes.values()}

    ref, sub = by_name(reference), by_name(project)
    for name in exercise.locked:
        if name not in ref:
            continue
        if name not in sub:
            return GoalResult(label, False, f"'{name}' was deleted", name)
        if sub[name].type_id != ref[name].type_id or sub[name].params != ref[name].params:
            return GoalResult(label, False, f"'{name}' was edited", name)
    return GoalResult(label, True, "intact")


def _train(project: Any, registry: Any, epochs: int) -> tuple[list[dict[str, float]], str]:
    """Per-epoch metrics of a short CPU run on a copy (at most ``epochs`` epochs), or an error message."""
    from studio.train.engine import run_to_end

    snapshot = copy.deepcopy(project)
    training = dict(snapshot.training)
    training["epochs"] = min(int(training.get("epochs", epochs) or epochs), epochs)
    training["device"] = "cpu"
    snapshot.training = training
    try:
        last = run_to_end(snapshot, registry, views=False, throttle_s=1e9)
    except Exception as exc:  # noqa: BLE001 - a student's model may fail in any way; grading reports it
        return [], f"training failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    if last.kind == "error":
        return last.history, f"training failed: {last.message}"
    return last.history, ""


def _metric(goal: Goal, history: list[dict[str, float]], error: str) -> GoalResult:
    label = goal.describe()
    if error:
        return GoalResult(label, False, error)
    values = [h[goal.metric] for h in history if goal.metric in h and math.isfinite(h[goal.metric])]
    if not values:
        return GoalResult(label, False, f"training reported no {goal.metric}")
    if goal.at == "last":
        last = values[-1]
        ok = bool(_OPS[goal.op](last, goal.value))
        return GoalResult(label, ok, f"{goal.metric} = {last:.4g} after {len(values)} epoch(s)", round(last, 6))
    best = max(values) if goal.op in (">=", ">") else min(values) if goal.op in ("<=", "<") else values[-1]
    ok = bool(_OPS[goal.op](best, goal.value))
    return GoalResult(label, ok, f"best {goal.metric} = {best:.4g} in {len(values)} epoch(s)", round(best, 6))
