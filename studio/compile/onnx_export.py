"""ONNX export of a graph, checked by a second runtime before the file is handed out.

The compiled module goes through ``torch.onnx.export`` with the batch axis dynamic; the
TorchScript exporter is tried first (fast, works offline), the dynamo exporter (onnxscript)
second. onnxruntime then runs the file on inputs with a *different* batch size than the trace
used, and the largest absolute difference from PyTorch must stay within :data:`TOLERANCE`.
Anything ONNX cannot express ends in one :class:`OnnxExportError` line that names the operation.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.compile.plan import CompileError, build_plan
from studio.core.model import Graph, Project
from studio.core.registry import Registry

__all__ = ["TOLERANCE", "OnnxExportError", "OnnxResult", "export_onnx", "export_project_onnx"]

#: largest accepted |onnxruntime - PyTorch| on the check inputs
TOLERANCE = 1e-4
TRACE_BATCH = 2
CHECK_BATCH = 3


class OnnxExportError(CompileError):
    """The graph cannot become a checked ONNX file; the message is one line saying why."""


@dataclass
class OnnxResult:
    path: Path
    graph_name: str
    input_names: list[str]
    output_names: list[str]
    max_abs_diff: float
    exporter: str  # "torchscript" or "dynamo"

    def summary(self) -> str:
        return (f"{self.path.name}: {self.graph_name} -> ONNX ({self.exporter} exporter, dynamic batch), "
                f"onnxruntime max |diff| {self.max_abs_diff:.2e} (limit {TOLERANCE:.0e})")


def _inputs(plan: Any, batch: int, seed: int) -> tuple[Any, ...]:
    import torch

    gen = torch.Generator().manual_seed(seed)
    out = []
    for _, name in plan.inputs:
        shape, dtype = plan.input_info.get(name, ((), "float32"))
        if dtype.startswith("float") or dtype == "bfloat16":
            out.append(torch.randn((batch, *shape), generator=gen).to(getattr(torch, dtype)))
        else:  # ids: small non-negative values fit any embedding
            out.append(torch.zeros((batch, *shape), dtype=getattr(torch, dtype)))
    return tuple(out)


_OP_PATTERNS = (
    re.compile(r"ONNX export of operator ([\w:.]+)"),
    re.compile(r"[Uu]nsupported (?:FX nodes|operator)[^\w]*\{?'?(?:call_function'?: ?\[)?'?([\w:.]+)"),
    re.compile(r"(aten::[\w.]+|aten\.[\w.]+)"),
    re.compile(r"operator '?([\w:.]+)'? is not supported"),
)


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:240] + ("…" if len(text) > 240 else "")


def _op_of(exc: BaseException) -> str | None:
    text = str(exc)
    for pattern in _OP_PATTERNS:
        match = pattern.search(text)
        if match:
            return match.group(1)
    return None


def _no_progress_thread() -> None:
    """The dynamo exporter's progress bars would leave tqdm's monitor thread running behind the export."""
    try:
        import tqdm
    except ImportError:  # pragma: no cover - torch.onnx brings tqdm along
        return
    tqdm.tqdm.monitor_interval = 0
    monitor = getattr(tqdm.tqdm, "monitor", None)
    if monitor is not None:
        monitor.exit()
        tqdm.tqdm.monitor = None


def _run_export(module: Any, args: tuple, path: Path, inputs: list[str], outputs: list[str],
                opset: int | None) -> str:
    """Write the ONNX file; returns which exporter worked, or raises the last exporter's error."""
    import torch

    _no_progress_thread()
    errors: list[BaseException] = []
    for dynamo in (False, True):
        kwargs: dict[str, Any] = {"input_names": inputs, "output_names": outputs}
        if opset is not None:
            kwargs["opset_version"] = opset
        if dynamo:
            batch = torch.export.Dim("batch", min=1)
            kwargs["dynamic_shapes"] = tuple({0: batch} for _ in args)
        else:
            kwargs["dynamic_axes"] = {name: {0: "batch"} for name in [*inputs, *outputs]}
        sink = io.StringIO()
        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                warnings.simplefilter("ignore")
                torch.onnx.export(module, args, str(path), dynamo=dynamo, **kwargs)
            return "dynamo" if dynamo else "torchscript"
        except Exception as exc:  # each exporter raises its own error types
            errors.append(exc)
    raise next((e for e in errors if _op_of(e)), errors[0])


