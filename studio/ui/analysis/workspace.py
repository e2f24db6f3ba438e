"""The workspace window: one run, five tabs (Explain, Attack, Compress, Tune, Projector).

The run is opened once in the background (:func:`studio.analysis.session.open_run`); every tab then
works on that :class:`RunData`. The runner runs one job at a time, so two tabs never use the model
at once, and closing the window cancels what is running and waits for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QTabWidget, QVBoxLayout, QWidget

from studio.ui.tasks import TaskRunner


@dataclass
class LoadedRun:
    """What the tabs share: the analysed run and what the Explain tab needs beyond it."""

    data: Any  # studio.analysis.session.RunData
    convs: dict[str, Any]  # conv / pooling node name -> module (Grad-CAM)
    attention: dict[str, int]  # attention Output name -> output index
    run_dir: Path
    layers: dict[str, int] = field(default_factory=dict)  # attention layer name -> index of its weights output
    built: Any = None  # the run's built model (its attention layers are read through capture hooks)


def load_run(project, registry, run: str | Path, max_samples: int = 512) -> LoadedRun:
    """Open ``run`` for analysis (call in a background job)."""
    from studio.analysis.explain import conv_layers
    from studio.analysis.session import RunError, open_run
    from studio.train.recipes.registry import recipe_spec

    spec = recipe_spec(str(project.training.get("recipe") or "classification"))
    if not spec.reads("dataset"):  # e.g. skip-gram: word vectors, no classifier (the Projector tab shows them)
        raise RunError(f"a {spec.label} run has no classifier to explain, attack or compress")
    data = open_run(project, registry, run, max_samples=max_samples)
    convs = {name.removeprefix("module."): m for name, m in conv_layers(data.model).items()}
    built = data.built  # loaded once, by open_run
    attention = dict(built.outputs_with_role("attention"))
    folder = Path(run) if Path(run).is_dir() else Path(run).parent
    return LoadedRun(data, convs, attention, folder, dict(built.weight_ports), built)


class AnalysisWorkspace(QWidget):
    """Explain, attack, compress and tune one trained run of the document's project."""

    def __init__(self, document, run: str | Path, project=None, runner: TaskRunner | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from studio.ui.analysis.attack_tab import AttackTab
        from studio.ui.analysis.compress_tab import CompressTab
        from studio.ui.analysis.explain_tab import ExplainTab
        from studio.ui.analysis.projector_tab import ProjectorTab
        from studio.ui.analysis.tune_tab import TuneTab

        self.document = document
        self.registry = document.registry
        self.project = (project if project is not None else document.project).snapshot()
        self.run_path = Path(run)
        self.runner = runner or TaskRunner(self, name="nnstudio-analysis")
        self.loaded: LoadedRun | None = None
        self.setWindowTitle(f"Analyse run — {self.run_path.name}")
        self.header = QLabel(f"Run <b>{self.run_path.name}</b>")
        self.status = QLabel("Opening the run…")  # what happened last: errors stay readable beside the header
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #a33")
        self.tabs = QTabWidget()
        self.explain = ExplainTab(self)
        self.attack = AttackTab(self)
        self.compress = CompressTab(self)
        self.tune = TuneTab(self)
        for tab, title in ((self.explain, "Explain"), (self.attack, "Attack"), (self.compress, "Compress"),
                           (self.tune, "Tune")):
            self.tabs.addTab(tab, title)
            tab.setEnabled(False)
        self.projector = ProjectorTab(self)  # opens the run on its own: any run with vectors, classifier or not
        self.tabs.addTab(self.projector, "Projector")
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(self.header)
        top.addWidget(self.status, 1)
        lay.addLayout(top)
        lay.addWidget(self.tabs, 1)
        self.resize(1280, 720)
        project_, registry, path = self.project, self.registry, self.run_path
        self.runner.submit(lambda: load_run(project_, registry, path), self._loaded, self._failed,
                           name="analysis-open")
        self.projector.open(project_, registry, path)

    def _loaded(self, loaded: LoadedRun) -> None:
        self.loaded = loaded
        d = loaded.data
        what = f"{len(d.classes)} classes" if d.positions is None else \
            f"{len(d.classes)} classes at each of {d.positions} positions"
        self.header.setText(f"Run <b>{self.run_path.name}</b> — graph <b>{d.graph_name}</b>, "
                            f"{len(d.val_x)} validation samples, {what}")
        self.status.setText("")
        for i in range(self.tabs.count()):
            tab = self.tabs.widget(i)
            tab.setEnabled(True)
            tab.set_run(loaded)
        if d.tokens:  # a gradient step on token ids is no input at all
            why = "FGSM and PGD perturb real-valued inputs; this model reads token ids, so there is nothing to attack."
            self.attack.setEnabled(False)
            self.attack.info.setText(why)
            self.tabs.setTabToolTip(self.tabs.indexOf(self.attack), why)

    def _failed(self, message: str) -> None:
        self.status.setText(f"Cannot analyse this run: {message}")
        self.tabs.setCurrentWidget(self.projector)

    def job(self, fn, on_result, name: str, on_progress=None, cancellable: bool = False):
        """Run ``fn`` (or ``fn(ctx)`` when ``cancellable``) in the background; errors go to the status line."""
        def failed(message: str) -> None:
            self.status.setText(f"{name} failed: {message}")
            for i in range(self.tabs.count()):
                self.tabs.widget(i).job_ended()

        self.status.setText("")
        job = fn if cancellable else (lambda _ctx: fn())
        return self.runner.start(job, name=f"analysis-{name}", on_result=on_result, on_error=failed,
                                 on_progress=on_progress)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.tune.stop()
        self.runner.cancel_all()
        self.runner.wait()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Cancel and wait (tests and the owner window call this before dropping the workspace)."""
        self.tune.stop()
        self.runner.shutdown()


def open_workspace(document, run: str | Path, project=None, parent: QWidget | None = None) -> AnalysisWorkspace:
    """Show a workspace window for ``run`` (a run folder or checkpoint of the document's project)."""
    from PySide6.QtCore import QCoreApplication

    ws = AnalysisWorkspace(document, run, project)
    app = QCoreApplication.instance()
    if app is not None:  # quitting with the window open still waits for its jobs
        app.aboutToQuit.connect(ws.shutdown)
    if parent is not None:
        ws.setParent(parent, ws.windowFlags() | ws.windowFlags().Window)
    ws.show()
    return ws
