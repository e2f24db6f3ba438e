"""Deep clustering: an autoencoder learns codes (the reconstruction paradigm), then k-means groups the
validation images' codes; cluster purity says how well the groups match the classes the model never saw.

Purity is the share of images whose cluster's most common class is their own (1 = every cluster holds
one class). The same k-means on the raw pixels is the baseline: clustering the codes should beat it
when the autoencoder has learned what matters about a digit. k-means is scikit-learn's (k-means++
starts, 10 restarts, seeded), the reference implementation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from studio.train.build import ModelError
from studio.train.recipes import metrics_common as M
from studio.train.recipes.registry import DATASET_TRAINING_KEYS, MetricSpec, RecipeSpec, register
from studio.train.recipes.supervised import Supervised
from studio.train.settings import Int, S, Section, SettingsError


class ClusteringSettings(Section):
    """The deep-clustering paradigm's own settings (``training.clustering``)."""

    clusters: Int = S(0, title="Clusters k", ge=0, le=1000,
                      help="How many groups k-means forms (0 = as many as the dataset has classes).")


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


class _WithPurity:
    """The reconstruction loop task with purity added to its validation metrics (the engine evaluates the
    task it steps)."""

    def __init__(self, task: Any, purity_metrics) -> None:
        self._task, self._purity_metrics = task, purity_metrics

    def __getattr__(self, name: str) -> Any:
        return getattr(self._task, name)

    def evaluate(self) -> dict[str, float]:
        return {**self._task.evaluate(), **self._purity_metrics()}


class Clustering(Supervised):
    monitor = "val_purity"

    def __init__(self, ctx) -> None:
        super().__init__(ctx, task="reconstruction")

    def setup(self) -> None:
        super().setup()
        found = list(self.model.outputs_with_role("latent").values())
        if not found:
            raise ModelError(f"graph '{self.model.name}' needs an Output with role 'latent' (the code k-means "
                             "groups)", graph=self.model.name)
        if self.data.task != "classification":
            raise ModelError(f"dataset '{self.data.name}' has no classes to judge the clusters by; pick a labelled "
                             "dataset (e.g. digits)", graph=self.model.name)
        if len(self.data.val_x) < 2:
            raise SettingsError("dataset.val_fraction", "k-means groups the validation images' codes; set a "
                                                        "validation fraction that keeps at least 2 images")
        self.i_latent = found[0]
        self.labels = self.data.val_y.numpy()
        self.k = self.settings.section("clustering").clusters or len(self.data.classes) or int(self.labels.max()) + 1
        raw = self.data.val_x.reshape(len(self.data.val_x), -1).numpy()
        self.raw_purity = kmeans_purity(raw, self.labels, self.k, self.settings.seed)[0]
        self.clusters: np.ndarray | None = None
        self.loop_task = _WithPurity(self.loop_task, self._purity)
        self.info.update(raw_purity=self.raw_purity, clusters=self.k)

    @torch.no_grad()
    def _codes(self) -> np.ndarray:
        self.model.module.eval()
        x = self.data.val_x
        parts = []
        for i in range(0, len(x), 512):
            out = self.forward(self.model, self._prep(x[i:i + 512]), all_outputs=True)
            parts.append(out[self.i_latent].float().reshape(len(out[self.i_latent]), -1).cpu())
        return torch.cat(parts).numpy()

    def _purity(self) -> dict[str, float]:
        value, self.clusters = kmeans_purity(self._codes(), self.labels, self.k, self.settings.seed)
        return {"val_purity": value, "val_raw_purity": self.raw_purity}

    def views(self, quick: bool = False) -> dict[str, Any]:
        out = super().views(quick)
        latent = out.get("latent")
        if latent is not None and self.clusters is not None:  # colour by cluster: what k-means found
            n = len(latent["points"])
            latent.update(labels=self.clusters[:n], classes=[f"cluster {c + 1}" for c in range(self.k)])
        return out


SPEC = register(RecipeSpec(
    name="clustering",
    label="Deep clustering",
    help="An autoencoder learns codes without labels; k-means groups the codes, and cluster purity compares "
         "the groups with the classes (against k-means on the raw inputs).",
    factory=Clustering,
    settings=ClusteringSettings,
    section="clustering",
    uses=DATASET_TRAINING_KEYS + ("loss.name", "loss.noise"),
    metrics=(M.MSE, M.BASELINE_MSE, M.VS_BASELINE,
             MetricSpec("purity", "Cluster purity (codes)", "share", True,
                        help="k-means on the validation codes: share of images in a cluster whose most common "
                             "class is their own."),
             MetricSpec("raw_purity", "Cluster purity (raw inputs)", "share", True,
                        help="The same k-means on the raw validation inputs: the baseline.")),
    monitor="val_purity",
    roles=("prediction", "latent"),
    views=("reconstruction", "latent"),
    export=False,
))