def export_onnx(graph: Graph, registry: Registry, path: str | Path, module: Any = None,
                opset: int | None = None, check: bool = True) -> OnnxResult:
    """Write ``graph`` as ONNX to ``path`` and check it with onnxruntime.

    ``module``: a compiled module with trained weights (default: freshly compiled, random
    weights). Raises :class:`OnnxExportError` (one line) when ONNX cannot express the graph
    or the runtimes disagree by more than :data:`TOLERANCE`.
    """
    import torch

    from studio.compile.compiler import compile_plan

    plan = build_plan(graph, registry)
    model = module if module is not None else compile_plan(plan)
    model = model.eval()
    inputs = [name for _, name in plan.inputs]
    outputs = [name for _, name, _ in plan.outputs]
    taken = set(inputs)
    unique_outputs = []
    for name in outputs:  # ONNX value names must be unique across inputs and outputs
        base, i, candidate = name, 1, name
        while candidate in taken:
            candidate, i = f"{base}_{i}", i + 1
        taken.add(candidate)
        unique_outputs.append(candidate)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=target.stem + ".", suffix=".onnx.tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            with torch.no_grad():
                exporter = _run_export(model, _inputs(plan, TRACE_BATCH, 0), tmp, inputs, unique_outputs, opset)
        except Exception as exc:
            op = _op_of(exc)
            what = f"ONNX cannot express {op}" if op else "ONNX export failed"
            raise OnnxExportError(f"{graph.name}: {what} ({_first_line(exc)})", None, graph.name) from exc
        diff = _check(model, tmp, plan, inputs, graph.name) if check else float("nan")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return OnnxResult(target, graph.name, inputs, unique_outputs, diff, exporter)


def _check(model: Any, path: Path, plan: Any, inputs: list[str], graph_name: str) -> float:
    """Largest |onnxruntime - PyTorch| over every output, at a batch size the trace did not use."""
    import numpy as np
    import onnxruntime as ort
    import torch

    args = _inputs(plan, CHECK_BATCH, 1)
    with torch.no_grad():
        expected = model(*args)
    expected = expected if isinstance(expected, tuple | list) else (expected,)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        feed_names = [i.name for i in session.get_inputs()]
        feed = {n: a.numpy() for n, a in zip(inputs, args, strict=True) if n in feed_names}
        got = session.run(None, feed)
    except Exception as exc:  # onnxruntime's own error types
        raise OnnxExportError(f"{graph_name}: onnxruntime cannot run the exported file ({_first_line(exc)})",
                              None, graph_name) from exc
    if len(got) != len(expected):
        raise OnnxExportError(f"{graph_name}: the ONNX file has {len(got)} outputs, the model {len(expected)}",
                              None, graph_name)
    worst = 0.0
    for name, want, have in zip(plan.outputs, expected, got, strict=True):
        want_np = want.detach().float().numpy()
        if tuple(want_np.shape) != tuple(have.shape):
            raise OnnxExportError(f"{graph_name}: output {name[1]} has shape {tuple(have.shape)} in ONNX, "
                                  f"{tuple(want_np.shape)} in PyTorch (batch {CHECK_BATCH})", None, graph_name)
        if want_np.size:
            worst = max(worst, float(np.max(np.abs(want_np - have.astype(np.float32)))))
    if not worst <= TOLERANCE:
        raise OnnxExportError(f"{graph_name}: onnxruntime differs from PyTorch by {worst:.3g} "
                              f"(limit {TOLERANCE:.0e})", None, graph_name)
    return worst


def export_project_onnx(project: Project, registry: Registry, out_dir: str | Path,
                        modules: Mapping[str, Any] | None = None, graphs: Iterable[str] | None = None,
                        weights: str | os.PathLike | None = None) -> list[OnnxResult]:
    """``<stem>.onnx`` per graph (stems from :mod:`export_names`), each checked by onnxruntime.

    Trained weights come from ``modules`` ({graph name: module}) or a ``weights`` file
    (safetensors, as saved beside the project); without either the file has random weights.
    """
    from studio.compile.compiler import compile_graph
    from studio.compile.export_names import graph_stems

    stems = graph_stems(project)
    states = {}
    if weights is not None:
        from studio.compile.weights import load_weights

        states = load_weights(project, weights)
    wanted = set(graphs) if graphs is not None else None
    results = []
    for graph in project.graphs:
        if wanted is not None and graph.name not in wanted and graph.id not in wanted:
            continue
        module = (modules or {}).get(graph.name)
        if module is None and graph.name in states:
            module = compile_graph(graph, registry)
            try:
                module.load_state_dict(states[graph.name], strict=True)
            except RuntimeError as exc:
                raise OnnxExportError(f"{graph.name}: the weights file does not fit the graph "
                                      f"({_first_line(exc)})", None, graph.name) from exc
        results.append(export_onnx(graph, registry, Path(out_dir) / f"{stems[graph.id]}.onnx", module))
    return results
