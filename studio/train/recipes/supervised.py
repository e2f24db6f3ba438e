"""Supervised recipes: classification, regression, sequence models and (denoising) reconstruction.

One recipe class covers them all; they differ only in the target (labels, values, the input
itself) and the loss. Sequence models are the same step with a time dimension: many-to-one
outputs (B, C) / (B, H), many-to-many outputs (B, T, C) against targets (B, T).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from studio.train import views as V
from studio.train.build import ModelError
from studio.train.data import DataBundle, check_input, load_data
from studio.train.nnloop.parts import NothingToTrain
from studio.train.nnloop.tasks import SupervisedTask
from studio.train.recipes.base import Recipe
from studio.train.robust import attach_adversarial
from studio.train.settings import SettingsError


def _shape(t) -> str:
    return "(" + ", ".join(["B", *(str(d) for d in tuple(t)[1:])]) + ")"


class Supervised(Recipe):
    """``task``: classification, regression, reconstruction, or ``auto`` (follow the dataset: the
    sequence paradigm). Each paradigm module builds this class with its own task."""

    def __init__(self, ctx, task: str = "auto") -> None:
        super().__init__(ctx)
        if task not in ("auto", "classification", "regression", "reconstruction"):
            raise ValueError(f"unknown supervised task {task!r}")
        self.declared_task = task

    def setup(self) -> None:
        s = self.settings
        graph = self.graph(s.graph)
        self.model = self.build(graph)
        if len(self.model.inputs) != 1:
            raise ModelError(f"graph '{graph.name}' has {len(self.model.inputs)} Inputs; this recipe feeds one",
                             graph=graph.name)
        inp = self.model.inputs[0]
        self.data: DataBundle = load_data(s.dataset, s.seed, inp.shape)
        check_input(self.data, inp.shape, inp.dtype, inp.name)
        self.reconstruct = self.declared_task == "reconstruction"
        if self.declared_task != "auto":
            self.task = self.declared_task
        else:  # sequence: follow the data
            self.task = "regression" if self.data.task == "regression" else "classification"
        if self.task == "classification" and self.data.train_y.is_floating_point():
            raise ModelError(f"dataset '{self.data.name}' has real-valued targets; use the regression recipe")
        if len(self.data.train_x) == 0:
            raise ModelError(f"dataset '{self.data.name}' has no training samples")
        self.load_initial_weights()
        multipliers = self.node_settings([self.model])
        try:  # batches, step and validation are nnloop's: the code an exported train.py runs
            self.loop_task = t = SupervisedTask(
                s.to_dict(), self.model.module, self.step_forward(self.model),
                (self.data.train_x, self.data.train_y), (self.data.val_x, self.data.val_y), task=self.task,
                multipliers=multipliers, frozen=self.frozen, device=self.device, amp=self.ctx.amp,
                classes=len(self.data.classes), val_baseline=self.data.info.get("val_baseline"))
        except NothingToTrain as exc:
            raise SettingsError("nodes", str(exc)) from exc
        try:  # adversarial training: clean plus attacked copies of each batch
            robust = attach_adversarial(t, self.model.module, s.dataset.augment, self.data.train_x)
        except ValueError as exc:
            raise SettingsError("dataset.augment.adversarial", str(exc)) from exc
        self.stats, self.train_loader, self.val_loader, self.scaler = t.stats, t.train_batches, t.val_batches, t.scaler
        self.optimizer, self.schedule = t.optimizer, t.schedule
        self.optimizers, self.schedules = {"main": t.optimizer}, {"main": t.schedule}
        n_view = min(16, len(self.data.val_x))
        self.view_x = self._prep(self.data.val_x[:n_view])
        self.view_y = self.data.val_y[:n_view]
        self._check_output()
        self.info.update(train_samples=len(self.data.train_x), val_samples=len(self.data.val_x),
                         classes=self.data.classes, task=self.task, dataset=self.data.name)
        self.info.update({k: v for k, v in (("adversarial", robust),
                                            ("label_noise", self.data.info.get("label_noise"))) if v})

    def _prep(self, x: torch.Tensor) -> torch.Tensor:
        if self.stats is not None:
            x = (x - self.stats[0]) / self.stats[1]
        return x.to(self.device)

    def _check_output(self) -> None:
        """One tiny forward to turn a shape mismatch into a message before training starts (in eval mode:
        it draws no dropout masks and moves no BatchNorm statistics, so training starts as train.py's does)."""
        self.model.module.eval()
        x = self.view_x[:2]
        y = (x if self.reconstruct else self.view_y[:2].to(self.device))
        with torch.no_grad():
            out = self.forward(self.model, x)
        self._align(out.float(), y)
        if self.task == "classification" and self.settings.loss.name != "bce":
            classes = len(self.data.classes) or int(self.data.train_y.max()) + 1
            logits, _ = self._align(out.float(), y)
            if logits.shape[-1] < classes:
                raise ModelError(f"the model gives {logits.shape[-1]} scores per sample but dataset "
                                 f"'{self.data.name}' has {classes} classes; set the last layer's size to {classes}",
                                 graph=self.model.name)

    def steps_per_epoch(self) -> int:
        n = len(self.train_loader)
        cap = self.settings.steps_per_epoch
        return max(1, min(n, cap) if cap else n)

    # -- the step ----------------------------------------------------------------------------
    def _align(self, out: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.task == "classification":
            if self.settings.loss.name == "bce":
                if out.numel() != y.numel():
                    raise ModelError(f"binary cross-entropy needs one score per sample; the model gives {_shape(out.shape)}"
                                     f" for targets {_shape(y.shape)}", graph=self.model.name)
                return out.reshape(-1), y.reshape(-1).float()
            if out.dim() == y.dim() + 1 and out.shape[:-1] == y.shape:
                return out.reshape(-1, out.shape[-1]), y.reshape(-1)
            if out.dim() == y.dim() + 1 and out.dim() > 2 and out.shape[0] == y.shape[0] and out.shape[2:] == y.shape[1:]:
                out = out.movedim(1, -1)
                return out.reshape(-1, out.shape[-1]), y.reshape(-1)
            raise ModelError(f"the model returns {_shape(out.shape)} but the labels are {_shape(y.shape)}: end the "
                             f"model with one score per class (e.g. a Linear with out_features = classes)",
                             graph=self.model.name)
        if out.shape != y.shape:
            if out.numel() == y.numel() and [d for d in out.shape if d != 1] == [d for d in y.shape if d != 1]:
                return out.reshape(y.shape), y
            what = "input" if self.reconstruct else "target"
            raise ModelError(f"the model returns {_shape(out.shape)} but the {what} is {_shape(y.shape)}",
                             graph=self.model.name)
        return out, y

    def _decide(self, out: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
        """Predicted classes, labels (flat), confidence and class count, for softmax or one-logit (BCE) models."""
        if self.settings.loss.name == "bce":
            score, labels = self._align(out, y)
            p = torch.sigmoid(score)
            return (p > 0.5).long(), labels.long(), torch.maximum(p, 1 - p), 2
        logits, labels = self._align(out, y)
        k = max(len(self.data.classes), logits.shape[-1])
        return logits.argmax(-1), labels, torch.softmax(logits, -1).max(-1).values, k

    def train_step(self, epoch: int, index: int) -> dict[str, float]:
        """One step and its metrics (the engine drives ``loop_task`` itself and reads metrics in batches)."""
        self.loop_task.step(epoch, index)
        return self.loop_task.flush()[-1]

    # -- validation -----------------------------------------------------------------------------
    def initial_metrics(self) -> dict[str, float]:
        return self.evaluate() if len(self.data.val_x) <= 5000 else {}

    def evaluate(self) -> dict[str, float]:
        m = self.loop_task.evaluate()
        self.last_cm = self.loop_task.last_cm
        self.forward_s_per_sample = self.loop_task.forward_s_per_sample
        return m

    # -- live views -------------------------------------------------------------------------------
    @torch.no_grad()
    def views(self, quick: bool = False) -> dict[str, Any]:
        self.model.module.eval()
        x = self.view_x
        noisy = x + torch.randn_like(x) * self.settings.loss.noise if self.reconstruct and self.settings.loss.noise > 0 else x
        taps = self.model.tap_nodes()
        with self.model.capture(taps) as seen:
            raw = self.forward(self.model, noisy, all_outputs=True)
        out = (raw[self.model.prediction_index] if isinstance(raw, tuple | list) else raw).float().cpu()
        result: dict[str, Any] = {}
        xs = self.data.val_x[: len(x)].numpy()
        if self.reconstruct:
            result["reconstruction"] = V.reconstruction(xs, out.reshape(x.shape).numpy(),
                                                        noisy.cpu().numpy() if noisy is not x else None)
        elif self.task == "classification":
            pred, _labels, conf, _k = self._decide(out, self.view_y)
            result["predictions"] = V.predictions(xs, self.view_y.numpy(), pred.reshape(self.view_y.shape).numpy(),
                                                  self.data.classes, conf.numpy())
        elif self.task == "regression":
            base = self.data.info.get("val_baseline")
            result["forecast"] = V.forecast(xs, self.view_y.numpy(), out.reshape(self.view_y.shape).numpy(),
                                            None if base is None else base[: len(x)].numpy())
        attn = V.attention_from(seen, self.model, raw)
        if attn is not None:
            attn["tokens"] = xs[0].tolist() if xs.ndim == 2 else None
            result["attention"] = attn
        if not quick:
            if getattr(self, "last_cm", None) is not None and self.task == "classification":
                result["confusion"] = {"matrix": self.last_cm, "classes": self.data.classes}
            if self.data.train_x.dim() == 2 and self.data.train_x.shape[1] == 2 and self.task == "classification":
                result["decision"] = V.decision_map(lambda t: self.forward(self.model, t.to(self.device)).float().cpu(),
                                                    self.data.val_x.numpy(), self.data.val_y.numpy())
            latent = self._latent()
            if latent is not None:
                result["latent"] = latent
        return result

    def _latent(self) -> dict | None:
        taps = [n for n in self.model.tap_nodes() if n not in self.model.weight_ports]
        latent_out = list(self.model.outputs_with_role("latent").values())
        if not taps and not latent_out:
            return None
        x = self._prep(self.data.val_x[:512])
        with self.model.capture(taps[:1]) as seen:
            raw = self.forward(self.model, x, all_outputs=True)
        z = raw[latent_out[0]] if latent_out else seen.get(taps[0]) if taps else None
        if isinstance(z, tuple | list):
            z = z[0]
        if not isinstance(z, torch.Tensor):
            return None
        labels = self.data.val_y[:512].numpy() if self.data.task == "classification" else None
        return V.latent_points(z.float().cpu().reshape(len(x), -1).numpy(), labels, self.data.classes)

    def extra_state(self) -> dict[str, Any]:
        return {"scaler": self.scaler.state_dict() if self.scaler is not None else {}}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()
