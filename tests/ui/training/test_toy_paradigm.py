"""A paradigm defined in this file alone, through the recipe registry, is a first-class citizen of the panel:
its own settings show (grouped, with help, refused when out of range), it trains from the Train button, and
its metrics land on the plot and with the direction it declares, not on guesses from their names. It also
exports train.py (its task class copied in by ``loop_writer``), which trains without NN Studio."""

from __future__ import annotations

import ast
import csv
import subprocess
import sys
from typing import ClassVar

import pytest
import torch

from studio.compile.exporter import export_project
from studio.core.model import Project
from studio.train.engine import run_to_end
from studio.train.nnloop.parts import Schedule, make_optimizer, set_train_mode
from studio.train.recipes.base import Recipe
from studio.train.recipes.registry import MetricSpec, RecipeSpec, register, unregister
from studio.train.script_export import export_train_script, loop_writer
from studio.train.settings import Float, Int, S, Section
from tests.train.test_script_export import _env
from tests.ui.training import projects

TIMEOUT = 60_000


class ToySettings(Section):
    group: ClassVar[str] = "Toy drift"
    target: Float = S(2.0, title="Target value", help="The number every output should move to.", ge=-10.0, le=10.0)
    batch: Int = S(8, title="Noise batch", help="Random inputs per step.", ge=1, le=256)


class DriftTask:
    """Pushes every output of the model towards ``toy.target`` from random inputs. Plain torch and nnloop,
    so the app trains with it and train.py gets a copy of it."""

    monitor = "val_gap"

    def __init__(self, cfg, model, forward, *, device, multipliers, frozen, input_shape, **_context):
        self.cfg, self.model, self.forward, self.device = cfg, model, forward, device
        self.toy, self.frozen, self.input_shape = cfg["toy"], list(frozen), tuple(input_shape)
        self.optimizer = make_optimizer(cfg["optimizer"], [model], multipliers)
        self.schedule = Schedule(cfg["schedule"], self.optimizer, cfg["epochs"], self.steps_per_epoch())
        self.schedules = [self.schedule]
        self.rows = []

    def steps_per_epoch(self):
        return 5

    def _inputs(self):
        return torch.randn(self.toy["batch"], *self.input_shape, device=self.device)

    def step(self, epoch, index):
        set_train_mode(self.model, self.frozen)
        loss = ((self.forward(self._inputs()) - self.toy["target"]) ** 2).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.schedule.after_step()
        self.rows.append({"loss": loss.detach(), "samples": float(self.toy["batch"])})

    def flush(self):
        rows, self.rows = [dict(r, loss=float(r["loss"])) for r in self.rows], []
        return rows

    def evaluate(self):
        with torch.no_grad():
            gap = float((self.forward(self._inputs()).mean() - self.toy["target"]).abs())
        return {"val_gap": gap, "val_closeness": 1.0 / (1.0 + gap)}

    def lr(self):
        return float(self.optimizer.param_groups[0]["lr"])


class Drift(Recipe):
    """The app's side: build the graph, apply the node table, train with :class:`DriftTask`."""

    monitor = "val_gap"

    def setup(self) -> None:
        self.model = self.build(self.graph(self.settings.graph))
        self.load_initial_weights()
        multipliers = self.node_settings([self.model])
        self.loop_task = t = DriftTask(self.settings.to_dict(), self.model.module, self.step_forward(self.model),
                                       device=self.device, multipliers=multipliers, frozen=self.frozen,
                                       input_shape=self.model.inputs[0].shape)
        self.optimizers, self.schedules = {"main": t.optimizer}, {"main": t.schedule}

    def steps_per_epoch(self) -> int:
        return self.loop_task.steps_per_epoch()

    def evaluate(self) -> dict[str, float]:
        return self.loop_task.evaluate()


