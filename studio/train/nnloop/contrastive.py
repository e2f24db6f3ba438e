"""Contrastive self-supervised learning (SimCLR, Chen et al. 2020) as an nnloop task, shared by NN Studio
and an exported ``train.py`` (torch, numpy, scikit-learn for the probe, and nnloop only).

Each image is augmented twice (a shift of up to ``shift`` pixels, a share of values dropped, a little
noise); the encoder maps both views to a projection and the NT-Xent loss asks the two views of one image
to be each other's nearest neighbour among the 2N − 1 other views of the batch. Labels are read only by
the linear probe that judges the learned features: a logistic regression on the frozen features of the
training split, scored on the validation split, against the same probe on the encoder as initialised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .parts import Batches, OneModelTask, Schedule, autocast_for, make_optimizer, param_groups, set_train_mode
from .trainer import fit


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """Normalised temperature-scaled cross-entropy: view i of one image must pick view i of the other
    among all 2N − 1 other views (cosine similarities divided by ``temperature``)."""
    n = len(z1)
    z = F.normalize(torch.cat([z1.flatten(1), z2.flatten(1)]), dim=1)
    sim = z @ z.T / temperature
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(sim, target)


def augment(x: torch.Tensor, g: torch.Generator, shift: int, drop: float, noise: float) -> torch.Tensor:
    """One random view of each sample: shifted (images), with dropped values and added noise."""
    n = len(x)
    if shift and x.dim() == 4:
        h, w = x.shape[-2:]
        pad = F.pad(x, (shift, shift, shift, shift))
        dy = torch.randint(0, 2 * shift + 1, (n,), generator=g)
        dx = torch.randint(0, 2 * shift + 1, (n,), generator=g)
        rows = (dy[:, None] + torch.arange(h)[None])[:, None, :, None]
        cols = (dx[:, None] + torch.arange(w)[None])[:, None, None, :]
        chans = torch.arange(x.shape[1])[None, :, None, None]
        x = pad[torch.arange(n)[:, None, None, None], chans, rows, cols]
    if drop > 0:
        x = x * (torch.rand(x.shape, generator=g) >= drop).to(x.dtype)
    if noise > 0:
        x = x + noise * torch.randn(x.shape, generator=g)
    return x


def linear_probe(train_f: np.ndarray, train_y: np.ndarray, val_f: np.ndarray, val_y: np.ndarray) -> float:
    """Validation accuracy of a logistic regression on standardised frozen features (scikit-learn: the
    textbook probe, deterministic, no tuning)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    clf.fit(train_f.astype(np.float64), train_y)
    return float(clf.score(val_f.astype(np.float64), val_y))


