"""A paradigm defined in this file alone, through the recipe registry, is a first-class citizen of the panel:
its own settings show (grouped, with help, refused when out of range), it trains from the Train button, and
its metrics land on the plot and with the direction it declares, not on guesses from their names."""

from __future__ import annotations

from typing import ClassVar

import pytest
import torch

from studio.core.model import Project
from studio.train.recipes.base import Recipe
from studio.train.recipes.registry import MetricSpec, RecipeSpec, register, unregister
from studio.train.settings import Float, Int, S, Section
from tests.ui.training import projects

TIMEOUT = 60_000


class ToySettings(Section):
    group: ClassVar[str] = "Toy drift"
    target: Float = S(2.0, title="Target value", help="The number every output should move to.", ge=-10.0, le=10.0)
    batch: Int = S(8, title="Noise batch", help="Random inputs per step.", ge=1, le=256)


class Drift(Recipe):
    """Pushes every output of the model towards ``toy.target`` from random inputs."""

    monitor = "val_gap"

    def setup(self) -> None:
        self.model = self.build(self.graph(self.settings.graph))
        self.setup_single_model_training()
        self.toy = self.settings.section("toy")

    def steps_per_epoch(self) -> int:
        return 5

    def samples_per_step(self) -> int:
        return self.toy.batch

    def _inputs(self) -> torch.Tensor:
        return torch.randn(self.toy.batch, *self.model.inputs[0].shape, device=self.device)

    def train_step(self, epoch: int, index: int) -> dict[str, float]:
        self.train_mode(self.model)
        out = self.forward(self.model, self._inputs())
        loss = ((out - self.toy.target) ** 2).mean()
        value = self.check_finite(loss)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.schedule.after_step()
        return {"loss": value, "samples": float(self.toy.batch)}

    def evaluate(self) -> dict[str, float]:
        with torch.no_grad():
            gap = float((self.forward(self.model, self._inputs()).mean() - self.toy.target).abs())
        return {"val_gap": gap, "val_closeness": 1.0 / (1.0 + gap)}


@pytest.fixture
def toy():
    spec = register(RecipeSpec(
        name="toy_drift", label="Toy drift", help="Outputs drift to a target.", factory=Drift,
        settings=ToySettings, section="toy",
        uses=("optimizer", "schedule", "nodes", "init", "amp", "steps_per_epoch"),
        metrics=(MetricSpec("gap", "Distance to the target", plot="loss"),
                 MetricSpec("closeness", "Closeness", higher_is_better=True, plot="metric")),
        monitor="val_gap"))
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
