"""The exercise format kept in ``project.meta["exercise"]``: goals, locked nodes, hidden palette entries.

Plain JSON in the project file, validated with pydantic so a hand-edited exercise fails with one line
naming the goal and the field instead of a traceback at grading time.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

META_KEY = "exercise"

GoalKind = Literal["output_shape", "param_budget", "require_nodes", "forbid_nodes", "setting", "node_param", "metric"]
Op = Literal[">=", "<=", ">", "<", "=="]


class ExerciseError(ValueError):
    """A broken exercise, or a submission that is not for this exercise (one line, names the file)."""


class Goal(BaseModel):
    """One automatically checked goal.

    ``output_shape``: ``shape`` is the per-sample shape (no batch) reaching the Output named ``output``
    (default: the first Output) of ``graph`` (default: the first graph).
    ``param_budget``: total parameters of every graph (or ``graph``) at most ``max`` (at least ``min``).
    ``require_nodes`` / ``forbid_nodes``: ``types`` (node type ids) that must / must not appear.
    ``setting``: the training setting ``key`` (dotted) compared with ``value`` by ``op``.
    ``node_param``: parameter ``key`` of the node named ``node`` compared with ``value`` by ``op``.
    ``metric``: after training for at most ``epochs`` epochs, the best ``metric`` (e.g. ``val_accuracy``)
    compared with ``value`` by ``op``; with ``at = "last"`` the value of the last epoch instead (a
    model that overfits was good once and is worse at the end: the last value shows it).
    """

    model_config = ConfigDict(extra="forbid")

    kind: GoalKind
    label: str = ""
    graph: str = ""
    output: str = ""
    shape: list[int] = Field(default_factory=list)
    max: int | None = Field(default=None, ge=0)
    min: int | None = Field(default=None, ge=0)
    types: list[str] = Field(default_factory=list)
    key: str = ""
    node: str = ""
    metric: str = ""
    op: Op = ">="
    value: Any = None
    epochs: int = Field(default=5, ge=1, le=1000)
    at: Literal["best", "last"] = "best"

    def describe(self) -> str:
        """Words for the Goals panel and the grade table."""
        if self.label:
            return self.label
        where = f" of '{self.graph}'" if self.graph else ""
        if self.kind == "output_shape":
            return f"output{where} has shape B×{'×'.join(map(str, self.shape))}"
        if self.kind == "param_budget":
            parts = [f"≤ {self.max:,}" if self.max is not None else "", f"≥ {self.min:,}" if self.min is not None else ""]
            return f"parameters{where} {' and '.join(p for p in parts if p)}"
        if self.kind == "require_nodes":
            return "uses " + ", ".join(self.types)
        if self.kind == "forbid_nodes":
            return "does not use " + ", ".join(self.types)
        if self.kind == "setting":
            return f"setting {self.key} {self.op} {self.value}"
        if self.kind == "node_param":
            return f"{self.node}.{self.key} {self.op} {self.value}"
        if self.at == "last":
            return f"{self.metric} {self.op} {self.value} after {self.epochs} epoch(s)"
        return f"{self.metric} {self.op} {self.value} within {self.epochs} epoch(s)"

    @property
    def needs_training(self) -> bool:
        return self.kind == "metric"


class Exercise(BaseModel):
    """An exercise: its id (a submission must carry the same), goals, locked node names, hidden palette types."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    title: str = ""
    goals: list[Goal] = Field(default_factory=list)
    locked: list[str] = Field(default_factory=list)  # node names
    hidden_palette: list[str] = Field(default_factory=list)  # node type ids

    @classmethod
    def from_meta(cls, data: Any, source: str = "project") -> Exercise:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ExerciseError(f"{source}: exercise field '{where}': {err['msg']}") from None

    def to_meta(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=False)


def exercise_of(project: Any, source: str = "project") -> Exercise | None:
    """The exercise a project carries, or None; a malformed one raises :class:`ExerciseError`."""
    data = (project.meta or {}).get(META_KEY)
    return None if data is None else Exercise.from_meta(data, source)


def set_exercise(project: Any, exercise: Exercise | None) -> None:
    """Store (or remove, with None) the exercise in the project's meta."""
    if exercise is None:
        project.meta.pop(META_KEY, None)
    else:
        project.meta[META_KEY] = exercise.to_meta()
