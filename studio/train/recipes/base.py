"""What every recipe shares: the run context, the step interface, forward with node-located errors."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from studio.core.model import Graph, Project
from studio.core.registry import Registry
from studio.train.build import BuiltModel, ModelError, build_model
from studio.train.checkpoint import load_checkpoint, load_matching
from studio.train.optim import Schedule, apply_node_settings, init_weights, make_optimizer
from studio.train.settings import SettingsError, TrainingSettings


class NonFiniteLoss(ArithmeticError):
    """The loss became NaN or infinite; the engine stops and names the step."""


@dataclass
class Context:
    project: Project
    registry: Registry
    settings: TrainingSettings
    device: torch.device
    amp: bool


class Recipe:
    """How one training step works. The engine owns the loop; a recipe owns models and data.

    ``train_step`` returns per-step metrics including ``loss`` and ``samples`` (how many samples
    or episodes the step consumed, for throughput).
    """

    unit = "samples"
    monitor = "val_loss"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.device = ctx.device
        self.built: dict[str, BuiltModel] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.schedules: dict[str, Schedule] = {}
        self.info: dict[str, Any] = {}

    # -- to implement ---------------------------------------------------------------------
    def setup(self) -> None:
        raise NotImplementedError

    def steps_per_epoch(self) -> int:
        raise NotImplementedError

    def train_step(self, epoch: int, index: int) -> dict[str, float]:
        raise NotImplementedError

    def evaluate(self) -> dict[str, float]:
        return {}

    def initial_metrics(self) -> dict[str, float]:
        """Validation metrics before the first step; empty when that would hold up the start too long."""
        return self.evaluate()

    def views(self, quick: bool = False) -> dict[str, Any]:
        return {}

    def extra_state(self) -> dict[str, Any]:
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        pass

    def samples_per_step(self) -> int:
        return self.settings.batch_size

    # -- shared helpers ----------------------------------------------------------------------
    def graph(self, name: str = "") -> Graph:
        project = self.ctx.project
        if not project.graphs:
            raise SettingsError("graph", "the project has no graphs")
        if not name:
            return project.graphs[0]
        try:
            return project.graph_by_name(name)
        except KeyError:
            names = ", ".join(g.name for g in project.graphs)
            raise SettingsError("graph", f"no graph named '{name}'; graphs: {names}") from None

    def build(self, graph: Graph) -> BuiltModel:
        torch.manual_seed(self.settings.seed)
        built = build_model(graph, self.ctx.registry)
        init_weights(built.module, self.settings.init.scheme)
        built.module.to(self.device)
        self.built[graph.name] = built
        return built

    def load_initial_weights(self) -> None:
        """Transfer learning: copy matching tensors from ``init.checkpoint`` into every model."""
        path = self.settings.init.checkpoint
        if not path:
            return
        try:
            models = load_checkpoint(path).get("models", {})
        except ValueError as exc:
            raise SettingsError("init.checkpoint", str(exc)) from exc
        loaded = 0
        for name, built in self.built.items():
            weights = models.get(name) or (next(iter(models.values())) if len(models) == 1 else None)
            if weights:
                n, _total = load_matching(built.module, weights)
                loaded += n
        if loaded == 0:
            raise SettingsError("init.checkpoint", f"none of the weights in {path} match this model's layer names and shapes")
        self.info["init_tensors_loaded"] = loaded

    def forward(self, built: BuiltModel, *xs: torch.Tensor, all_outputs: bool = False) -> Any:
        """Run a model; an exception inside a layer becomes a ModelError naming the node."""
        try:
            with self.autocast():
                out = built.module(*xs)
        except (torch.cuda.OutOfMemoryError, KeyboardInterrupt):
            raise
        except Exception as exc:
            if _is_oom(exc):
                raise
            node = built.locate(exc, lambda: built.module(*xs))
            where = f"layer '{node}'" if node else f"model '{built.name}'"
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"{where} failed: {msg}", node, built.node_ids.get(node or ""), built.name) from exc
        if all_outputs:
            return out
        return out[built.prediction_index] if isinstance(out, tuple | list) else out

    def step_forward(self, built: BuiltModel) -> Any:
        """``built``'s prediction at the cost of a bare module call (what nnloop tasks step with); a
        failing call runs again through :meth:`forward`, which names the node that failed."""
        module, index = built.module, built.prediction_index

        def forward(x: torch.Tensor) -> torch.Tensor:
            try:
                out = module(x)
            except Exception:
                return self.forward(built, x)
            return out[index] if isinstance(out, tuple | list) else out

        return forward

    def autocast(self):
        if self.ctx.amp and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.float16)
        return contextlib.nullcontext()

    def check_finite(self, loss: torch.Tensor) -> float:
        value = float(loss.detach())
        if not math.isfinite(value):
            raise NonFiniteLoss(f"the loss became {'NaN' if value != value else 'infinite'}")
        return value

    def node_settings(self, models: list[BuiltModel]) -> dict[int, float]:
        """Freeze nodes and read LR multipliers; frozen layers also stay in eval mode while training
        (BatchNorm keeps its statistics, Dropout is off), as fine-tuning a frozen backbone expects."""
        nodes = self.settings.node_settings()
        multipliers = apply_node_settings(models, nodes)
        self.frozen = [m.submodule(name) for name, ns in nodes.items() if ns.freeze for m in models
                       if m.submodule(name) is not None]
        for module in self.frozen:
            module.eval()
        return multipliers

    def setup_single_model_training(self) -> None:
        """Initial weights, freezing/LR multipliers, one optimizer and its schedule for ``self.model``
        (every recipe that trains one network: supervised, reconstruction, DQN)."""
        self.load_initial_weights()
        multipliers = self.node_settings([self.model])
        s = self.settings
        self.optimizer = make_optimizer(s.optimizer, [self.model.module], multipliers)
        self.optimizers = {"main": self.optimizer}
        self.schedule = Schedule(s.schedule, self.optimizer, s.epochs, self.steps_per_epoch())
        self.schedules = {"main": self.schedule}

    def train_mode(self, *built: BuiltModel) -> None:
        """Switch to training mode (cheaply: only when something is in eval mode)."""
        for b in built:
            if not b.module.training:
                b.module.train()
                for m in getattr(self, "frozen", []):
                    m.eval()

    def modules(self) -> list[nn.Module]:
        return [b.module for b in self.built.values()]


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()
