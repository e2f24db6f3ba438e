"""Template stages in the training panel: a "Stage" choice that trains one variant of the project.

A template's ``meta.stages`` (see :mod:`studio.io.stages`) names variants such as transfer_cnn's
pretrain -> fine-tune -> from-scratch. :class:`StageBar` lists them; :meth:`StageBar.prepare` gives
the snapshot the worker trains: the project with the chosen stage applied (the project itself stays
as it is, so the settings shown below and the undo history are untouched). Placeholders are filled
here: a placeholder named after another stage is that stage's latest checkpoint from this session
(so "Fine-tune" starts where "Pretrain" ended), any other one is a file the user picks (the stage's
``defaults`` name a bundled one). When a stage run starts, the latest earlier run of each other stage
that trained on the same data stays ticked in the runs list, so fine-tuned and from-scratch curves
share one plot.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from studio.io.stages import StageError, apply_stage, default_subs, merge, placeholders, stage_label, stages
from studio.ui.training.stage_preview import StagePreview, stage_ops

AS_IS = "Project as it is"


def _dataset_key(settings: dict[str, Any]) -> str:
    """Runs with equal keys trained on the same data, so their validation curves compare."""
    return json.dumps([settings.get("recipe"), settings.get("dataset")], sort_keys=True, default=str)


def _leaves(table: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys of every value in a nested table (an empty table counts as one value)."""
    out = []
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out += _leaves(value, dotted + ".")
        else:
            out.append(dotted)
    return out