@pytest.fixture
def toy():
    spec = register(RecipeSpec(
        name="toy_drift", label="Toy drift", help="Outputs drift to a target.", factory=Drift,
        settings=ToySettings, section="toy",
        uses=("optimizer", "schedule", "nodes", "init", "amp", "steps_per_epoch"),
        metrics=(MetricSpec("gap", "Distance to the target", plot="loss"),
                 MetricSpec("closeness", "Closeness", higher_is_better=True, plot="metric")),
        monitor="val_gap", export=loop_writer(DriftTask)))
    yield spec
    unregister(spec.name)


def toy_project(registry) -> Project:
    graph = projects.mlp(registry, "model", 3, 8, 1)
    training = {"recipe": "toy_drift", "epochs": 2, "optimizer": {"lr": 0.05}, "threads": 1, "device": "cpu",
                "toy": {"target": 1.5}}
    return Project(name="toy", graphs=[graph], training=training)


def test_a_paradigm_defined_here_shows_its_settings_trains_and_plots_its_metrics(window, qtbot, registry, toy):
    window.document.replace_project(toy_project(registry))
    panel = window.window.training_panel
    assert "toy_drift" in [panel.controls["recipe"].editor.itemData(i)
                           for i in range(panel.controls["recipe"].editor.count())]
    assert "Toy drift" in panel.form.sections
    row = panel.controls["toy.target"]
    assert row.value_text() == "1.5" and row.editor.toolTip() == "The number every output should move to."
    assert "10" in panel.set_setting("toy.target", "50")  # refused at the field, with the range
    assert panel.set_setting("toy.batch", "16") is None
    assert window.document.project.training["toy"]["batch"] == 16
    assert window.document.undo_stack.undoText() == "Set noise batch to 16"
    assert "dataset.name" not in panel.controls  # it reads no dataset

    with qtbot.waitSignal(panel.finished, timeout=TIMEOUT) as blocker:
        panel.train_button.click()
    qtbot.waitUntil(lambda: not panel.running, timeout=5000)
    final = blocker.args[0]
    assert final.kind == "done", final.message
    plots = panel.plots
    run = plots.runs[-1]
    assert run.series[("epoch", "val_gap")].n == 2 and run.series[("epoch", "val_closeness")].n == 2
    by_metric = {key[3]: key[1] for key in plots._curves if key[2] == "epoch"}
    assert by_metric["val_gap"] == "loss"  # declared plot="loss", though its name says nothing of it
    assert by_metric["val_closeness"] == "metric"
    legend = plots.legends["metric"].text() + plots.legends["loss"].text()
    assert "val_closeness&nbsp;↑" in legend and "val_gap&nbsp;↓" in legend  # the declared directions


@pytest.mark.slow
def test_the_paradigm_defined_here_exports_a_train_script_that_trains_without_nnstudio(registry, toy, tmp_path):
    project = toy_project(registry)
    project.training["early_stopping"] = {"enabled": True, "patience": 3, "metric": "val_closeness"}
    app = run_to_end(project.snapshot(), registry, views=False)
    assert app.kind == "done", app.message
    out = tmp_path / "export"
    export_project(project, registry, out)
    export_train_script(project, registry, out)
    text = (out / "train.py").read_text()
    values = {n.targets[0].id: ast.literal_eval(n.value) for n in ast.parse(text).body
              if isinstance(n, ast.Assign) and n.targets[0].id in ("SETTINGS", "BETTER")}
    assert values["SETTINGS"]["toy"] == {"target": 1.5, "batch": 8}  # its own section, as set
    assert not {"dataset", "gan", "vae", "batch_size"} & set(values["SETTINGS"])  # settings it does not read
    assert values["BETTER"]["val_closeness"] is True  # the declared direction, which no name rule would give
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select",
                           "E,F,W,I,B,UP", "--line-length", "120", "train.py"], cwd=out, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout  # the copied task and its imports read as hand-written code
    r = subprocess.run([sys.executable, "train.py", "--out", "w", "--epochs", "1"], cwd=out, capture_output=True,
                       text=True, timeout=120, env=_env(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    with open(out / "w" / "metrics.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1 and list(rows[0]) == list(app.history[0])  # the columns nnstudio train writes
    assert {"val_gap", "val_closeness"} <= set(rows[0]) and float(rows[0]["val_closeness"]) > 0
