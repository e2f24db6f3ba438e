"""Editor benchmark: open a 1,000-node project, repaint while panning, launch to window shown;
and open 2k / 16k / 60k-node projects in the main window.

Run: ``python -m bench.editor`` (offscreen Qt). Prints the figures and rewrites the "Editor"
and "Editor: opening big projects" sections of docs/benchmarks.md; ``--big`` measures only the
big projects (each size in a fresh process).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
FRAMES = 60
BIG_SIZES = (2_000, 16_000, 60_000)
BIG_TARGET_S = 10.0


def _process(app) -> None:
    for _ in range(3):
        app.processEvents()


def launch_times(runs: int = 3) -> dict[str, float]:
    """Seconds from starting ``python -m studio`` to the window shown / the layers loaded (median of runs)."""
    out: dict[str, list[float]] = {"shown": [], "ready": []}
    with tempfile.TemporaryDirectory() as config:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", NNSTUDIO_CONFIG_DIR=config,
                   PYTHONPATH=str(ROOT))
        for probe in ("shown", "ready"):
            for _ in range(runs):
                env["NNSTUDIO_STARTUP_PROBE"] = probe
                t0 = time.perf_counter()
                proc = subprocess.Popen([sys.executable, "-m", "studio"], cwd=ROOT, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                assert proc.stdout is not None
                for line in proc.stdout:
                    if line.startswith(probe):
                        out[probe].append(time.perf_counter() - t0)
                        break
                proc.wait(timeout=120)
    return {k: statistics.median(v) for k, v in out.items() if v}


def frame_times(app, view, frames: int = FRAMES, step: float = 7.0) -> list[float]:
    """Milliseconds per full repaint of the viewport into an image, scrolling ``step`` px between frames."""
    from PySide6.QtGui import QImage

    viewport = view.viewport()
    image = QImage(viewport.size() * viewport.devicePixelRatio(), QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(viewport.devicePixelRatio())
    times, cpu = [], []
    for i in range(frames + 5):
        view.pan(step if (i // 20) % 2 == 0 else -step, step / 3)
        t0, c0 = time.perf_counter(), time.thread_time()
        viewport.render(image)
        dt, dc = (time.perf_counter() - t0) * 1000, (time.thread_time() - c0) * 1000
        if i >= 5:  # the first frames fill the item caches
            times.append(dt)
            cpu.append(dc)
    frame_times.cpu = cpu  # CPU time of the same frames: less noisy on a shared machine
    return times


def progress_timers(window) -> list:
    """The window's pending one-shot timers (panel refreshes waiting to run)."""
    from PySide6.QtCore import QTimer

    return [t for t in window.findChildren(QTimer) if t.isSingleShot()]


