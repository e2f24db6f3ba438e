"""GUI responsiveness and throughput while training from the editor: ``python -m bench.gui_training``.

Trains a template (shortened) twice headless (the engine's loop on this thread, no Qt) and twice
from the training panel of an offscreen editor window, alternating. During the GUI runs a 16 ms
``Qt.PreciseTimer`` records how late each tick fires (lateness = interval − 16 ms): the GUI
thread is responsive when p99 < 50 ms and max < 100 ms. Throughput is samples per second between
the ``started`` and the final update (setup excluded) in both modes; target GUI/headless ≥ 0.95.
The same timer also runs while the classroom's Play button plays the run with the Live view shown:
at full speed (a whole run) and in slow motion (20 steps/s and 1 step/s, where every step's curves
and views are drawn; a fixed stretch of each, then Stop). Writes the "GUI training" section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TEMPLATE = "conv_autoencoder"
OVERRIDES = {"epochs": 3, "steps_per_epoch": 40}


def load_project(registry, template: str, overrides: dict):
    from studio.io.templates import load_template

    project = load_template(template, registry)
    project.training.update(overrides)
    return project


def throughput(started, final, batch: int) -> float:
    steps = final.step - started.step
    seconds = final.elapsed_s - started.elapsed_s
    return steps * batch / seconds if seconds > 0 else 0.0


def headless(project, registry, batch: int) -> tuple[float, object]:
    from studio.train.engine import run

    started = final = None
    for u in run(project.snapshot(), registry, throttle_s=0.04):
        if u.kind == "started":
            started = u
        final = u
    assert started is not None and final is not None and final.kind == "done", getattr(final, "message", "")
    return throughput(started, final, batch), final


gui_cpu: list[float] = []  # share of one core the GUI thread used during each GUI run
play_cpu: dict[str, list[float]] = {}  # the same for each Play mode


def gui(app, window, project, batch: int, start=None, seconds: float | None = None,
        tab: str = "plots", mode: str = "") -> tuple[float, list[float], object]:
    """One run from the panel (``start(panel)`` starts it: Train by default), the timer's lateness during it.

    ``seconds``: stop the run after that long (slow motion never finishes a whole run in a bench)."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    panel = window.training_panel
    window.document.replace_project(project)
    panel.tabs.setCurrentWidget(getattr(panel, tab))
    lateness: list[float] = []
    started: list = []
    state = {"last": None, "on": False}

    def tick() -> None:
        now = time.perf_counter()
        if state["on"] and state["last"] is not None:
            lateness.append(max(0.0, now - state["last"] - 0.016) * 1000)
        state["last"] = now

    def on_updates(updates) -> None:
        for u in updates:
            if u.kind == "started":
                started.append(u)
                state["on"] = True
                if seconds is not None:
                    QTimer.singleShot(int(seconds * 1000), panel.stop_training)

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(16)
    timer.timeout.connect(tick)
    timer.start()
    finals: list = []
    loop = QEventLoop()
    panel.finished.connect(finals.append)
    panel.finished.connect(loop.quit)
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    (start or (lambda p: p.start_training()))(panel)
    panel.session.updates.connect(on_updates)
    loop.exec()
    share = (time.thread_time() - cpu0) / (time.perf_counter() - wall0)  # the GUI thread sleeps until there is work
    (play_cpu.setdefault(mode, []) if mode else gui_cpu).append(share)
    panel.finished.disconnect(loop.quit)
    state["on"] = False
    timer.stop()
    panel.finished.disconnect(finals.append)
    final = finals[0]
    assert final.kind == ("cancelled" if seconds is not None else "done"), final.message
    return throughput(started[0], final, batch), lateness, final


def play(speed: int):
    """Start by the Play button at slider position ``speed`` (0: full speed; see classroom.SPEEDS)."""

    def start(panel) -> None:
        panel.step_bar.speed.setValue(speed)
        panel.step_bar.play_button.click()

    return start


