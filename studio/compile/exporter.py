"""Standalone, readable PyTorch source for a graph: the code a user takes away.

Safety: every name in the output is a sanitised, deduplicated identifier from the compile plan;
every value from the project file is written with :func:`literal` (``repr`` of plain types
only); layer and function names come only from the registry's :class:`ExportInfo`. So a hostile
project file can change numbers and names in the output, never its statements.
"""

from __future__ import annotations

import ast
import inspect
import math
import re
import sys
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from studio.compile.plan import FORWARD_RESERVED, CompileError, Plan, ValueRef, build_plan
from studio.core.model import Graph, Project, identifier
from studio.core.registry import Registry
from studio.core.shapes import SHAPE_BATCH, GraphShapes
from studio.core.spec import NodeSpec

__all__ = ["ExportError", "ExportedModel", "literal", "export_graph", "export_graph_code", "export_project",
           "module_names"]

LINE = 100
_STD_IMPORTS = {
    "torch": "import torch",
    "nn": "from torch import nn",
    "F": "import torch.nn.functional as F",
    "math": "import math",
    "operator": "import operator",
    "torchvision": "import torchvision",  # generic nodes may build torchvision.ops layers
}


class ExportError(CompileError):
    """A value or layer that cannot be written as code; names the node."""


def literal(value: Any) -> str:
    """Source text for a plain value: ``repr`` of exact builtin types, recursively; nothing else."""
    kind = type(value)
    if value is None or kind is bool or kind is int:
        return repr(value)
    if kind is float:
        if math.isnan(value):
            return "float('nan')"
        if math.isinf(value):
            return "float('inf')" if value > 0 else "-float('inf')"
        return repr(value)
    if kind is str:
        return str.__repr__(value)
    if kind is tuple:
        items = [literal(v) for v in value]
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    if kind is list:
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if kind is dict:
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    import torch

    if isinstance(value, torch.dtype):
        name = str(value).removeprefix("torch.")
        if name.isidentifier() and hasattr(torch, name):
            return f"torch.{name}"
    raise TypeError(f"cannot write a {kind.__name__} value as code")


# ----------------------------------------------------------------------------------- imports


@dataclass
class _Imports:
    straight: set[tuple[str, str | None]] = field(default_factory=set)  # (module, asname)
    froms: dict[str, set[tuple[str, str | None]]] = field(default_factory=dict)

    def add_line(self, line: str) -> set[str]:
        """Parse one import line from the registry; returns the names it binds."""
        bound: set[str] = set()
        for stmt in ast.parse(line).body:
            if isinstance(stmt, ast.Import):
                for a in stmt.names:
                    self.straight.add((a.name, a.asname))
                    bound.add(a.asname or a.name.split(".")[0])
            elif isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
                for a in stmt.names:
                    self.froms.setdefault(stmt.module, set()).add((a.name, a.asname))
                    bound.add(a.asname or a.name)
            else:
                raise ValueError(f"not an import line: {line!r}")
        return bound

    def render(self) -> str:
        """isort-compatible block: __future__, stdlib, third party; straight before from-imports."""
        sections: dict[int, list[str]] = {0: [], 1: [], 2: []}

        def section(module: str) -> int:
            root = module.split(".")[0]
            return 0 if root == "__future__" else 1 if root in sys.stdlib_module_names else 2

        for module, asname in sorted(self.straight, key=lambda m: (m[0].lower(), m[0], m[1] or "")):
            sections[section(module)].append(f"import {module}" + (f" as {asname}" if asname else ""))
        for module in sorted(self.froms, key=lambda m: (m.lower(), m)):
            names = sorted(self.froms[module], key=lambda n: (_member_type(n[0]), n[0].lower(), n[0]))
            parts = ", ".join(n + (f" as {a}" if a else "") for n, a in names)
            sections[section(module)].append(f"from {module} import {parts}")
        return "\n\n".join("\n".join(lines) for _, lines in sorted(sections.items()) if lines)


def _member_type(name: str) -> int:
    if len(name) > 1 and name.isupper():
        return 0  # constant
    if name[:1].isupper():
        return 1  # class
    return 2


# ----------------------------------------------------------------------------------- helpers


