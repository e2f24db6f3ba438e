"""The training loop: a plain generator that yields throttled :class:`Update` objects.

Usage (GUI worker thread or command line)::

    control = RunControl()
    for update in run(project.snapshot(), registry, control=control, checkpoint_dir=out):
        ...                       # update.kind: started/step/epoch/views/paused/done/cancelled/error
    control.cancel()              # from any thread: takes effect within one step
    control.pause(); control.resume()

The epochs, steps, validation and early stopping are :class:`studio.train.nnloop.trainer.Trainer`
running the recipe's nnloop task — the same code an exported ``train.py`` runs; this module adds
what the app needs around it: throttled updates, pause / cancel / stepping, live views (drawn
without touching the training's random state), checkpoints and located error messages.

The loop knows nothing of Qt. It never raises for a training fault: every failure ends the run
with one ``error`` update whose ``message`` says what happened and whose ``node``/``node_id``/
``graph``/``setting`` locate the cause. The last good checkpoint is never overwritten by a bad one.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import time
import traceback
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from studio.core.model import Project
from studio.core.registry import Registry
from studio.train.build import ModelError
from studio.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from studio.train.control import RunControl, apply_live
from studio.train.data import DataError
from studio.train.memory_budget import check_before_allocation
from studio.train.metrics import model_size
from studio.train.nnloop import trainer as nnloop_trainer
from studio.train.nnloop.trainer import EarlyStop, Trainer
from studio.train.recipes import make_recipe
from studio.train.recipes.base import Context, NonFiniteLoss, Recipe, _is_oom
from studio.train.recipes.registry import higher_is_better
from studio.train.settings import SettingsError, TrainingSettings

FINAL_KINDS = ("done", "cancelled", "error")


@dataclass
class Update:
    """One message from the loop to whoever drives it.

    ``kind``: ``started`` (``info`` holds model size, dataset sizes, device, classes),
    ``step`` (throttled; ``points`` holds every step since the previous update as
    ``(global_step, {metric: value})``; ``metrics`` is the latest step), ``epoch`` (``metrics``
    holds the epoch's train means and validation metrics, prefixed ``val_``; ``views`` holds the
    full live views when due: at most once per view interval, always after the last epoch),
    ``views`` (cheap live views between epochs, about once a second; see :mod:`studio.train.views`),
    ``paused``, and one final update: ``done`` (with the full views) / ``cancelled`` / ``error``.
    """

    kind: str
    epoch: int = 0  # current epoch, 1-based
    epochs: int = 0
    step: int = 0  # steps completed, over the whole run
    total_steps: int = 0
    progress: float = 0.0  # 0..1
    elapsed_s: float = 0.0
    eta_s: float | None = None
    samples_per_s: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)
    points: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    views: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    node: str | None = None  # name of the node that caused an error
    node_id: str | None = None
    graph: str | None = None
    setting: str | None = None  # dotted training-setting key that caused an error
    checkpoint: str | None = None  # last good checkpoint written so far
    info: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)  # per-epoch metrics (final updates)

    @property
    def final(self) -> bool:
        return self.kind in FINAL_KINDS


def pick_device(name: str) -> torch.device:
    if name == "cpu":
        return torch.device("cpu")
    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "cuda":
        if not cuda:
            raise SettingsError("device", "CUDA was chosen but no usable NVIDIA GPU was found; choose auto or cpu")
        return torch.device("cuda")
    if name == "mps":
        if not mps:
            raise SettingsError("device", "MPS was chosen but this Mac has no usable Metal GPU; choose auto or cpu")
        return torch.device("mps")
    return torch.device("cuda" if cuda else "mps" if mps else "cpu")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def run(project: Project, registry: Registry, settings: TrainingSettings | dict | None = None,
        control: RunControl | None = None, checkpoint_dir: str | os.PathLike | None = None,
        resume_from: str | os.PathLike | None = None, *, throttle_s: float = 0.05,
        view_interval_s: float = 1.0, views: bool = True, inspect_every: int = 20) -> Iterator[Update]:
    """Train ``project`` (pass a snapshot) and yield updates; see the module docstring.

    ``views=False`` skips the live views (nothing shows them: the command line, benchmarks).
    With views, every ``inspect_every`` steps (every step while watched) a ``step`` update carries
    per-node statistics in ``info["inside"]`` (:mod:`studio.train.inspect_stats`; 0: never)."""
    loop = _Loop(project, registry, settings, control or RunControl(), checkpoint_dir, resume_from,
                 throttle_s, view_interval_s)
    loop.want_views = views
    loop.inspect_every = inspect_every if views else 0
    yield from loop.run()


class _Loop:
    def __init__(self, project, registry, settings, control, checkpoint_dir, resume_from, throttle_s,
                 view_interval_s) -> None:
        self.project, self.registry, self.raw_settings = project, registry, settings
        self.control = control
        self.dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.resume_from = resume_from
        self.throttle_s, self.view_interval_s = throttle_s, view_interval_s
        self.recipe: Recipe | None = None
        self.last_checkpoint: str | None = None
        self.history: list[dict[str, float]] = []
        self.global_step = 0
        self.epoch = 0
        self.t0 = time.perf_counter()
        self.paused_s = 0.0
        self.trainer: Trainer | None = None
        self._full_views_epoch = -1
        self.want_views = True
        self.inspect_every = 0

    def _base(self, kind: str, **kw) -> Update:
        total = getattr(self, "total_steps", 0)
        progress = min(1.0, self.global_step / total) if total else 0.0
        elapsed = time.perf_counter() - self.t0
        run_steps = self.global_step - getattr(self, "start_step", 0)
        eta = None
        if run_steps > 0 and total:
            busy = elapsed - getattr(self, "setup_s", 0.0) - self.paused_s
            eta = max(0.0, busy) / run_steps * (total - self.global_step)
        return Update(kind=kind, epoch=self.epoch + 1 if kind != "epoch" else self.epoch,
                      epochs=getattr(self, "epochs", 0), step=self.global_step, total_steps=total,
                      progress=progress, elapsed_s=elapsed, eta_s=eta, checkpoint=self.last_checkpoint, **kw)

    def run(self) -> Iterator[Update]:
        try:
            yield from self._run()
        except GeneratorExit:
            raise
        except BaseException as exc:  # every fault ends as one error update, never a dead thread
            yield self._error(exc)

    def _error(self, exc: BaseException) -> Update:
        kw: dict[str, Any] = {}
        if isinstance(exc, NonFiniteLoss | nnloop_trainer.NonFiniteLoss):
            where = f" (last good checkpoint: {self.last_checkpoint})" if self.last_checkpoint else ""
            step, epoch = getattr(exc, "step", 0), getattr(exc, "epoch", 0)
            if not step:  # raised inside the step itself: it is the one after the last counted step
                step = (self.trainer.global_step if self.trainer is not None else self.global_step) + 1
                epoch = (self.trainer.epoch if self.trainer is not None else self.epoch) + 1
            self.global_step, self.epoch = step - 1, epoch - 1
            msg = (f"{exc} at step {step} (epoch {epoch}); training stopped. "
                   f"Lower the learning rate or add gradient clipping{where}")
        elif _is_oom(exc):
            bs = self.settings.batch_size if hasattr(self, "settings") else 0
            msg = f"out of GPU memory at batch size {bs}; try batch size {max(1, bs // 2)} or a smaller model"
            kw["setting"] = "batch_size"
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        elif isinstance(exc, ModelError):
            msg = str(exc)
            kw.update(node=exc.node, node_id=exc.node_id, graph=exc.graph)
        elif isinstance(exc, SettingsError):
            msg, kw["setting"] = str(exc), exc.key
        elif isinstance(exc, DataError):
            msg, kw["setting"] = str(exc), "dataset"
        elif isinstance(exc, CheckpointError):
            msg = str(exc)
        elif isinstance(exc, KeyboardInterrupt):
            msg = "interrupted"
        else:
            msg = f"internal error: {type(exc).__name__}: {exc}"
            kw["info"] = {"traceback": traceback.format_exc()}
        return self._base("error", message=msg, history=list(self.history), **kw)

    def _setup(self) -> None:
        raw = self.raw_settings if self.raw_settings is not None else self.project.training
        self.settings = raw if isinstance(raw, TrainingSettings) else TrainingSettings.from_dict(raw)
        s = self.settings
        torch.set_num_threads(s.threads or max(1, (os.cpu_count() or 2) - 1))
        seed_everything(s.seed)
        device = pick_device(s.device)
        check_before_allocation(self.project, self.registry, s, device)  # refuse what cannot fit, before allocating
        ctx = Context(self.project, self.registry, s, device, amp=s.amp and device.type == "cuda")
        self.recipe = make_recipe(ctx)
        self.recipe.control = self.control  # a recipe that plays moves reads control.by_move
        self.recipe.setup()
        self.task = _task_of(self.recipe)
        self.epochs = s.epochs
        self.steps = self.task.steps_per_epoch()
        self.total_steps = self.epochs * self.steps
        self.start_epoch, self.start_index = 0, 0
        if self.resume_from:
            self._resume(load_checkpoint(self.resume_from))
        self.start_step = self.global_step
        self.setup_s = time.perf_counter() - self.t0

    def _run(self) -> Iterator[Update]:
        self._setup()
        r, s = self.recipe, self.settings
        assert r is not None
        task = self.task
        sizes = {name: model_size(b.module) for name, b in r.built.items()}
        info = dict(r.info, device=str(r.device), models=sizes, steps_per_epoch=self.steps, recipe=s.recipe,
                    unit=r.unit, resumed_at=self.global_step if self.resume_from else None)
        if not self.resume_from:
            with _kept_rng(r.device):
                info["initial"] = r.initial_metrics()  # validation before any step (epoch 0 on the plots)
        yield self._base("started", info=info)
        es = s.early_stopping
        early = EarlyStop(es.enabled, es.patience, es.min_delta, es.metric, r.monitor, higher_is_better)
        trainer = self.trainer = Trainer(task, self.epochs, early, history=self.history, start_epoch=self.start_epoch,
                                         start_index=self.start_index, global_step=self.global_step,
                                         keep_points=True)
        control, throttle, steps, want_views = self.control, self.throttle_s, self.steps, self.want_views
        last_emit = last_view = time.perf_counter()
        last_full = -math.inf
        full_views: dict[str, Any] = {}
        meter = _Throughput()
        counted = 0.0  # samples already given to the meter
        view_every = self.view_interval_s
        from studio.train.inspect_stats import Inspector  # per-node statistics (the "inside" views)

        inside = Inspector.for_recipe(r, self.inspect_every) if self.inspect_every and r.built else None
        yield from self._control_point()
        if inside is not None and inside.due(trainer.global_step + 1, control.watching):
            inside.arm()
        if control.cancelled:
            yield from self._finish("cancelled", "stopped by the user", trainer.epoch, trainer.next_index)
            return
        for event in trainer.run():
            if event[0] == "step":
                watching = control.watching  # read first: the step that ends a budget is still shown
                if watching:  # a step budget or slow motion: nothing to count otherwise
                    control.after_step()
                stats = inside.collect(trainer.global_step) if inside is not None else None
                now = time.perf_counter()
                if watching or stats or now - last_emit >= throttle:
                    last_emit = now
                    points = trainer.take_points()
                    self.global_step = trainer.global_step
                    rate = meter.add(now, trainer.flushed_samples - counted)
                    counted = trainer.flushed_samples
                    yield self._base("step", metrics=points[-1][1] if points else {}, points=points,
                                     samples_per_s=rate, info={"inside": stats} if stats else {})
                if want_views and (watching or (now - last_view >= view_every and trainer.next_index < steps)):
                    with _kept_rng(r.device):
                        views = r.views(quick=True)
                    last_view = time.perf_counter()
                    trainer.exclude(last_view - now)
                    # keep live views under ~5% of the run even for big models
                    view_every = max(self.view_interval_s, 20 * (last_view - now))
                    yield self._base("views", views=views)
                    meter.pause()
            elif event[0] == "epoch":
                control.after_epoch()
                summary, improved = event[1], event[2]
                points = trainer.take_points()
                self.global_step, self.epoch, self.history = trainer.global_step, trainer.epoch, trainer.history
                if points:
                    yield self._base("step", metrics=points[-1][1], points=points, samples_per_s=meter.rate)
                counted = trainer.flushed_samples
                meter.reset()
                if self.dir and (self.epoch % s.checkpoint_every == 0 or self.epoch == self.epochs):
                    self._save(self.epoch, 0)
                if improved and self.dir:
                    self._save(self.epoch, 0, name="best.pt")
                views: dict[str, Any] = {}
                if self.want_views and (time.perf_counter() - last_full >= self.view_interval_s
                                        or self.epoch == self.epochs):
                    with _kept_rng(r.device):
                        views = full_views = r.views(quick=False)  # at most once per view interval, and at the end
                    last_view = last_full = time.perf_counter()
                    self._full_views_epoch = self.epoch
                yield self._base("epoch", metrics=summary, views=views, samples_per_s=summary["samples_per_s"])
            else:  # early stop
                yield from self._finish("done", event[1], self.epoch, 0, save=False, views=full_views)
                return
            if self._live_or_paused():  # between two steps; a plain check when nothing is asked
                yield from self._paused()
            if control.cancelled:
                yield from self._finish("cancelled", "stopped by the user", trainer.epoch, trainer.next_index)
                return
            if inside is not None and inside.due(trainer.global_step + 1, control.watching):
                inside.arm()
        yield from self._finish("done", "finished", self.epochs, 0, save=False, views=full_views)

    def _control_point(self) -> Iterator[Update]:
        """Between two steps: apply live setting changes; wait here while paused (the plots get every step
        so far first)."""
        if self._live_or_paused():
            yield from self._paused()

    def _live_or_paused(self) -> bool:
        """Apply live setting changes; True when the run is paused."""
        live = self.control.take_live()
        if live and self.recipe is not None:
            apply_live(self.recipe.settings, live)
        return self.control.paused

    def _paused(self) -> Iterator[Update]:
        """Wait here while paused (the plots get every step so far first)."""
        points = self.trainer.take_points() if self.trainer is not None else []
        yield self._base("paused", points=points)
        t_pause = time.perf_counter()
        self.control.wait_while_paused()
        paused = time.perf_counter() - t_pause
        self.paused_s += paused
        if self.trainer is not None:
            self.trainer.exclude(paused)

    def _finish(self, kind: str, message: str, epoch: int, index: int, save: bool = True,
                views: dict[str, Any] | None = None) -> Iterator[Update]:
        if self.trainer is not None:
            self.trainer.flush()  # a non-finite loss still unread becomes the error, not a checkpoint
            self.global_step = self.trainer.global_step
        if save and self.dir and self.global_step > self.start_step:
            self._save(epoch, index)
        r = self.recipe
        if kind != "done" or not self.want_views:
            views = {}
        elif r is not None and (not views or self._full_views_epoch != self.epoch):
            with _kept_rng(r.device):
                views = r.views(quick=False)
        last = self.history[-1] if self.history else {}
        self.epoch = max(0, epoch - 1) if kind == "done" else epoch
        yield self._base(kind, message=message, metrics=last, views=views or {}, history=list(self.history))

    # -- checkpoints ---------------------------------------------------------------------------
    def _save(self, epoch: int, index: int, name: str = "last.pt") -> None:
        r = self.recipe
        assert r is not None and self.dir is not None
        state = {
            "epoch": epoch, "index": index, "global_step": self.global_step,
            "models": {n: {k: v.detach().cpu() for k, v in b.module.state_dict().items()} for n, b in r.built.items()},
            "optimizers": {n: o.state_dict() for n, o in r.optimizers.items()},
            "schedules": {n: sc.state_dict() for n, sc in r.schedules.items()},
            "recipe": r.extra_state(),
            "history": self.history,
            "settings": self.settings.to_dict(),
            "rng": {"torch": torch.get_rng_state()},
        }
        path = save_checkpoint(self.dir / name, state)
        if name == "last.pt":
            self.last_checkpoint = str(path)

    def _resume(self, state: dict[str, Any]) -> None:
        r = self.recipe
        assert r is not None
        for name, weights in state.get("models", {}).items():
            if name not in r.built:
                raise CheckpointError(f"the checkpoint holds graph '{name}', which this project lacks")
            try:
                r.built[name].module.load_state_dict(weights)
            except RuntimeError as exc:
                raise CheckpointError(f"the checkpoint's weights for '{name}' do not fit the graph: "
                                      f"{str(exc).splitlines()[0]}") from exc
        for name, opt in r.optimizers.items():
            if name in state.get("optimizers", {}):
                opt.load_state_dict(state["optimizers"][name])
        for name, sched in r.schedules.items():
            if name in state.get("schedules", {}):
                sched.load_state_dict(state["schedules"][name])
        r.load_extra_state(state.get("recipe", {}))
        self.history = list(state.get("history", []))
        self.start_epoch, self.start_index = int(state["epoch"]), int(state.get("index", 0))
        self.global_step = int(state.get("global_step", self.start_epoch * self.steps + self.start_index))
        self.epoch = self.start_epoch
        if "rng" in state:
            torch.set_rng_state(state["rng"]["torch"])


class _Throughput:
    """Samples per second over the last ~2 s of steps (time spent in views and validation excluded).

    Running sums keep each step O(1), so fast steps do not pay for their own measurement.
    """

    def __init__(self, span: float = 2.0) -> None:
        self.span = span
        self.reset()

    def reset(self) -> None:
        self.marks: deque[tuple[float, float]] = deque()
        self.time_sum = 0.0
        self.sample_sum = 0.0
        self.last: float | None = None
        self.rate = 0.0

    def add(self, now: float, samples: float) -> float:
        if self.last is not None:
            dt = now - self.last
            self.marks.append((dt, samples))
            self.time_sum += dt
            self.sample_sum += samples
            while len(self.marks) > 2 and self.time_sum - self.marks[0][0] > self.span:
                old_dt, old_n = self.marks.popleft()
                self.time_sum -= old_dt
                self.sample_sum -= old_n
            if self.time_sum > 0:
                self.rate = self.sample_sum / self.time_sum
        self.last = now
        return self.rate

    def pause(self) -> None:
        """Forget the gap before the next step (views, validation, a pause)."""
        self.last = None


@contextlib.contextmanager
def _kept_rng(device: torch.device) -> Iterator[None]:
    """Views and validation draw random numbers (denoising noise, GAN samples) without moving the
    training's random state: how often the GUI looks never changes what is trained."""
    devices = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        yield


