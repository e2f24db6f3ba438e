"""Sanity tools a teacher (or anyone) runs before a long training: no Qt, cancellable, with progress.

- :func:`overfit_one_batch`: train on a single batch until the loss is near zero. A model that
  cannot even memorise 32 samples has a bug (a vanishing gradient, a frozen or detached layer, a
  learning rate far off, an output that cannot express the target); when it fails, the result says
  which of those it saw.
- :func:`lr_range_test`: the learning-rate range test (L. Smith, "Cyclical Learning Rates", 2017):
  raise the learning rate exponentially from one batch to the next, record the smoothed loss, stop
  when it explodes, and suggest the rate where the loss fell fastest.

Both build the project's own recipe (its data, model, optimizer and initialisation) and apply to
the supervised paradigms (classification, regression, sequence, reconstruction): the ones that
have batches to overfit. Others get a clear :class:`SanityError`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from studio.core.model import Project
from studio.core.registry import Registry
from studio.train.settings import TrainingSettings

Progress = Callable[[float, str], None]
ShouldStop = Callable[[], bool]


class SanityError(ValueError):
    """A sanity tool that cannot run on this project; the message says why."""


@dataclass
class OverfitResult:
    ok: bool
    steps: int
    first_loss: float
    last_loss: float
    losses: list[float] = field(default_factory=list)
    message: str = ""


@dataclass
class RangeResult:
    lrs: list[float]
    losses: list[float]  # smoothed
    suggested: float | None
    message: str = ""


def _supervised(project: Project, registry: Registry, settings: TrainingSettings | dict | None):
    """The project's supervised recipe, set up (data loaded, model built and initialised)."""
    from studio.train.engine import pick_device, seed_everything
    from studio.train.recipes import make_recipe
    from studio.train.recipes.base import Context
    from studio.train.recipes.supervised import Supervised

    raw = settings if settings is not None else project.training
    s = raw if isinstance(raw, TrainingSettings) else TrainingSettings.from_dict(raw)
    torch.set_num_threads(s.threads or max(1, (os.cpu_count() or 2) - 1))
    seed_everything(s.seed)
    ctx = Context(project, registry, s, pick_device(s.device), amp=False)
    recipe = make_recipe(ctx)
    if not isinstance(recipe, Supervised):
        label = getattr(getattr(recipe, "spec", None), "label", s.recipe)
        raise SanityError(f"this check needs batches of samples and targets; the '{label}' paradigm trains "
                          f"differently (choose a classification, regression, sequence or reconstruction recipe)")
    recipe.setup()
    return recipe


def _loss_fn(recipe) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    from studio.train.nnloop.parts import align, aligned_loss

    task = recipe.loop_task

    def loss(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        target = xb if task.reconstruct else yb
        out = task.forward(xb).float()
        scores, labels = align(out, target, task.task, task.bce, task.what)
        return aligned_loss(scores, labels, task.task, task.loss_name, 0.0)

    return loss


def _first_batch(recipe) -> tuple[torch.Tensor, torch.Tensor]:
    xb, yb = next(iter(recipe.loop_task.train_batches.batches(0, start=0)))
    return xb.to(recipe.device), yb.to(recipe.device)


def overfit_one_batch(project: Project, registry: Registry, settings: TrainingSettings | dict | None = None, *,
                      max_steps: int = 1000, goal: float = 0.05, progress: Progress | None = None,
                      should_stop: ShouldStop | None = None) -> OverfitResult:
    """Train on the first batch alone with the project's optimizer until the loss is below ``goal``
    × its first value (or under 1e-3); say why not when it stays above."""
    from studio.train.inspect_stats import Inspector

    recipe = _supervised(project, registry, settings)
    model, opt, task = recipe.model, recipe.optimizer, recipe.loop_task
    xb, yb = _first_batch(recipe)
    loss_of = _loss_fn(recipe)
    model.module.train()
    for m in getattr(recipe, "frozen", []):
        m.eval()
    losses: list[float] = []
    inspector = Inspector({model.name: model}, feature_maps=False)
    first_stats: dict[str, Any] | None = None
    for step in range(1, max_steps + 1):
        if should_stop is not None and should_stop():
            break
        if step == 1:
            inspector.arm()
        loss = loss_of(xb, yb)
        value = float(loss.detach())
        losses.append(value)
        if not math.isfinite(value):
            return OverfitResult(False, step, losses[0], value, losses,
                                 f"the loss became {'NaN' if value != value else 'infinite'} at step {step}: "
                                 f"lower the learning rate ({_lr(opt):.3g}) or add gradient clipping")
        if value <= goal * losses[0] or value < 1e-3:
            if inspector.armed:
                inspector.disarm()
            return OverfitResult(True, step, losses[0], value, losses,
                                 f"the loss fell from {losses[0]:.4g} to {value:.4g} in {step} steps on one batch "
                                 f"of {len(xb)}: the model can learn")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if task.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.module.parameters(), task.grad_clip)
        opt.step()
        if step == 1:
            first_stats = inspector.collect(1)
        if progress is not None and step % 10 == 0:
            progress(step / max_steps, f"step {step}: loss {value:.4g}")
    last = losses[-1] if losses else math.nan
    first = losses[0] if losses else math.nan
    return OverfitResult(False, len(losses), first, last, losses, _why_not(losses, first_stats, model, _lr(opt)))


