"""``nnstudio check PROJECT``: validation issues and the shape table of every graph."""

from __future__ import annotations

import argparse

from studio.cli.command import Command
from studio.cli.common import load
from studio.cli.output import error, say


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="project file (.nnstudio)")


def run(args: argparse.Namespace) -> int:
    from studio.core.graph_order import topological_order
    from studio.core.shapes import ShapeInferencer
    from studio.core.validation import validate
    from studio.train.settings import SettingsError, TrainingSettings

    project, registry = load(args.project)
    inferencer = ShapeInferencer(registry)
    errors = 0
    inferred = {}
    for graph in project.graphs:
        shapes = inferred[graph.id] = inferencer.infer(graph)
        issues = validate(graph, registry, shapes)
        say(f"graph '{graph.name}': {len(graph.nodes)} nodes, {shapes.total_params:,} parameters")
        rows = [("node", "type", "output", "params")]
        for node_id in topological_order(graph):
            node = graph.nodes[node_id]
            spec = registry.find(node.type_id)
            ns = shapes.nodes.get(node_id)
            outs = (", ".join(t.text for t in ns.outputs.values()) if ns and ns.outputs
                    else ("-" if ns and not ns.error else "?"))
            rows.append((node.name, spec.title if spec else node.type_id, outs, f"{ns.params:,}" if ns else "0"))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        for r in rows:
            say("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
        for issue in issues:
            say(f"  {issue.severity}: {issue.located(graph)}")
            errors += issue.severity == "error"
    try:
        settings = TrainingSettings.from_dict(project.training)
    except SettingsError as exc:
        say(f"error: {exc}")
        errors += 1
    else:
        errors += _memory(project, registry, settings, inferred)
    from studio.io.stages import stage_label, stages

    for name in stages(project):
        say(f"stage {name}: {stage_label(project, name)} (nnstudio train --stage {name})")
    if errors:
        error(f"{errors} problem(s) found")
        return 1
    say("ok")
    return 0


def _memory(project, registry, settings, shapes: dict) -> int:
    """The run's memory estimate against its limit (what ``train`` would refuse, said before training)."""
    from studio.train.memory_budget import MemoryBudgetError, check_before_allocation, human, limit_bytes

    try:
        est = check_before_allocation(project, registry, settings, "cpu", shapes=shapes)
    except MemoryBudgetError as exc:
        say(f"error: {exc}")
        return 1
    cap, source = limit_bytes(settings)
    say(f"memory: about {human(est.total)} of {human(cap)} ({source}): {est.summary()}")
    return 0


COMMAND = Command("check", "print validation issues and the shape table of every graph", arguments, run, order=10)
