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

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from studio.train import views as V
from studio.train.build import ModelError
from studio.train.data import TensorLoader, check_input, load_data
from studio.train.recipes.base import Recipe
from studio.train.recipes.registry import MetricSpec, RecipeSpec, register
from studio.train.settings import Float, Int, S, Section, Str

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


class Contrastive(Recipe):
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
        self.cs = cs
        self.loader = TensorLoader(self.data.train_x, self.data.train_y, s.batch_size, True, s.seed)
        self.setup_single_model_training()
        self.views_noise = torch.Generator().manual_seed(s.seed + 41)
        # the baseline: the same graph exactly as initialised, before any step
        self.random_probe = self._probe()
        self._batches: Iterator | None = None
        self.info.update(train_samples=len(self.data.train_x), dataset=self.data.name,
                         random_probe_accuracy=self.random_probe)

    def _outputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(projection, features) of a batch."""
        out = self.forward(self.model, x, all_outputs=True)
        if not isinstance(out, tuple | list):
            return out.float(), out.float()
        return out[self.model.prediction_index].float(), out[self.i_features].float()

    @torch.no_grad()
    def _features(self, x: torch.Tensor) -> np.ndarray:
        self.model.module.eval()
        parts = [self._outputs(x[i:i + 512].to(self.device))[1].flatten(1).cpu() for i in range(0, len(x), 512)]
        return torch.cat(parts).numpy()

    def _probe(self) -> float:
        d = self.data
        return linear_probe(self._features(d.train_x), d.train_y.numpy(), self._features(d.val_x), d.val_y.numpy())

    def steps_per_epoch(self) -> int:
        cap = self.settings.steps_per_epoch
        return max(1, min(len(self.loader), cap) if cap else len(self.loader))

    def _views(self, x: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        cs = self.cs
        return (augment(x, g, cs.shift, cs.drop, cs.noise).to(self.device),
                augment(x, g, cs.shift, cs.drop, cs.noise).to(self.device))

    def train_step(self, epoch: int, index: int) -> dict[str, float]:
        if index == 0 or self._batches is None:
            self._batches = self.loader.batches(epoch, index)
            self.noise = torch.Generator().manual_seed(self.settings.seed * 7919 + epoch)
        xb, _ = next(self._batches)
        if len(xb) < 2:
            raise ModelError("NT-Xent needs at least 2 images per batch; raise the batch size", graph=self.model.name)
        v1, v2 = self._views(xb, self.noise)
        self.train_mode(self.model)
        p1, p2 = self._outputs(torch.cat([v1, v2]))[0].chunk(2)
        loss = nt_xent(p1, p2, self.cs.temperature)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.settings.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.module.parameters(), self.settings.grad_clip)
        self.optimizer.step()
        self.schedule.after_step()
        return {"loss": self.check_finite(loss), "samples": float(len(xb))}

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        self.model.module.eval()
        x = self.data.val_x[:1024]
        g = torch.Generator().manual_seed(self.settings.seed + 5)  # the same views every evaluation
        v1, v2 = self._views(x, g)
        p1, p2 = self._outputs(torch.cat([v1, v2]))[0].chunk(2)
        probe = self._probe()
        return {"val_loss": float(nt_xent(p1, p2, self.cs.temperature)), "val_probe_accuracy": probe,
                "val_random_probe_accuracy": self.random_probe, "val_probe_gain": probe - self.random_probe}

    @torch.no_grad()
    def views(self, quick: bool = False) -> dict[str, Any]:
        x = self.data.val_x[:PAIRS_SHOWN]
        g = torch.Generator().manual_seed(self.settings.seed + 13)
        v1, v2 = self._views(x, g)
        out: dict[str, Any] = {"pairs": {"first": v1.cpu().numpy(), "second": v2.cpu().numpy(),
                                         "title": "Two augmented views of each image: the loss pulls them together"}}
        if not quick:
            f = self._features(self.data.val_x[:500])
            out["latent"] = V.latent_points(f, self.data.val_y[:500].numpy(), self.data.classes)
        return out


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
    export=False,
    graph_settings=("contrastive.encoder",),
))
