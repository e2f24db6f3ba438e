"""Deep clustering: an autoencoder learns codes (the reconstruction paradigm), then k-means groups the
validation images' codes; cluster purity says how well the groups match the classes the model never saw.

Purity is the share of images whose cluster's most common class is their own (1 = every cluster holds
one class). The same k-means on the raw pixels is the baseline: clustering the codes should beat it
when the autoencoder has learned what matters about a digit. k-means is scikit-learn's (k-means++
starts, 10 restarts, seeded), the reference implementation; training and purity are
:mod:`studio.train.nnloop.clustering`'s, the code an exported ``train.py`` runs.
"""

from __future__ import annotations

from typing import Any

from studio.train.build import ModelError
from studio.train.nnloop.clustering import PurityTask
from studio.train.recipes import metrics_common as M
from studio.train.recipes.registry import DATASET_TRAINING_KEYS, MetricSpec, RecipeSpec, register
from studio.train.recipes.supervised import Supervised
from studio.train.settings import Int, S, Section, SettingsError


class ClusteringSettings(Section):
    """The deep-clustering paradigm's own settings (``training.clustering``)."""

    clusters: Int = S(0, title="Clusters k", ge=0, le=1000,
                      help="How many groups k-means forms (0 = as many as the dataset has classes).")


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
        i_latent = found[0]
        k = self.settings.section("clustering").clusters or len(self.data.classes)

        def latent(x):
            return self.forward(self.model, x, all_outputs=True)[i_latent]

        # the engine evaluates the task it steps: nnloop's, the code an exported train.py runs
        self.loop_task = t = PurityTask(self.loop_task, latent, k, self.settings.seed)
        self.info.update(raw_purity=t.raw_purity, clusters=t.k)

    def views(self, quick: bool = False) -> dict[str, Any]:
        out = super().views(quick)
        latent = out.get("latent")
        clusters, k = self.loop_task.clusters, self.loop_task.k
        if latent is not None and clusters is not None:  # colour by cluster: what k-means found
            n = len(latent["points"])
            latent.update(labels=clusters[:n], classes=[f"cluster {c + 1}" for c in range(k)])
        return out


def _export(project: Any, registry: Any, settings: Any) -> str:
    from studio.train.recipes.script_writers import clustering_script

    return clustering_script(project, registry, settings)


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
    export=_export,
))
