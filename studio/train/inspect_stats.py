"""Per-node statistics of a training step: what each layer computes and how it learns (no Qt).

An :class:`Inspector` watches the recipe's own models during one real training step, so the
numbers come from the batch, episode or noise the paradigm itself feeds (never a dataset the
model was not built for: a DQN's Q-network sees its encoded states, a GAN's generator its noise).

For every layer node it records, after the step:

- activation mean, std and a histogram of its output (the last forward of the step wins);
- the share of dead units of ReLU-like nodes (zero for every sample of the batch);
- the gradient norm of the node's parameters (what backward left for the optimizer);
- the update-to-weight ratio ``‖w_after − w_before‖ / ‖w_before‖`` of the step;
- the first sample's feature maps (a few channels) for nodes with (B, C, H, W) outputs.

Usage (the engine does this every few steps, and after every step while someone watches)::

    inspector = Inspector(recipe.built)
    inspector.arm()            # before the step: hooks in, weights remembered
    ...                        # one training step
    payload = inspector.collect(step)   # hooks out; {"step", "graphs": {graph: {node_id: {...}}}}

The payload is plain Python and small numpy arrays, cheap to hand to the GUI thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from studio.train.build import BuiltModel

RELU_LIKE = ("nn.relu", "nn.relu6")  # units that can die: exactly zero below the threshold
HIST_BINS = 24
FMAP_CHANNELS = 16
FMAP_MAX_SIDE = 64
SAMPLE = 16384  # activation values kept for mean, std and histogram


@dataclass
class NodeStat:
    """Statistics of one node after one step (None where they do not apply)."""

    node: str
    node_id: str
    type_id: str
    act_mean: float | None = None
    act_std: float | None = None
    hist: tuple[list[int], float, float] | None = None  # counts, lowest and highest edge
    dead: float | None = None  # share of units that are zero for every sample (ReLU-like nodes)
    grad_norm: float | None = None
    update_ratio: float | None = None
    weight_norm: float | None = None
    fmap: np.ndarray | None = None  # (channels, H, W) of the first sample

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


class Inspector:
    """Hooks into the recipe's models for one step at a time (see the module docstring)."""

    def __init__(self, built: dict[str, BuiltModel], every: int = 20, bins: int = HIST_BINS,
                 feature_maps: bool = True, probes: dict[str, tuple[torch.Tensor, ...]] | None = None) -> None:
        self.built = built
        self.every = max(1, int(every))
        self.bins = bins
        self.feature_maps = feature_maps
        self.armed = False
        self._handles: list[Any] = []
        self._seen: dict[tuple[str, str], torch.Tensor] = {}
        self._before: dict[tuple[str, str], list[torch.Tensor]] = {}
        # a step that ran no forward of a model (a DQN episode acting at random before its warm-up)
        # still shows its activations: on the inputs it saw last, else on the recipe's own probe
        self._last_in: dict[str, tuple[torch.Tensor, ...]] = dict(probes or {})
        self._keep = [b.module.register_forward_pre_hook(self._remember(g)) for g, b in built.items()]

    @classmethod
    def for_recipe(cls, recipe: Any, every: int = 20) -> Inspector:
        """An inspector of a recipe's models, with its own inputs as the probe of a single model
        (supervised: validation samples; DQN: every encoded state)."""
        probes = {}
        if len(recipe.built) == 1:
            for attr in ("view_x", "obs"):
                x = getattr(recipe, attr, None)
                if isinstance(x, torch.Tensor) and len(x):
                    probes[next(iter(recipe.built))] = (x[:64],)
                    break
        return cls(recipe.built, every, probes=probes)

    def _remember(self, gname: str):
        def pre(_m, args):
            if args and all(isinstance(a, torch.Tensor) for a in args):
                self._last_in[gname] = tuple(a.detach() for a in args)
        return pre

    def close(self) -> None:
        """Remove every hook (the run is over)."""
        self.disarm()
        for h in self._keep:
            h.remove()
        self._keep = []

    def due(self, step: int, watching: bool = False) -> bool:
        """Whether ``step`` (1-based, over the run) should be inspected."""
        return watching or step % self.every == 0 or step == 1

    def arm(self) -> None:
        """Before a step: hook every layer node and remember its weights."""
        if self.armed:
            return
        self.armed = True
        self._seen, self._before = {}, {}
        for gname, built in self.built.items():
            for node, target in built.targets.items():
                try:
                    mod = built.module.get_submodule(target)
                except AttributeError:
                    continue
                key = (gname, node)
                self._before[key] = [p.detach().clone() for p in mod.parameters() if p.requires_grad]

                def hook(_m, _a, out, key=key):
                    t = out[0] if isinstance(out, tuple | list) else out
                    if isinstance(t, torch.Tensor):
                        self._seen[key] = t.detach()

                self._handles.append(mod.register_forward_hook(hook))

    def disarm(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []
        self.armed = False

    @torch.no_grad()
    def collect(self, step: int) -> dict[str, Any] | None:
        """After the step: the statistics of every layer node, or None when not armed."""
        if not self.armed:
            return None
        for gname, built in self.built.items():
            if not any((gname, n) in self._seen for n in built.targets) and gname in self._last_in:
                modes = [(m, m.training) for m in built.module.modules()]
                built.module.eval()  # no BatchNorm statistics move for a look
                try:
                    built.module(*self._last_in[gname])
                except Exception:  # a probe that does not fit: no activations, the rest still counts
                    pass
                finally:
                    for m, mode in modes:
                        m.training = mode
        self.disarm()
        graphs: dict[str, dict[str, dict[str, Any]]] = {}
        for gname, built in self.built.items():
            out: dict[str, dict[str, Any]] = {}
            for node, target in built.targets.items():
                key = (gname, node)
                node_id = built.node_ids.get(node, node)
                graph_node = built.graph.nodes.get(node_id)
                stat = NodeStat(node, node_id, graph_node.type_id if graph_node is not None else "")
                self._activation(stat, self._seen.get(key))
                self._learning(stat, built, target, self._before.get(key, []))
                out[node_id] = stat.as_dict()
            graphs[gname] = out
        self._seen, self._before = {}, {}
        return {"step": step, "graphs": graphs}

    def _activation(self, stat: NodeStat, t: torch.Tensor | None) -> None:
        if t is None or t.numel() == 0 or not (t.is_floating_point() or t.is_complex()):
            return
        x = t.float()
        flat = x.reshape(-1)
        if flat.numel() > SAMPLE:  # a strided sample: statistics of a big map cost a step's fraction
            flat = flat[:: flat.numel() // SAMPLE]
        if not bool(torch.isfinite(flat).all()):
            flat = flat[torch.isfinite(flat)]
            if flat.numel() == 0:
                return
        stat.act_mean = float(flat.mean())
        stat.act_std = float(flat.std()) if flat.numel() > 1 else 0.0
        lo, hi = float(flat.min()), float(flat.max())
        if hi <= lo:
            hi = lo + 1e-6
        stat.hist = (torch.histc(flat, self.bins, lo, hi).to(torch.int64).tolist(), lo, hi)
        if stat.type_id in RELU_LIKE and x.dim() >= 1 and x.shape[0] > 0:
            units = x.reshape(x.shape[0], -1)
            stat.dead = float((units <= 0).all(dim=0).float().mean())
        if self.feature_maps and x.dim() == 4:
            maps = x[0, :FMAP_CHANNELS]
            step_h = max(1, math.ceil(maps.shape[-2] / FMAP_MAX_SIDE))
            step_w = max(1, math.ceil(maps.shape[-1] / FMAP_MAX_SIDE))
            stat.fmap = maps[:, ::step_h, ::step_w].cpu().numpy().astype(np.float32)

    @staticmethod
    def _learning(stat: NodeStat, built: BuiltModel, target: str, before: list[torch.Tensor]) -> None:
        try:
            params = [p for p in built.module.get_submodule(target).parameters() if p.requires_grad]
        except AttributeError:
            return
        if not params:
            return
        grads = [p.grad.detach().float() for p in params if p.grad is not None]
        if grads:
            stat.grad_norm = math.sqrt(sum(float(g.pow(2).sum()) for g in grads))
        w2 = sum(float(b.float().pow(2).sum()) for b in before) if before else 0.0
        stat.weight_norm = math.sqrt(sum(float(p.detach().float().pow(2).sum()) for p in params))
        if before and len(before) == len(params) and w2 > 0:
            d2 = sum(float((p.detach().float() - b.float()).pow(2).sum()) for p, b in zip(params, before, strict=True))
            stat.update_ratio = math.sqrt(d2) / math.sqrt(w2)


def inspect_step(built: dict[str, BuiltModel], step_fn, step: int = 1) -> dict[str, Any]:
    """Run ``step_fn()`` (one training step) with an inspector armed; returns its payload."""
    inspector = Inspector(built)
    inspector.arm()
    try:
        step_fn()
    except BaseException:
        inspector.disarm()
        raise
    payload = inspector.collect(step)
    assert payload is not None
    return payload


def ordered_nodes(built: BuiltModel) -> list[str]:
    """Layer node ids in the order the model runs them (first layer first)."""
    return [built.node_ids[n] for n in built.targets if n in built.node_ids]


METRICS = {
    "grad_norm": "Gradient norm",
    "update_ratio": "Update / weight",
    "act_std": "Activation std",
    "act_mean": "Activation mean",
    "dead": "Dead ReLUs",
}


def metric_value(stat: dict[str, Any], metric: str) -> float | None:
    """One metric of a node's statistics, None when it does not apply or is not finite."""
    v = stat.get(metric)
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None