def _why_not(losses: list[float], stats: dict[str, Any] | None, model, lr: float) -> str:
    """The most likely reason one batch was not learned, from the curve and the first step's statistics."""
    first, last = losses[0], losses[-1]
    head = f"the loss went from {first:.4g} to {last:.4g} in {len(losses)} steps, not near zero"
    nodes = (stats or {}).get("graphs", {}).get(model.name, {})
    grads = [(s["node"], s["grad_norm"]) for s in nodes.values() if s.get("grad_norm") is not None]
    if nodes and not any(g for _, g in grads):
        return f"{head}: no gradient reaches the weights (every node frozen, or nothing trainable before the loss)"
    if len(grads) >= 2 and grads[0][1] > 0 and grads[-1][1] / grads[0][1] >= 100:
        return (f"{head}: the gradient vanishes — '{grads[0][0]}' gets {grads[-1][1] / grads[0][1]:.2g}× less than "
                f"'{grads[-1][0]}'; use ReLU with Kaiming initialisation, or add normalisation")
    dead = [(s["node"], s["dead"]) for s in nodes.values() if (s.get("dead") or 0) >= 0.5]
    if dead:
        name, share = dead[0]
        return f"{head}: {share:.0%} of the units of '{name}' are dead (never positive); lower the learning rate"
    if max(losses) > 2 * first:
        return f"{head}: the loss jumps up and down; the learning rate ({lr:.3g}) is too high"
    if last > 0.7 * first:
        return (f"{head}: the loss hardly moves; the learning rate ({lr:.3g}) may be too low, "
                f"or the output cannot express the target")
    return f"{head}: the model may be too small to memorise even one batch, or needs more steps"


def _lr(opt: torch.optim.Optimizer) -> float:
    return float(opt.param_groups[0]["lr"])


def lr_range_test(project: Project, registry: Registry, settings: TrainingSettings | dict | None = None, *,
                  start: float = 1e-6, end: float = 1.0, steps: int = 80, smoothing: float = 0.9,
                  progress: Progress | None = None, should_stop: ShouldStop | None = None) -> RangeResult:
    """Loss against learning rate on successive batches, from ``start`` to ``end`` (exponentially);
    stops when the smoothed loss exceeds 4 × its minimum. The suggestion is the rate of the steepest
    fall of the smoothed loss (before its minimum), rounded to two significant digits."""
    if not (0 < start < end):
        raise SanityError(f"the range must grow: start {start} and end {end}")
    recipe = _supervised(project, registry, settings)
    model, opt, task = recipe.model, recipe.optimizer, recipe.loop_task
    loss_of = _loss_fn(recipe)
    base = _lr(opt) or 1.0
    ratios = [g["lr"] / base for g in opt.param_groups]  # per-node LR multipliers stay as set
    model.module.train()
    for m in getattr(recipe, "frozen", []):
        m.eval()
    factor = (end / start) ** (1 / max(1, steps - 1))
    lrs: list[float] = []
    smooth: list[float] = []
    avg = 0.0
    batches = iter(())
    epoch = 0
    lr = start
    for i in range(steps):
        if should_stop is not None and should_stop():
            break
        try:
            xb, yb = next(batches)
        except StopIteration:
            batches = iter(task.train_batches.batches(epoch, start=0))
            epoch += 1
            xb, yb = next(batches)
        xb, yb = xb.to(recipe.device), yb.to(recipe.device)
        for g, r in zip(opt.param_groups, ratios, strict=True):
            g["lr"] = lr * r
        loss = loss_of(xb, yb)
        value = float(loss.detach())
        if not math.isfinite(value):
            break
        avg = smoothing * avg + (1 - smoothing) * value
        s = avg / (1 - smoothing ** (i + 1))
        lrs.append(lr)
        smooth.append(s)
        if s > 4 * min(smooth):
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if task.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.module.parameters(), task.grad_clip)
        opt.step()
        if progress is not None and i % 5 == 0:
            progress((i + 1) / steps, f"lr {lr:.2g}: loss {s:.4g}")
        lr *= factor
    suggested = suggest(lrs, smooth)
    if suggested is None:
        msg = "the loss never fell: no learning rate in the range helped (check the model first)"
    else:
        msg = f"suggested learning rate {suggested:.2g} (the loss falls fastest there)"
    return RangeResult(lrs, smooth, suggested, msg)


def suggest(lrs: list[float], losses: list[float]) -> float | None:
    """The rate where the smoothed loss falls fastest against log(lr), looking only before its minimum."""
    if len(lrs) < 5:
        return None
    low = min(range(len(losses)), key=losses.__getitem__)
    if low < 3 or losses[low] >= losses[0]:
        return None
    logs = [math.log10(x) for x in lrs]
    k = 2  # slope over a window of 2k+1 points: the smoothed loss is still noisy
    best, where = 0.0, None
    for i in range(k, low + 1):
        j = min(i + k, len(lrs) - 1)
        h = max(0, i - k)
        slope = (losses[j] - losses[h]) / (logs[j] - logs[h])
        if slope < best:
            best, where = slope, i
    if where is None:
        return None
    return float(f"{lrs[where]:.2g}")
