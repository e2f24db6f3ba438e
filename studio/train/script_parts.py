"""What every ``train.py`` writer shares: literals, the settings all paradigms carry, the graph lookup,
the node tables and the marker substitution.

:mod:`studio.train.script_export` (the built-in paradigms) and the recipes' own writers
(:mod:`studio.train.recipes.script_writers`) both build on it, so an exported script writes its
settings, frozen layers and learning-rate multipliers the same way whichever writer made it.
"""

from __future__ import annotations

import ast
import pprint
import re
from typing import Any

from studio.core.model import Project
from studio.train.nnloop import parts as nnloop_parts
from studio.train.settings import TrainingSettings


def literal(value: Any) -> str:
    """A literal that stays within the line length (pprint wraps long tables)."""
    return pprint.pformat(value, width=100, sort_dicts=True)


def pick(d: dict, *keys: str) -> dict:
    return {k: d[k] for k in keys if k in d}


def optimizer_settings(opt: dict) -> dict:
    return pick(opt, "name", "lr", "weight_decay", "l1", *nnloop_parts.OPTIMIZER_KEYS.get(opt["name"], ()))


def schedule_settings(s: dict) -> dict:
    return pick(s, "name", *nnloop_parts.SCHEDULE_KEYS.get(s["name"], ()))


def common_settings(d: dict) -> dict:
    """The settings every paradigm's script carries, from ``TrainingSettings.to_dict()``."""
    es = d["early_stopping"]
    return {"recipe": d["recipe"], "epochs": d["epochs"], "seed": d["seed"], "device": d["device"],
            "threads": d["threads"], "early_stopping": dict(es) if es.get("enabled") else {"enabled": False}}


def find_graph(project: Project, name: str, key: str, error: type[Exception]) -> Any:
    """The graph a training setting ``key`` names (the first graph when empty); ``error`` says what is wrong."""
    if not project.graphs:
        raise error("the project has no graphs")
    try:
        return project.graph_by_name(name) if name else project.graphs[0]
    except KeyError:
        raise error(f"training setting '{key}': no graph named '{name}'") from None


def node_tables(settings: TrainingSettings, targets: dict[str, str], error: type[Exception],
                skip_unknown: bool = False) -> tuple[list[str], dict[str, float]]:
    """(frozen submodules, submodule -> learning-rate multiplier) from the per-node settings; ``targets``
    maps a layer's name to its submodule. ``skip_unknown``: the table spans several graphs (a GAN's)."""
    frozen, mult = [], {}
    for name, ns in settings.node_settings().items():
        if name not in targets:
            if skip_unknown:
                continue
            raise error(f"training setting 'nodes.{name}': no layer with that name")
        if ns.freeze:
            frozen.append(targets[name])
        if ns.lr_mult != 1.0:
            mult[targets[name]] = ns.lr_mult
    return sorted(frozen), dict(sorted(mult.items()))


def fill(template: str, values: dict[str, str]) -> str:
    """The template with its ``__NAME__`` markers replaced, checked to parse as Python."""
    # one pass, so text substituted in is never scanned for markers again
    text = re.sub(r"__[A-Z]+(?:_[A-Z]+)*__", lambda m: values.get(m.group(0), m.group(0)), template)
    ast.parse(text)
    return text


def export_with_plan(project: Project, registry: Any, graph: Any, reserved: tuple[str, ...],
                     error: type[Exception]) -> tuple[str, Any, Any, dict[str, str]]:
    """(module name, exported model, plan, layer name -> submodule) of ``graph``; a graph whose file would
    take a name in ``reserved`` (a file train.py needs for itself) is refused."""
    from studio.compile.exporter import export_graph, module_names
    from studio.compile.plan import build_plan

    module = module_names(project)[graph.id]
    if module in reserved:
        raise error(f"graph '{graph.name}' would be exported as {module}.py, which train.py needs for itself; "
                    f"rename the graph")
    exported = export_graph(graph, registry, weights_prefix=module)
    plan = build_plan(graph, registry)
    return module, exported, plan, {s.node_name: s.target for s in plan.steps if s.kind == "module"}


def output_roles(graph: Any, plan: Any) -> list[str]:
    """The role of each of the graph's returned values, in order (``prediction`` where none is set)."""
    return [str(graph.nodes[nid].params.get("role") or "prediction") for nid, _, _ in plan.outputs]
