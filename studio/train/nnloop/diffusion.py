"""Denoising diffusion (Ho et al. 2020, DDPM) as an nnloop task, shared by NN Studio and an exported
``train.py`` (torch, numpy and nnloop only).

Training draws a step t and noise ε, mixes ``x_t = √ᾱ_t · x + √(1 − ᾱ_t) · ε`` and asks the denoiser
(``forward(x_t, t / T)``) for ε under a mean squared error. Sampling starts from pure noise and removes
the predicted noise step by step (the reverse process) with the posterior variance β̃_t. The noise
schedule is linear in β, scaled to the number of steps as in the paper. Images with pixels in [0, 1]
are mapped to [−1, 1] for the model (noise of variance 1 then dwarfs the data at t = T, as the paper
assumes) and back to [0, 1] for the samples.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .parts import (
    Batches,
    OneModelTask,
    Schedule,
    autocast_for,
    make_optimizer,
    param_groups,
    pick,
    set_train_mode,
)
from .trainer import fit

FRAMES = 11  # snapshots of the reverse process kept for the view


def linear_schedule(steps: int) -> torch.Tensor:
    """β_t from 1e-4 to 0.02 · 1000 / T (the paper's range for T = 1000, stretched to fewer steps)."""
    return torch.linspace(1e-4, min(0.02 * 1000 / steps, 0.5), steps)


def frame_steps(steps: int) -> list[int]:
    """The steps whose samples the view shows, from pure noise (t = T) to the samples (t = 0): denser
    near the end, where the linear schedule's last steps give the samples their shape."""
    return sorted(set((steps * np.linspace(1, 0, FRAMES) ** 2).round().astype(int).tolist()), reverse=True)


def is_unit_images(x: torch.Tensor) -> bool:
    """Images (channels × height × width) with values in [0, 1]: trained in [−1, 1]."""
    return x.dim() == 4 and len(x) > 0 and float(x.min()) >= 0.0 and float(x.max()) <= 1.0


class DiffusionTask(OneModelTask):
    """``forward(x_t, time)`` returns the predicted noise; ``time`` is ``t / T`` shaped (B, 1).
    ``coverage(samples, centres, std)`` scores samples of a ring of Gaussians (modes covered, share
    near a mode) when ``centres`` are given."""

    unit = "samples"

    def __init__(self, cfg: dict, model: nn.Module, forward: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                 train_x: torch.Tensor, val_x: torch.Tensor, *, multipliers: dict[int, float] | None = None,
                 frozen: Sequence[nn.Module] = (), device: torch.device | None = None, amp: bool = False,
                 centres: Any = None, std: float = 0.0, coverage: Callable | None = None, rank: int = 0,
                 world: int = 1, after_backward: Callable[[nn.Module], None] | None = None) -> None:
        self.cfg, self.d = cfg, cfg["diffusion"]
        self.model, self.forward = model, forward
        self.device = device or torch.device("cpu")
        self.amp = amp and self.device.type == "cuda"
        self.frozen = list(frozen)
        self.centres, self.std, self.coverage = centres, std, coverage
        self.monitor = "val_high_quality" if centres is not None and coverage is not None else "val_loss"
        self.after_backward = after_backward
        self.unit_images = is_unit_images(train_x)
        self.train_x, self.val_x = self.to_model(train_x), self.to_model(val_x)
        self.T = int(self.d["steps"])
        self.betas = linear_schedule(self.T).to(self.device)
        self.alphas = 1 - self.betas
        self.alpha_bar = torch.cumprod(self.alphas, 0)
        self.batches = Batches(self.train_x, torch.zeros(len(self.train_x)), cfg["batch_size"], True, cfg["seed"],
                               cfg["dataset"]["augment"], drop_last=True, rank=rank, world=world)
        self.optimizer = make_optimizer(cfg["optimizer"], [model], multipliers or {})
        self.schedule = Schedule(cfg["schedule"], self.optimizer, cfg["epochs"], self.steps_per_epoch())
        self.schedules = [self.schedule]
        self.noise = torch.Generator().manual_seed(cfg["seed"] + 31 + 1000 * rank)
        self.last: dict[str, Any] | None = None  # the latest samples and reverse-process frames
        self._iter: Iterator | None = None
        self._key: tuple[int, int] | None = None
        self._rec: list[tuple[torch.Tensor, int]] = []
        self._epoch = 0  # epochs begun (sampling every ``sample_every`` of them)

    # -- data in the model's range --------------------------------------------------------------
    def to_model(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2 - 1 if self.unit_images else x

    def from_model(self, x: torch.Tensor) -> torch.Tensor:
        return (x + 1) / 2 if self.unit_images else x

    # -- training ---------------------------------------------------------------------------------
    def eps(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        with autocast_for(self.device, self.amp):
            return self.forward(x, (t.float() / self.T).reshape(-1, 1)).float()

    def noised(self, x0: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(x_t, t, ε) for a batch: a random step per sample and the noise that step adds."""
        t = torch.randint(0, self.T, (len(x0),), generator=g).to(self.device)
        eps = torch.randn(x0.shape, generator=g).to(self.device)
        ab = self.alpha_bar[t].reshape(-1, *[1] * (x0.dim() - 1))
        return ab.sqrt() * x0 + (1 - ab).sqrt() * eps, t, eps

    def _batch(self, epoch: int, index: int) -> torch.Tensor:
        if self._iter is None or self._key != (epoch, index):
            self._iter = self.batches.batches(epoch, start=index)
        self._key = (epoch, index + 1)
        return next(self._iter)[0].to(self.device)

    def step(self, epoch: int, index: int) -> None:
        self._epoch = epoch + 1
        x0 = self._batch(epoch, index)
        set_train_mode(self.model, self.frozen)
        xt, t, eps = self.noised(x0, self.noise)
        loss = F.mse_loss(self.eps(xt, t), eps)
        self.update(loss, len(x0))

    # -- sampling and validation ---------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, n: int, seed: int = 0) -> tuple[np.ndarray, list[np.ndarray]]:
        """``n`` samples by the reverse process (in the data's range), and snapshots of it at
        :func:`frame_steps` (pure noise first)."""
        self.model.eval()
        g = torch.Generator().manual_seed(seed)
        shape = (n, *self.train_x.shape[1:])
        x = torch.randn(shape, generator=g).to(self.device)
        keep = set(frame_steps(self.T))
        frames = [self.from_model(x).cpu().numpy()]
        for t in range(self.T - 1, -1, -1):
            eps = self.eps(x, torch.full((n,), t, dtype=torch.long, device=self.device))
            a, ab, b = self.alphas[t], self.alpha_bar[t], self.betas[t]
            x = (x - b / (1 - ab).sqrt() * eps) / a.sqrt()
            if t > 0:  # the posterior's variance β̃_t (sharper than β_t for data as tight as the ring's blobs)
                var = b * (1 - self.alpha_bar[t - 1]) / (1 - ab)
                x = x + var.sqrt() * torch.randn(shape, generator=g).to(self.device)
            if t in keep:
                frames.append(self.from_model(x).cpu().numpy())
        return self.from_model(x).cpu().numpy(), frames

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        self.model.eval()
        x0 = self.val_x[:2000].to(self.device)
        g = torch.Generator().manual_seed(self.cfg["seed"] + 5)  # the same draws every evaluation
        xt, t, eps = self.noised(x0, g)
        m = {"val_loss": float(F.mse_loss(self.eps(xt, t), eps))} if len(x0) else {}
        every = int(self.d.get("sample_every", 1))
        if self.last is not None and self._epoch % every and self._epoch < self.cfg["epochs"]:
            return m  # sampling is the slow part: not this epoch
        samples, frames = self.sample(self.d["samples"], self.cfg["seed"])
        self.last = {"samples": samples, "frames": frames, "steps": frame_steps(self.T)[:len(frames)]}
        if self.centres is not None and self.coverage is not None:
            modes, quality = self.coverage(samples.reshape(len(samples), -1), self.centres, float(self.std))
            m.update(val_modes_covered=float(modes), val_high_quality=float(quality))
        return {k: v for k, v in m.items() if math.isfinite(v)}


def train_diffusion(cfg: dict, out: str, data: Any, model_cls: Callable[[], nn.Module], *, time_input: int,
                    prediction: int, input_shape: list[int], frozen: list[str], lr_mult: dict[str, float],
                    weights_prefix: str, graph: str, better: dict[str, bool]) -> list[dict]:
    """An exported ``train.py``'s run: the denoiser takes the sample and the time ``t / T`` (argument
    ``time_input``); the last evaluation's samples are saved as ``samples.npy``."""
    from . import script  # script imports the other tasks; this module stays importable on its own

    rank, world, device = script.setup(cfg)
    model = script.make_model(model_cls, cfg, device)
    x, _y, xv, _yv, info = script.load_data(data, cfg, input_shape)
    script.load_initial({graph: model}, cfg["init"].get("checkpoint", ""))
    mult = param_groups(model, frozen, lr_mult)

    def forward(xt: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        return pick(model(*((xt, time) if time_input == 1 else (time, xt))), prediction)

    points = info.get("task") == "points" and "centres" in info
    job = DiffusionTask(cfg, model, forward, x, xv, multipliers=mult, frozen=script.frozen_modules(model, frozen),
                        device=device, amp=cfg.get("amp", False), centres=info["centres"] if points else None,
                        std=float(info.get("std", 0.0)), coverage=data.mode_coverage if points else None, rank=rank,
                        world=world, after_backward=script.average_gradients(world))
    history, message = fit(job, cfg["epochs"], script.early(cfg, job.monitor, better),
                           log=(lambda line: print(line, flush=True)) if rank == 0 else None)
    arrays = {"samples": job.last["samples"]} if job.last is not None else None
    script.finish(out, rank, world, history, message, {weights_prefix: model}, arrays)
    return history