class ContrastiveTask(OneModelTask):
    """``outputs(x)`` returns ``(projection, features)`` of a batch: the loss reads the projection, the
    probe the features. The random-encoder probe is measured when the task is built, before any step."""

    unit = "samples"
    monitor = "val_probe_accuracy"

    def __init__(self, cfg: dict, model: nn.Module,
                 outputs: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
                 train: tuple[torch.Tensor, torch.Tensor], val: tuple[torch.Tensor, torch.Tensor], *,
                 multipliers: dict[int, float] | None = None, frozen: Sequence[nn.Module] = (),
                 device: torch.device | None = None, amp: bool = False, rank: int = 0, world: int = 1,
                 after_backward: Callable[[nn.Module], None] | None = None) -> None:
        self.cfg, self.c = cfg, cfg["contrastive"]
        self.model, self.outputs = model, outputs
        self.device = device or torch.device("cpu")
        self.amp = amp and self.device.type == "cuda"
        self.frozen = list(frozen)
        self.after_backward = after_backward
        (self.train_x, self.train_y), (self.val_x, self.val_y) = train, val
        self.rank = rank
        self.batches = Batches(self.train_x, self.train_y, cfg["batch_size"], True, cfg["seed"], None,
                               drop_last=True, rank=rank, world=world)
        self.optimizer = make_optimizer(cfg["optimizer"], [model], multipliers or {})
        self.schedule = Schedule(cfg["schedule"], self.optimizer, cfg["epochs"], self.steps_per_epoch())
        self.schedules = [self.schedule]
        self.random_probe = self.probe()  # the baseline: the encoder exactly as initialised
        self._iter: Iterator | None = None
        self._key: tuple[int, int] | None = None
        self._noise: torch.Generator | None = None
        self._rec: list[tuple[torch.Tensor, int]] = []

    def views(self, x: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Two augmented views of a batch (on the device)."""
        c = self.c
        return (augment(x, g, c["shift"], c["drop"], c["noise"]).to(self.device),
                augment(x, g, c["shift"], c["drop"], c["noise"]).to(self.device))

    def _project(self, v1: torch.Tensor, v2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with autocast_for(self.device, self.amp):
            p = self.outputs(torch.cat([v1, v2]))[0].float()
        return p[:len(v1)], p[len(v1):]

    def _batch(self, epoch: int, index: int) -> torch.Tensor:
        if self._iter is None or self._key != (epoch, index):
            self._iter = self.batches.batches(epoch, start=index)
            # the views' draws follow the epoch (and the process), so a resumed run draws the same ones
            self._noise = torch.Generator().manual_seed(self.cfg["seed"] * 7919 + epoch + 100_003 * self.rank)
        self._key = (epoch, index + 1)
        return next(self._iter)[0]

    def step(self, epoch: int, index: int) -> None:
        xb = self._batch(epoch, index)
        assert self._noise is not None
        v1, v2 = self.views(xb, self._noise)
        set_train_mode(self.model, self.frozen)
        p1, p2 = self._project(v1, v2)
        loss = nt_xent(p1, p2, self.c["temperature"])
        self.update(loss, len(xb))

    @torch.no_grad()
    def features(self, x: torch.Tensor) -> np.ndarray:
        """The frozen representation the probe reads, flattened per sample."""
        self.model.eval()
        parts = []
        for i in range(0, len(x), 512):
            with autocast_for(self.device, self.amp):
                f = self.outputs(x[i:i + 512].to(self.device))[1]
            parts.append(f.float().flatten(1).cpu())
        return torch.cat(parts).numpy()

    def probe(self) -> float:
        return linear_probe(self.features(self.train_x), self.train_y.numpy(), self.features(self.val_x),
                            self.val_y.numpy())

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        self.model.eval()
        g = torch.Generator().manual_seed(self.cfg["seed"] + 5)  # the same views every evaluation
        v1, v2 = self.views(self.val_x[:1024], g)
        p1, p2 = self._project(v1, v2)
        probe = self.probe()
        return {"val_loss": float(nt_xent(p1, p2, self.c["temperature"])), "val_probe_accuracy": probe,
                "val_random_probe_accuracy": self.random_probe, "val_probe_gain": probe - self.random_probe}


def train_contrastive(cfg: dict, out: str, data: Any, model_cls: Callable[[], nn.Module], *, projection: int,
                      features: int, input_shape: list[int], frozen: list[str], lr_mult: dict[str, float],
                      weights_prefix: str, graph: str, better: dict[str, bool]) -> list[dict]:
    """An exported ``train.py``'s run: ``projection`` and ``features`` index the encoder's returned values."""
    from . import script  # script imports the other tasks; this module stays importable on its own

    rank, world, device = script.setup(cfg)
    model = script.make_model(model_cls, cfg, device)
    x, y, xv, yv, _info = script.load_data(data, cfg, input_shape)
    script.load_initial({graph: model}, cfg["init"].get("checkpoint", ""))
    mult = param_groups(model, frozen, lr_mult)

    def outputs(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = model(t)
        return (out[projection], out[features]) if isinstance(out, tuple | list) else (out, out)

    job = ContrastiveTask(cfg, model, outputs, (x, y), (xv, yv), multipliers=mult,
                          frozen=script.frozen_modules(model, frozen), device=device, amp=cfg.get("amp", False),
                          rank=rank, world=world, after_backward=script.average_gradients(world))
    history, message = fit(job, cfg["epochs"], script.early(cfg, job.monitor, better),
                           log=(lambda line: print(line, flush=True)) if rank == 0 else None)
    script.finish(out, rank, world, history, message, {weights_prefix: model})
    return history
