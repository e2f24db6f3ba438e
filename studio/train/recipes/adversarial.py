"""GAN training: a generator graph and a discriminator graph, two optimizers, alternating steps.

Non-saturating losses: D learns real -> 1, fake -> 0; G learns to make D say 1 for its fakes.
A fixed noise batch, drawn once from the seed, feeds the live sample view so the user watches
the same points/images improve. On the ring of Gaussians each evaluation counts covered modes.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from studio.train import synthetic
from studio.train.build import ModelError
from studio.train.data import TensorLoader, check_input, load_data
from studio.train.optim import Schedule, make_optimizer
from studio.train.recipes.base import Recipe
from studio.train.recipes.registry import MetricSpec, RecipeSpec, register
from studio.train.settings import Float, Int, S, Section, SettingsError, Str


class GanSettings(Section):
    """The adversarial paradigm's own settings (``training.gan``)."""

    generator: Str = S("generator", title="Generator graph", help="Name of the generator graph.")
    discriminator: Str = S("discriminator", title="Discriminator graph", help="Name of the discriminator graph.")
    latent_dim: Int = S(0, title="Noise size", ge=0, le=65536, help="Noise size (0 = read from the generator's Input).")
    d_steps: Int = S(1, title="Discriminator steps", ge=1, le=10, help="Discriminator steps per generator step.")
    d_output: Literal["logits", "probability"] = S("logits", title="Discriminator output",
                                                   help="What the discriminator returns.")
    samples: Int = S(64, title="Shown samples", ge=1, le=4096, help="Size of the fixed noise batch shown during training.")
    loss: Literal["bce", "wgan_gp"] = S("bce", title="GAN loss",
                                        help="bce: non-saturating GAN; wgan_gp: Wasserstein loss with gradient penalty "
                                             "(the critic returns a raw score).")
    r1: Float = S(0.1, title="R1 penalty", ge=0.0, le=1000.0, advanced=True,
                  help="bce: R1 penalty weight on the discriminator's gradient at real samples; it keeps training "
                       "from collapsing onto a few modes (0 = off).")
    gp: Float = S(10.0, title="Gradient penalty", ge=0.0, le=1000.0, advanced=True, help="wgan_gp: gradient penalty weight.")


