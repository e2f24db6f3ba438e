"""Building blocks of the training loop: batches, losses, metrics, optimizers, schedules, initialisation.

Imports torch, numpy and the standard library only (see the package docstring).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class NothingToTrain(ValueError):
    """Every parameter is frozen (or the model has none)."""


class ShapeMismatch(ValueError):
    """The model's output does not fit the targets; the message names both shapes."""



# ---------------------------------------------------------------------------------------------
# Batches


class Batches:
    """Shuffled mini-batches sliced from tensors, augmented per batch, reproducible per epoch.

    ``rank``/``world`` split every epoch's batches between processes (distributed training)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool, seed: int,
                 augment: dict | None = None, stats: tuple[torch.Tensor, torch.Tensor] | None = None,
                 drop_last: bool = False, rank: int = 0, world: int = 1) -> None:
        self.x, self.y = x, y
        self.batch_size = max(1, min(batch_size, len(x))) if len(x) else batch_size
        self.shuffle, self.seed = shuffle, seed
        self.augment = dict(augment or {})
        a = self.augment
        self._augments = bool(a.get("flip") or a.get("crop") or a.get("rotation"))  # checked once, not per batch
        self.stats = stats
        self.drop_last = drop_last and len(x) > self.batch_size
        self.rank, self.world = rank, world

    def _count(self) -> int:
        n = len(self.x)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __len__(self) -> int:
        return self._count() // self.world if self.world > 1 else self._count()

    def batches(self, epoch: int, start: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Batches of ``epoch`` from batch index ``start`` (a resumed run skips what it did)."""
        bs = self.batch_size
        if not self.shuffle and self.world == 1:  # in order: slices, no index copies
            for i in range(start, len(self)):
                xb, yb = self.x[i * bs:(i + 1) * bs], self.y[i * bs:(i + 1) * bs]
                if self.stats is not None and xb.is_floating_point():
                    xb = (xb - self.stats[0]) / self.stats[1]
                yield xb, yb
            return
        g = torch.Generator().manual_seed(self.seed * 1000003 + epoch)
        n = len(self.x)
        order = torch.randperm(n, generator=g) if self.shuffle else torch.arange(n)
        for i in range(start, len(self)):
            j = i * self.world + self.rank
            idx = order[j * bs:(j + 1) * bs]
            xb, yb = self.x[idx], self.y[idx]
            if self._augments and xb.is_floating_point():
                xb = self._augment(xb, g)
            if self.stats is not None and xb.is_floating_point():
                xb = (xb - self.stats[0]) / self.stats[1]
            yield xb, yb

    def _augment(self, xb: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        a = self.augment
        flip, crop, rotation = a.get("flip", False), a.get("crop", 0), a.get("rotation", 0.0)
        if xb.dim() != 4 or not self.shuffle or not (flip or crop or rotation):
            return xb
        b = xb.shape[0]
        if flip:
            mask = torch.rand(b, generator=g) < 0.5
            xb = torch.where(mask[:, None, None, None], xb.flip(3), xb)
        if rotation:
            ang = (torch.rand(b, generator=g) * 2 - 1) * math.radians(rotation)
            cos, sin = torch.cos(ang), torch.sin(ang)
            theta = torch.stack([torch.stack([cos, -sin, torch.zeros(b)], 1),
                                 torch.stack([sin, cos, torch.zeros(b)], 1)], 1)
            grid = F.affine_grid(theta, list(xb.shape), align_corners=False)
            xb = F.grid_sample(xb, grid, align_corners=False)
        if crop:
            p = crop
            padded = F.pad(xb, (p, p, p, p))
            h, w = xb.shape[2:]
            dx = torch.randint(0, 2 * p + 1, (b,), generator=g)
            dy = torch.randint(0, 2 * p + 1, (b,), generator=g)
            rows = (dy[:, None] + torch.arange(h)[None])[:, None, :, None].expand(b, xb.shape[1], h, w + 2 * p)
            cols = (dx[:, None] + torch.arange(w)[None])[:, None, None, :].expand(b, xb.shape[1], h, w)
            xb = padded.gather(2, rows).gather(3, cols)
        return xb


def input_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean/std for images (N, C, H, W), per-feature otherwise."""
    dims = (0, 2, 3) if x.dim() == 4 else (0,)
    mean = x.float().mean(dim=dims, keepdim=True)[0]
    std = x.float().std(dim=dims, keepdim=True)[0].clamp_min(1e-6)
    return mean, std


# ---------------------------------------------------------------------------------------------
# Losses and metrics


def _shape(shape) -> str:
    return "(" + ", ".join(["B", *(str(d) for d in tuple(shape)[1:])]) + ")"


def align(out: torch.Tensor, y: torch.Tensor, task: str, bce: bool, what: str = "target"
          ) -> tuple[torch.Tensor, torch.Tensor]:
    """Outputs and targets in matching layouts: class scores (N, C) and labels (N,) from (B, C) /
    (B, T, C) / (B, C, T); one score per sample for BCE; same-shape values otherwise."""
    if task == "classification":
        if not bce and out.dim() == 2 and y.dim() == 1 and out.shape[0] == y.shape[0]:
            return out, y  # the common case, without a reshape
        if bce:
            if out.numel() != y.numel():
                raise ShapeMismatch(f"binary cross-entropy needs one score per sample; the model gives "
                                    f"{_shape(out.shape)} for targets {_shape(y.shape)}")
            return out.reshape(-1), y.reshape(-1).float()
        if out.dim() == y.dim() + 1 and out.shape[:-1] == y.shape:
            return out.reshape(-1, out.shape[-1]), y.reshape(-1)
        if out.dim() == y.dim() + 1 and out.dim() > 2 and out.shape[0] == y.shape[0] and out.shape[2:] == y.shape[1:]:
            out = out.movedim(1, -1)
            return out.reshape(-1, out.shape[-1]), y.reshape(-1)
        raise ShapeMismatch(f"the model returns {_shape(out.shape)} but the labels are {_shape(y.shape)}: end the "
                            f"model with one score per class (e.g. a Linear with out_features = classes)")
    if out.shape != y.shape:
        if out.numel() == y.numel() and [d for d in out.shape if d != 1] == [d for d in y.shape if d != 1]:
            return out.reshape(y.shape), y
        raise ShapeMismatch(f"the model returns {_shape(out.shape)} but the {what} is {_shape(y.shape)}")
    return out, y


def supervised_loss(out: torch.Tensor, y: torch.Tensor, task: str, name: str, label_smoothing: float = 0.0,
                    what: str = "target") -> torch.Tensor:
    """Cross-entropy / BCE for classification; MSE / L1 / Huber / BCE for values (``auto``: CE or MSE)."""
    out, y = align(out.float(), y, task, name == "bce", what)
    return aligned_loss(out, y, task, name, label_smoothing)


def aligned_loss(out: torch.Tensor, y: torch.Tensor, task: str, name: str, label_smoothing: float = 0.0
                 ) -> torch.Tensor:
    """:func:`supervised_loss` of outputs and targets already passed through :func:`align`."""
    if task == "classification":
        if name == "bce":
            return F.binary_cross_entropy_with_logits(out, y)
        return F.cross_entropy(out, y, label_smoothing=label_smoothing)
    y = y.float()
    if name == "l1":
        return F.l1_loss(out, y)
    if name == "huber":
        return F.smooth_l1_loss(out, y)
    if name == "bce":
        return F.binary_cross_entropy_with_logits(out, y)
    return F.mse_loss(out, y)


def confusion_matrix(pred, target, classes: int) -> np.ndarray:
    """Rows are true classes, columns predicted classes."""
    p = np.asarray(pred).reshape(-1).astype(np.int64)
    t = np.asarray(target).reshape(-1).astype(np.int64)
    ok = (t >= 0) & (t < classes) & (p >= 0) & (p < classes)
    return np.bincount(t[ok] * classes + p[ok], minlength=classes * classes).reshape(classes, classes)


def classification_report(cm: np.ndarray) -> dict[str, float]:
    """Accuracy and macro precision / recall / F1 (classes absent from both sides are skipped)."""
    cm = np.asarray(cm, dtype=np.float64)
    tp, predicted, actual = np.diag(cm), cm.sum(0), cm.sum(1)
    present = (predicted + actual) > 0
    # divide only where the denominator is positive (0 elsewhere): no warnings to silence per epoch
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(tp), where=both > 0)
    total = cm.sum()
    some = bool(present.any())
    return {"accuracy": float(tp.sum() / total) if total else 0.0,
            "precision": float(precision[present].mean()) if some else 0.0,
            "recall": float(recall[present].mean()) if some else 0.0,
            "f1": float(f1[present].mean()) if some else 0.0}


def regression_report(pred: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    diff = pred.detach().float().reshape(-1) - target.detach().float().reshape(-1)
    return {"mse": float((diff ** 2).mean()), "mae": float(diff.abs().mean())}


# ---------------------------------------------------------------------------------------------
# Optimisation


def param_groups(model: nn.Module, frozen: Sequence[str] = (), lr_mult: dict[str, float] | None = None
                 ) -> dict[int, float]:
    """Freeze the named submodules and give each parameter of ``lr_mult``'s submodules its multiplier."""
    mult: dict[int, float] = {}
    for name in frozen:
        for p in model.get_submodule(name).parameters():
            p.requires_grad_(False)
    for name, m in (lr_mult or {}).items():
        for p in model.get_submodule(name).parameters():
            mult[id(p)] = m
    return mult


def make_optimizer(opt: dict, modules: Sequence[nn.Module], multipliers: dict[int, float],
                   lr: float | None = None) -> torch.optim.Optimizer:
    """One param group per distinct LR multiplier; frozen parameters are left out."""
    base = opt["lr"] if lr is None else lr
    groups: dict[float, list[nn.Parameter]] = {}
    for module in modules:
        for p in module.parameters():
            if p.requires_grad:
                groups.setdefault(multipliers.get(id(p), 1.0), []).append(p)
    if not groups:
        raise NothingToTrain("every layer is frozen (or the model has no weights): nothing to train")
    params = [{"params": ps, "lr": base * m, "lr_mult": m} for m, ps in groups.items()]
    name, decay = opt["name"], opt["weight_decay"]
    if name == "sgd":
        return torch.optim.SGD(params, lr=base, momentum=opt["momentum"],
                               nesterov=opt["nesterov"] and opt["momentum"] > 0, weight_decay=decay)
    if name in ("adam", "adamw"):
        betas = tuple(float(b) for b in opt["betas"])
        cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
        return cls(params, lr=base, betas=betas, weight_decay=decay)
    return torch.optim.RMSprop(params, lr=base, momentum=opt["momentum"], weight_decay=decay)


# which settings each choice reads (an export carries only these)
OPTIMIZER_KEYS = {"sgd": ("momentum", "nesterov"), "adam": ("betas",), "adamw": ("betas",), "rmsprop": ("momentum",)}
SCHEDULE_KEYS = {"none": (), "step": ("step_size", "gamma"), "cosine": ("min_lr",), "one_cycle": ("max_lr",),
                 "plateau": ("factor", "patience")}


class Schedule:
    """Wraps torch schedulers so the loop calls ``after_step()`` and ``after_epoch(metric)`` alike."""

    def __init__(self, s: dict, optimizer: torch.optim.Optimizer, epochs: int, steps_per_epoch: int) -> None:
        self.name = s["name"]
        sched = torch.optim.lr_scheduler
        self.scheduler: Any = None
        if self.name == "step":
            self.scheduler = sched.StepLR(optimizer, step_size=s["step_size"], gamma=s["gamma"])
        elif self.name == "cosine":
            self.scheduler = sched.CosineAnnealingLR(optimizer, T_max=max(1, epochs), eta_min=s["min_lr"])
        elif self.name == "one_cycle":
            max_lrs = [(s["max_lr"] or 10 * g["lr"] / max(g.get("lr_mult", 1.0), 1e-12)) * g.get("lr_mult", 1.0)
                       for g in optimizer.param_groups]
            self.scheduler = sched.OneCycleLR(optimizer, max_lr=max_lrs, total_steps=max(2, epochs * steps_per_epoch))
        elif self.name == "plateau":
            self.scheduler = sched.ReduceLROnPlateau(optimizer, factor=s["factor"], patience=s["patience"])
        self.per_step = self.name == "one_cycle" and self.scheduler is not None
        self._steps = 0
        self._total = epochs * steps_per_epoch

    def after_step(self) -> None:
        if self.per_step and self._steps < self._total - 1:
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


def l1_penalty(modules: Sequence[nn.Module]) -> torch.Tensor:
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


def load_matching(module: nn.Module, weights: dict[str, torch.Tensor]) -> tuple[int, int]:
    """Copy tensors whose name and shape match (transfer learning); returns (loaded, total in module)."""
    own = module.state_dict()
    fit = {k: v for k, v in weights.items() if k in own and tuple(own[k].shape) == tuple(v.shape)}
    own.update(fit)
    module.load_state_dict(own)
    return len(fit), len(own)


def checkpoint_models(path: str) -> dict[str, dict[str, torch.Tensor]]:
    """Weights per graph name from an NN Studio checkpoint (loaded without running pickled code)."""
    data = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(data, dict) or data.get("format") != "nnstudio.checkpoint":
        raise ValueError(f"{path} is not an NN Studio checkpoint")
    return data.get("models", {})


def set_train_mode(model: nn.Module, frozen: Sequence[nn.Module] = ()) -> None:
    """Training mode (cheaply: only when needed); frozen layers stay in eval mode (BatchNorm keeps its statistics)."""
    if not model.training:
        model.train()
        for m in frozen:
            m.eval()


def pick(out: Any, index: int = 0) -> Any:
    """The prediction among a model's returned values."""
    return out[index] if isinstance(out, tuple | list) else out


def fits_on_device(device: torch.device, *tensors: torch.Tensor, share: float = 0.25,
                   cap_bytes: int = 1 << 30) -> bool:
    """Whether ``tensors`` may stay on a CUDA ``device`` for a whole run: at most ``cap_bytes`` and at
    most ``share`` of its free memory, so the model, optimizer and activations keep the rest."""
    if device.type != "cuda" or not torch.cuda.is_available():
        return False
    need = sum(t.numel() * t.element_size() for t in tensors)
    free, _total = torch.cuda.mem_get_info(device)
    return need <= cap_bytes and need <= share * free


def autocast_for(device: torch.device, amp: bool):
    if amp and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.float16)
    return contextlib.nullcontext()


