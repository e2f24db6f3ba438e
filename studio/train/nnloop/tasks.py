"""One task per paradigm: how a step trains, how its metrics are read, how it is validated.

A task is built from plain modules, tensors and the settings dict. ``step(epoch, index)`` trains
one step and records its metrics lazily (as tensors); ``flush()`` turns the recorded steps into
numbers with one device synchronisation; ``evaluate()`` gives the validation metrics. So a step
costs no more than a hand-written one: no ``.item()``, no dict and no synchronisation per step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .parts import (
    Batches,
    Schedule,
    align,
    aligned_loss,
    autocast_for,
    classification_report,
    confusion_matrix,
    fits_on_device,
    input_stats,
    l1_penalty,
    make_optimizer,
    regression_report,
    set_train_mode,
    supervised_loss,
)


def _stack_list(values: list) -> list[float]:
    """0-d tensors (or numbers) as floats, with one device synchronisation."""
    if not values:
        return []
    if isinstance(values[0], torch.Tensor):
        stacked = torch.stack(values)
        return (stacked if stacked.dtype == torch.float32 else stacked.float()).tolist()
    return [float(v) for v in values]




class SupervisedTask:
    """Classification, regression, sequence models and (denoising) reconstruction.

    ``forward(x)`` returns the prediction (the caller picks it among several outputs and may turn
    layer errors into messages); ``multipliers`` maps parameter ids to LR multipliers
    (:func:`param_groups`); ``frozen`` modules stay in eval mode while training."""

    unit = "samples"
    monitor = "val_loss"

    def __init__(self, cfg: dict, model: nn.Module, forward: Callable[[torch.Tensor], torch.Tensor],
                 train: tuple[torch.Tensor, torch.Tensor], val: tuple[torch.Tensor, torch.Tensor], *, task: str,
                 multipliers: dict[int, float] | None = None, frozen: Sequence[nn.Module] = (),
                 device: torch.device | None = None, amp: bool = False, classes: int = 0,
                 val_baseline: torch.Tensor | None = None, rank: int = 0, world: int = 1,
                 after_backward: Callable[[], None] | None = None) -> None:
        self.cfg, self.model, self.forward, self.task = cfg, model, forward, task
        self.device = device or torch.device("cpu")
        self.amp = amp and self.device.type == "cuda"
        self.frozen, self.classes, self.val_baseline = list(frozen), classes, val_baseline
        self.after_backward = after_backward
        self.reconstruct = task == "reconstruction"
        self.what = "input" if self.reconstruct else "target"
        self.eval_task = "regression" if self.reconstruct else task
        loss = cfg["loss"]
        self.loss_name = loss["name"]
        self.smoothing = loss["label_smoothing"] if task == "classification" else 0.0
        self.noise = loss["noise"] if self.reconstruct else 0.0
        self.bce = task == "classification" and self.loss_name == "bce"
        self._plain_ce = task == "classification" and not self.bce  # the common step, without align()
        self.l1, self.grad_clip = cfg["optimizer"]["l1"], cfg["grad_clip"]
        aug = cfg["dataset"]["augment"]
        (x, y), (xv, yv) = train, val
        self.train_x, self.val_x, self.val_y = x, xv, yv
        self.stats = input_stats(x) if aug["normalize"] and x.is_floating_point() else None
        self.train_batches = Batches(x, y, cfg["batch_size"], True, cfg["seed"], aug, self.stats, drop_last=True,
                                     rank=rank, world=world)
        self.val_batches = Batches(xv, yv, max(256, cfg["batch_size"]), False, cfg["seed"], None, self.stats)
        self.optimizer = make_optimizer(cfg["optimizer"], [model], multipliers or {})
        self.schedule = Schedule(cfg["schedule"], self.optimizer, cfg["epochs"], self.steps_per_epoch())
        self.schedules = [self.schedule]
        self.scaler = torch.amp.GradScaler("cuda") if self.amp else None
        self._iter: Iterator | None = None
        self._key: tuple[int, int] | None = None
        self._losses: list[torch.Tensor] = []
        self._samples: list[int] = []
        self._scores: list[torch.Tensor] = []
        self._labels: list[torch.Tensor] = []
        self.last_cm: np.ndarray | None = None
        self.forward_s_per_sample = 0.0
        self._move = self.device.type != "cpu"  # CPU batches are already where they train
        if self._move and not self.train_batches._augments and fits_on_device(self.device, x, y, xv, yv):
            # a small dataset lives on the accelerator for the whole run: one copy, not one per batch
            stats = tuple(s.to(self.device) for s in self.stats) if self.stats is not None else None
            for b in (self.train_batches, self.val_batches):
                b.x, b.y, b.stats = b.x.to(self.device), b.y.to(self.device), stats
            self._move = False

    def steps_per_epoch(self) -> int:
        n = len(self.train_batches)
        cap = self.cfg["steps_per_epoch"]
        return max(1, min(n, cap) if cap else n)

    def prep(self, x: torch.Tensor) -> torch.Tensor:
        """Inputs as the model sees them: standardised when ``normalize`` is on, on the device."""
        if self.stats is not None:
            x = (x - self.stats[0]) / self.stats[1]
        return x.to(self.device)

    def _batch(self, epoch: int, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if self._iter is None or self._key != (epoch, index):
            self._iter = self.train_batches.batches(epoch, start=index)
        self._key = (epoch, index + 1)
        return next(self._iter)

    def step(self, epoch: int, index: int) -> None:
        xb, yb = self._batch(epoch, index)
        if self._move:
            xb = xb.to(self.device, non_blocking=True)
            yb = yb.to(self.device, non_blocking=True)
        target = xb if self.reconstruct else yb
        if self.noise > 0:
            xb = xb + torch.randn_like(xb) * self.noise
        if not self.model.training:
            set_train_mode(self.model, self.frozen)
        if self.amp:
            with autocast_for(self.device, True):
                out = self.forward(xb)
        else:
            out = self.forward(xb)
        if out.dtype != torch.float32:
            out = out.float()
        if self._plain_ce and out.dim() == 2 and target.dim() == 1 and out.shape[0] == target.shape[0]:
            scores, labels = out, target
            loss = F.cross_entropy(out, target, label_smoothing=self.smoothing)
        else:
            scores, labels = align(out, target, self.task, self.bce, self.what)
            loss = aligned_loss(scores, labels, self.task, self.loss_name, self.smoothing)
        if self.l1 > 0:
            loss = loss + self.l1 * l1_penalty([self.model]).to(loss.device)
        opt = self.optimizer
        opt.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            if self.after_backward is not None:
                self.after_backward()
            if self.grad_clip > 0:
                self.scaler.unscale_(opt)
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
            self.scaler.step(opt)
            self.scaler.update()
        else:
            loss.backward()
            if self.after_backward is not None:
                self.after_backward()
            if self.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
            opt.step()
        self.schedule.after_step()
        self._losses.append(loss.detach())
        self._samples.append(xb.shape[0])
        if self.task == "classification":
            s = scores.detach()
            # large outputs (token models) keep only their predictions until the flush
            self._scores.append(s.argmax(-1) if not self.bce and s.numel() > 65536 else s)
            self._labels.append(labels)

    def flush(self) -> list[dict[str, float]]:
        losses = _stack_list(self._losses)
        rows = [{"loss": v, "samples": float(n)} for v, n in zip(losses, self._samples, strict=True)]
        if self._scores:
            for row, acc in zip(rows, self._accuracies(), strict=True):
                row["accuracy"] = acc
        self._losses, self._samples, self._scores, self._labels = [], [], [], []
        return rows

    def _accuracies(self) -> list[float]:
        scores, labels = self._scores, self._labels
        try:  # steps of one shape (the usual case): a handful of tensor ops for all of them
            s, t = torch.stack(scores), torch.stack(labels)
        except RuntimeError:  # shapes differ (variable-length sequences): step by step below
            s = t = None
        if s is not None and t is not None:
            t = t.long()
            pred = (s > 0).long() if self.bce else s.argmax(-1) if s.is_floating_point() else s
            correct = (pred == t).sum(-1).tolist()
            per = max(1, t.shape[-1])
            return [c / per for c in correct]
        out = []
        for s, t in zip(scores, labels, strict=True):
            pred = (s > 0).long() if self.bce else s.argmax(-1) if s.is_floating_point() else s
            out.append(int((pred == t.long()).sum()) / max(1, t.numel()))
        return out

    def decide(self, out: torch.Tensor, y: torch.Tensor, confidence: bool = True
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, int]:
        """Predicted classes, labels (flat), confidence (when asked) and class count, for softmax or
        one-logit (BCE) models."""
        if self.bce:
            score, labels = align(out, y, "classification", True)
            p = torch.sigmoid(score)
            return (p > 0.5).long(), labels.long(), torch.maximum(p, 1 - p) if confidence else None, 2
        logits, labels = align(out, y, "classification", False)
        k = max(self.classes, logits.shape[-1])
        conf = torch.softmax(logits, -1).max(-1).values if confidence else None
        return logits.argmax(-1), labels, conf, k

    @torch.no_grad()
    def predict_val(self, decided: bool = False) -> tuple[float, Any]:
        """Mean validation loss and every validation output (on the CPU); with ``decided``, a
        classifier's ``(predicted classes, labels, None, class count)`` instead (as :meth:`decide`),
        decided batch by batch where the model runs, so only the classes leave the device.

        The batch losses are read together after the pass (one synchronisation, not one per batch)."""
        self.model.eval()
        losses, sizes, kept, forward_s = [], [], [], 0.0
        for xb, yb in self.val_batches.batches(0):
            xb = xb.to(self.device)
            target = xb if self.reconstruct else yb.to(self.device)
            if self.noise > 0:
                xb = xb + torch.randn_like(xb) * self.noise
            t0 = time.perf_counter()
            with autocast_for(self.device, self.amp):
                out = self.forward(xb).float()
            if out.is_cuda:
                torch.cuda.synchronize()
            forward_s += time.perf_counter() - t0
            losses.append(supervised_loss(out, target, self.task, self.loss_name, self.smoothing, self.what))
            sizes.append(xb.shape[0])
            kept.append(self.decide(out, target, confidence=False) if decided else out.cpu())
        n = sum(sizes)
        self.forward_s_per_sample = forward_s / max(1, n)
        total = 0.0
        for value, size in zip(_stack_list(losses), sizes, strict=True):  # the same sum as batch by batch
            total += value * size
        loss = total / n if n else float("nan")
        if decided:
            k = max((d[3] for d in kept), default=max(2, self.classes))
            return loss, (torch.cat([d[0] for d in kept]).cpu(), torch.cat([d[1] for d in kept]).cpu(), None, k)
        return loss, (torch.cat(kept) if kept else torch.empty(0))

    def evaluate(self) -> dict[str, float]:
        if len(self.val_x) == 0:
            return {}
        y = self.val_y
        # off the CPU, a classifier's classes are decided where it runs (its outputs stay there); on the
        # CPU the outputs are already at hand and one decision over all of them is cheaper
        decided = self.device.type != "cpu" and self.task == "classification" and (self.bce or y.dim() < 2)
        loss, out = self.predict_val(decided)
        m: dict[str, float] = {"val_loss": loss}
        if self.task == "classification":
            pred, labels, _conf, k = out if decided else self.decide(out, y, confidence=False)
            self.last_cm = confusion_matrix(pred.numpy(), labels.numpy(), k)
            m.update({f"val_{k}": v for k, v in classification_report(self.last_cm).items()})
            if not self.bce and y.dim() >= 2:  # a class per token: perplexity = exp(cross-entropy per token)
                logits, flat = align(out, y, "classification", False)
                m["val_perplexity"] = math.exp(min(float(F.cross_entropy(logits, flat.long())), 700.0))
        elif self.task == "regression":
            pred, target = align(out, y, "regression", False)
            m.update({f"val_{k}": v for k, v in regression_report(pred, target).items()})
            if self.val_baseline is not None:
                b = regression_report(self.val_baseline.reshape(target.shape), target)["mse"]
                m["val_baseline_mse"] = b
                m["val_vs_baseline"] = b / max(m["val_mse"], 1e-12)
        else:
            train_mean = self.train_x.float().mean(0, keepdim=True)
            val = self.val_x.float()
            b = float(((val - train_mean) ** 2).mean())
            ref = (val - self.stats[0]) / self.stats[1] if self.stats is not None else val
            m["val_mse"] = float(((out.reshape(val.shape) - ref) ** 2).mean())
            m["val_baseline_mse"] = b
            m["val_vs_baseline"] = b / max(m["val_mse"], 1e-12)
        m["inference_ms_per_sample"] = 1000 * self.forward_s_per_sample  # timed during the validation pass
        return m

    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def state(self) -> dict[str, Any]:
        return {"scaler": self.scaler.state_dict() if self.scaler is not None else {}}

    def load_state(self, state: dict[str, Any]) -> None:
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])


class GanTask:
    """A generator and a discriminator in alternating steps: non-saturating BCE with an optional R1
    penalty, or WGAN-GP. ``coverage(samples, centres, std)`` scores a ring of Gaussians."""

    unit = "samples"
    monitor = "val_high_quality"

    def __init__(self, cfg: dict, G: nn.Module, D: nn.Module, forward_g: Callable, forward_d: Callable,
                 train_x: torch.Tensor, val_x: torch.Tensor, *, latent_shape: Sequence[int],
                 multipliers: dict[int, float] | None = None, frozen: Sequence[nn.Module] = (),
                 device: torch.device | None = None, amp: bool = False, centres: Any = None, std: float = 0.0,
                 coverage: Callable | None = None, rank: int = 0, world: int = 1,
                 after_backward: Callable[[nn.Module], None] | None = None) -> None:
        self.cfg, self.gan = cfg, cfg["gan"]
        self.G, self.D, self.forward_g, self.forward_d = G, D, forward_g, forward_d
        self.device = device or torch.device("cpu")
        self.amp = amp and self.device.type == "cuda"
        self.frozen = list(frozen)
        self.latent_shape = tuple(int(d) for d in latent_shape)
        self.val_x, self.centres, self.std, self.coverage = val_x, centres, std, coverage
        self.after_backward = after_backward
        self.wgan = self.gan["loss"] == "wgan_gp"
        self.r1 = 0.0 if self.wgan else self.gan["r1"]
        self.gp = self.gan["gp"] if self.wgan else 0.0
        self.raw = self.gan["d_output"] == "probability" or self.wgan
        self.batches = Batches(train_x, torch.zeros(len(train_x)), cfg["batch_size"], True, cfg["seed"],
                               cfg["dataset"]["augment"], drop_last=True, rank=rank, world=world)
        g = torch.Generator().manual_seed(cfg["seed"] + 17)
        self.fixed_noise = torch.randn((self.gan["samples"], *self.latent_shape), generator=g).to(self.device)
        mult = multipliers or {}
        self.opt_g = make_optimizer(cfg["optimizer"], [G], mult)
        self.opt_d = make_optimizer(cfg["optimizer"], [D], mult)
        n = self.steps_per_epoch()
        self.sched_g = Schedule(cfg["schedule"], self.opt_g, cfg["epochs"], n)
        self.sched_d = Schedule(cfg["schedule"], self.opt_d, cfg["epochs"], n)
        self.schedules = [self.sched_g, self.sched_d]
        self._iter: Iterator | None = None
        self._key: tuple[int, int] | None = None
        self._rec: list[tuple[list, torch.Tensor, list, list, int]] = []

    def steps_per_epoch(self) -> int:
        n = len(self.batches) // self.gan["d_steps"]
        cap = self.cfg["steps_per_epoch"]
        return max(1, min(n, cap) if cap else n)

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn((n, *self.latent_shape), device=self.device)

    def _real(self, epoch: int, index: int, first: bool) -> torch.Tensor:
        if first:
            if self._iter is None or self._key != (epoch, index):
                self._iter = self.batches.batches(epoch, start=index * self.gan["d_steps"])
            self._key = (epoch, index + 1)
        assert self._iter is not None
        return next(self._iter)[0].to(self.device)

    def _d_loss(self, score: torch.Tensor, real: bool) -> torch.Tensor:
        smooth = self.cfg["loss"].get("label_smoothing", 0.0)
        target = torch.full_like(score, (1.0 - smooth) if real else 0.0)
        if self.gan["d_output"] == "probability":
            return F.binary_cross_entropy(score.clamp(1e-6, 1 - 1e-6), target)
        return F.binary_cross_entropy_with_logits(score, target)

    def _fwd(self, fn: Callable, x: torch.Tensor) -> torch.Tensor:
        with autocast_for(self.device, self.amp):
            return fn(x)

    def _train(self) -> None:
        for m in (self.G, self.D):
            set_train_mode(m, self.frozen)

    def _clip(self, m: nn.Module) -> None:
        if self.cfg["grad_clip"] > 0:
            torch.nn.utils.clip_grad_norm_(m.parameters(), self.cfg["grad_clip"])

    def step(self, epoch: int, index: int) -> None:
        gan = self.gan
        self._train()
        prob = (lambda t: t) if self.raw else torch.sigmoid
        d_losses, real_p, fake_p, b = [], [], [], 0
        for i in range(gan["d_steps"]):
            real = self._real(epoch, index, i == 0)
            b = len(real)
            with torch.no_grad():
                fake = self._fwd(self.forward_g, self.noise(b))
            if self.r1 > 0:
                real.requires_grad_(True)
            s_real = self._fwd(self.forward_d, real).float().reshape(-1)
            s_fake = self._fwd(self.forward_d, fake).float().reshape(-1)
            if self.wgan:
                loss_d = s_fake.mean() - s_real.mean() + self.gp * self._gradient_penalty(real.detach(), fake)
            else:
                loss_d = self._d_loss(s_real, True) + self._d_loss(s_fake, False)
            if self.r1 > 0:
                grad, = torch.autograd.grad(s_real.sum(), real, create_graph=True)
                loss_d = loss_d + self.r1 / 2 * grad.pow(2).reshape(b, -1).sum(1).mean()
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            if self.after_backward is not None:
                self.after_backward(self.D)
            self._clip(self.D)
            self.opt_d.step()
            d_losses.append(loss_d.detach())
            real_p.append(prob(s_real.detach()).mean())
            fake_p.append(prob(s_fake.detach()).mean())
        s = self._fwd(self.forward_d, self._fwd(self.forward_g, self.noise(b))).float().reshape(-1)
        if self.wgan:
            loss_g = -s.mean()
        elif gan["d_output"] == "probability":
            loss_g = F.binary_cross_entropy(s.clamp(1e-6, 1 - 1e-6), torch.ones_like(s))
        else:
            loss_g = F.binary_cross_entropy_with_logits(s, torch.ones_like(s))
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        if self.after_backward is not None:
            self.after_backward(self.G)
        self._clip(self.G)
        self.opt_g.step()
        for sched in self.schedules:
            sched.after_step()
        self._rec.append((d_losses, loss_g.detach(), real_p, fake_p, b))

    def flush(self) -> list[dict[str, float]]:
        if not self._rec:
            return []
        flat = [t for d, g, r, f, _ in self._rec for t in (*d, g, *r, *f)]
        values = iter(_stack_list(flat))
        rows = []
        for d, _g, _r, f, b in self._rec:
            n = len(d)
            d_value = sum(next(values) for _ in range(n)) / n
            g_value = next(values)
            real_p = sum(next(values) for _ in range(n)) / n
            fake_p = sum(next(values) for _ in range(len(f))) / n
            rows.append({"loss": d_value + g_value, "d_loss": d_value, "g_loss": g_value, "d_real": real_p,
                         "d_fake": fake_p, "samples": float(b * n)})
        self._rec = []
        return rows

    def _gradient_penalty(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        alpha = torch.rand((len(real),) + (1,) * (real.dim() - 1), device=real.device)
        mix = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        score = self._fwd(self.forward_d, mix).float()
        grad, = torch.autograd.grad(score.sum(), mix, create_graph=True)
        return ((grad.reshape(len(mix), -1).norm(dim=1) - 1) ** 2).mean()

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        self.G.eval()
        return self._fwd(self.forward_g, self.noise(n)).float().cpu()

    def evaluate(self) -> dict[str, float]:
        m: dict[str, float] = {}
        if self.centres is not None and self.coverage is not None:
            samples = self.sample(2000).numpy().reshape(2000, -1)[:, :2]
            covered, quality = self.coverage(samples, self.centres, float(self.std))
            d = np.linalg.norm(samples[:, None] - np.asarray(self.centres)[None], axis=2).min(1)
            m.update(val_modes_covered=float(covered), val_high_quality=float(quality),
                     val_mode_distance=float(np.mean(d)))
        with torch.no_grad():
            self.D.eval()
            real = self.val_x[:512].to(self.device)
            if len(real):
                prob = (lambda t: t) if self.raw else torch.sigmoid
                m["val_d_real"] = float(prob(self._fwd(self.forward_d, real).float()).mean())
                fake = self.sample(len(real)).to(self.device)
                m["val_d_fake"] = float(prob(self._fwd(self.forward_d, fake).float()).mean())
        return {k: v for k, v in m.items() if math.isfinite(v)}

    def lr(self) -> float:
        return float(self.opt_g.param_groups[0]["lr"])


class TabularQTask:
    """Q(s, a) += α · (r + γ · max Q(s', ·) − Q(s, a)) on a gridworld, ε-greedy with linear decay.

    One step is one episode; ``loss`` is the episode's mean absolute TD error. ``env`` is a
    gridworld (reset / step / terminal / policy_quality / greedy_path, ``starts``, ``start``);
    ``judge(q)`` may score the greedy policy (greedy_return, optimal_action_share, v_error)."""

    unit = "episodes"
    monitor = "val_optimal_paths"

    def __init__(self, cfg: dict, env: Any, judge: Callable[[np.ndarray], dict[str, float]] | None = None) -> None:
        self.cfg, self.rl, self.env, self.judge = cfg, cfg["rl"], env, judge
        self.rng = np.random.default_rng(cfg["seed"])
        self.q = np.zeros((env.n_states, 4), dtype=np.float64)
        self.episode = 0
        self.returns: list[float] = []
        self.lengths: list[int] = []
        self.last_path: list[int] = []
        self.schedules: list[Schedule] = []
        self._rows: list[dict[str, float]] = []

    def steps_per_epoch(self) -> int:
        return max(1, math.ceil(self.rl["episodes"] / self.cfg["epochs"]))

    def epsilon(self) -> float:
        rl = self.rl
        span = max(1.0, rl["epsilon_decay"] * rl["episodes"])
        return rl["epsilon_start"] + (rl["epsilon_end"] - rl["epsilon_start"]) * min(1.0, self.episode / span)

    def start_state(self) -> int:
        return int(self.rng.choice(self.env.starts)) if self.rl["random_start"] else self.env.start

    def greedy(self, state: int) -> int:
        row = self.q[state]
        best = np.flatnonzero(row == row.max())
        return int(best[0] if len(best) == 1 else self.rng.choice(best))

    def act(self, state: int, eps: float) -> int:
        if self.rng.random() < eps:
            return int(self.rng.integers(4))
        return self.greedy(state)

    def step(self, epoch: int, index: int) -> None:
        gamma, alpha, learning = self.rl["gamma"], self.rl["lr"], self.rl.get("learning", True)
        env, q = self.env, self.q
        s = env.reset(self.start_state())
        eps = self.epsilon()
        ret, td_sum, n, done, path = 0.0, 0.0, 0, False, [s]
        while not done:
            a = self.act(s, eps)
            s2, r, done = env.step(a)
            target = r if env.terminal(s2) else r + gamma * q[s2].max()
            td = target - q[s, a]
            if learning:
                q[s, a] += alpha * td
            td_sum += abs(td)
            ret += r
            n += 1
            s = s2
            path.append(s)
        self.episode += 1
        self.returns.append(ret)
        self.lengths.append(n)
        self.last_path = path
        self._rows.append({"return": float(ret), "length": float(n), "success": float(env.cells.flat[s] == 2),
                           "epsilon": float(self.epsilon()), "loss": float(td_sum / max(1, n)), "samples": 1.0})

    def flush(self) -> list[dict[str, float]]:
        rows, self._rows = self._rows, []
        return rows

    def evaluate(self) -> dict[str, float]:
        quality = self.env.policy_quality(self.q)
        path = self.env.greedy_path(self.q.argmax(1))
        recent = self.returns[-50:]
        m = {"val_optimal_actions": quality["optimal_actions"], "val_optimal_paths": quality["optimal_paths"],
             "val_success": float(self.env.cells.flat[path[-1]] == 2), "val_path_length": float(len(path) - 1),
             "val_return_mean50": float(np.mean(recent)) if recent else 0.0}
        if self.judge is not None:  # the greedy policy judged against the solved grid
            judged = self.judge(self.q)
            m.update(val_greedy_return=judged["greedy_return"],
                     val_optimal_action_share=judged["optimal_action_share"], val_v_error=judged["v_error"])
        return m

    def lr(self) -> float:
        return float(self.rl["lr"])