class Adversarial(Recipe):
    monitor = "val_high_quality"

    def setup(self) -> None:
        s, gs = self.settings, self.settings.gan
        self.G = self.build(self.graph(gs.generator))
        self.D = self.build(self.graph(gs.discriminator))
        for role, m in (("generator", self.G), ("discriminator", self.D)):
            if len(m.inputs) != 1:
                raise ModelError(f"the {role} '{m.name}' needs exactly one Input; it has {len(m.inputs)}", graph=m.name)
        self.latent_shape = self.G.inputs[0].shape
        latent = int(np.prod(self.latent_shape))
        if gs.latent_dim and gs.latent_dim != latent:
            raise SettingsError("gan.latent_dim", f"is {gs.latent_dim} but the generator's Input takes {latent} values")
        d_in = self.D.inputs[0]
        self.data = load_data(s.dataset, s.seed, d_in.shape)
        check_input(self.data, d_in.shape, d_in.dtype, d_in.name)
        self.loader = TensorLoader(self.data.train_x, self.data.train_y, s.batch_size, True, s.seed, s.dataset.augment,
                                   drop_last=True)
        g = torch.Generator().manual_seed(s.seed + 17)
        self.fixed_noise = torch.randn((gs.samples, *self.latent_shape), generator=g).to(self.device)
        with torch.no_grad():
            fake = self.forward(self.G, self.fixed_noise[:2])
            if tuple(fake.shape[1:]) != tuple(d_in.shape):
                raise ModelError(f"the generator makes samples of shape {tuple(fake.shape[1:])} but the discriminator's "
                                 f"Input expects {tuple(d_in.shape)}", graph=self.G.name)
            score = self.forward(self.D, fake)
            if score.numel() != 2:
                raise ModelError(f"the discriminator must give one score per sample; it gives {tuple(score.shape[1:])}",
                                 graph=self.D.name)
        self.load_initial_weights()
        multipliers = self.node_settings([self.G, self.D])
        self.opt_g = make_optimizer(s.optimizer, [self.G.module], multipliers)
        self.opt_d = make_optimizer(s.optimizer, [self.D.module], multipliers)
        self.optimizers = {"generator": self.opt_g, "discriminator": self.opt_d}
        n = self.steps_per_epoch()
        self.schedules = {"generator": Schedule(s.schedule, self.opt_g, s.epochs, n),
                          "discriminator": Schedule(s.schedule, self.opt_d, s.epochs, n)}
        self._iter = None
        self._key: tuple[int, int] | None = None
        self.info.update(train_samples=len(self.data.train_x), dataset=self.data.name, latent=list(self.latent_shape))

    def steps_per_epoch(self) -> int:
        n = len(self.loader) // self.settings.gan.d_steps
        cap = self.settings.steps_per_epoch
        return max(1, min(n, cap) if cap else n)

    def _d_loss(self, score: torch.Tensor, real: bool) -> torch.Tensor:
        smooth = self.settings.loss.label_smoothing
        target = torch.full_like(score, (1.0 - smooth) if real else 0.0)
        if self.settings.gan.d_output == "probability":
            return F.binary_cross_entropy(score.clamp(1e-6, 1 - 1e-6), target)
        return F.binary_cross_entropy_with_logits(score, target)

    def _real_batch(self, epoch: int, index: int) -> torch.Tensor:
        if self._iter is None or self._key != (epoch, index):
            self._iter = self.loader.batches(epoch, start=index * self.settings.gan.d_steps)
        self._key = (epoch, index + 1)
        return next(self._iter)[0].to(self.device)

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn((n, *self.latent_shape), device=self.device)

    def train_step(self, epoch: int, index: int) -> dict[str, float]:
        gs = self.settings.gan
        wgan = gs.loss == "wgan_gp"
        r1 = 0.0 if wgan else gs.r1
        self.train_mode(self.G, self.D)
        d_total, real_p, fake_p, n, b = 0.0, 0.0, 0.0, 0, 0
        prob = (lambda t: t) if gs.d_output == "probability" or wgan else torch.sigmoid
        for _ in range(gs.d_steps):
            real = self._real_batch(epoch, index) if n == 0 else next(self._iter)[0].to(self.device)
            b = len(real)
            with torch.no_grad():
                fake = self.forward(self.G, self._noise(b))
            if r1 > 0:
                real.requires_grad_(True)
            s_real = self.forward(self.D, real).float().reshape(-1)
            s_fake = self.forward(self.D, fake).float().reshape(-1)
            if wgan:
                loss_d = s_fake.mean() - s_real.mean() + gs.gp * self._gradient_penalty(real.detach(), fake)
            else:
                loss_d = self._d_loss(s_real, True) + self._d_loss(s_fake, False)
            if r1 > 0:
                grad, = torch.autograd.grad(s_real.sum(), real, create_graph=True)
                loss_d = loss_d + r1 / 2 * grad.pow(2).reshape(b, -1).sum(1).mean()
            d_total += self.check_finite(loss_d)
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self._clip(self.D)
            self.opt_d.step()
            real_p += float(prob(s_real.detach()).mean())
            fake_p += float(prob(s_fake.detach()).mean())
            n += 1
        fake = self.forward(self.G, self._noise(b))
        s = self.forward(self.D, fake).float().reshape(-1)
        if wgan:
            loss_g = -s.mean()
        elif gs.d_output == "probability":
            loss_g = F.binary_cross_entropy(s.clamp(1e-6, 1 - 1e-6), torch.ones_like(s))
        else:
            loss_g = F.binary_cross_entropy_with_logits(s, torch.ones_like(s))
        g_value = self.check_finite(loss_g)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self._clip(self.G)
        self.opt_g.step()
        for sched in self.schedules.values():
            sched.after_step()
        d_value = d_total / n
        return {"loss": d_value + g_value, "d_loss": d_value, "g_loss": g_value, "d_real": real_p / n,
                "d_fake": fake_p / n, "samples": float(b * n)}

    def _gradient_penalty(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        alpha = torch.rand((len(real),) + (1,) * (real.dim() - 1), device=real.device)
        mix = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        score = self.forward(self.D, mix).float()
        grad, = torch.autograd.grad(score.sum(), mix, create_graph=True)
        return ((grad.reshape(len(mix), -1).norm(dim=1) - 1) ** 2).mean()

    def _clip(self, m) -> None:
        if self.settings.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(m.module.parameters(), self.settings.grad_clip)

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        self.G.module.eval()
        return self.forward(self.G, self._noise(n)).float().cpu()

    def evaluate(self) -> dict[str, float]:
        m: dict[str, float] = {}
        if self.data.task == "points" and "centres" in self.data.info:
            samples = self.sample(2000).numpy().reshape(2000, -1)[:, :2]
            centres, std = self.data.info["centres"], float(self.data.info["std"])
            covered, quality = synthetic.mode_coverage(samples, centres, std)
            d = np.linalg.norm(samples[:, None] - centres[None], axis=2).min(1)
            m.update(val_modes_covered=float(covered), val_high_quality=quality, val_mode_distance=float(np.mean(d)))
        with torch.no_grad():
            self.D.module.eval()
            real = self.data.val_x[:512].to(self.device)
            if len(real):
                raw = self.settings.gan.d_output == "probability" or self.settings.gan.loss == "wgan_gp"
                prob = (lambda t: t) if raw else torch.sigmoid
                m["val_d_real"] = float(prob(self.forward(self.D, real).float()).mean())
                m["val_d_fake"] = float(prob(self.forward(self.D, self.sample(len(real)).to(self.device)).float()).mean())
        return {k: v for k, v in m.items() if math.isfinite(v)}

    @torch.no_grad()
    def views(self, quick: bool = False) -> dict[str, Any]:
        self.G.module.eval()
        samples = self.forward(self.G, self.fixed_noise).float().cpu().numpy()
        points = self.data.task == "points"
        return {"gan_samples": {"samples": samples, "real": self.data.val_x[:500].numpy() if points else None,
                                "centres": self.data.info.get("centres") if points else None}}

    def extra_state(self) -> dict[str, Any]:
        return {"fixed_noise": self.fixed_noise.cpu()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if "fixed_noise" in state:
            self.fixed_noise = state["fixed_noise"].to(self.device)


ADVERSARIAL = register(RecipeSpec(
    name="adversarial",
    label="GAN",
    help="A generator learns to fool a discriminator; the discriminator learns to tell real from generated.",
    factory=Adversarial,
    settings=GanSettings,
    section="gan",
    uses=("dataset", "batch_size", "steps_per_epoch", "optimizer", "schedule", "nodes", "init", "amp",
          "loss.label_smoothing"),
    metrics=(
        MetricSpec("d_loss", "Discriminator loss", plot="loss"),
        MetricSpec("g_loss", "Generator loss", plot="loss"),
        MetricSpec("d_real", "D on real samples", help="The discriminator's mean score for real samples."),
        MetricSpec("d_fake", "D on generated samples", help="The discriminator's mean score for generated samples."),
        MetricSpec("modes_covered", "Modes covered", "modes", True),
        MetricSpec("high_quality", "Samples near a mode", "share", True),
        MetricSpec("mode_distance", "Distance to nearest mode"),
    ),
    monitor="val_high_quality",
    roles=("prediction",),
    views=("gan_samples",),
    export=True,
    graph_settings=("gan.generator", "gan.discriminator"),
))