class _RecipeSteps:
    """A recipe's own ``train_step`` as a trainer task (recipes that do not hand over an nnloop task)."""

    def __init__(self, recipe: Recipe) -> None:
        self.recipe = recipe
        self.monitor = recipe.monitor
        self.device = recipe.device
        self.schedules = list(recipe.schedules.values())
        self.rows: list[dict[str, float]] = []

    def steps_per_epoch(self) -> int:
        return self.recipe.steps_per_epoch()

    def step(self, epoch: int, index: int) -> None:
        metrics = self.recipe.train_step(epoch, index)
        metrics.setdefault("samples", float(self.recipe.samples_per_step()))
        self.rows.append(metrics)

    def flush(self) -> list[dict[str, float]]:
        rows, self.rows = self.rows, []
        return rows

    def evaluate(self) -> dict[str, float]:
        return self.recipe.evaluate()

    def lr(self) -> float:
        return _lr(self.recipe)


def _task_of(recipe: Recipe) -> Any:
    """The nnloop task a recipe trains with (its ``loop_task``), or its own steps wrapped as one."""
    task = getattr(recipe, "loop_task", None)
    return task if task is not None else _RecipeSteps(recipe)


def _lr(r: Recipe) -> float:
    for opt in r.optimizers.values():
        return float(opt.param_groups[0]["lr"])
    return float(r.settings.rl.lr)


