"""Variational autoencoder (Kingma & Welling 2014): an encoder graph and a decoder graph.

The encoder returns a mean and a log-variance (its Outputs with roles ``mean`` and
``log_variance``); the recipe draws ``z = mean + exp(log_var / 2) · ε`` (the reparameterisation,
so gradients reach the encoder through a random draw) and the decoder turns ``z`` into pixels.
The loss is the negative evidence lower bound per sample: the reconstruction term (binary cross-
entropy summed over pixels, the decoder ends in a Sigmoid) plus β times the KL divergence of the
code distribution from the standard normal prior. β = 1 is the textbook VAE; larger β trades
sharper reconstructions for a smoother, more disentangled latent space (Higgins et al. 2017).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from studio.train.build import BuiltModel, ModelError
from studio.train.data import check_input, load_data
from studio.train.nnloop.parts import NothingToTrain
from studio.train.nnloop.vae import VaeTask, kl_divergence, reconstruction_term, reparameterise
from studio.train.recipes import metrics_common as M
from studio.train.recipes.loop_recipe import LoopTaskRecipe
from studio.train.recipes.registry import MetricSpec, RecipeSpec, register
from studio.train.settings import Float, Int, S, Section, SettingsError, Str

__all__ = ["Vae", "VaeSettings", "kl_divergence", "reconstruction_term", "reparameterise"]

TRAVERSAL_STEPS = 9  # columns of the traversal grid: z_d from −2.5 to 2.5
TRAVERSAL_DIMS = 8  # at most this many latent dimensions are traversed (one row each)


class VaeSettings(Section):
    """The VAE paradigm's own settings (``training.vae``)."""

    encoder: Str = S("encoder", title="Encoder graph",
                     help="Graph whose Outputs (roles mean and log_variance) describe each image's code.")
    decoder: Str = S("decoder", title="Decoder graph", help="Graph that turns a code into an image (ends in a Sigmoid).")
    beta: Float = S(1.0, title="β (KL weight)", ge=0.0, le=100.0,
                    help="Weight of the KL term: 0 is a plain autoencoder with noise; 1 the textbook VAE; larger "
                         "values pull codes towards the prior (smoother samples, blurrier reconstructions).")
    samples: Int = S(64, title="Shown samples", ge=1, le=1024, help="Codes drawn once from the prior for the sample view.")


