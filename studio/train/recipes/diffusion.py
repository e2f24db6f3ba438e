"""Denoising diffusion (Ho et al. 2020, DDPM): a denoiser graph learns the noise added to data.

Training draws a step t and noise ε, mixes ``x_t = √ᾱ_t · x + √(1 − ᾱ_t) · ε`` and asks the graph
(Inputs: the noisy sample and the time ``t / T``, Output: its guess of ε) for ε under a mean squared
error. Sampling starts from pure noise and removes the predicted noise step by step (the reverse
process). The noise schedule is linear in β, scaled to the number of steps as in the paper.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from studio.train import synthetic
from studio.train.build import ModelError
from studio.train.data import TensorLoader, check_input, load_data
from studio.train.optim import Schedule, make_optimizer
from studio.train.recipes.base import Recipe
from studio.train.recipes.registry import MetricSpec, RecipeSpec, register
from studio.train.settings import Int, S, Section

FRAMES = 11  # snapshots of the reverse process kept for the view


class DiffusionSettings(Section):
    """The diffusion paradigm's own settings (``training.diffusion``)."""

    steps: Int = S(100, title="Diffusion steps T", ge=2, le=1000,
                   help="How many small noising steps turn data into pure noise (and sampling undoes).")
    samples: Int = S(1000, title="Shown samples", ge=1, le=20000, help="Samples drawn for the view and the metrics.")


def linear_schedule(steps: int) -> torch.Tensor:
    """β_t from 1e-4 to 0.02 · 1000 / T (the paper's range for T = 1000, stretched to fewer steps)."""
    return torch.linspace(1e-4, min(0.02 * 1000 / steps, 0.5), steps)


