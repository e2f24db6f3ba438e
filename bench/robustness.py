"""Loading and checking large project files: 2k / 4k / 8k / 16k / 60k nodes.

Target (issue 16): ``nnstudio check`` of a 60k-node file in at most 2 s. Two kinds of file:
``chain`` (Input -> Linear/ReLU ... -> Output, unique names, as the app saves them) and
``loose`` (the 2 MB hostile file: 60k unconnected nodes of one type, no names). The old
quadratic name allocation is measured side by side on the smaller files, for the ratio.
Times are CPU seconds of this process (the machine is shared; wall time is shown too).
Run: python -m bench.robustness
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SIZES = (2_000, 4_000, 8_000, 16_000, 60_000)
TARGET_S = 2.0


def loose_nodes(n: int) -> bytes:
    """n unconnected nodes in ~35 bytes each (a 60k-node file is 2 MB)."""
    return json.dumps({"format": "nnstudio.project", "version": 2,
                       "graphs": [{"id": "g", "nodes": [{"id": str(i), "type": "nn.relu"} for i in range(n)]}]}).encode()


def chain(n: int) -> bytes:
    """Input -> (Linear, ReLU) * ... -> Output with n nodes and unique names, as the app saves them."""
    nodes = [{"id": "n0", "type": "io.input", "name": "x", "params": {"shape": [8]}, "position": [0, 0]}]
    for i in range(1, n - 1):
        kind = "nn.linear" if i % 2 else "nn.relu"
        record = {"id": f"n{i}", "type": kind, "name": f"{kind[3:]}_{i}", "position": [i * 10.0, 0.0]}
        if kind == "nn.linear":
            record["params"] = {"out_features": 8}
        nodes.append(record)
    nodes.append({"id": f"n{n - 1}", "type": "io.output", "name": "output", "position": [n * 10.0, 0.0]})
    edges = [{"id": f"e{i}", "from": {"node": f"n{i - 1}", "port": "out"}, "to": {"node": f"n{i}", "port": "in"}}
             for i in range(1, n)]
    return json.dumps({"format": "nnstudio.project", "version": 2, "name": "chain",
                       "graphs": [{"id": "g", "name": "model", "nodes": nodes, "edges": edges}]}).encode()


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def _check(path: Path) -> int:
    from studio.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(["check", str(path)])


def _old_unique_name(self, base: str, exclude: str | None = None) -> str:
    """The name allocation before issue 16: the set of names rebuilt for every call (O(n) each)."""
    from studio.core.model import identifier

    base = identifier(base)
    taken = {n.name for n in self.nodes.values() if n.id != exclude}
    if base not in taken:
        return base
    i = 1
    while f"{base}_{i}" in taken:
        i += 1
    return f"{base}_{i}"


def measure(sizes: tuple[int, ...] = SIZES, baseline_up_to: int = 8_000) -> list[dict]:
    import torch

    from studio.catalog import default_registry
    from studio.core.model import Graph
    from studio.io.project_file import load_project

    torch.set_num_threads(1)
    registry = default_registry()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, make in (("chain", chain), ("loose", loose_nodes)):
            for n in sizes:
                path = Path(tmp) / f"{kind}{n}.nnstudio"
                path.write_bytes(make(n))
                _check(path)  # warm: imports, registry, shape memo of the first layers
                load_cpu, load_wall = min(_timed(lambda p=path: load_project(p, registry)) for _ in range(2))
                check_cpu, check_wall = min(_timed(lambda p=path: _check(p)) for _ in range(2))
                row = {"kind": kind, "nodes": n, "mb": path.stat().st_size / 2 ** 20, "load_cpu": load_cpu,
                       "load_wall": load_wall, "check_cpu": check_cpu, "check_wall": check_wall, "old_load_cpu": None}
                if n <= baseline_up_to and kind == "loose":
                    new = Graph.unique_name
                    Graph.unique_name = _old_unique_name
                    try:
                        row["old_load_cpu"] = _timed(lambda p=path: load_project(p, registry))[0]
                    finally:
                        Graph.unique_name = new
                rows.append(row)
                old = f", old names {row['old_load_cpu']:.2f} s" if row["old_load_cpu"] is not None else ""
                print(f"{kind:5} {n:>6} nodes ({row['mb']:.1f} MB): load {load_cpu:.2f} s, check {check_cpu:.2f} s "
                      f"CPU (wall {check_wall:.2f} s){old}", flush=True)
    return rows


def markdown(rows: list[dict], load_average: float | None = None) -> str:
    busy = (f" During this run the machine's load average was {load_average:.1f} on {os.cpu_count()} cores, "
            "so wall times are several times the CPU times." if load_average is not None else "")
    lines = [
        "Load and `nnstudio check` (in-process, including its own load, output discarded) of generated files. "
        "`chain`: Input → Linear/ReLU … → Output with unique names, as the app saves them; `loose`: the "
        "hostile 2 MB file of issue 16 (unconnected nodes of one type, no names, so every name is allocated). "
        "CPU seconds of the process, best of two (the 2 cores are shared, so wall time is also shown). "
        "*old names*: loading with the previous name allocation (the set of names rebuilt for each node)." + busy,
        "",
        "| file | nodes | MB | load (s CPU) | check (s CPU) | check (s wall) | load with old names (s CPU) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        old = f"{r['old_load_cpu']:.2f}" if r["old_load_cpu"] is not None else "–"
        lines.append(f"| {r['kind']} | {r['nodes']:,} | {r['mb']:.1f} | {r['load_cpu']:.2f} | {r['check_cpu']:.2f} | "
                     f"{r['check_wall']:.2f} | {old} |")
    worst = max(r["check_cpu"] for r in rows if r["nodes"] == max(x["nodes"] for x in rows))
    verdict = "met" if worst <= TARGET_S else "missed"
    lines += ["", f"Target: checking a 60k-node file ≤ {TARGET_S:g} s — {verdict} (worst {worst:.2f} s CPU)."]
    return "\n".join(lines)


def main() -> None:
    from bench.report import write_section

    rows = measure()
    write_section("Robustness: large files", markdown(rows, os.getloadavg()[0]))


if __name__ == "__main__":
    main()