class Vae(LoopTaskRecipe):
    monitor = "val_loss"

    def setup(self) -> None:
        s, vs = self.settings, self.settings.section("vae")
        self.enc = self.build(self.graph(vs.encoder))
        self.dec = self.build(self.graph(vs.decoder))
        self.i_mean = self._role_index(self.enc, "mean")
        self.i_logvar = self._role_index(self.enc, "log_variance")
        for m in (self.enc, self.dec):
            if len(m.inputs) != 1:
                raise ModelError(f"graph '{m.name}' needs exactly one Input; it has {len(m.inputs)}", graph=m.name)
        x_in = self.enc.inputs[0]
        self.latent_shape = tuple(self.dec.inputs[0].shape)
        self.data = load_data(s.dataset, s.seed, x_in.shape)
        check_input(self.data, x_in.shape, x_in.dtype, x_in.name)
        with torch.no_grad():  # eval mode: no dropout draws, no BatchNorm updates before training starts
            for m in (self.enc, self.dec):
                m.module.eval()
            x = self.data.val_x[:2].to(self.device)
            mean, log_var = self._encode(x)
            if tuple(mean.shape[1:]) != self.latent_shape or mean.shape != log_var.shape:
                raise ModelError(f"the encoder gives mean {tuple(mean.shape[1:])} and log-variance "
                                 f"{tuple(log_var.shape[1:])}; the decoder's Input takes {self.latent_shape}",
                                 graph=self.enc.name)
            out = self.forward(self.dec, mean)
            if out.shape != x.shape:
                raise ModelError(f"the decoder makes {tuple(out.shape[1:])} but images are {tuple(x.shape[1:])}",
                                 graph=self.dec.name)
        if float(self.data.train_x.min()) < 0 or float(self.data.train_x.max()) > 1:
            raise ModelError(f"dataset '{self.data.name}' has values outside [0, 1]; the VAE's reconstruction "
                             "term needs pixel values in [0, 1]", graph=self.enc.name)
        self.load_initial_weights()
        multipliers = self.node_settings([self.enc, self.dec])
        try:  # batches, step and validation are nnloop's: the code an exported train.py runs
            t = VaeTask(
                s.to_dict(), self.enc.module, self.dec.module, self._step_encode(), self.step_forward(self.dec),
                self.data.train_x, self.data.val_x, multipliers=multipliers, frozen=self.frozen, device=self.device)
        except NothingToTrain as exc:
            raise SettingsError("nodes", str(exc)) from exc
        self.adopt(t)
        self.loader = t.batches
        self.beta = vs.beta
        self.fixed_noise = torch.randn((vs.samples, *self.latent_shape),
                                       generator=torch.Generator().manual_seed(s.seed + 17))
        self.info.update(train_samples=len(self.data.train_x), dataset=self.data.name, latent=list(self.latent_shape))

    @staticmethod
    def _role_index(m: BuiltModel, role: str) -> int:
        found = m.outputs_with_role(role)
        if len(found) != 1:
            raise ModelError(f"the encoder '{m.name}' needs one Output with role '{role}'; it has {len(found)}",
                             graph=m.name)
        return next(iter(found.values()))

    def _encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.forward(self.enc, x, all_outputs=True)
        return out[self.i_mean].float(), out[self.i_logvar].float()

    def _step_encode(self):
        """(mean, log-variance) at the cost of a bare module call (see :meth:`bare_call`)."""
        i_mean, i_logvar = self.i_mean, self.i_logvar
        return self.bare_call(self.enc, lambda out: (out[i_mean].float(), out[i_logvar].float()))

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        """``n`` images decoded from codes drawn from the prior N(0, 1)."""
        self.dec.module.eval()
        z = torch.randn((n, *self.latent_shape), generator=torch.Generator().manual_seed(seed)).to(self.device)
        return self.forward(self.dec, z).float().cpu()

    @torch.no_grad()
    def views(self, quick: bool = False) -> dict[str, Any]:
        for m in self.modules():
            m.eval()
        x = self.data.val_x[:500].to(self.device)
        mean, log_var = self._encode(x)
        recon = self.forward(self.dec, mean[:8]).float().cpu().numpy()
        codes = mean.flatten(1).cpu().numpy()
        pca = codes.shape[1] > 2
        if pca:  # more than two dimensions: the two directions along which the codes vary most
            centred = codes - codes.mean(0)
            codes = centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T
        samples = self.forward(self.dec, self.fixed_noise.to(self.device)).float().cpu().numpy()
        # the most used code dimensions first (their share of the KL): an unused one decodes the same image
        kl = (-0.5 * (1 + log_var - mean.pow(2) - log_var.exp())).flatten(1).mean(0).cpu().numpy()
        order = np.argsort(-kl)[:TRAVERSAL_DIMS]
        values = np.linspace(-2.5, 2.5, TRAVERSAL_STEPS, dtype=np.float32)
        z = torch.zeros((len(order), TRAVERSAL_STEPS, len(kl)))
        for row, d in enumerate(order):
            z[row, :, d] = torch.from_numpy(values)
        grid = self.forward(self.dec, z.reshape(-1, *self.latent_shape).to(self.device)).float().cpu().numpy()
        return {"reconstruction": {"inputs": x[:8].cpu().numpy(), "outputs": recon},
                "latent": {"points": codes[:, :2], "labels": self.data.val_y[:500].numpy(),
                           "classes": self.data.classes, "pca": pca},
                "gan_samples": {"samples": samples, "title": "Decoded from codes drawn from the prior N(0, 1)",
                                "losses": False},
                "traversal": {"images": grid.reshape(len(order), TRAVERSAL_STEPS, *grid.shape[1:]),
                              "values": values.tolist(), "dims": [int(d) + 1 for d in order],
                              "kl": [float(kl[d]) for d in order]}}

    def extra_state(self) -> dict[str, Any]:
        return {"fixed_noise": self.fixed_noise.cpu()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if "fixed_noise" in state:
            self.fixed_noise = state["fixed_noise"]


SPEC = register(RecipeSpec(
    name="vae",
    label="Variational autoencoder",
    help="An encoder maps each image to a Gaussian over codes, a decoder draws images from codes; "
         "the KL term keeps codes close to N(0, 1), so decoding random codes makes new images.",
    factory=Vae,
    settings=VaeSettings,
    section="vae",
    uses=("dataset", "batch_size", "steps_per_epoch", "optimizer", "schedule", "grad_clip", "nodes", "init"),
    metrics=(
        MetricSpec("recon", "Reconstruction term", "nats", plot="loss",
                   help="Binary cross-entropy summed over an image's pixels."),
        MetricSpec("kl", "KL term", "nats", plot="loss", help="KL divergence of the code distribution from N(0, 1)."),
        M.MSE, M.BASELINE_MSE, M.VS_BASELINE,
    ),
    monitor="val_loss",
    roles=("mean", "log_variance"),
    views=("reconstruction", "latent", "gan_samples", "traversal"),
    export=True,
    graph_settings=("vae.encoder", "vae.decoder"),
))