class Diffusion(Recipe):
    monitor = "val_high_quality"

    def setup(self) -> None:
        s, ds = self.settings, self.settings.section("diffusion")
        self.model = self.build(self.graph(s.graph))
        names = [i.name for i in self.model.inputs]
        if len(names) != 2 or "t" not in names:
            raise ModelError(f"the denoiser '{self.model.name}' needs two Inputs, the noisy sample and one named 't' "
                             f"(the time); it has {', '.join(names) or 'none'}", graph=self.model.name)
        self.t_index = names.index("t")
        x_in = self.model.inputs[1 - self.t_index]
        self.data = load_data(s.dataset, s.seed, x_in.shape)
        check_input(self.data, x_in.shape, x_in.dtype, x_in.name)
        self.T = ds.steps
        self.betas = linear_schedule(self.T).to(self.device)
        self.alphas = 1 - self.betas
        self.alpha_bar = torch.cumprod(self.alphas, 0)
        with torch.no_grad():
            out = self._eps(self.data.val_x[:2].to(self.device), torch.zeros(2, dtype=torch.long, device=self.device))
            if out.shape != self.data.val_x[:2].shape:
                raise ModelError(f"the denoiser returns {tuple(out.shape[1:])} but must return the noise, shaped like "
                                 f"a sample {tuple(x_in.shape)}", graph=self.model.name)
        self.loader = TensorLoader(self.data.train_x, self.data.train_y, s.batch_size, True, s.seed)
        self.load_initial_weights()
        multipliers = self.node_settings([self.model])
        self.optimizer = make_optimizer(s.optimizer, [self.model.module], multipliers)
        self.optimizers = {"main": self.optimizer}
        self.schedule = Schedule(s.schedule, self.optimizer, s.epochs, self.steps_per_epoch())
        self.schedules = {"main": self.schedule}
        self.n_samples = ds.samples
        self.noise = torch.Generator().manual_seed(s.seed + 31)
        self._batches: Iterator | None = None
        self._last: dict[str, Any] | None = None
        self.info.update(train_samples=len(self.data.train_x), dataset=self.data.name, diffusion_steps=self.T)

    def _eps(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        time = (t.float() / self.T).reshape(-1, 1)
        args = (x, time) if self.t_index == 1 else (time, x)
        return self.forward(self.model, *args).float()

    def steps_per_epoch(self) -> int:
        cap = self.settings.steps_per_epoch
        return max(1, min(len(self.loader), cap) if cap else len(self.loader))

    def train_step(self, epoch: int, index: int) -> dict[str, float]:
        if index == 0 or self._batches is None:
            self._batches = self.loader.batches(epoch, index)
        x0, _ = next(self._batches)
        x0 = x0.to(self.device)
        self.train_mode(self.model)
        t = torch.randint(0, self.T, (len(x0),), generator=self.noise).to(self.device)
        eps = torch.randn(x0.shape, generator=self.noise).to(self.device)
        ab = self.alpha_bar[t].reshape(-1, *[1] * (x0.dim() - 1))
        loss = F.mse_loss(self._eps(ab.sqrt() * x0 + (1 - ab).sqrt() * eps, t), eps)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.settings.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.module.parameters(), self.settings.grad_clip)
        self.optimizer.step()
        self.schedule.after_step()
        return {"loss": self.check_finite(loss), "samples": float(len(x0))}

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0) -> tuple[np.ndarray, list[np.ndarray]]:
        """``n`` samples by the reverse process, and up to ``FRAMES`` snapshots of it (pure noise first)."""
        self.model.module.eval()
        g = torch.Generator().manual_seed(seed)
        shape = (n, *self.data.train_x.shape[1:])
        x = torch.randn(shape, generator=g).to(self.device)
        # denser near the end, where the linear schedule's last steps give the samples their shape
        keep = set((self.T * np.linspace(1, 0, FRAMES) ** 2).round().astype(int).tolist())
        frames = [x.cpu().numpy()]
        for t in range(self.T - 1, -1, -1):
            eps = self._eps(x, torch.full((n,), t, dtype=torch.long, device=self.device))
            a, ab, b = self.alphas[t], self.alpha_bar[t], self.betas[t]
            x = (x - b / (1 - ab).sqrt() * eps) / a.sqrt()
            if t > 0:  # the posterior's variance β̃_t (sharper than β_t for data as tight as the ring's blobs)
                var = b * (1 - self.alpha_bar[t - 1]) / (1 - ab)
                x = x + var.sqrt() * torch.randn(shape, generator=g).to(self.device)
            if t in keep:
                frames.append(x.cpu().numpy())
        return x.cpu().numpy(), frames

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        self.model.module.eval()
        x0 = self.data.val_x[:2000].to(self.device)
        g = torch.Generator().manual_seed(self.settings.seed + 5)  # the same draws every evaluation
        t = torch.randint(0, self.T, (len(x0),), generator=g).to(self.device)
        eps = torch.randn(x0.shape, generator=g).to(self.device)
        ab = self.alpha_bar[t].reshape(-1, *[1] * (x0.dim() - 1))
        m = {"val_loss": float(F.mse_loss(self._eps(ab.sqrt() * x0 + (1 - ab).sqrt() * eps, t), eps))}
        self._remember(*self.sample(self.n_samples, self.settings.seed))
        samples = self._last["samples"]
        if "centres" in self.data.info:
            modes, quality = synthetic.mode_coverage(samples.reshape(len(samples), -1), self.data.info["centres"],
                                                     float(self.data.info.get("std", 0.0)))
            m.update(val_modes_covered=float(modes), val_high_quality=float(quality))
        return m

    def _remember(self, samples: np.ndarray, frames: list[np.ndarray]) -> None:
        steps = sorted(set((self.T * np.linspace(1, 0, FRAMES) ** 2).round().astype(int).tolist()), reverse=True)
        self._last = {"samples": samples, "frames": frames, "steps": steps[:len(frames)]}

    @torch.no_grad()
    def views(self, quick: bool = False) -> dict[str, Any]:
        if self._last is None:
            self._remember(*self.sample(self.n_samples, self.settings.seed))
        points = self.data.task == "points"
        return {"gan_samples": {"samples": self._last["samples"], "real": self.data.val_x[:500].numpy() if points else None,
                                "centres": self.data.info.get("centres") if points else None,
                                "title": "Drawn by the reverse process from pure noise", "losses": False},
                "diffusion": {"frames": self._last["frames"], "steps": self._last["steps"], "T": self.T}}


SPEC = register(RecipeSpec(
    name="diffusion",
    label="Diffusion (DDPM)",
    help="A denoiser learns the noise that was added to the data; sampling removes noise step by step from pure noise.",
    factory=Diffusion,
    settings=DiffusionSettings,
    section="diffusion",
    uses=("dataset", "batch_size", "steps_per_epoch", "optimizer", "schedule", "grad_clip", "nodes", "init"),
    metrics=(MetricSpec("modes_covered", "Modes covered", "modes", True),
             MetricSpec("high_quality", "Samples near a mode", "share", True)),
    monitor="val_high_quality",
    roles=("prediction",),
    views=("gan_samples", "diffusion"),
    export=False,
))
