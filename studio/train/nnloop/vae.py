"""The variational autoencoder's step and validation (Kingma & Welling 2014), shared by NN Studio's
VAE paradigm and an exported ``train.py``.

The encoder returns a mean and a log-variance; the step draws ``z = mean + exp(log_var / 2) · ε``
(the reparameterisation, so gradients reach the encoder through a random draw) and the decoder
turns ``z`` into pixels. The loss is the negative evidence lower bound per sample: binary cross-
entropy summed over pixels plus β times the KL divergence of the code from the N(0, 1) prior.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .parts import Batches, Schedule, make_optimizer, set_train_mode


def kl_divergence(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(log_var)) ‖ N(0, 1)) per sample, summed over the code's dimensions."""
    return -0.5 * (1 + log_var - mean.pow(2) - log_var.exp()).flatten(1).sum(1)


def reparameterise(mean: torch.Tensor, log_var: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """``mean + σ·ε`` with ε ~ N(0, 1): the draw is an input, so the gradient flows to mean and σ."""
    eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    return mean + (0.5 * log_var).exp() * eps


def reconstruction_term(out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy summed over each sample's pixels (pixels are in [0, 1])."""
    return F.binary_cross_entropy(out.clamp(1e-6, 1 - 1e-6), x, reduction="none").flatten(1).sum(1)


class VaeTask:
    """An encoder and a decoder trained on the negative ELBO with one optimizer.

    ``encode(x)`` returns (mean, log-variance); ``decode(z)`` the image. On the CPU the draws come
    from generators seeded by the settings (validation draws the same codes every time); on a GPU
    from the device's random stream."""

    unit = "samples"
    monitor = "val_loss"

    def __init__(self, cfg: dict, encoder: nn.Module, decoder: nn.Module,
                 encode: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
                 decode: Callable[[torch.Tensor], torch.Tensor], train_x: torch.Tensor, val_x: torch.Tensor, *,
                 multipliers: dict[int, float] | None = None, frozen: Sequence[nn.Module] = (),
                 device: torch.device | None = None, rank: int = 0, world: int = 1,
                 after_backward: Callable[[], None] | None = None) -> None:
        self.cfg, self.encoder, self.decoder, self.encode, self.decode = cfg, encoder, decoder, encode, decode
        self.device = device or torch.device("cpu")
        self.frozen, self.after_backward = list(frozen), after_backward
        self.beta, self.seed, self.grad_clip = float(cfg["vae"]["beta"]), cfg["seed"], cfg["grad_clip"]
        self.train_x, self.val_x = train_x, val_x
        self.batches = Batches(train_x, torch.zeros(len(train_x)), cfg["batch_size"], True, cfg["seed"],
                               rank=rank, world=world)
        self.optimizer = make_optimizer(cfg["optimizer"], [encoder, decoder], multipliers or {})
        self.schedule = Schedule(cfg["schedule"], self.optimizer, cfg["epochs"], self.steps_per_epoch())
        self.schedules = [self.schedule]
        self.noise = torch.Generator().manual_seed(cfg["seed"] + 29)
        self.baseline = float(((val_x - train_x.mean(0)) ** 2).mean())
        self._iter: Iterator | None = None
        self._key: tuple[int, int] | None = None
        self._rec: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]] = []

    def steps_per_epoch(self) -> int:
        n = len(self.batches)
        cap = self.cfg["steps_per_epoch"]
        return max(1, min(n, cap) if cap else n)

    def _batch(self, epoch: int, index: int) -> torch.Tensor:
        if self._iter is None or self._key != (epoch, index):
            self._iter = self.batches.batches(epoch, start=index)
        self._key = (epoch, index + 1)
        return next(self._iter)[0]

    def step(self, epoch: int, index: int) -> None:
        xb = self._batch(epoch, index).to(self.device)
        for m in (self.encoder, self.decoder):
            set_train_mode(m, self.frozen)
        mean, log_var = self.encode(xb)
        z = reparameterise(mean, log_var, self.noise if self.device.type == "cpu" else None)
        out = self.decode(z).float()
        recon, kl = reconstruction_term(out, xb), kl_divergence(mean, log_var)
        loss = (recon + self.beta * kl).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.after_backward is not None:
            self.after_backward()
        if self.grad_clip > 0:
            params = [p for m in (self.encoder, self.decoder) for p in m.parameters()]
            torch.nn.utils.clip_grad_norm_(params, self.grad_clip)
        self.optimizer.step()
        self.schedule.after_step()
        self._rec.append((loss.detach(), recon.detach().mean(), kl.detach().mean(), len(xb)))

    def flush(self) -> list[dict[str, float]]:
        if not self._rec:
            return []
        values = torch.stack([t.float() for loss, recon, kl, _ in self._rec for t in (loss, recon, kl)]).tolist()
        rows = [{"loss": values[3 * i], "samples": float(n), "recon": values[3 * i + 1], "kl": values[3 * i + 2]}
                for i, (*_, n) in enumerate(self._rec)]
        self._rec = []
        return rows

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        for m in (self.encoder, self.decoder):
            m.eval()
        recon = kl = sq = 0.0
        x_all = self.val_x
        g = torch.Generator()
        cpu = self.device.type == "cpu"
        for i in range(0, len(x_all), 512):
            x = x_all[i:i + 512].to(self.device)
            mean, log_var = self.encode(x)  # the same draws every evaluation (on the CPU)
            z = reparameterise(mean, log_var, g.manual_seed(self.seed + i) if cpu else None)
            out = self.decode(z).float()
            recon += float(reconstruction_term(out, x).sum())
            kl += float(kl_divergence(mean, log_var).sum())
            sq += float(((self.decode(mean).float() - x) ** 2).sum())
        n = max(1, len(x_all))
        mse = sq / (n * max(1, x_all[0].numel() if len(x_all) else 1))
        return {"val_loss": (recon + self.beta * kl) / n, "val_recon": recon / n, "val_kl": kl / n,
                "val_mse": mse, "val_baseline_mse": self.baseline, "val_vs_baseline": self.baseline / max(mse, 1e-12)}

    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])