def open_big(n: int) -> dict[str, float]:
    """Open an n-node chain file (as bench.robustness writes it) in the main window, the way File ▸ Open
    does, until the canvas holds every item and the first frame is painted. Wall and main-thread CPU
    seconds, and the longest the event loop waited while the canvas was built."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    import torch

    import studio.ui.canvas.scene as scene_module
    from bench.robustness import chain
    from studio.catalog import default_registry
    from studio.ui import gc_guard, theme
    from studio.ui.canvas import progress
    from studio.ui.document import Document
    from studio.ui.main_window import MainWindow

    torch.set_num_threads(1)
    theme.apply_theme(app, "dark")
    gc_guard.install(app)  # garbage collected as in the app: on the GUI thread's timer
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NNSTUDIO_CONFIG_DIR"] = tmp
        window = MainWindow(Document(default_registry()), restore_state=False)
        window.files.autosave_enabled = False
        window.files.ask_unsaved = lambda _title, _text: "discard"
        window.resize(1600, 1000)
        window.show()
        warm = Path(tmp) / "warm.nnstudio"
        warm.write_bytes(chain(50))
        window.files.open(warm)  # imports, registry, the shape memo of the first layers
        _process(app)
        path = Path(tmp) / f"chain{n}.nnstudio"
        path.write_bytes(chain(n))
        reports: list[float] = []
        real_report = progress.report

        def report(done: int, total: int) -> None:
            reports.append(time.perf_counter())
            real_report(done, total)

        scene_module.report = report
        # a 10 ms ticker: the gaps between its ticks are the stretches the event loop could not run
        ticks: list[float] = []
        ticker = QTimer()
        ticker.setInterval(10)
        ticker.timeout.connect(lambda: ticks.append(time.perf_counter()))
        ticker.start()
        t0, c0, p0 = time.perf_counter(), time.thread_time(), time.process_time()
        window.files.open(path)
        t_open = time.perf_counter()
        view = window.current_view()
        view.graph_scene.flush()
        _process(app)
        view.viewport().repaint()
        _process(app)
        t1, c1, p1 = time.perf_counter(), time.thread_time(), time.process_time()
        items = len(view.graph_scene.nodes)
        # then the panels (summary, problems, code) refresh, their timers held back during the build
        settle = t1 + len(progress_timers(window)) * progress.STAGGER_MS / 1000 + 0.4
        while time.perf_counter() < settle or any(t.isActive() for t in progress_timers(window)):
            app.processEvents()
            time.sleep(0.002)
            if time.perf_counter() > t1 + 120:
                break
        t2, c2 = time.perf_counter(), time.thread_time()
        ticker.stop()
        gaps = [b - a for a, b in zip([t0, *ticks], [*ticks, t2], strict=True)]
        window.close()
    return {"nodes": n, "items": items, "wall_s": t1 - t0, "cpu_s": c1 - c0, "process_cpu_s": p1 - p0,
            "panels_wall_s": t2 - t0, "panels_cpu_s": c2 - c0, "open_call_s": t_open - t0,
            "longest_wait_s": max(gaps), "reports": len(reports)}


def big_times(sizes: tuple[int, ...] = BIG_SIZES) -> list[dict[str, float]]:
    """open_big for each size in its own process (a 60k-node window does not slow the next size)."""
    rows = []
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    for n in sizes:
        out = subprocess.run([sys.executable, "-m", "bench.editor", "--open-one", str(n)], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=1800)
        line = [x for x in out.stdout.splitlines() if x.startswith("{")]
        if not line:
            raise RuntimeError(f"opening {n} nodes failed: {out.stderr.strip().splitlines()[-1:]}")
        row = json.loads(line[-1])
        rows.append(row)
        print(f"{n:>6} nodes: {row['wall_s']:.2f} s wall, {row['cpu_s']:.2f} s CPU, panels done "
              f"{row['panels_wall_s']:.2f} s wall, longest wait {row['longest_wait_s']:.2f} s", flush=True)
    return rows


def big_markdown(rows: list[dict[str, float]]) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "A chain file (`bench.robustness.chain`: Input → Linear/ReLU … → Output) opened with File ▸ Open in "
        "the main window (1600×1000, offscreen Qt), until every node and wire has its canvas item and the "
        f"first frame is painted; each size in a fresh process. Load average {load:.1f} on {os.cpu_count()} "
        "cores at the end of the run: on a shared machine the wall time stretches, the main thread's CPU "
        "time less so.",
        "",
        "| Nodes | Canvas built, first frame: wall (main-thread CPU) | Panels refreshed too: wall (CPU) "
        "| Longest stretch the event loop could not run | Target |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        target = f"≤ {BIG_TARGET_S:g} s" if row["nodes"] >= 60_000 else ""
        lines.append(f"| {row['nodes']:,} | {row['wall_s']:.2f} s ({row['cpu_s']:.2f} s) | "
                     f"{row['panels_wall_s']:.2f} s ({row['panels_cpu_s']:.2f} s) | "
                     f"{row['longest_wait_s']:.2f} s | {target} |")
    lines += ["", "Above 5,000 nodes a progress dialog counts the items while they are built and the event loop "
              "runs every 2,000 items (window painted, input held until the canvas is whole). The longest stretch "
              "is the widest gap between the ticks of a 10 ms timer from File ▸ Open to the first frame (reading "
              "the file, a panel's refresh over every node and the first paint each run in one piece)."]
    return "\n".join(lines)


def big_main() -> int:
    from bench.report import write_section

    text = big_markdown(big_times())
    print(text)
    write_section("Editor: opening big projects", text)
    return 0


def main() -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from studio.catalog import default_registry
    from studio.core.ops import SetParam
    from studio.io.project_file import save_project
    from studio.ui import theme
    from studio.ui.document import Document
    from studio.ui.main_window import MainWindow
    from tools.demo import big_project

    theme.apply_theme(app, "dark")
    registry = default_registry()
    project = big_project(registry, 1000)
    n_nodes = len(project.main_graph.nodes)
    n_edges = len(project.main_graph.edges)
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NNSTUDIO_CONFIG_DIR"] = tmp
        path = save_project(project, Path(tmp) / "big.nnstudio", registry)
        window = MainWindow(Document(registry), restore_state=False)
        window.files.autosave_enabled = False
        window.files.ask_unsaved = lambda _title, _text: "discard"
        window.resize(1600, 1000)
        window.show()
        _process(app)
        # warm torch's lazily imported meta-tensor code first, as the app's loader thread does at start
        from studio.core.shapes import ShapeInferencer

        ShapeInferencer(registry).infer(big_project(registry, 40).main_graph)
        t0 = time.perf_counter()
        from studio.io.project_file import load_project

        loaded = load_project(path, registry)
        t_read = time.perf_counter()
        window.document.replace_project(loaded, path)  # builds the items and infers every node's shapes
        view = window.current_view()
        view.graph_scene.flush()
        t_loaded = t_shapes = time.perf_counter()
        results["open_read_s"] = t_read - t0
        view.fit()
        view.viewport().repaint()
        _process(app)
        t_shown = time.perf_counter()
        results["open_total_s"] = t_shown - t0
        results["open_build_s"] = t_loaded - t_read
        results["open_first_frame_s"] = t_shown - t_shapes

        full = frame_times(app, view)
        results["zoom_full"] = view.zoom_level()
        results["pan_full_median_ms"] = statistics.median(full)
        results["pan_full_p95_ms"] = sorted(full)[int(len(full) * 0.95) - 1]
        results["pan_full_cpu_ms"] = statistics.median(frame_times.cpu)
        view.resetTransform()
        view.centerOn(600, 600)
        close = frame_times(app, view)
        results["pan_1to1_median_ms"] = statistics.median(close)
        results["pan_1to1_p95_ms"] = sorted(close)[int(len(close) * 0.95) - 1]
        results["pan_1to1_cpu_ms"] = statistics.median(frame_times.cpu)
        view.resetTransform()
        view.scale(0.5, 0.5)
        mid = frame_times(app, view)
        results["pan_half_median_ms"] = statistics.median(mid)
        results["pan_half_p95_ms"] = sorted(mid)[int(len(mid) * 0.95) - 1]
        results["pan_half_cpu_ms"] = statistics.median(frame_times.cpu)

        graph = window.document.project.main_graph
        first_linear = next(n for n in graph.nodes.values() if n.type_id == "nn.linear")
        t0 = time.perf_counter()
        window.document.push(SetParam(graph.id, first_linear.id, "out_features", 48))
        view.graph_scene.flush()
        results["edit_reshape_ms"] = (time.perf_counter() - t0) * 1000
        assert window.document.dirty  # autosave writes only unsaved work
        window.files.autosave_enabled = True
        t0 = time.perf_counter()
        for _ in range(5):
            window.files._autosaved_state = None  # force a real write each time
            window.files.autosave()
        results["autosave_ms"] = (time.perf_counter() - t0) * 1000 / 5
        assert window.files.recovery_path.is_file()
        window.files.autosave_enabled = False
        window.files.discard_recovery()
        window.edit.select_all()
        t0 = time.perf_counter()
        window.edit.delete_selection()
        _process(app)
        results["delete_all_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        window.document.undo_stack.undo()
        view.graph_scene.flush()
        _process(app)
        results["undo_delete_all_s"] = time.perf_counter() - t0
        window.close()
    results.update({f"launch_{k}_s": v for k, v in launch_times().items()})

    lines = [
        f"Project: {n_nodes} nodes, {n_edges} wires (10 Linear/ReLU chains wrapped into a square block); "
        "window 1600×1000, offscreen Qt; a 2-core machine shared with other jobs, so expect noise.",
        "",
        "| What | Figure | Target |",
        "|---|---|---|",
        f"| Open the 1,000-node project (read + build items + shapes + first frame) | "
        f"{results['open_total_s']:.2f} s | |",
        f"| · read and check the file | {results['open_read_s']:.2f} s | |",
        f"| · build the items and infer every node's shapes (meta tensors) | {results['open_build_s']:.2f} s | |",
        f"| · panels refresh (summary, problems, code) and first full frame | {results['open_first_frame_s'] * 1000:.0f} ms | |",
        f"| Pan, whole graph in view (zoom {results['zoom_full']:.2f}): frame median / p95 wall (CPU median) | "
        f"{results['pan_full_median_ms']:.1f} / {results['pan_full_p95_ms']:.1f} ms "
        f"({results['pan_full_cpu_ms']:.1f} ms) | ≤ 16 ms |",
        f"| Pan at 50 % zoom: frame median / p95 wall (CPU median) | {results['pan_half_median_ms']:.1f} / "
        f"{results['pan_half_p95_ms']:.1f} ms ({results['pan_half_cpu_ms']:.1f} ms) | ≤ 16 ms |",
        f"| Pan at 100 % zoom: frame median / p95 wall (CPU median) | {results['pan_1to1_median_ms']:.1f} / "
        f"{results['pan_1to1_p95_ms']:.1f} ms ({results['pan_1to1_cpu_ms']:.1f} ms) | ≤ 16 ms |",
        f"| Edit a param at the head of a 100-node chain → shapes + items updated | "
        f"{results['edit_reshape_ms']:.0f} ms | |",
        f"| Select all, delete 1,000 nodes (one undo step) / undo it | {results['delete_all_s']:.2f} s / "
        f"{results['undo_delete_all_s']:.2f} s | |",
        f"| Autosave of the 1,000-node project (runs after every action) | {results['autosave_ms']:.0f} ms | |",
        f"| Launch → window shown (`python -m studio`, median of 3) | "
        f"{results.get('launch_shown_s', float('nan')):.2f} s | < 1.5 s |",
        f"| Launch → layers loaded, editor ready (torch and its lazy meta-tensor imports, on a thread) | "
        f"{results.get('launch_ready_s', float('nan')):.2f} s | |",
        "",
        "Frames are full repaints of the viewport into a QImage (`viewport().render`), scrolling 7 px "
        "between frames; node painting is cached per item (DeviceCoordinateCache) and drops to plain boxes "
        "below 35 % zoom, where all wires are stroked as one path by the view instead of ~1,000 items; wire "
        "labels show from 55 %. CPU time is the main thread's own time per frame (other jobs on the machine "
        "stretch the wall time).",
    ]
    text = "\n".join(lines)
    print(text)
    from bench.report import write_section

    write_section("Editor", text)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--open-one"]:
        print(json.dumps(open_big(int(sys.argv[2]))), flush=True)
        os._exit(0)  # skip tearing down 120k items
    if sys.argv[1:2] == ["--big"]:
        sys.exit(big_main())
    code = main()
    big_main()
    sys.exit(code)
