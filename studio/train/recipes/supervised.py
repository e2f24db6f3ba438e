"""Supervised recipes: classification, regression, sequence models and (denoising) reconstruction.

One recipe class covers them all; they differ only in the target (labels, values, the input
itself) and the loss. Sequence models are the same step with a time dimension: many-to-one
outputs (B, C) / (B, H), many-to-many outputs (B, T, C) against targets (B, T).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from studio.train import views as V
from studio.train.build import ModelError
from studio.train.data import DataBundle, TensorLoader, check_input, input_stats, load_data
from studio.train.metrics import classification_report, confusion_matrix, regression_report
from studio.train.optim import l1_penalty
from studio.train.recipes.base import Recipe


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
        stats = input_stats(self.data.train_x) if s.dataset.augment.normalize and self.data.train_x.is_floating_point() else None
        self.stats = stats
        self.train_loader = TensorLoader(self.data.train_x, self.data.train_y, s.batch_size, True, s.seed,
                                         s.dataset.augment, stats, drop_last=True)
        if len(self.data.train_x) == 0:
            raise ModelError(f"dataset '{self.data.name}' has no training samples")
        self.val_loader = TensorLoader(self.data.val_x, self.data.val_y, max(256, s.batch_size), False, s.seed,
                                       None, stats)
        self.setup_single_model_training()
        self.scaler = torch.amp.GradScaler("cuda") if self.ctx.amp and self.device.type == "cuda" else None
        self._iter = None
        self._iter_key: tuple[int, int] | None = None
        n_view = min(16, len(self.data.val_x))
        self.view_x = self._prep(self.data.val_x[:n_view])
        self.view_y = self.data.val_y[:n_view]
        self._check_output()
        self.info.update(train_samples=len(self.data.train_x), val_samples=len(self.data.val_x),
                         classes=self.data.classes, task=self.task, dataset=self.data.name)

    def _prep(self, x: torch.Tensor) -> torch.Tensor:
        if self.stats is not None:
            x = (x - self.stats[0]) / self.stats[1]
        return x.to(self.device)

    def _check_output(self) -> None:
        """One tiny forward to turn a shape mismatch into a message before training starts."""
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

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out, y = self._align(out.float(), y)
        name = self.settings.loss.name
        if self.task == "classification":
            if name == "bce":
                return F.binary_cross_entropy_with_logits(out, y)
            return F.cross_entropy(out, y, label_smoothing=self.settings.loss.label_smoothing)
        y = y.float()
        if name == "l1":
            return F.l1_loss(out, y)
        if name == "huber":
            return F.smooth_l1_loss(out, y)
        if name == "bce":
            return F.binary_cross_entropy_with_logits(out, y)
        return F.mse_loss(out, y)

    def _batch(self, epoch: int, index: int):
        if self._iter is None or self._iter_key != (epoch, index):
            self._iter = self.train_loader.batches(epoch, start=index)
        self._iter_key = (epoch, index + 1)
        return next(self._iter)

    def train_step(self, epoch: int, index: int) -> dict[str, float]:
        s = self.settings
        xb, yb = self._batch(epoch, index)
        xb = xb.to(self.device, non_blocking=True)
        target = xb if self.reconstruct else yb.to(self.device, non_blocking=True)
        if self.reconstruct and s.loss.noise > 0:
            xb = xb + torch.randn_like(xb) * s.loss.noise
        self.train_mode(self.model)
        out = self.forward(self.model, xb)
        loss = self.loss(out, target)
        if s.optimizer.l1 > 0:
            loss = loss + s.optimizer.l1 * l1_penalty([self.model.module]).to(loss.device)
        value = self.check_finite(loss)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            if s.grad_clip > 0:
                self.scaler.unscale_(self.optimizer)
                torch.nn.utils.clip_grad_norm_(self.model.module.parameters(), s.grad_clip)
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            if s.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.model.module.parameters(), s.grad_clip)
            self.optimizer.step()
        self.schedule.after_step()
        metrics = {"loss": value, "samples": float(len(xb))}
        if self.task == "classification":
            with torch.no_grad():
                score, labels = self._align(out.detach(), target)
                pred = (score > 0).long() if s.loss.name == "bce" else score.argmax(-1)
                metrics["accuracy"] = float((pred == labels.long()).float().mean())
        return metrics

    # -- validation -----------------------------------------------------------------------------
    @torch.no_grad()
    def _predict_val(self) -> tuple[float, torch.Tensor, torch.Tensor]:
        self.model.module.eval()
        total, n, outs, forward_s = 0.0, 0, [], 0.0
        for xb, yb in self.val_loader.batches(0):
            xb = xb.to(self.device)
            target = xb if self.reconstruct else yb.to(self.device)
            if self.reconstruct and self.settings.loss.noise > 0:
                xb = xb + torch.randn_like(xb) * self.settings.loss.noise
            t0 = time.perf_counter()
            out = self.forward(self.model, xb).float()
            if out.is_cuda:
                torch.cuda.synchronize()
            forward_s += time.perf_counter() - t0
            total += float(self.loss(out, target)) * len(xb)
            n += len(xb)
            outs.append(out.cpu())
        if n == 0:
            return float("nan"), torch.empty(0), torch.empty(0)
        self.forward_s_per_sample = forward_s / n
        return total / n, torch.cat(outs), self.data.val_y

    def initial_metrics(self) -> dict[str, float]:
        return self.evaluate() if len(self.data.val_x) <= 5000 else {}

    def evaluate(self) -> dict[str, float]:
        if len(self.data.val_x) == 0:
            return {}
        loss, out, y = self._predict_val()
        m: dict[str, float] = {"val_loss": loss}
        if self.task == "classification":
            pred, labels, _conf, k = self._decide(out, y)
            self.last_cm = confusion_matrix(pred.numpy(), labels.numpy(), k)
            m.update({f"val_{k}": v for k, v in classification_report(self.last_cm).items()})
        elif self.task == "regression":
            pred, target = self._align(out, y)
            m.update({f"val_{k}": v for k, v in regression_report(pred, target).items()})
            base = self.data.info.get("val_baseline")
            if base is not None:
                b = regression_report(base.reshape(target.shape), target)["mse"]
                m["val_baseline_mse"] = b
                m["val_vs_baseline"] = b / max(m["val_mse"], 1e-12)
        else:
            train_mean = self.data.train_x.float().mean(0, keepdim=True)
            val = self.data.val_x.float()
            b = float(((val - train_mean) ** 2).mean())
            m["val_mse"] = float(((out.reshape(val.shape) - (self._prep(val).cpu() if self.stats is not None else val)) ** 2).mean())
            m["val_baseline_mse"] = b
            m["val_vs_baseline"] = b / max(m["val_mse"], 1e-12)
        m["inference_ms_per_sample"] = 1000 * self.forward_s_per_sample  # timed during the validation pass
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
