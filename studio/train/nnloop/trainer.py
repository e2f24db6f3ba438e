"""The epoch loop shared by NN Studio's engine and exported ``train.py``: per-step metrics flushed
lazily, one history row per epoch, schedules, early stopping, ``metrics.csv``.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch

HIGHER_WORDS = ("acc", "f1", "precision", "recall", "return", "success", "optimal", "covered", "quality",
                "vs_baseline")


class NonFiniteLoss(ArithmeticError):
    """The loss became NaN or infinite; ``step`` (1-based, over the run) and ``epoch`` say where."""

    def __init__(self, value: float, step: int = 0, epoch: int = 0) -> None:
        super().__init__(f"the loss became {'NaN' if value != value else 'infinite'}")
        self.step, self.epoch = step, epoch



def higher_is_better(metric: str) -> bool:
    """Default direction of a metric by its name (callers may pass their own table)."""
    m = metric.lower()
    return any(w in m for w in HIGHER_WORDS)



class EarlyStop:
    """Watches ``metric`` (or the task's ``fallback`` when an epoch lacks it); ``better`` gives each
    metric's direction. Counts epochs since the best value, so a driver can keep a "best" checkpoint
    even when stopping early is off."""

    def __init__(self, enabled: bool, patience: int, min_delta: float, metric: str, fallback: str,
                 better: Callable[[str], bool] = higher_is_better) -> None:
        self.enabled, self.patience, self.min_delta = enabled, patience, min_delta
        self.metric, self.fallback, self.better = metric, fallback, better
        self.best: float | None = None
        self.stale = 0

    def watched(self, row: dict[str, float]) -> str:
        return self.metric if self.metric in row else self.fallback

    def update(self, row: dict[str, float]) -> bool:
        """Record an epoch; True when it improved on the best so far."""
        metric = self.watched(row)
        value = row.get(metric)
        if value is None or not math.isfinite(value):
            return False
        higher = self.better(metric)
        d = self.min_delta
        if self.best is None or (value > self.best + d if higher else value < self.best - d):
            self.best, self.stale = value, 0
            return True
        self.stale += 1
        return False

    def restore(self, history: list[dict[str, float]]) -> None:
        """Best value and epochs since it, from a resumed run's history."""
        for row in history:
            metric = self.watched(row)
            value = row.get(metric)
            if value is None or not math.isfinite(value):
                continue
            if self.best is None or (value > self.best if self.better(metric) else value < self.best):
                self.best, self.stale = value, 0
            else:
                self.stale += 1

    @property
    def stop(self) -> bool:
        return self.enabled and self.stale >= self.patience


def early_stop(cfg: dict, fallback: str, better: Callable[[str], bool] = higher_is_better) -> EarlyStop:
    e = cfg["early_stopping"]
    return EarlyStop(e["enabled"], e["patience"], e["min_delta"], e["metric"], fallback, better)


class Trainer:
    """Epochs of a task as a generator of events, so a driver can act between steps.

    Events: ``("step",)`` after every step; ``("epoch", row, improved)`` after each epoch's
    validation (``row`` is also appended to ``history``); ``("stop", message)`` when early
    stopping ends the run. Per-step metrics are flushed every ``flush_every`` steps, at the end
    of each epoch and whenever the driver calls :meth:`flush`. Validation runs with the random
    state saved and restored, so evaluating (or not) never changes training.
    """

    def __init__(self, task: Any, epochs: int, early: EarlyStop | None = None, *,
                 history: list[dict[str, float]] | None = None, start_epoch: int = 0, start_index: int = 0,
                 global_step: int = 0, keep_points: bool = False, flush_every: int = 256,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.task, self.epochs, self.early = task, epochs, early
        self.history = list(history or [])
        if early is not None and self.history:
            early.restore(self.history)
        self.start_epoch, self.start_index = start_epoch, start_index
        self.epoch, self.global_step = start_epoch, global_step
        self.next_index = start_index  # the step of ``epoch`` that runs next
        self.keep_points, self.flush_every, self.clock = keep_points, flush_every, clock
        self.points: list[tuple[int, dict[str, float]]] = []
        self.flushed_samples = 0.0  # samples of every flushed step (a driver's throughput meter reads it)
        self._unflushed = 0
        self._sums: dict[str, float] = {}
        self._weights: dict[str, float] = {}
        self._epoch_samples = 0.0
        self._excluded = 0.0

    @property
    def steps_per_epoch(self) -> int:
        return self.task.steps_per_epoch()

    def exclude(self, seconds: float) -> None:
        """Time the driver spent outside training this epoch (a pause, live views)."""
        self._excluded += seconds

    def flush(self) -> list[tuple[int, dict[str, float]]]:
        """Metrics of the steps since the last flush as ``(global step, {metric: value})``; raises
        :class:`NonFiniteLoss` naming the first step whose loss is not finite."""
        rows = self.task.flush() if self._unflushed else []
        self._unflushed = 0
        if not rows:
            return []
        first = self.global_step - len(rows) + 1
        sums, weights, isfinite = self._sums, self._weights, math.isfinite  # locals: this runs for every step
        epoch_samples, flushed = self._epoch_samples, self.flushed_samples
        for i, row in enumerate(rows):
            loss = float(row.get("loss", 0.0))
            if not isfinite(loss):
                self._epoch_samples, self.flushed_samples = epoch_samples, flushed
                raise NonFiniteLoss(loss, first + i, self.epoch + 1)
            n = row.pop("samples", 1.0)
            epoch_samples += n
            flushed += n
            for k, v in row.items():
                sums[k] = sums.get(k, 0.0) + float(v) * n
                weights[k] = weights.get(k, 0.0) + n
        self._epoch_samples, self.flushed_samples = epoch_samples, flushed
        if not self.keep_points:
            return []
        points = list(zip(range(first, first + len(rows)), rows, strict=True))
        self.points += points
        return points

    def take_points(self) -> list[tuple[int, dict[str, float]]]:
        """Flush, then hand over every point gathered so far."""
        self.flush()
        out, self.points = self.points, []
        return out

    def run(self) -> Iterator[tuple]:
        task = self.task
        steps = self.steps_per_epoch
        for epoch in range(self.start_epoch, self.epochs):
            self.epoch = epoch
            self._sums, self._weights, self._epoch_samples, self._excluded = {}, {}, 0.0, 0.0
            first = self.start_index if epoch == self.start_epoch else 0
            self.next_index = first
            t0 = self.clock()
            for index in range(first, steps):
                task.step(epoch, index)
                self.global_step += 1
                self.next_index = index + 1
                self._unflushed += 1
                if self._unflushed >= self.flush_every:
                    self.flush()
                yield ("step",)
            self.flush()
            epoch_s = max(self.clock() - t0 - self._excluded, 1e-9)
            row: dict[str, float] = {"epoch": epoch + 1}
            row.update({k: self._sums[k] / self._weights[k] for k in self._sums if self._weights[k] > 0})
            row.update({k: float(v) for k, v in kept_rng(task.evaluate, _rng_devices(task)).items()})
            row["epoch_s"] = epoch_s
            row["samples_per_s"] = self._epoch_samples / epoch_s
            row["lr"] = task.lr()
            self.history.append(row)
            for sched in task.schedules:
                sched.after_epoch(row.get("val_loss", row.get("loss")))
            self.epoch, self.next_index = epoch + 1, 0
            improved = self.early.update(row) if self.early is not None else False
            yield ("epoch", row, improved)
            if self.early is not None and self.early.stop and epoch + 1 < self.epochs:
                metric = self.early.watched(row)
                yield ("stop", f"stopped early: {metric} did not improve for {self.early.stale} epochs")
                return


def kept_rng(fn: Callable[[], Any], cuda_devices: list[int] | None = None) -> Any:
    """``fn()`` with the random state saved and restored (cheaper than ``torch.random.fork_rng``)."""
    cpu = torch.get_rng_state()
    cuda = [torch.cuda.get_rng_state(d) for d in cuda_devices or []]
    try:
        return fn()
    finally:
        torch.set_rng_state(cpu)
        for d, state in zip(cuda_devices or [], cuda, strict=True):
            torch.cuda.set_rng_state(state, d)


def _rng_devices(task: Any) -> list[int]:
    device = getattr(task, "device", None)
    if isinstance(device, torch.device) and device.type == "cuda":
        return [device.index if device.index is not None else torch.cuda.current_device()]
    return []


def format_row(row: dict[str, float], epochs: int) -> str:
    """One printed line per epoch (the same numbers as ``metrics.csv``)."""
    def fmt(v: float) -> str:
        return f"{v:,.0f}" if math.isfinite(v) and abs(v) >= 10_000 else f"{v:.4g}"

    shown = "  ".join(f"{k} {fmt(v)}" for k, v in row.items() if k not in ("epoch", "lr"))
    return f"epoch {int(row['epoch'])}/{epochs}  {shown}"


def fit(task: Any, epochs: int, early: EarlyStop | None = None, log: Callable[[str], None] | None = print
        ) -> tuple[list[dict[str, float]], str]:
    """Train to the end; returns the history (one row per epoch) and how the run ended."""
    trainer = Trainer(task, epochs, early)
    message = "finished"
    for event in trainer.run():
        if event[0] == "epoch" and log is not None:
            log(format_row(event[1], epochs))
        elif event[0] == "stop":
            message = event[1]
            if log is not None:
                log(message)
    return trainer.history, message


def write_metrics_csv(path: Any, history: list[dict[str, float]]) -> None:
    """``metrics.csv``: one row per epoch, columns in order of first appearance."""
    keys: list[str] = []
    for row in history:
        keys += [k for k in row if k not in keys]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys or ["epoch"])
        writer.writeheader()
        for row in history:
            writer.writerow(row)