#: (label, speed slider position, seconds of play or None for a whole run)
PLAY_MODES = (("Play, full speed", 0, None), ("Play, slow motion 20 steps/s", 1, 6.0),
              ("Play, slow motion 1 step/s", 4, 8.0))


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))] if s else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--template", default=TEMPLATE)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--play-rounds", type=int, default=2, help="rounds of each Play mode")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    import tempfile

    os.environ.setdefault("NNSTUDIO_RUNS_DIR", tempfile.mkdtemp(prefix="nnstudio-bench-runs-"))
    os.environ.setdefault("NNSTUDIO_CONFIG_DIR", tempfile.mkdtemp(prefix="nnstudio-bench-config-"))
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from studio.catalog import default_registry
    from studio.ui.document import Document
    from studio.ui.main_window import MainWindow

    registry = default_registry()
    project = load_project(registry, args.template, OVERRIDES)
    batch = int(project.training.get("batch_size", 64))
    window = MainWindow(Document(registry), restore_state=False)
    window.resize(1500, 1000)
    window.show()
    app.processEvents()
    # warm-up (imports, first compile) so neither mode pays it
    headless(load_project(registry, args.template, {"epochs": 1, "steps_per_epoch": 3}), registry, batch)

    load_before = os.getloadavg()[0]
    head_rates, gui_rates, late_all = [], [], []
    final = None
    for _ in range(args.rounds):
        rate, final = headless(project, registry, batch)
        head_rates.append(rate)
        rate, late, _final = gui(app, window, load_project(registry, args.template, OVERRIDES), batch)
        gui_rates.append(rate)
        late_all.extend(late)
    played: dict[str, list[float]] = {label: [] for label, _s, _t in PLAY_MODES}
    steps_seen: dict[str, list[int]] = {label: [] for label, _s, _t in PLAY_MODES}
    for _ in range(args.play_rounds):
        for label, speed, seconds in PLAY_MODES:
            _rate, late, final_play = gui(app, window, load_project(registry, args.template, OVERRIDES), batch,
                                          start=play(speed), seconds=seconds, tab="views", mode=label)
            played[label].extend(late)
            steps_seen[label].append(final_play.step)
    window.training_panel.step_bar.speed.setValue(0)
    window.files.autosave_enabled = False
    window.document.undo_stack.setClean()
    window.close()

    load_after = os.getloadavg()[0]
    h, g = statistics.median(head_rates), statistics.median(gui_rates)
    p50, p99, mx = percentile(late_all, 50), percentile(late_all, 99), max(late_all or [0.0])
    ratio = g / h if h else 0.0
    steps = final.step if final is not None else 0
    print(f"template {args.template} {OVERRIDES}: {steps} steps per run, batch {batch}")
    print(f"headless {h:,.0f} samples/s {[round(r) for r in head_rates]}")
    print(f"GUI      {g:,.0f} samples/s {[round(r) for r in gui_rates]}  ratio {ratio:.3f} (target >= 0.95)")
    print(f"GUI thread CPU during GUI runs: {[round(100 * c) for c in gui_cpu]} % of a core")
    print(f"16 ms timer lateness over {len(late_all)} ticks: p50 {p50:.1f} ms, p99 {p99:.1f} ms (target < 50), "
          f"max {mx:.1f} ms (target < 100)")
    play_rows = []
    for label, _speed, seconds in PLAY_MODES:
        lp99, lmax = percentile(played[label], 99), max(played[label] or [0.0])
        span = "a whole run" if seconds is None else f"{seconds:.0f} s"
        print(f"{label} ({span}, steps {steps_seen[label]}): {len(played[label])} ticks, p50 "
              f"{percentile(played[label], 50):.1f} ms, p99 {lp99:.1f} ms, max {lmax:.1f} ms")
        cpu = 100 * statistics.median(play_cpu.get(label) or [0.0])
        print(f"   GUI thread CPU {[round(100 * c) for c in play_cpu.get(label, [])]} % of a core")
        play_rows.append((label, span, steps_seen[label], percentile(played[label], 50), lp99, lmax, cpu))
    if not args.no_write:
        from bench.report import write_section

        ok = lambda cond: "✓" if cond else "✗"  # noqa: E731
        write_section("GUI training", f"""
Template `{args.template}` shortened to {OVERRIDES} ({steps} steps, batch {batch}), trained {args.rounds}×
headless (engine loop, no Qt) and {args.rounds}× from the training panel of the offscreen editor window
(Curves tab shown, live plots redrawn at 30 Hz, live views at 1 Hz), alternating. A 16 ms
`Qt.PreciseTimer` on the GUI thread records its lateness during the GUI runs.

| measure | value | target |
|---|---|---|
| timer lateness p50 | {p50:.1f} ms | |
| timer lateness p99 | {p99:.1f} ms | < 50 ms {ok(p99 < 50)} |
| timer lateness max | {mx:.1f} ms | < 100 ms {ok(mx < 100)} |
| headless throughput (median) | {h:,.0f} samples/s | |
| GUI throughput (median) | {g:,.0f} samples/s | |
| GUI / headless | {ratio:.3f} | ≥ 0.95 {ok(ratio >= 0.95)} |
| GUI thread CPU while training | {100 * statistics.median(gui_cpu):.0f}% of one core | |

While the Play button plays the run with the Live view tab shown ({args.play_rounds} rounds of each; slow
motion sends and draws every step's curves and views, then Stop ends it):

| Play mode | played | steps per round | lateness p50 | p99 (target < 50 ms) | max | GUI thread CPU |
|---|---|---|---|---|---|---|
""" + "".join(f"| {label} | {span} | {steps} | {p50_:.1f} ms | {p99_:.1f} ms {ok(p99_ < 50)} | {mx_:.1f} ms "
              f"| {cpu_:.0f}% of one core |\n"
              for label, span, steps, p50_, p99_, mx_, cpu_ in play_rows) + f"""
Per-run throughput (samples/s), in run order: headless {[round(r) for r in head_rates]},
GUI {[round(r) for r in gui_rates]}. Throughput counts samples between the run's `started` and final
update (data and model setup excluded) in both modes. The machine was shared with other jobs (load
average {load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} cores), so single runs vary
widely and the ratio is only as good as that noise allows; the GUI thread's own CPU use is the steadier figure.
""")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
