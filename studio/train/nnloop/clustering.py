"""Deep clustering's measurement, shared by NN Studio and an exported ``train.py`` (torch, numpy,
scikit-learn and nnloop only): an autoencoder trains as the reconstruction task, and each validation
groups the validation images' codes with k-means; purity says how well the groups match the classes.

k-means is scikit-learn's (k-means++ starts, 10 restarts, seeded, in float64), the reference
implementation; the same k-means on the raw inputs, measured once, is the baseline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from .parts import param_groups, pick
from .tasks import SupervisedTask
from .trainer import fit


def purity(clusters: np.ndarray, labels: np.ndarray) -> float:
    """Share of samples whose cluster's most common label is their own."""
    total = 0
    for c in np.unique(clusters):
        total += int(np.bincount(labels[clusters == c]).max())
    return total / max(1, len(labels))


def kmeans_purity(points: np.ndarray, labels: np.ndarray, k: int, seed: int) -> tuple[float, np.ndarray]:
    """Purity of scikit-learn's k-means on ``points`` (10 k-means++ restarts), and the cluster of each point."""
    from sklearn.cluster import KMeans

    found = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(points.astype(np.float64))
    return purity(found, labels), found


class PurityTask:
    """A reconstruction :class:`SupervisedTask` whose validation adds ``val_purity`` (k-means on the codes
    ``latent(x)`` returns for the standardised validation inputs) and ``val_raw_purity`` (the same k-means
    on the raw inputs). ``k`` 0: one cluster per label. Everything else is the wrapped task's."""

    monitor = "val_purity"

    def __init__(self, task: SupervisedTask, latent: Callable[[torch.Tensor], torch.Tensor], k: int,
                 seed: int) -> None:
        self._task, self.latent, self.seed = task, latent, seed
        self.labels = task.val_y.numpy()
        self.k = k or int(self.labels.max()) + 1
        raw = task.val_x.reshape(len(task.val_x), -1).numpy()
        self.raw_purity = kmeans_purity(raw, self.labels, self.k, seed)[0]
        self.clusters: np.ndarray | None = None  # the last validation's cluster of each image

    def __getattr__(self, name: str) -> Any:
        return getattr(self._task, name)

    @torch.no_grad()
    def codes(self) -> np.ndarray:
        """The validation images' codes, one flat row each."""
        t = self._task
        t.model.eval()
        parts = []
        for i in range(0, len(t.val_x), 512):
            x = t.val_x[i:i + 512]
            if t.stats is not None:
                x = (x - t.stats[0]) / t.stats[1]
            z = self.latent(x.to(t.device))
            parts.append(z.float().reshape(len(z), -1).cpu())
        return torch.cat(parts).numpy()

    def evaluate(self) -> dict[str, float]:
        metrics = self._task.evaluate()
        value, self.clusters = kmeans_purity(self.codes(), self.labels, self.k, self.seed)
        return {**metrics, "val_purity": value, "val_raw_purity": self.raw_purity}


def train_clustering(cfg: dict, out: str, data: Any, model_cls: Callable[[], nn.Module], *, prediction: int,
                     latent: int, input_shape: list[int], frozen: list[str], lr_mult: dict[str, float],
                     weights_prefix: str, graph: str, better: dict[str, bool]) -> list[dict]:
    """An exported ``train.py``'s run: ``prediction`` and ``latent`` index the autoencoder's returned values."""
    from . import script  # script imports the other tasks; this module stays importable on its own

    rank, world, device = script.setup(cfg)
    model = script.make_model(model_cls, cfg, device)
    x, y, xv, yv, info = script.load_data(data, cfg, input_shape)
    script.load_initial({graph: model}, cfg["init"].get("checkpoint", ""))
    mult = param_groups(model, frozen, lr_mult)
    base = info.get("val_baseline")
    job = SupervisedTask(cfg, model, lambda t: pick(model(t), prediction), (x, y), (xv, yv), task="reconstruction",
                         multipliers=mult, frozen=script.frozen_modules(model, frozen), device=device,
                         amp=cfg.get("amp", False), classes=len(info.get("classes", [])),
                         val_baseline=None if base is None else torch.as_tensor(base), rank=rank, world=world,
                         after_backward=script._bind(script.average_gradients(world), model))
    k = cfg["clustering"]["clusters"] or len(info.get("classes", []))
    task = PurityTask(job, lambda t: pick(model(t), latent), k, cfg["seed"])
    history, message = fit(task, cfg["epochs"], script.early(cfg, task.monitor, better),
                           log=(lambda line: print(line, flush=True)) if rank == 0 else None)
    script.finish(out, rank, world, history, message, {weights_prefix: model})
    return history
