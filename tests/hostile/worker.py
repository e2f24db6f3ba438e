"""Runs the hostile corpus in a separate process (``python -m tests.hostile.worker MODE MANIFEST RESULTS``).

A separate process, so a native crash, a hang or a runaway allocation shows up as such instead
of taking the test session with it. Memory: once the imports are done, the address space may
grow by at most :data:`BUDGET_BYTES` (``RLIMIT_AS``); a case that wants more fails with
MemoryError and is reported. Hangs: each case has an alarm (headless) or a faulthandler timer
that ends the process (editor), and the name of the case in progress is written first.

Modes: ``headless`` loads each file, runs ``nnstudio check`` and ``nnstudio export`` in-process;
``editor`` opens each file in the real window (offscreen), edits the learning rate and a
parameter, and undoes both.
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import json
import os
import resource
import signal
import sys
import time
import traceback
from pathlib import Path

BUDGET_BYTES = 2 * 1024 ** 3


class Hang(Exception):
    pass


def _limit_memory() -> None:
    with open("/proc/self/statm") as fh:
        size = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (size + BUDGET_BYTES, resource.RLIM_INFINITY))


def _peak_rss() -> int:
    """This process's own peak RSS. VmHWM starts afresh at exec; getrusage's ru_maxrss does not (Linux keeps
    it across execve), so a worker started by a big test process would report that process's peak."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _cli(args: list[str]) -> dict:
    from studio.cli import main

    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(args)
    return {"rc": rc, "stderr": err.getvalue(), "stdout_tail": out.getvalue()[-300:],
            "seconds": round(time.perf_counter() - start, 3)}


def _headless_case(case: dict, out_root: Path) -> dict:
    from studio.catalog import default_registry
    from studio.io.errors import ProjectFileError
    from studio.io.project_file import load_project

    result: dict = {}
    try:
        load_project(case["path"], default_registry())
        result["load"] = "ok"
    except ProjectFileError as exc:
        result["load"] = "refused"
        result["load_message"] = str(exc)
    result["check"] = _cli(["check", case["path"]])
    if case["small"]:
        result["export"] = _cli(["export", case["path"], "-o", str(out_root / case["name"])])
    return result


def headless(cases: list[dict], out_root: Path, progress: Path) -> list[dict]:
    from studio.catalog import default_registry

    default_registry()
    _limit_memory()

    def ring(_sig, _frame):
        raise Hang()

    signal.signal(signal.SIGALRM, ring)
    results = []
    for case in cases:
        progress.write_text(case["name"])
        signal.alarm(20 if case["small"] else 90)
        try:
            result = _headless_case(case, out_root)
        except Hang:
            result = {"failure": "hang"}
        except MemoryError:
            result = {"failure": "memory"}
        except BaseException:  # noqa: BLE001 - exactly what the corpus looks for
            result = {"failure": "traceback", "traceback": traceback.format_exc()[-2000:]}
        finally:
            signal.alarm(0)
        result.update(name=case["name"], peak_rss=_peak_rss())
        results.append(result)
    return results


def editor(cases: list[dict], out_root: Path, progress: Path) -> list[dict]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["NNSTUDIO_CONFIG_DIR"] = str(out_root / "config")
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    from studio.catalog import default_registry
    from studio.core.ops import SetParam, SetTraining
    from studio.io.project_file import dumps
    from studio.ui.document import Document
    from studio.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    registry = default_registry()
    document = Document(registry)
    window = MainWindow(document, restore_state=False, training=True)
    window.show()
    warnings: list[str] = []
    files = window.files
    files.warn = lambda _title, text: warnings.append(text)
    files.ask_unsaved = lambda _t, _x: "discard"
    files.ask_yes_no = lambda _t, _x: False
    files.autosave_enabled = False
    _limit_memory()
    results = []
    for case in cases:
        progress.write_text(case["name"])
        faulthandler.dump_traceback_later(60 if case["small"] else 300, exit=True)
        warnings.clear()
        result: dict = {"name": case["name"]}
        try:
            opened = files.open(case["path"])
            app.processEvents()
            result["open"] = "ok" if opened else "refused"
            result["dialogs"] = list(warnings)
            if opened:
                project = window.document.project
                start = dumps(project, registry)
                pushed = [window.document.push(SetTraining("optimizer.lr", 0.002))]
                graph = project.graphs[0]
                for node in list(graph.nodes.values())[:3]:
                    spec = registry.find(node.type_id)
                    if spec is not None and spec.params and node.placeholder is None:
                        pushed.append(window.document.push(SetParam(graph.id, node.id, spec.params[0].name, -1)))
                app.processEvents()
                while window.document.undo_stack.canUndo():
                    window.document.undo_stack.undo()
                app.processEvents()
                result["edits_kept"] = sum(pushed)
                result["undo_exact"] = dumps(window.document.project, registry) == start
                result["status"] = window.status_message.text()
        except MemoryError:
            result["failure"] = "memory"
        except BaseException:  # noqa: BLE001
            result["failure"] = "traceback"
            result["traceback"] = traceback.format_exc()[-2000:]
        faulthandler.cancel_dump_traceback_later()
        result["peak_rss"] = _peak_rss()
        results.append(result)
    window.close()
    document.undo_stack.blockSignals(True)
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return results


def main(argv: list[str]) -> int:
    mode, manifest, results_path = argv
    spec = json.loads(Path(manifest).read_text())
    out_root, progress = Path(spec["out"]), Path(results_path).with_suffix(".progress")
    run = headless if mode == "headless" else editor
    results = run(spec["cases"], out_root, progress)
    Path(results_path).write_text(json.dumps(results))
    progress.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    faulthandler.enable()
    sys.exit(main(sys.argv[1:]))
