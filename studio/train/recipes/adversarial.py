"""GAN training: a generator graph and a discriminator graph, two optimizers, alternating steps.

Non-saturating losses: D learns real -> 1, fake -> 0; G learns to make D say 1 for its fakes.
A fixed noise batch, drawn once from the seed, feeds the live sample view so the user watches
the same points/images improve. On the ring of Gaussians each evaluation counts covered modes.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch

from studio.train import synthetic
from studio.train.build import ModelError
from studio.train.data import check_input, load_data
from studio.train.nnloop.parts import NothingToTrain
from studio.train.nnloop.tasks import GanTask
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
        g = torch.Generator().manual_seed(s.seed + 17)
        self.fixed_noise = torch.randn((gs.samples, *self.latent_shape), generator=g).to(self.device)
        with torch.no_grad():  # eval mode: no dropout draws, no BatchNorm updates before training starts
            self.G.module.eval()
            self.D.module.eval()
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
        points = self.data.task == "points" and "centres" in self.data.info
        try:  # batches, alternating steps and validation are nnloop's: the code an exported train.py runs
            self.loop_task = t = GanTask(
                s.to_dict(), self.G.module, self.D.module, self.step_forward(self.G), self.step_forward(self.D),
                self.data.train_x, self.data.val_x, latent_shape=self.latent_shape, multipliers=multipliers,
                frozen=self.frozen, device=self.device, amp=self.ctx.amp,
                centres=self.data.info["centres"] if points else None, std=float(self.data.info.get("std", 0.0)),
                coverage=synthetic.mode_coverage)
        except NothingToTrain as exc:
            raise SettingsError("nodes", str(exc)) from exc
        self.loader, self.opt_g, self.opt_d = t.batches, t.opt_g, t.opt_d
        self.optimizers = {"generator": t.opt_g, "discriminator": t.opt_d}
        self.schedules = {"generator": t.sched_g, "discriminator": t.sched_d}
        self.info.update(train_samples=len(self.data.train_x), dataset=self.data.name, latent=list(self.latent_shape))

    def steps_per_epoch(self) -> int:
        return self.loop_task.steps_per_epoch()

    def train_step(self, epoch: int, index: int) -> dict[str, float]:
        """One step and its metrics (the engine drives ``loop_task`` itself and reads metrics in batches)."""
        self.loop_task.step(epoch, index)
        return self.loop_task.flush()[-1]

    def sample(self, n: int) -> torch.Tensor:
        return self.loop_task.sample(n)

    def evaluate(self) -> dict[str, float]:
        return self.loop_task.evaluate()

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
            self.fixed_noise = self.loop_task.fixed_noise = state["fixed_noise"].to(self.device)


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
