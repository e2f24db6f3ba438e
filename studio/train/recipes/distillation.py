"""Knowledge distillation: a small student graph learns from a trained teacher graph's soft predictions.

Hinton et al. (2015): the loss is α·T²·KL(student_T ‖ teacher_T) + (1 − α)·CE(student, labels), where
``_T`` is a softmax at temperature T. The teacher is another graph of the project with the weights of
a trained run (a run folder or checkpoint); only the student (the ``graph`` setting) is trained, saved
and exported. Batches, optimizer, schedule and validation are the classification recipe's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from studio.train.build import ModelError, build_model
from studio.train.checkpoint import load_checkpoint
from studio.train.nnloop.parts import set_train_mode
from studio.train.recipes import metrics_common as M
from studio.train.recipes.registry import DATASET_TRAINING_KEYS, MetricSpec, RecipeSpec, register
from studio.train.recipes.supervised import Supervised
from studio.train.settings import Float, S, Section, SettingsError, Str


class DistillSettings(Section):
    """The distillation paradigm's own settings (``training.distill``)."""

    teacher: Str = S("teacher", title="Teacher graph", help="The project graph whose trained copy teaches the student.")
    checkpoint: Str = S("", title="Teacher weights", kind="path",
                        help="A trained run folder (best.pt, else last.pt) or checkpoint holding the teacher's weights.")
    temperature: Float = S(1.0, title="Temperature", ge=1.0, le=50.0,
                           help="1 matches the teacher's own probabilities; higher softens both softmaxes so the "
                                "student sees how the teacher ranks the wrong classes (small students may not "
                                "follow a very soft teacher).")
    alpha: Float = S(0.5, title="Teacher weight α", ge=0.0, le=1.0,
                     help="Share of the loss from matching the teacher; the rest is cross-entropy on the labels.")


def _checkpoint_file(path: str) -> Path:
    p = Path(path).expanduser()
    if p.is_dir():
        for name in ("best.pt", "last.pt"):
            if (p / name).is_file():
                return p / name
        raise SettingsError("distill.checkpoint", f"run folder {p} holds no checkpoint (best.pt or last.pt)")
    if not p.is_file():
        raise SettingsError("distill.checkpoint", f"{p} does not exist")
    return p


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor, temperature: float,
                      alpha: float) -> torch.Tensor:
    """α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α)·CE(s, y); T² keeps the soft gradients' scale."""
    soft = F.kl_div(F.log_softmax(student / temperature, -1), F.log_softmax(teacher / temperature, -1),
                    reduction="batchmean", log_target=True) * temperature ** 2
    return alpha * soft + (1 - alpha) * F.cross_entropy(student, labels)


class Distillation(Supervised):
    """The student is the classification recipe's model; the teacher only answers, never learns."""

    def __init__(self, ctx) -> None:
        super().__init__(ctx, task="classification")

    def setup(self) -> None:
        super().setup()
        d = self.settings.section("distill")
        if not d.checkpoint:
            raise SettingsError("distill.checkpoint", "choose the trained run (or checkpoint) of the teacher graph")
        graph = self.graph(d.teacher)
        if graph.name == self.model.name:
            raise SettingsError("distill.teacher", "the teacher must be another graph than the student")
        models = load_checkpoint(_checkpoint_file(d.checkpoint)).get("models", {})
        weights = models.get(graph.name) or (next(iter(models.values())) if len(models) == 1 else None)
        if weights is None:
            raise SettingsError("distill.checkpoint", f"the checkpoint holds no weights for graph '{graph.name}' "
                                                      f"(it holds {', '.join(models) or 'none'})")
        self.teacher = build_model(graph, self.ctx.registry)  # not in self.built: never trained or saved
        try:
            self.teacher.module.load_state_dict(weights)
        except RuntimeError as exc:
            raise SettingsError("distill.checkpoint", f"the weights do not fit graph '{graph.name}': "
                                                      f"{str(exc).splitlines()[0]}") from None
        self.teacher.module.to(self.device).eval()
        for p in self.teacher.module.parameters():
            p.requires_grad_(False)
        self.temperature, self.alpha = d.temperature, d.alpha
        # the engine drives our steps (the plain classification step has no teacher term)
        self.inner, self.loop_task = self.loop_task, None
        self.info.update(teacher=graph.name, teacher_params=sum(p.numel() for p in self.teacher.module.parameters()),
                         student_params=sum(p.numel() for p in self.model.module.parameters()))

    def _teacher_logits(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.forward(self.teacher, x).float()

    def train_step(self, epoch: int, index: int) -> dict[str, float]:
        t = self.inner
        xb, yb = t._batch(epoch, index)
        xb, yb = xb.to(self.device), yb.to(self.device)
        if not self.model.module.training:
            set_train_mode(self.model.module, self.frozen)
        out = self.forward(self.model, xb).float()
        teacher = self._teacher_logits(xb)
        if out.shape != teacher.shape or out.dim() != 2:
            raise ModelError(f"the student gives {tuple(out.shape)} scores but the teacher {tuple(teacher.shape)}; "
                             "both must end in one score per class", graph=self.model.name)
        loss = distillation_loss(out, teacher, yb, self.temperature, self.alpha)
        t.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.settings.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.module.parameters(), self.settings.grad_clip)
        t.optimizer.step()
        t.schedule.after_step()
        pred = out.detach().argmax(-1)
        return {"loss": self.check_finite(loss), "samples": float(len(xb)),
                "accuracy": float((pred == yb).float().mean()),
                "agreement": float((pred == teacher.argmax(-1)).float().mean())}

    def evaluate(self) -> dict[str, float]:
        m = self.inner.evaluate()
        self.last_cm = self.inner.last_cm
        m["val_agreement"] = self.agreement(self.data.val_x)
        return m

    @torch.no_grad()
    def agreement(self, x: torch.Tensor, batch: int = 512) -> float:
        """Share of samples where the student predicts the teacher's class."""
        self.model.module.eval()
        same = 0
        for i in range(0, len(x), batch):
            xb = self._prep(x[i:i + batch])
            same += int((self.forward(self.model, xb).argmax(-1) == self._teacher_logits(xb).argmax(-1)).sum())
        return same / max(1, len(x))

    def extra_state(self) -> dict[str, Any]:
        return self.inner.state()

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.inner.load_state(state)


SPEC = register(RecipeSpec(
    name="distillation",
    label="Distillation",
    help="A small student graph learns from a trained teacher graph's softened predictions and the labels.",
    factory=Distillation,
    settings=DistillSettings,
    section="distill",
    uses=DATASET_TRAINING_KEYS,
    metrics=(*M.CLASSIFICATION,
             MetricSpec("agreement", "Teacher agreement", "share", True,
                        help="Share of samples where the student predicts the teacher's class.")),
    monitor="val_loss",
    roles=("prediction",),
    views=("predictions", "confusion", "decision"),
    export=False,
))