class OneModelTask:
    """What the tasks that train one model on one loss share (contrastive, diffusion): the epoch's length,
    the optimiser update and its per-step rows, the learning rate. A task sets the attributes below."""

    cfg: dict
    batches: Batches
    model: nn.Module
    optimizer: torch.optim.Optimizer
    schedule: Schedule
    after_backward: Callable[[nn.Module], None] | None
    _rec: list[tuple[torch.Tensor, int]]

    def steps_per_epoch(self) -> int:
        n = len(self.batches)
        cap = self.cfg["steps_per_epoch"]
        return max(1, min(n, cap) if cap else n)

    def update(self, loss: torch.Tensor, samples: int) -> None:
        """One step on ``loss`` (gradients averaged across processes, clipped); the loss is kept for :meth:`flush`."""
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.after_backward is not None:
            self.after_backward(self.model)
        if self.cfg["grad_clip"] > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg["grad_clip"])
        self.optimizer.step()
        self.schedule.after_step()
        self._rec.append((loss.detach(), samples))

    def flush(self) -> list[dict[str, float]]:
        """The steps' rows since the last flush (one device sync for all of them)."""
        if not self._rec:
            return []
        values = torch.stack([loss for loss, _ in self._rec]).float().tolist()
        rows = [{"loss": v, "samples": float(n)} for v, (_, n) in zip(values, self._rec, strict=True)]
        self._rec = []
        return rows

    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])