def _qualname(spec: NodeSpec) -> tuple[str, tuple[Any, ...], tuple[str, ...]]:
    """(callable text, objects whose source to copy, import lines) for a spec, from the registry only."""
    if spec.export is not None:
        return spec.export.qualname, tuple(spec.export.source_of), tuple(spec.export.imports)
    target = spec.module if spec.module is not None else spec.function
    module_name = getattr(target, "__module__", "") or ""
    name = getattr(target, "__qualname__", "") or ""
    if module_name == "torch.nn.modules" or module_name.startswith("torch.nn.modules."):
        return f"nn.{name}", (), ()
    if module_name == "torch" or module_name.startswith("torch._"):
        return f"torch.{name}", (), ()
    if module_name == "torch.nn.functional":
        return f"F.{name}", (), ()
    if name.isidentifier():
        return name, (target,), ()  # copy the helper's source into the export
    raise ExportError(f"{spec.title} has no export information", None)


def _source(obj: Any) -> str:
    try:
        return textwrap.dedent(inspect.getsource(obj)).strip("\n")
    except (OSError, TypeError) as exc:
        raise ExportError(f"cannot copy the source of {getattr(obj, '__name__', obj)!r}: {exc}") from exc


def _spec_globals(graph: Graph, registry: Registry) -> tuple[set[str], list[Any], list[str]]:
    """Module-level names the graph's specs use (reserved for forward), helpers, import lines."""
    names: set[str] = set()
    helpers: list[Any] = []
    imports: list[str] = []
    for node in graph.nodes.values():
        spec = registry.find(node.type_id)
        if spec is None or spec.role != "layer":
            continue
        qual, sources, lines = _qualname(spec)
        names.add(qual.split(".")[0])
        for obj in sources:
            if obj not in helpers:
                helpers.append(obj)
            names.add(obj.__name__)
        imports.extend(line for line in lines if line not in imports)
        for line in lines:
            names |= _Imports().add_line(line)
    return names, helpers, imports


def _shape_text(shape: tuple[int, ...]) -> str:
    dims = ["B" if i == 0 and d == SHAPE_BATCH else str(d) for i, d in enumerate(shape)]
    return "(" + ", ".join(dims) + ")"


_SAFE_TITLE = re.compile(r"[^0-9A-Za-z _()+\-/]")