def run_to_end(project: Project, registry: Registry, **kwargs) -> Update:
    """Run without a GUI and return the final update (tests, scripts)."""
    last = None
    for update in run(project, registry, **kwargs):
        last = update
    assert last is not None
    return last


def load_trained(project: Project, registry: Registry, checkpoint: str | os.PathLike | None = None,
                 device: str = "cpu") -> dict[str, Any]:
    """Compile every graph and load weights from ``checkpoint`` (for evaluation, activations, "try it").

    Returns {graph name: BuiltModel} in eval mode; raises ModelError / CheckpointError with a clear message.
    """
    from studio.train.build import build_model

    weights = load_checkpoint(checkpoint).get("models", {}) if checkpoint else {}
    out = {}
    for graph in project.graphs:
        built = build_model(graph, registry)
        if graph.name in weights:
            try:
                built.module.load_state_dict(weights[graph.name])
            except RuntimeError as exc:
                raise CheckpointError(f"the checkpoint's weights for '{graph.name}' do not fit the graph: "
                                      f"{str(exc).splitlines()[0]}") from exc
        built.module.to(device).eval()
        out[graph.name] = built
    return out


def evaluate(project: Project, registry: Registry, checkpoint: str | os.PathLike,
             settings: TrainingSettings | dict | None = None) -> Update:
    """Validation metrics and full views of a checkpoint, as one ``done`` (or ``error``) update."""
    loop = _Loop(project, registry, settings, RunControl(), None, None, 0.0, 0.0)
    try:
        loop._setup()
        r = loop.recipe
        assert r is not None
        state = load_checkpoint(checkpoint)
        for name, weights in state.get("models", {}).items():
            if name in r.built:
                r.built[name].module.load_state_dict(weights)
        r.load_extra_state(state.get("recipe", {}))
        metrics = r.evaluate()
        loop.last_checkpoint = str(checkpoint)
        return loop._base("done", message="evaluated", metrics=metrics, views=r.views(quick=False),
                          history=list(state.get("history", [])))
    except Exception as exc:
        return loop._error(exc)
