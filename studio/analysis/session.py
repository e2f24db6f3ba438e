"""A trained run opened for analysis: the prediction model, its validation data, and how to retrain.

The model returned here takes raw dataset inputs (normalisation, when the run used it, is part of
the module) and returns the prediction output only, so captum, attacks and compression see one
plain classifier. A sequence model that predicts a class at every position (token targets) is
seen at one chosen position at a time (:meth:`RunData.set_position`, the last by default): the
model then returns that position's class scores and ``val_y`` / ``train_y`` hold its labels.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from studio.core.model import Project
from studio.core.registry import Registry


class RunError(ValueError):
    """A run that cannot be analysed (missing checkpoint, not a classifier, …); one line."""


TASKS = ("classification", "tokens")  # per-sample classes, or a class per position (sequence models)


class Prediction(nn.Module):
    """The graph's prediction output from raw inputs (inputs standardised as in training).

    ``position``: for per-position outputs (B, T, C), the position whose scores are returned (set
    only for runs with token targets, whose outputs are per position).
    """

    def __init__(self, module: nn.Module, index: int | None, stats: tuple[torch.Tensor, torch.Tensor] | None):
        super().__init__()
        self.module, self.index = module, index
        self.position: int | None = None
        if stats is not None:
            self.register_buffer("mean", stats[0])
            self.register_buffer("std", stats[1])
        else:
            self.mean = self.std = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mean is not None:
            x = (x - self.mean) / self.std
        out = self.module(x)
        out = out[self.index] if self.index is not None else out
        return out[:, self.position] if self.position is not None else out  # no shape test: FX traces this


@dataclass
class RunData:
    project: Project
    settings: Any
    checkpoint: Path
    model: Prediction
    graph_name: str
    val_x: torch.Tensor
    val_y: torch.Tensor
    train_x: torch.Tensor
    train_y: torch.Tensor
    classes: list[str]
    bounds: tuple[float, float] | None  # valid input range (images), for attacks
    task: str = "classification"  # or "tokens": a class at every position
    vocab: list[str] | None = None  # what the input token ids stand for (characters, digits), when known
    val_labels: torch.Tensor | None = None  # token tasks: all positions' labels (B, T)
    built: Any = None  # the run's built model (output roles, attention layers), the module ``model`` wraps
    train_labels: torch.Tensor | None = None

    @property
    def tokens(self) -> bool:
        """Whether the inputs are token ids (attributed per token, never attacked)."""
        return not self.val_x.is_floating_point()

    @property
    def positions(self) -> int | None:
        """How many positions a per-position model predicts (None: one prediction per sample)."""
        return None if self.val_labels is None else int(self.val_labels.shape[1])

    @property
    def position(self) -> int | None:
        return self.model.position

    def set_position(self, position: int | None) -> None:
        """Look at one output position (negative counts from the end); labels follow."""
        if self.val_labels is None or self.train_labels is None:
            if position is not None:
                raise RunError("this model makes one prediction per sample; it has no positions to choose")
            return
        n = self.val_labels.shape[1]
        p = n - 1 if position is None else position
        if not -n <= p < n:
            raise RunError(f"position {position} is outside the sequence (0..{n - 1})")
        p %= n
        self.model.position = p
        self.val_y, self.train_y = self.val_labels[:, p], self.train_labels[:, p]


def checkpoint_of(run: str | Path) -> Path:
    """The checkpoint a run folder holds (best, else last), or the file itself."""
    path = Path(run)
    if path.is_dir():
        for name in ("best.pt", "last.pt"):
            if (path / name).is_file():
                return path / name
        raise RunError(f"run folder {path} holds no checkpoint (best.pt or last.pt)")
    if not path.is_file():
        raise RunError(f"run {path} does not exist")
    return path


def open_run(project: Project, registry: Registry, run: str | Path, max_samples: int = 512) -> RunData:
    """Load the run's weights into the project's prediction graph, with up to ``max_samples`` validation samples."""
    from studio.train.data import load_data
    from studio.train.engine import load_trained
    from studio.train.nnloop.parts import input_stats
    from studio.train.settings import TrainingSettings

    settings = TrainingSettings.from_dict(project.training)
    checkpoint = checkpoint_of(run)
    models = load_trained(project, registry, checkpoint)
    name = settings.graph or project.graphs[0].name
    if name not in models:
        raise RunError(f"the project has no graph '{name}'")
    built = models[name]
    if len(built.inputs) != 1:
        raise RunError(f"graph '{name}' has {len(built.inputs)} Inputs; analysis needs one")
    data = load_data(settings.dataset, settings.seed, built.inputs[0].shape)
    if data.task not in TASKS:
        raise RunError(f"dataset '{data.name}' is a {data.task} task; these tools explain classifiers "
                       "(one class per sample, or per position of a sequence)")
    normalize = settings.dataset.augment.normalize and data.train_x.is_floating_point()
    stats = input_stats(data.train_x) if normalize else None
    index = built.prediction_index if len(built.outputs) > 1 else None
    model = Prediction(built.module, index, stats).eval()
    x, y = data.val_x[:max_samples], data.val_y[:max_samples]
    bounds = (float(data.train_x.min()), float(data.train_x.max())) if x.dim() == 4 else None
    vocab = list(data.classes) if data.name in ("text", "sequences") and not x.is_floating_point() else None
    run = RunData(project, settings, checkpoint, model, name, x, y, data.train_x, data.train_y, data.classes, bounds,
                  task=data.task, vocab=vocab, built=built)
    if data.task == "tokens":
        if y.dim() != 2:
            raise RunError(f"dataset '{data.name}' has token targets of shape {list(y.shape)}; expected (samples, "
                           "positions)")
        run.val_labels, run.train_labels = y, data.train_y
        run.set_position(None)
    return run


def epoch_scores(registry: Registry, metric: str):
    """For tuning: train a trial project headless and yield ``metric`` after each epoch."""
    from studio.train.engine import run

    def scores(trial_project: Project) -> Iterator[float]:
        for update in run(trial_project, registry, throttle_s=1e9, view_interval_s=1e9):
            if update.kind == "epoch" and metric in update.metrics:
                yield float(update.metrics[metric])
            elif update.kind == "error":
                raise RunError(update.message)

    return scores
