"""Does a checkpoint fit a project? Checked before a run starts, answered in one line.

``load_state_dict`` reports a mismatch as a page of key names that a one-line error would cut to
"Error(s) in loading state_dict for GraphModule:". Here the graph is built on the meta device (no
memory, no weights) and its state-dict keys and shapes are compared with the checkpoint's, giving
counts with the first few names: "2 missing (fc2.weight, fc2.bias); 1 of another shape (fc1.weight:
checkpoint 16×2, graph 32×2)".
"""

from __future__ import annotations

import os
from typing import Any

from studio.train.checkpoint import CheckpointError, load_checkpoint


def describe_mismatch(expected: dict[str, tuple[int, ...]], found: dict[str, Any]) -> str | None:
    """Summary of how ``found`` (name -> tensor or shape) differs from ``expected`` (name -> shape); None if it fits."""
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    shapes = []
    for k, shape in expected.items():
        if k in found:
            got = tuple(getattr(found[k], "shape", found[k]) or ())
            if tuple(got) != tuple(shape):
                shapes.append(f"{k}: checkpoint {_dims(got)}, graph {_dims(shape)}")
    parts = [f"{len(items)} {label} ({_few(items)})" for label, items in
             (("missing", missing), ("unexpected", unexpected), ("of another shape", shapes)) if items]
    return "; ".join(parts) or None


def check_checkpoint_fits(project: Any, registry: Any, path: str | os.PathLike,
                          settings: Any = None) -> dict[str, Any]:
    """Load ``path`` and raise :class:`CheckpointError` (one line) unless every graph in it fits the project
    (and, given ``settings``, unless its optimizer state is for the same optimizer).

    Returns the loaded checkpoint. Graphs that cannot be built here are left to the run to report.
    """
    state = load_checkpoint(path)
    models = state.get("models")
    if not isinstance(models, dict):
        raise CheckpointError(f"{path} holds no model weights")
    saved = state.get("settings") if isinstance(state.get("settings"), dict) else {}
    was = saved.get("optimizer", {}).get("name") if isinstance(saved.get("optimizer"), dict) else None
    now = getattr(getattr(settings, "optimizer", None), "name", None)
    if was and now and was != now and state.get("optimizers"):
        raise CheckpointError(f"checkpoint {path} holds {was} optimizer state but the project now trains with "
                              f"{now}; resume with optimizer {was}, or start a new run from these weights "
                              "(training setting init.checkpoint)")
    by_name = {g.name: g for g in project.graphs}
    for name, weights in models.items():
        if name not in by_name:
            raise CheckpointError(f"checkpoint {path} holds graph '{name}', which this project lacks "
                                  f"(graphs: {', '.join(by_name) or 'none'})")
        expected = _meta_shapes(by_name[name], registry)
        if expected is None or not isinstance(weights, dict):
            continue
        problem = describe_mismatch(expected, weights)
        if problem:
            raise CheckpointError(f"checkpoint {path} does not fit graph '{name}' (another architecture?): {problem}")
    return state


def _meta_shapes(graph: Any, registry: Any) -> dict[str, tuple[int, ...]] | None:
    import torch

    from studio.train.build import build_model

    try:
        with torch.device("meta"):
            built = build_model(graph, registry)
        return {k: tuple(v.shape) for k, v in built.module.state_dict().items()}
    except Exception:  # the run builds it for real and names the node that fails
        return None


def _dims(shape: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape) or "scalar"


def _few(names: list[str], n: int = 3) -> str:
    return ", ".join(names[:n]) + (f", … {len(names) - n} more" if len(names) > n else "")
