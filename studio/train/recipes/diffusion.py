"""Denoising diffusion (Ho et al. 2020, DDPM): a denoiser graph learns the noise added to data.

The denoiser's Inputs are the noisy sample and the time ``t / T`` (an Input named ``t``; a Timestep
embedding node turns it into sines and cosines); its Output guesses the noise ε. Steps, sampling and
validation are :class:`studio.train.nnloop.diffusion.DiffusionTask`'s, the code an exported
``train.py`` runs (written by :mod:`studio.train.recipes.diffusion_script`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from studio.train import synthetic
from studio.train.build import ModelError
from studio.train.data import check_input, load_data
from studio.train.nnloop.diffusion import FRAMES, DiffusionTask, linear_schedule
from studio.train.nnloop.parts import NothingToTrain
from studio.train.recipes.loop_recipe import LoopTaskRecipe
from studio.train.recipes.registry import MetricSpec, RecipeSpec, register
from studio.train.settings import Int, S, Section, SettingsError

__all__ = ["FRAMES", "Diffusion", "DiffusionSettings", "linear_schedule"]


class DiffusionSettings(Section):
    """The diffusion paradigm's own settings (``training.diffusion``)."""

    steps: Int = S(100, title="Diffusion steps T", ge=2, le=1000,
                   help="How many small noising steps turn data into pure noise (and sampling undoes).")
    samples: Int = S(1000, title="Shown samples", ge=1, le=20000, help="Samples drawn for the view and the metrics.")
    sample_every: Int = S(1, title="Sample every (epochs)", ge=1, le=10000,
                          help="Draw the shown samples (T denoiser passes each) after every this many epochs and "
                               "after the last; small datasets have short epochs.")


class Diffusion(LoopTaskRecipe):
    monitor = "val_high_quality"

    def setup(self) -> None:
        s = self.settings
        self.model = self.build(self.graph(s.graph))
        names = [i.name for i in self.model.inputs]
        if len(names) != 2 or "t" not in names:
            raise ModelError(f"the denoiser '{self.model.name}' needs two Inputs, the noisy sample and one named 't' "
                             f"(the time); it has {', '.join(names) or 'none'}", graph=self.model.name)
        self.t_index = names.index("t")
        x_in = self.model.inputs[1 - self.t_index]
        self.data = load_data(s.dataset, s.seed, x_in.shape)
        check_input(self.data, x_in.shape, x_in.dtype, x_in.name)
        with torch.no_grad():
            x = self.data.val_x[:2].to(self.device)
            out = self._forward_checked(x, torch.zeros(2, 1, device=self.device))
            if out.shape != x.shape:
                raise ModelError(f"the denoiser returns {tuple(out.shape[1:])} but must return the noise, shaped like "
                                 f"a sample {tuple(x_in.shape)}", graph=self.model.name)
        self.load_initial_weights()
        multipliers = self.node_settings([self.model])
        points = self.data.task == "points" and "centres" in self.data.info
        try:  # steps, sampling and validation are nnloop's: the code an exported train.py runs
            t = DiffusionTask(
                s.to_dict(), self.model.module, self._step_forward(), self.data.train_x, self.data.val_x,
                multipliers=multipliers, frozen=self.frozen, device=self.device, amp=self.ctx.amp,
                centres=self.data.info["centres"] if points else None, std=float(self.data.info.get("std", 0.0)),
                coverage=synthetic.mode_coverage if points else None)
        except NothingToTrain as exc:
            raise SettingsError("nodes", str(exc)) from exc
        self.monitor = t.monitor
        self.T = t.T
        self.adopt(t)
        self.info.update(train_samples=len(self.data.train_x), dataset=self.data.name, diffusion_steps=self.T)

    def _forward_checked(self, x: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        args = (x, time) if self.t_index == 1 else (time, x)
        return self.forward(self.model, *args).float()

    def _step_forward(self):
        """The denoiser at the cost of a bare module call (see :meth:`bare_call`), the time where the graph
        takes it."""
        index, t_index = self.model.prediction_index, self.t_index
        call = self.bare_call(self.model, lambda out: out[index] if isinstance(out, tuple | list) else out)

        def forward(x: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
            return call(*((x, time) if t_index == 1 else (time, x)))

        return forward

    def sample(self, n: int, seed: int = 0) -> tuple[np.ndarray, list[np.ndarray]]:
        """``n`` samples by the reverse process (in the data's range) and snapshots of it (pure noise first)."""
        return self.loop_task.sample(n, seed)

    @torch.no_grad()
    def views(self, quick: bool = False) -> dict[str, Any]:
        t = self.loop_task
        if t.last is None:
            t.evaluate()
        last = t.last
        points = self.data.task == "points"
        samples = np.clip(last["samples"], 0, 1) if t.unit_images else last["samples"]  # pixels as drawn
        return {"gan_samples": {"samples": samples, "real": self.data.val_x[:500].numpy() if points else None,
                                "centres": self.data.info.get("centres") if points else None,
                                "title": "Drawn by the reverse process from pure noise", "losses": False},
                "diffusion": {"frames": last["frames"], "steps": last["steps"], "T": self.T}}


def _export(project: Any, registry: Any, settings: Any) -> str:
    from studio.train.recipes.script_writers import diffusion_script

    return diffusion_script(project, registry, settings)


SPEC = register(RecipeSpec(
    name="diffusion",
    label="Diffusion (DDPM)",
    help="A denoiser learns the noise that was added to the data; sampling removes noise step by step from pure noise.",
    factory=Diffusion,
    settings=DiffusionSettings,
    section="diffusion",
    uses=("dataset", "batch_size", "steps_per_epoch", "optimizer", "schedule", "grad_clip", "nodes", "init"),
    metrics=(MetricSpec("modes_covered", "Modes covered", "modes", True),
             MetricSpec("high_quality", "Samples near a mode", "share", True)),
    monitor="val_high_quality",
    roles=("prediction",),
    views=("gan_samples", "diffusion"),
    export=_export,
))
