"""Self-supervised contrastive learning (SimCLR, Chen et al. 2020) with the NT-Xent loss.

Each image is augmented twice (a shift of up to ``shift`` pixels, a share of pixels dropped, a little
noise); the encoder graph maps both views to a projection (its ``prediction`` Output) and the
NT-Xent loss asks the two views of one image to be each other's nearest neighbour among the 2N − 1
other views of the batch (cosine similarity / temperature, cross-entropy). No label is used.

The learned representation (the Output with role ``latent``, before the projection head, as in the
paper; else the projection) is judged by a linear probe: a logistic regression trained on the frozen
features of the training split, scored on the validation split, against the same probe on the same
graph as initialised before training (the random-encoder baseline).
"""

from __future__ import annotations

from typing import Any

import torch

from studio.train import views as V
from studio.train.build import ModelError
from studio.train.data import check_input, load_data
from studio.train.nnloop.contrastive import ContrastiveTask, augment, linear_probe, nt_xent
from studio.train.nnloop.parts import NothingToTrain
from studio.train.recipes.loop_recipe import LoopTaskRecipe
from studio.train.recipes.registry import MetricSpec, RecipeSpec, register
from studio.train.settings import Float, Int, S, Section, SettingsError, Str

__all__ = ["Contrastive", "ContrastiveSettings", "augment", "linear_probe", "nt_xent"]

PAIRS_SHOWN = 8  # images whose two augmented views the view shows


class ContrastiveSettings(Section):
    """The contrastive paradigm's own settings (``training.contrastive``)."""

    encoder: Str = S("encoder", title="Encoder graph",
                     help="Graph that maps an image to a projection (Output role prediction) and, optionally, "
                          "the representation the probe reads (Output role latent).")
    temperature: Float = S(0.2, title="Temperature τ", ge=0.01, le=10.0,
                           help="Divides the cosine similarities in the NT-Xent loss: small values punish the "
                                "hardest negatives most.")
    shift: Int = S(1, title="Shift (pixels)", ge=0, le=8,
                   help="Each view moves the image by up to this many pixels in x and y (images only).")
    drop: Float = S(0.2, title="Dropped pixels", ge=0.0, le=0.9, help="Share of each view's values set to 0.")
    noise: Float = S(0.1, title="Noise", ge=0.0, le=5.0, help="Standard deviation of Gaussian noise added to each view.")


class Contrastive(LoopTaskRecipe):
    monitor = "val_probe_accuracy"

    def setup(self) -> None:
        s, cs = self.settings, self.settings.section("contrastive")
        self.model = self.build(self.graph(cs.encoder))
        if len(self.model.inputs) != 1:
            raise ModelError(f"the encoder '{self.model.name}' needs exactly one Input; it has {len(self.model.inputs)}",
                             graph=self.model.name)
        latent = list(self.model.outputs_with_role("latent").values())
        self.i_features = latent[0] if latent else self.model.prediction_index
        x_in = self.model.inputs[0]
        self.data = load_data(s.dataset, s.seed, x_in.shape)
        check_input(self.data, x_in.shape, x_in.dtype, x_in.name)
        if self.data.task != "classification":
            raise ModelError(f"dataset '{self.data.name}' has no classes for the linear probe to read; pick a "
                             "labelled dataset (e.g. digits)", graph=self.model.name)
        if len(self.data.val_x) == 0:
            raise SettingsError("dataset.val_fraction", "the linear probe is scored on validation images; set a "
                                                        "validation fraction above 0")
        if min(s.batch_size, len(self.data.train_x)) < 2:
            raise SettingsError("batch_size", "NT-Xent needs at least 2 images per batch")
        self.load_initial_weights()
        multipliers = self.node_settings([self.model])
        try:  # steps, views and the probe are nnloop's: the code an exported train.py runs
            t = ContrastiveTask(
                s.to_dict(), self.model.module, self._step_outputs(), (self.data.train_x, self.data.train_y),
                (self.data.val_x, self.data.val_y), multipliers=multipliers, frozen=self.frozen, device=self.device,
                amp=self.ctx.amp)
        except NothingToTrain as exc:
            raise SettingsError("nodes", str(exc)) from exc
        self.adopt(t)
        self.info.update(train_samples=len(self.data.train_x), dataset=self.data.name,
                         random_probe_accuracy=t.random_probe)

    def _step_outputs(self):
        """(projection, features) at the cost of a bare module call (see :meth:`bare_call`)."""
        i_proj, i_feat = self.model.prediction_index, self.i_features
        return self.bare_call(self.model, lambda out: (out[i_proj], out[i_feat]) if isinstance(out, tuple | list)
                              else (out, out))

    @torch.no_grad()
    def views(self, quick: bool = False) -> dict[str, Any]:
        t = self.loop_task
        v1, v2 = t.views(self.data.val_x[:PAIRS_SHOWN], torch.Generator().manual_seed(self.settings.seed + 13))
        out: dict[str, Any] = {"pairs": {"first": v1.cpu().numpy(), "second": v2.cpu().numpy(),
                                         "title": "Two augmented views of each image: the loss pulls them together"}}
        if not quick:
            f = t.features(self.data.val_x[:500])
            out["latent"] = V.latent_points(f, self.data.val_y[:500].numpy(), self.data.classes)
        return out


def _export(project: Any, registry: Any, settings: Any) -> str:
    from studio.train.recipes.script_writers import contrastive_script

    return contrastive_script(project, registry, settings)


SPEC = register(RecipeSpec(
    name="contrastive",
    label="Contrastive (self-supervised)",
    help="Two random views of each image are pulled together and apart from every other image (NT-Xent); "
         "no labels. A linear probe on the learned features measures what was learned.",
    factory=Contrastive,
    settings=ContrastiveSettings,
    section="contrastive",
    uses=("dataset", "batch_size", "steps_per_epoch", "optimizer", "schedule", "grad_clip", "nodes", "init"),
    metrics=(
        MetricSpec("probe_accuracy", "Linear probe accuracy", "share", True,
                   help="A logistic regression on the frozen features (training split), scored on validation."),
        MetricSpec("random_probe_accuracy", "Probe on a random encoder", "share", True,
                   help="The same probe on the same graph as initialised, before training: the baseline."),
        MetricSpec("probe_gain", "Probe gain over random", "share", True,
                   help="Linear probe accuracy minus the random encoder's."),
    ),
    monitor="val_probe_accuracy",
    roles=("prediction", "latent"),
    views=("pairs", "latent"),
    export=_export,
    graph_settings=("contrastive.encoder",),
))
