"""Compiled models with what the engine needs to know about them: inputs, outputs, node modules.

The compiler (:mod:`studio.compile`) turns a graph into a ``torch.fx.GraphModule``; its plan
tells which submodule belongs to which node, so freezing, LR multipliers, view taps and error
messages can all speak in node names.
"""

from __future__ import annotations

import linecache
import re
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from studio.core.model import Graph
from studio.core.registry import Registry

# Output roles that feed live views (the Output node's ``role`` param; never its name).
TAP_ROLES = ("latent", "attention")


class ModelError(Exception):
    """A model that cannot be trained as configured; ``node`` / ``node_id`` / ``graph`` locate it."""

    def __init__(self, message: str, node: str | None = None, node_id: str | None = None,
                 graph: str | None = None) -> None:
        super().__init__(message)
        self.node, self.node_id, self.graph = node, node_id, graph


@dataclass
class InputInfo:
    name: str
    node_id: str
    shape: tuple[int, ...]
    dtype: str


@dataclass
class BuiltModel:
    """One compiled graph: the module plus node-name bookkeeping from the compile plan."""

    graph: Graph
    module: nn.Module
    inputs: list[InputInfo]
    outputs: list[str]  # Output node names, in the order forward() returns them
    targets: dict[str, str] = field(default_factory=dict)  # node name -> submodule path
    var_to_node: dict[str, str] = field(default_factory=dict)  # fx/forward variable -> node name
    node_ids: dict[str, str] = field(default_factory=dict)  # node name -> node id
    weight_ports: dict[str, int] = field(default_factory=dict)  # node name -> output index of attention weights
    roles: list[str] = field(default_factory=list)  # the Output nodes' roles, in the order of ``outputs``

    @property
    def name(self) -> str:
        return self.graph.name

    def submodule(self, node_name: str) -> nn.Module | None:
        """The node's layer; a parameter node's tensor comes wrapped so freezing and LR multipliers apply."""
        target = self.targets.get(node_name)
        if target is None:
            return None
        try:
            return self.module.get_submodule(target)
        except AttributeError:
            parent, _, attr = target.rpartition(".")
            holder = self.module.get_submodule(parent) if parent else self.module
            tensor = holder._parameters.get(attr)
            return nn.ParameterList([tensor] if tensor is not None else [])

    def role(self, index: int) -> str:
        return self.roles[index] if index < len(self.roles) else "prediction"

    @property
    def prediction_index(self) -> int:
        """Which returned value is the prediction: the first Output whose role is ``prediction``
        (the first Output when none is)."""
        for i in range(len(self.outputs)):
            if self.role(i) == "prediction":
                return i
        return 0

    def outputs_with_role(self, role: str) -> dict[str, int]:
        """Output name -> index in the returned tuple, for every Output with ``role``."""
        return {name: i for i, name in enumerate(self.outputs) if self.role(i) == role}

    def tap_outputs(self) -> dict[str, int]:
        """Outputs that feed live views (roles latent and attention), by name."""
        return {name: i for i, name in enumerate(self.outputs)
                if i != self.prediction_index and self.role(i) in TAP_ROLES}

    def predict(self, *xs: torch.Tensor) -> torch.Tensor:
        out = self.module(*xs)
        return out[self.prediction_index] if isinstance(out, tuple | list) else out

    def locate(self, exc: BaseException, run_again: Callable[[], Any] | None = None) -> str | None:
        """The node whose code raised ``exc``: from the generated forward's traceback, else by re-running."""
        for frame, lineno in reversed(list(traceback.walk_tb(exc.__traceback__))):
            filename = frame.f_code.co_filename
            if "eval_with_key" not in filename and not filename.startswith("<"):
                continue
            line = linecache.getline(filename, lineno).strip()
            match = re.match(r"^([A-Za-z_]\w*)\s*=", line)
            if match and match.group(1) in self.var_to_node:
                return self.var_to_node[match.group(1)]
        if run_again is None:
            return None
        return self._locate_with_hooks(run_again)

    def _locate_with_hooks(self, run_again: Callable[[], Any]) -> str | None:
        stack: list[str] = []
        handles = []
        by_module = {id(self.submodule(n)): n for n in self.targets}
        for name, target in self.targets.items():
            mod = self.module.get_submodule(target)

            def pre(_m, _a, name=name):
                stack.append(name)

            def post(_m, _a, _o):
                if stack:
                    stack.pop()

            handles.append(mod.register_forward_pre_hook(pre))
            handles.append(mod.register_forward_hook(post))
        try:
            run_again()
        except Exception:
            return stack[-1] if stack else None
        finally:
            for h in handles:
                h.remove()
        del by_module
        return None

    @contextmanager
    def capture(self, names: list[str]):
        """Record the outputs of the named nodes during one forward: ``with m.capture([...]) as seen``."""
        seen: dict[str, Any] = {}
        handles = []
        for name in names:
            mod = self.submodule(name)
            if mod is None:
                continue

            def hook(_m, _a, out, name=name):
                seen[name] = out

            handles.append(mod.register_forward_hook(hook))
        try:
            yield seen
        finally:
            for h in handles:
                h.remove()

    def tap_nodes(self) -> list[str]:
        """Nodes worth capturing for views: attention layers and nodes named like a latent code."""
        names = list(self.weight_ports)
        for name in self.targets:
            low = name.lower()
            if name not in names and (any(w in low for w in ("latent", "code", "bottleneck")) or low == "z"):
                names.append(name)
        return names