class StageBar(QWidget):
    """The Stage choice, what the stage does, and a file button for stages that read a file of the user's."""

    #: the chosen stage changed (the panel shows that stage's settings)
    stage_changed = Signal()

    def __init__(self, panel) -> None:
        super().__init__()
        self.panel = panel
        self.document = panel.document
        self.checkpoints: dict[str, str] = {}  # stage -> checkpoint of its latest finished run
        self.files: dict[str, str] = {}  # placeholder -> file the user picked
        self.run_stages: dict[int, str] = {}  # plots Run number -> stage it trained
        self._running_stage: str | None = None

        self.combo = QComboBox()
        self.combo.setToolTip("Train one of the template's variants: its settings override those below for that "
                              "run only, and the run keeps the stage's name in the runs list")
        # long stage names must not widen the settings column (it scrolls sideways otherwise)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(10)
        self.combo.currentIndexChanged.connect(self._chosen)
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.about.setTextFormat(Qt.TextFormat.PlainText)
        self.file_label = QLabel()
        self.file_label.setWordWrap(True)
        for label in (self.about, self.file_label):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            label.setMinimumWidth(0)
        self.file_button = QPushButton("Text file…")
        self.file_button.clicked.connect(self.choose_file)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Make the project this stage: its graph and settings changes as one undo step")
        self.apply_button.clicked.connect(self.apply_to_project)
        self.preview = StagePreview(self)  # the stage's graph on the canvas, read-only
        top = QVBoxLayout()  # the label above: the choice gets the column's whole width for long stage names
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(2)
        top.addWidget(QLabel("Stage"))
        top.addWidget(self.combo)
        files = QHBoxLayout()
        files.setContentsMargins(0, 0, 0, 0)
        files.addWidget(self.file_label, 1)
        files.addWidget(self.file_button)
        files.addWidget(self.apply_button)  # below the choice: the settings column never widens for it
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 4)
        lay.addLayout(top)
        lay.addWidget(self.about)
        lay.addLayout(files)
        self.document.project_replaced.connect(self.reset)
        panel.started.connect(self._on_started)
        panel.finished.connect(self._on_finished)
        self.reset()

    # -- the choice ------------------------------------------------------------------------
    @property
    def stage(self) -> str | None:
        """The chosen stage's name, None for the project as it is."""
        name = self.combo.currentData()
        return str(name) if name else None

    def set_stage(self, name: str | None) -> None:
        index = self.combo.findData(name) if name else 0
        if index < 0:
            raise KeyError(f"no stage {name!r}; stages: {', '.join(stages(self.document.project)) or 'none'}")
        self.combo.setCurrentIndex(index)

    def reset(self) -> None:
        """A new project: list its stages (hidden when it has none), forget checkpoints and files."""
        self.checkpoints.clear()
        self.files.clear()
        self.run_stages.clear()
        project = self.document.project
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(AS_IS, None)
        for name in stages(project):
            self.combo.addItem(stage_label(project, name), name)
        default = (project.meta or {}).get("default_stage") if isinstance(project.meta, dict) else None
        if default and self.combo.findData(default) >= 0:  # e.g. the transfer template's offline stage
            self.combo.setCurrentIndex(self.combo.findData(default))
        self.combo.blockSignals(False)
        self.setVisible(self.combo.count() > 1)
        self._show_stage()
        self.preview.clear()
        self.preview.show_later(self.stage)  # after the window has made the new project's canvases

    def effective_training(self, training: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """``training`` as the chosen stage runs it, and the keys the stage sets (key -> stage label)."""
        stage = self.stage
        spec = stages(self.document.project).get(stage or "")
        if not spec:
            return training, {}
        out = merge(json.loads(json.dumps(training, default=str)), spec.get("training") or {})
        keys = set(_leaves(spec.get("training") or {}))
        for key, value in (spec.get("replace") or {}).items():
            node = out
            parts = key.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = json.loads(json.dumps(value))
            keys.add(key)  # a table replaced wholesale: every setting in it is the stage's
        label = stage_label(self.document.project, stage or "")
        return out, dict.fromkeys(sorted(keys), label)

    def _file_placeholders(self, stage: str | None) -> list[str]:
        if not stage:
            return []
        known = stages(self.document.project)
        return [p for p in placeholders(self.document.project, stage) if p not in known]

    def _chosen(self, _index: int) -> None:
        self._show_stage()
        self.preview.show(self.stage)
        self.stage_changed.emit()

    def apply_to_project(self) -> None:
        """The chosen stage becomes the project (one undo step); the choice goes back to the project as it is."""
        stage = self.stage
        if stage is None:
            return
        try:
            op = stage_ops(self.document.project, stage, self.subs())
        except StageError as exc:
            self.about.setText(f"Cannot apply: {exc}")
            return
        if op is not None:
            self.document.push(op)
        self.set_stage(None)

    def _show_stage(self) -> None:
        stage = self.stage
        self.apply_button.setVisible(stage is not None)
        project = self.document.project
        graph = str((stages(project).get(stage or "", {}).get("training") or {}).get("graph") or "")
        target = next((g for g in project.graphs if g.name == graph), None)
        if target is not None and target.id != self.document.current_graph_id:
            self.document.set_current_graph(target.id)  # show the graph the stage trains
        if stage is None:
            self.about.setText("The settings below, as they are." if self.combo.count() > 1 else "")
        else:
            spec = stages(project)[stage]
            lines = [str(spec.get("about") or "")]
            changes = [f"{node}.{name} = {value}" for node, params in (spec.get("node_params") or {}).items()
                       for name, value in params.items()]
            changes += [f"{old} renamed {new}" for old, new in (spec.get("rename") or {}).items()]
            if changes:
                lines.append("Graph for this stage: " + "; ".join(changes))
            for need in (p for p in placeholders(project, stage) if p in stages(project)):
                lines.append(f"✓ uses this session's '{stage_label(project, need)}' checkpoint"
                             if need in self.checkpoints else f"Train '{stage_label(project, need)}' first.")
            self.about.setText("\n".join(line for line in lines if line))
        names = self._file_placeholders(stage)
        self.file_button.setVisible(bool(names))
        self.file_label.setVisible(bool(names))
        if names:
            path = self.subs().get(names[0], "")
            self.file_button.setText(f"{names[0].capitalize()} file…")
            self.file_label.setText(f"{names[0]}: {Path(path).name if path else '(none)'}")
            self.file_label.setToolTip(path)

    # -- files and placeholders --------------------------------------------------------------
    def set_file(self, placeholder: str, path: str | Path) -> None:
        self.files[placeholder] = str(path)
        self._show_stage()

    def choose_file(self) -> None:
        names = self._file_placeholders(self.stage)
        if not names:
            return
        path, _ = QFileDialog.getOpenFileName(self, f"Choose the {names[0]} file", "",
                                              "Text files (*.txt *.md *.py *.csv);;All files (*)")
        if path:
            self.set_file(names[0], path)

    def subs(self) -> dict[str, str]:
        """Placeholder values for the chosen stage: stage checkpoints, then bundled defaults, then picked files."""
        stage = self.stage
        out = dict(self.checkpoints)
        if stage:
            out.update(default_subs(self.document.project, stage))
        out.update(self.files)
        return out

    def prepare(self) -> tuple[Any, str]:
        """The snapshot the worker trains and the run's label; raises StageError with a message to show."""
        project = self.document.project
        stage = self.stage
        if stage is None:
            return project.snapshot(), ""
        needs = [p for p in placeholders(project, stage) if p in stages(project) and p not in self.checkpoints]
        if needs:
            first = needs[0]
            raise StageError(f"stage '{stage_label(project, stage)}' starts from the checkpoint of stage "
                             f"'{stage_label(project, first)}': choose that stage and train it first")
        snapshot = apply_stage(project, stage, self.subs())
        self._running_stage = stage
        return snapshot, stage_label(project, stage)

    # -- runs ------------------------------------------------------------------------------
    def _on_started(self) -> None:
        stage, self._running_stage = self._running_stage, None
        plots = self.panel.plots
        run = plots.current
        if run is None or stage is None:
            return
        self.run_stages[run.number] = stage
        # keep the latest earlier run of every other stage on the same data ticked: one plot compares them
        key = _dataset_key(run.settings)
        shown: set[str] = {stage}
        for earlier in reversed(plots.runs[:-1]):
            other = self.run_stages.get(earlier.number)
            if other is None or other in shown or _dataset_key(earlier.settings) != key:
                continue
            shown.add(other)
            for i in range(plots.runs_list.count()):
                item = plots.runs_list.item(i)
                if plots.run_for(item) is earlier:
                    item.setCheckState(Qt.CheckState.Checked)

    def _on_finished(self, final) -> None:
        plots = self.panel.plots
        run = plots.current
        stage = self.run_stages.get(run.number) if run is not None else None
        last = self.panel.last_run or {}
        if stage is not None and final.kind in ("done", "cancelled") and last.get("checkpoint"):
            self.checkpoints[stage] = str(last["checkpoint"])
            self._show_stage()