def _doc_table(table: list[tuple[str, Any, list[ValueRef]]], shapes: GraphShapes | None) -> list[str]:
    """One row per statement of the model's forward: a layer, a block, or a function."""
    from studio.compile.export_blocks import Box

    rows = [("Layer", "Type", "Output shape", "Params")]
    total = trainable = 0
    for _callee, item, refs in table:
        steps = item.steps if isinstance(item, Box) else [item]
        infos = [shapes.nodes.get(s.node_id) for s in steps] if shapes else []
        total += sum(i.params for i in infos if i is not None)
        trainable += sum(i.trainable for i in infos if i is not None)
        count = sum(i.params for i in infos if i is not None)
        outs = []
        for ref in refs:
            info = shapes.nodes.get(ref.node_id) if shapes else None
            tensor = info.outputs.get(ref.port) if info is not None else None
            outs.append(_shape_text(tensor.shape) if tensor is not None else "?")
        if isinstance(item, Box):
            kind = item.cls.name if item.cls is not None else "Sequential"
        else:
            kind = _SAFE_TITLE.sub("", item.spec.title)
        if isinstance(item, Box) or item.kind == "module":
            name = ".".join(item.path)
        else:
            name = next(iter(item.out_vars.values()))
        rows.append((name, kind, ", ".join(outs) or "?", f"{count:,}"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(f"Parameters: {total:,} ({trainable:,} trainable).")
    return lines


# ----------------------------------------------------------------------------------- export


@dataclass
class ExportedModel:
    """The export of one graph: source text plus what callers (train.py writer) need to know."""

    code: str
    class_name: str
    input_names: list[str]
    output_names: list[str]
    input_shapes: dict[str, tuple[tuple[int, ...], str]]
    weights_prefix: str


def export_graph(graph: Graph, registry: Registry, shapes: GraphShapes | None = None,
                 weights_prefix: str | None = None) -> ExportedModel:
    """Standalone Python source for ``graph``; raises :class:`CompileError` like the compiler."""
    spec_names, helpers, import_lines = _spec_globals(graph, registry)
    helper_names = {h.__name__ for h in helpers}
    reserved = spec_names | helper_names | set(_STD_IMPORTS) | {"load_weights", "example_inputs", "annotations"}
    plan = build_plan(graph, registry, shapes, reserved_globals=reserved)
    prefix = identifier(weights_prefix or graph.name, "model")
    body = _class_source(plan, prefix, reserved)
    tail = _module_tail(plan)
    used_helpers: list[Any] = []
    for step in plan.steps:  # copy only what the compiled part uses, in first-use order
        for obj in _qualname(step.spec)[1]:
            if obj not in used_helpers:
                used_helpers.append(obj)
    helper_src = [_source(h) for h in used_helpers]
    text = "\n\n\n".join([*helper_src, body, tail])
    used = {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}  # decides the imports
    imports = _Imports()
    imports.add_line("from __future__ import annotations")
    for name, line in _STD_IMPORTS.items():
        if name in used:
            imports.add_line(line)
    for line in sorted(set(import_lines)):
        bound = _Imports().add_line(line)
        if bound & used:
            imports.add_line(line)
    needs = "torch and torchvision" if "torchvision" in text or any("torchvision" in line for line in import_lines) \
        else "only torch"
    header = [
        "# Generated by NN Studio: standalone PyTorch code for the model class " + plan.class_name + ".",
        f"# It needs {needs} (and safetensors to load saved weights); regenerate it from the project",
        "# rather than editing it by hand.",
    ]
    code = "\n".join(header) + "\n\n" + imports.render() + "\n\n\n" + text + "\n"
    ast.parse(code)  # never hand out a file that does not parse
    return ExportedModel(code=code, class_name=plan.class_name, input_names=[a for _, a in plan.inputs],
                         output_names=[identifier(n, "output") for _, n, _ in plan.outputs],
                         input_shapes=dict(plan.input_info), weights_prefix=prefix)


def export_graph_code(graph: Graph, registry: Registry, shapes: GraphShapes | None = None,
                      weights_prefix: str | None = None) -> str:
    """The source text of :func:`export_graph` (deterministic: same graph, same bytes)."""
    return export_graph(graph, registry, shapes, weights_prefix).code


def _class_source(plan: Plan, prefix: str, reserved: set[str]) -> str:
    """The block classes (each repeated block written once) and the model class, in dependency order."""
    from studio.compile.export_blocks import analyse
    from studio.compile.export_render import Context, block_class_source, forward_lines, root_init_lines

    structure = analyse(plan, set(reserved) | {plan.class_name})
    names = {c.name for c in structure.classes}
    ctx = Context(plan, structure, lambda step: _qualname(step.spec)[0], literal,
                  set(FORWARD_RESERVED) | set(reserved) | names | {plan.class_name})
    sources = [block_class_source(ctx, cls) for cls in structure.classes]
    ind, ind2 = "    ", "        "
    values = {ValueRef(s.node_id, port): var for s in plan.steps for port, var in s.out_vars.items()}
    body, results, table = forward_lines(ctx, structure.root, [], values, ind2)
    lines = [f"class {plan.class_name}(nn.Module):"]
    args_doc = ", ".join(f"{a} {_shape_text((SHAPE_BATCH, *plan.input_info[a][0]))} {plan.input_info[a][1]}"
                         if a in plan.input_info else a for _, a in plan.inputs)
    outs_doc = ", ".join(results)
    doc = ["Neural network exported from NN Studio.", "",
           f"forward({', '.join(a for _, a in plan.inputs)}) takes {args_doc} (B = batch size)",
           f"and returns {outs_doc}.", "", *_doc_table(table, plan.shapes)]
    lines.append(f'{ind}"""{doc[0]}')
    lines.extend((f"{ind}{d}" if d else "") for d in doc[1:])
    lines.append(f'{ind}"""')
    lines.append("")
    lines.append(f"{ind}def __init__(self) -> None:")
    lines.append(f"{ind2}super().__init__()")
    lines.extend(root_init_lines(ctx))
    params = ", ".join(f"{a}: torch.Tensor" for _, a in plan.inputs)
    ret = "torch.Tensor" if len(plan.outputs) == 1 else "tuple[torch.Tensor, ...]"
    lines.append("")
    lines.append(f"{ind}def forward(self, {params}) -> {ret}:")
    lines.extend(body)
    lines.append(f"{ind2}return {', '.join(results)}")
    lines.append("")
    lines.append(f"{ind}def load_weights(self, path: str, prefix: str = {literal(prefix)}) -> None:")
    lines.append(f'{ind2}"""Load weights NN Studio saved (a .safetensors file, one prefix per model; no pickle)."""')
    lines.append(f"{ind2}from safetensors.torch import load_file")
    lines.append("")
    lines.append(f"{ind2}state = load_file(path)")
    lines.append(f'{ind2}start = prefix + "."')
    lines.append(f"{ind2}own = {{key[len(start):]: value for key, value in state.items() if key.startswith(start)}}")
    lines.append(f"{ind2}self.load_state_dict(own or state)")
    return "\n\n\n".join([*sources, "\n".join(lines)])


def _module_tail(plan: Plan) -> str:
    lines = ["def example_inputs(batch_size: int = 2) -> tuple[torch.Tensor, ...]:",
             '    """Inputs with the shapes and types the model was designed for (random floats, zero ids)."""']
    made = []
    for _, arg in plan.inputs:
        shape, dtype = plan.input_info.get(arg, ((), "float32"))
        dims = ", ".join(["batch_size", *(str(int(d)) for d in shape)])
        if dtype in ("float32",):
            made.append(f"torch.randn({dims})")
        elif dtype in ("float64", "float16", "bfloat16"):
            made.append(f"torch.randn({dims}, dtype=torch.{dtype})")
        else:
            made.append(f"torch.zeros({dims}, dtype=torch.{identifier(dtype, 'float32')})")
    lines.append(f"    return ({', '.join(made)}{',' if len(made) == 1 else ''})")
    lines += ["", "", 'if __name__ == "__main__":', f"    model = {plan.class_name}()",
              "    print(model)", "    print(model(*example_inputs()))"]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------- project


def module_names(project: Project) -> dict[str, str]:
    """File stem (= weights prefix = module name) per graph id; the rule is in :mod:`export_names`."""
    from studio.compile.export_names import graph_stems

    return graph_stems(project)


def _stale_prefixes(path: str | PathLike, names: dict[str, str]) -> bool:
    """Does a weights file record a graph under another prefix than the export's file stem?"""
    import json

    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            recorded = json.loads((handle.metadata() or {}).get("graphs", "{}"))
    except Exception:  # unreadable files are reported by the weights loader, not here
        return False
    if not isinstance(recorded, dict):
        return False
    return any(isinstance(v, dict) and v.get("id") in names and names[v["id"]] != prefix
               for prefix, v in recorded.items())


def export_project(project: Project, registry: Registry, out_dir: str | Path,
                   weights: Any = None, graphs: Iterable[str] | None = None,
                   project_path: str | Path | None = None) -> list[Path]:
    """Write ``<graph>.py`` per graph, plus ``weights.safetensors`` when there are weights.

    ``weights`` is {graph name: module or state_dict} or a path to a weights file; when it is None
    and ``project_path`` has a ``<project>.weights.safetensors`` beside it, that file is copied.
    Load them in the export with ``Model().load_weights("weights.safetensors")``.
    """
    if weights is None and project_path is not None:
        from studio.compile.weights import weights_path

        beside = weights_path(project_path)
        weights = beside if beside.is_file() else None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = module_names(project)
    wanted = set(graphs) if graphs is not None else None
    written: list[Path] = []
    for graph in project.graphs:
        if wanted is not None and graph.name not in wanted and graph.id not in wanted:
            continue
        exported = export_graph(graph, registry, weights_prefix=names[graph.id])
        path = out / f"{names[graph.id]}.py"
        path.write_bytes(exported.code.encode("utf-8"))
        written.append(path)
    if weights is not None:
        from studio.compile.weights import WEIGHTS_EXPORT_NAME, copy_or_save_weights, load_weights

        if isinstance(weights, str | PathLike) and _stale_prefixes(weights, names):
            # re-key by graph id: the file carries older prefixes (a renamed graph) than the export's stems
            weights = load_weights(project, weights) or weights
        written.append(copy_or_save_weights(project, weights, out / WEIGHTS_EXPORT_NAME))
    return written
