"""Per-node freezing and LR multipliers; optimizers, schedules and initialisation as the settings schema
names them, built by the training loop's own code (:mod:`studio.train.nnloop.parts`), so the app and an
exported ``train.py`` cannot drift."""

from __future__ import annotations

import torch
from torch import nn

from studio.train.build import BuiltModel
from studio.train.nnloop import parts
from studio.train.nnloop.parts import init_weights, l1_penalty
from studio.train.settings import NodeTraining, OptimizerSettings, ScheduleSettings, SettingsError


def apply_node_settings(models: list[BuiltModel], nodes: dict[str, NodeTraining]) -> dict[int, float]:
    """Freeze nodes and collect LR multipliers by parameter id; unknown node names are errors."""
    multipliers: dict[int, float] = {}
    for name, ns in nodes.items():
        module = None
        for m in models:
            module = m.submodule(name)
            if module is not None:
                break
        if module is None:
            known = sorted({n for m in models for n in m.targets})
            raise SettingsError(f"nodes.{name}", f"no layer named '{name}' with weights; layers: {', '.join(known)}")
        for p in module.parameters():
            if ns.freeze:
                p.requires_grad_(False)
            multipliers[id(p)] = ns.lr_mult
    return multipliers


def make_optimizer(opt: OptimizerSettings, modules: list[nn.Module], multipliers: dict[int, float],
                   lr: float | None = None) -> torch.optim.Optimizer:
    """The training loop's optimizer (:mod:`studio.train.nnloop.parts`), with refusals named by setting."""
    betas = tuple(float(b) for b in opt.betas)
    if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
        raise SettingsError("optimizer.betas", f"must be two numbers in [0, 1), got {opt.betas!r}")
    try:
        return parts.make_optimizer(opt.model_dump(), modules, multipliers, lr)
    except parts.NothingToTrain as exc:
        raise SettingsError("nodes", str(exc)) from exc


class Schedule(parts.Schedule):
    """The training loop's schedule, built from the settings schema's section."""

    def __init__(self, s: ScheduleSettings, optimizer: torch.optim.Optimizer, epochs: int, steps_per_epoch: int) -> None:
        super().__init__(s.model_dump(), optimizer, epochs, steps_per_epoch)


__all__ = ["Schedule", "apply_node_settings", "init_weights", "l1_penalty", "make_optimizer"]
