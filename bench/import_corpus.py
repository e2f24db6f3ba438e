"""Import corpus: every torchvision classification and segmentation model plus well-known example models.

For each model (random weights, small inputs, CPU): import -> compile -> outputs equal the original's
exactly (max |Δ| = 0, eval and train mode, same seed) -> compiled state_dict keys equal the original's
-> export -> the exported class loads ``original.state_dict()`` with ``strict=True`` and gives the
same outputs -> the export imports back complete. Also the import time of a ~300-node model.

    python -m bench.import_corpus [--quick] [names...]

Writes the sections ``import_corpus`` and ``import_time`` of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from bench.report import write_section
from studio.catalog import default_registry
from studio.compile.compiler import compile_graph
from studio.compile.importer import import_module, imported_state_dict
from tests.compile.corpus_models import EXAMPLES, TORCHVISION_TESTED, torchvision_case

#: above this many parameters a model is left out (three copies must fit a shared benchmark machine)
MAX_PARAMS = 200_000_000
TRAIN_EXTRA_OUTPUTS = {"googlenet", "inception_v3"}


@dataclass
class Row:
    name: str
    nodes: int = 0
    import_s: float = 0.0
    parity: bool = False
    keys: bool = False
    export: bool = False
    failures: list[str] = field(default_factory=list)

    @property
    def round_trip(self) -> bool:
        return self.parity and self.keys and self.export


def _flat(value: Any) -> list[torch.Tensor]:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, tuple | list):
        return [t for item in value for t in _flat(item)]
    return [value]


def _same(a: Any, b: Any) -> bool:
    fa, fb = _flat(a), _flat(b)
    return len(fa) == len(fb) and all(torch.equal(x, y) for x, y in zip(fa, fb, strict=True))


def _case(name: str) -> tuple[torch.nn.Module, list, list, list]:
    for example, factory, shapes, kind in EXAMPLES:
        if example == name:
            torch.manual_seed(0)
            model = factory()
            torch.manual_seed(11)
            xs = [torch.randint(0, 50, s) if kind == "tokens" and i == 0 else torch.randn(s)
                  for i, s in enumerate(shapes)]
            if name == "word_lm_lstm":
                return model, [xs[0], (xs[1], xs[2])], [shapes[0], [shapes[1], shapes[2]]], xs
            return model, xs, list(shapes), xs
    torch.manual_seed(0)
    model, shape = torchvision_case(name)
    x = torch.randn(shape)
    return model, [x], [shape], [x]


def _load_export(code: str, class_name: str) -> torch.nn.Module:
    folder = Path(tempfile.mkdtemp(prefix="nnstudio_corpus_"))
    path = folder / f"exported_{uuid.uuid4().hex[:8]}.py"
    path.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return getattr(module, class_name)()


def check(name: str) -> Row:
    """One corpus entry; every failed step is recorded with its reason (the first line of the error)."""
    from studio.compile.exporter import export_graph

    registry = default_registry()
    row = Row(name)
    model, args, shapes, graph_inputs = _case(name)
    if sum(p.numel() for p in model.parameters()) > MAX_PARAMS:
        row.failures.append(f"skipped: over {MAX_PARAMS // 1_000_000}M parameters")
        return row
    model.eval()
    try:
        start = time.perf_counter()
        graph, report = import_module(model, registry, shapes, name=name)
        row.import_s = time.perf_counter() - start
        row.nodes = len(graph.nodes)
        if not report.complete:
            row.failures.append("opaque: " + "; ".join(f"{o.name}: {o.reason}" for o in report.opaque[:3]))
            return row
        compiled = compile_graph(graph, registry)
        compiled.load_state_dict(imported_state_dict(graph, registry, report))
    except Exception as exc:  # noqa: BLE001 - a benchmark records the reason and goes on
        row.failures.append(f"import/compile: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
        return row
    row.parity = True
    for training in (False, True):
        if training and name in TRAIN_EXTRA_OUTPUTS:
            continue
        model.train(training)
        compiled.train(training)
        with torch.no_grad():
            torch.manual_seed(3)
            expected = model(*args)
            torch.manual_seed(3)
            got = compiled(*graph_inputs)
        if not _same(got, expected):
            row.parity = False
            row.failures.append(f"outputs differ in {'train' if training else 'eval'} mode")
    model.eval()
    missing = set(model.state_dict()) - set(compiled.state_dict())
    row.keys = not missing and set(compiled.state_dict()) == set(model.state_dict())
    if not row.keys:
        params = {report.origin[n.id] for n in graph.nodes.values() if n.type_id == "generic.parameter"}
        aux = {k for k in missing if k.split(".")[0] in ("aux1", "aux2", "AuxLogits")}
        why = []
        if missing & params:
            why.append(f"{len(missing & params)} parameters used directly in forward have paths longer than a "
                       "node name may be (64 characters), so their keys are shortened")
        if aux:
            why.append(f"{len(aux)} keys of auxiliary heads that run only in training mode (the graph is traced "
                       "in eval mode)")
        other = missing - params - aux
        if other or not why:
            why.append(f"{len(other)} other original keys missing, e.g. {sorted(other)[:1]}")
        row.failures.append("state_dict keys differ: " + "; ".join(why))
    try:
        exported = export_graph(graph, registry)
        rebuilt = _load_export(exported.code, exported.class_name).eval()
        rebuilt.load_state_dict(model.state_dict(), strict=True)
        with torch.no_grad():
            torch.manual_seed(3)
            mine = rebuilt(*graph_inputs)
            torch.manual_seed(3)
            same = _same(mine, model(*args))
        back, back_report = import_module(rebuilt, registry, shapes, name=name)
        row.export = same and back_report.complete
        if not same:
            row.failures.append("exported class: outputs differ")
        if not back_report.complete:
            row.failures.append("export does not import back completely")
    except Exception as exc:  # noqa: BLE001
        if not (row.keys is False and "state_dict" in str(exc)):  # the key gap above already says why
            row.failures.append(f"export: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
    return row


def corpus_names(quick: bool) -> list[str]:
    from torchvision import models

    names = [e[0] for e in EXAMPLES]
    if quick:
        return names + list(TORCHVISION_TESTED)
    return names + models.list_models(module=models) + models.list_models(module=models.segmentation)


def import_time(name: str = "densenet121", repeats: int = 3) -> tuple[int, float, float]:
    """Nodes, the first import's seconds and the best of ``repeats`` more (one thread)."""
    registry = default_registry()
    model, _, shapes, _ = _case(name)
    model.eval()
    start = time.perf_counter()
    import_module(model, registry, shapes)  # the first: torch's meta kernels, the registry's mapper
    first = time.perf_counter() - start
    best = float("inf")
    nodes = 0
    for _ in range(repeats):
        start = time.perf_counter()
        graph, _ = import_module(model, registry, shapes)
        best = min(best, time.perf_counter() - start)
        nodes = len(graph.nodes)
    return nodes, first, best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the models the test suite checks")
    parser.add_argument("--time-only", action="store_true", help="only the import time section")
    parser.add_argument("names", nargs="*")
    options = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    if options.time_only:
        _write_time()
        return
    names = options.names or corpus_names(options.quick)
    rows = []
    for name in names:
        row = check(name)
        rows.append(row)
        status = "ok" if row.round_trip else "; ".join(row.failures)
        print(f"{name:32s} {row.nodes:4d} nodes {row.import_s:6.2f}s  {status}", flush=True)
    measured = [r for r in rows if not any(f.startswith("skipped") for f in r.failures)]
    parity = sum(r.parity for r in measured)
    full = sum(r.round_trip for r in measured)
    keys = sum(r.parity and r.keys for r in measured)
    lines = [
        f"{len(measured)} models (every torchvision classification and segmentation model, weights=None, plus "
        f"{len(EXAMPLES)} example models), CPU, small inputs, one thread.",
        "",
        "| step | models | share |",
        "|---|---|---|",
        f"| import complete, compiled outputs exactly equal (eval and train) | {parity} | "
        f"{100 * parity / max(1, len(measured)):.0f} % |",
        f"| ... and compiled state_dict keys equal the original's | {keys} | {100 * keys / max(1, len(measured)):.0f} % |",
        f"| ... and export loads `original.state_dict()` strictly, same outputs, imports back | {full} | "
        f"{100 * full / max(1, len(measured)):.0f} % |",
        "",
        "Every model that does not make the full round trip, and why:",
        "",
    ]
    lines += [f"- `{r.name}`: {'; '.join(r.failures)}" for r in rows if not r.round_trip]
    write_section("import_corpus", "\n".join(lines))
    _write_time()


def _write_time() -> None:
    nodes, first, best = import_time()
    text = (f"Importing densenet121 ({nodes} nodes: trace, map, shape inference, layout; 3×64×64 input, one "
            f"thread) takes {first:.2f} s as the first import in a fresh process and {best:.2f} s after it "
            "(best of 3); target ≤ 2 s for a 300-node model.")
    print(text)
    write_section("import_time", text)


if __name__ == "__main__":
    main()