def build_model(graph: Graph, registry: Registry) -> BuiltModel:
    """Compile ``graph`` with the project compiler; CompileError becomes ModelError at the node."""
    try:
        from studio.compile.compiler import compile_plan
        from studio.compile.plan import CompileError, build_plan
    except ImportError as exc:  # pragma: no cover - the compiler ships with the app
        raise ModelError(f"the compiler is not available: {exc}") from exc
    try:
        plan = build_plan(graph, registry)
        module = compile_plan(plan)
    except CompileError as exc:
        node = graph.nodes.get(exc.node_id) if exc.node_id else None
        raise ModelError(str(exc), node.name if node else None, exc.node_id, graph.name) from exc
    inputs = []
    for node_id, arg in plan.inputs:
        shape, dtype = plan.input_info.get(arg, ((), "float32"))
        inputs.append(InputInfo(graph.nodes[node_id].name, node_id, tuple(shape), dtype))
    built = BuiltModel(graph, module, inputs, [name for _, name, _ in plan.outputs],
                       roles=[str(graph.nodes[nid].params.get("role") or "prediction") for nid, _, _ in plan.outputs])
    for step in plan.steps:
        built.node_ids[step.node_name] = step.node_id
        for var in step.out_vars.values():
            built.var_to_node[var] = step.node_name
        if step.kind == "module":
            built.targets[step.node_name] = step.target
            ports = step.spec.output_names()
            for i, port in enumerate(ports):
                if len(ports) > 1 and ("weight" in port or "attn" in port):
                    built.weight_ports[step.node_name] = i
    return built


def output_as_tensor(out: Any) -> torch.Tensor:
    return out[0] if isinstance(out, tuple | list) else out


@torch.no_grad()
def activations(built: BuiltModel, inputs: tuple[torch.Tensor, ...], node_names: list[str]) -> dict[str, Any]:
    """Outputs of the named layer nodes for ``inputs`` (one forward in eval mode), as numpy arrays.

    Multi-output layers give a tuple of arrays. Function nodes (add, concat, ...) have no module
    to hook: ask for the layer before or after them.
    """
    built.module.eval()
    with built.capture(node_names) as seen:
        built.module(*inputs)

    def np_(v: Any) -> Any:
        if isinstance(v, tuple | list):
            return tuple(np_(x) for x in v)
        return v.detach().float().cpu().numpy() if isinstance(v, torch.Tensor) else v

    return {name: np_(value) for name, value in seen.items()}
