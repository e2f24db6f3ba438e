"""Optimizers, LR schedules, per-node freezing and LR multipliers, weight initialisation."""

from __future__ import annotations

import math

import torch
from torch import nn

from studio.train.build import BuiltModel
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
    """One param group per distinct LR multiplier; frozen parameters are left out."""
    base = opt.lr if lr is None else lr
    groups: dict[float, list[nn.Parameter]] = {}
    for module in modules:
        for p in module.parameters():
            if p.requires_grad:
                groups.setdefault(multipliers.get(id(p), 1.0), []).append(p)
    if not groups:
        raise SettingsError("nodes", "every layer is frozen (or the model has no weights): nothing to train")
    params = [{"params": ps, "lr": base * mult, "lr_mult": mult} for mult, ps in groups.items()]
    betas = tuple(float(b) for b in opt.betas)
    if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
        raise SettingsError("optimizer.betas", f"must be two numbers in [0, 1), got {opt.betas!r}")
    if opt.name == "sgd":
        return torch.optim.SGD(params, lr=base, momentum=opt.momentum, nesterov=opt.nesterov and opt.momentum > 0,
                               weight_decay=opt.weight_decay)
    if opt.name == "adam":
        return torch.optim.Adam(params, lr=base, betas=betas, weight_decay=opt.weight_decay)
    if opt.name == "adamw":
        return torch.optim.AdamW(params, lr=base, betas=betas, weight_decay=opt.weight_decay)
    return torch.optim.RMSprop(params, lr=base, momentum=opt.momentum, weight_decay=opt.weight_decay)


class Schedule:
    """Wraps torch schedulers so the loop calls ``after_step()`` and ``after_epoch(metric)`` alike."""

    def __init__(self, s: ScheduleSettings, optimizer: torch.optim.Optimizer, epochs: int, steps_per_epoch: int) -> None:
        self.name = s.name
        sched = torch.optim.lr_scheduler
        self.scheduler = None
        if s.name == "step":
            self.scheduler = sched.StepLR(optimizer, step_size=s.step_size, gamma=s.gamma)
        elif s.name == "cosine":
            self.scheduler = sched.CosineAnnealingLR(optimizer, T_max=max(1, epochs), eta_min=s.min_lr)
        elif s.name == "one_cycle":
            max_lrs = [(s.max_lr or 10 * g["lr"] / max(g.get("lr_mult", 1.0), 1e-12)) * g.get("lr_mult", 1.0)
                       for g in optimizer.param_groups]
            self.scheduler = sched.OneCycleLR(optimizer, max_lr=max_lrs, total_steps=max(2, epochs * steps_per_epoch))
        elif s.name == "plateau":
            self.scheduler = sched.ReduceLROnPlateau(optimizer, factor=s.factor, patience=s.patience)
        self._steps = 0
        self._total = epochs * steps_per_epoch

    def after_step(self) -> None:
        if self.name == "one_cycle" and self.scheduler is not None and self._steps < self._total - 1:
            try:
                self.scheduler.step()
            except ValueError:  # resumed with more epochs than the cycle was planned for: hold the LR
                pass
        self._steps += 1

    def after_epoch(self, metric: float | None) -> None:
        if self.scheduler is None or self.name == "one_cycle":
            return
        if self.name == "plateau":
            if metric is not None and math.isfinite(metric):
                self.scheduler.step(metric)
        else:
            self.scheduler.step()

    def state_dict(self) -> dict:
        return {"steps": self._steps, "scheduler": self.scheduler.state_dict() if self.scheduler else {}}

    def load_state_dict(self, state: dict) -> None:
        self._steps = int(state.get("steps", 0))
        if self.scheduler is not None and state.get("scheduler"):
            self.scheduler.load_state_dict(state["scheduler"])


def l1_penalty(modules: list[nn.Module]) -> torch.Tensor:
    total = None
    for module in modules:
        for p in module.parameters():
            if p.requires_grad and p.dim() > 1:
                term = p.abs().sum()
                total = term if total is None else total + term
    return total if total is not None else torch.zeros(())


def init_weights(module: nn.Module, scheme: str) -> None:
    """Re-initialise Linear / Conv / recurrent weights; biases to zero. ``default`` keeps PyTorch's."""
    if scheme == "default":
        return
    for m in module.modules():
        if isinstance(m, nn.Linear | nn.Conv1d | nn.Conv2d | nn.Conv3d | nn.ConvTranspose1d | nn.ConvTranspose2d):
            _init(m.weight, scheme)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.RNNBase):
            for name, p in m.named_parameters():
                if "weight" in name:
                    _init(p, scheme)
                elif "bias" in name:
                    nn.init.zeros_(p)


def _init(w: torch.Tensor, scheme: str) -> None:
    if scheme == "xavier":
        nn.init.xavier_uniform_(w)
    elif scheme == "kaiming":
        nn.init.kaiming_normal_(w, nonlinearity="relu")
    elif scheme == "orthogonal":
        nn.init.orthogonal_(w)
    elif scheme == "normal":
        nn.init.normal_(w, 0.0, 0.02)
