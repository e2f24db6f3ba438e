"""The recipe registry: a paradigm defined in this file alone trains through the engine, shows its
settings in the form and has its metrics judged in the direction it declares."""

from __future__ import annotations

import pytest
import torch

from nodes.io import OUTPUT_ROLES
from studio.catalog import default_registry
from studio.train import settings_form as F
from studio.train.engine import run_to_end
from studio.train.optim import make_optimizer
from studio.train.recipes.base import Recipe
from studio.train.recipes.registry import (
    ROLES,
    MetricSpec,
    RecipeSpec,
    all_recipes,
    higher_is_better,
    metric_spec,
    recipe_spec,
    register,
    unregister,
)
from studio.train.settings import Float, S, Section, SettingsError, TrainingSettings
from tests.train.helpers import chain, project

BUILT_IN = ("classification", "regression", "sequence", "reconstruction", "adversarial", "q_learning_tabular", "dqn")


class ToySettings(Section):
    """The toy paradigm's own section: learn y = slope * x."""

    slope: Float = S(2.0, title="Slope", ge=-10.0, le=10.0, help="The line the model learns.")
    worsen: Float = S(0.0, title="Worsening", ge=0.0, le=1.0, help="Added to toy_fit's distance every epoch.")


class ToyRecipe(Recipe):
    """Fits the graph (one Linear) to a line; reports a lower-is-better and a higher-is-better metric."""

    def setup(self) -> None:
        self.model = self.build(self.graph(self.settings.graph))
        self.load_initial_weights()
        self.optimizer = make_optimizer(self.settings.optimizer, [self.model.module], {})
        self.optimizers = {"main": self.optimizer}
        gen = torch.Generator().manual_seed(self.settings.seed)
        self.x = torch.randn(64, 1, generator=gen)
        self.epochs_seen = 0

    def steps_per_epoch(self) -> int:
        return 4

    def train_step(self, epoch: int, index: int) -> dict[str, float]:
        self.model.module.train()
        out = self.forward(self.model, self.x)
        loss = torch.nn.functional.mse_loss(out, self.x * self.settings.toy.slope)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": self.check_finite(loss), "samples": float(len(self.x))}

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        self.epochs_seen += 1
        err = float(torch.nn.functional.mse_loss(self.forward(self.model, self.x), self.x * self.settings.toy.slope))
        drift = self.settings.toy.worsen * self.epochs_seen
        return {"val_toy_error": err + drift, "val_toy_fit": 1.0 / (1.0 + err + drift)}


TOY = RecipeSpec(
    name="toy_line",
    label="Toy line",
    help="Fits a line; exists only in this test.",
    factory=ToyRecipe,
    settings=ToySettings,
    section="toy",
    uses=("optimizer", "init"),
    metrics=(MetricSpec("toy_error", "Toy error", plot="loss"),
             MetricSpec("toy_fit", "Toy fit", "share", True)),
    monitor="val_toy_error",
    views=(),
    export=False,
)


@pytest.fixture
def toy():
    register(TOY)
    yield TOY
    unregister(TOY.name)


@pytest.fixture(scope="module")
def registry():
    return default_registry()


def _line(registry):
    return chain(registry, "line", [1], [("nn.linear", {"out_features": 1})])


def test_every_builtin_paradigm_is_registered_with_its_metrics():
    names = [r.name for r in all_recipes()]
    assert names[:len(BUILT_IN)] == list(BUILT_IN)
    assert recipe_spec("adversarial").section == "gan" and recipe_spec("dqn").section == "rl"
    assert recipe_spec("q_learning_tabular").unit == "episodes"
    for name in ("val_accuracy", "val_f1", "return", "val_optimal_paths", "val_modes_covered", "val_vs_baseline"):
        assert higher_is_better(name), name
    for name in ("val_loss", "val_mse", "val_path_length", "d_loss"):
        assert not higher_is_better(name), name
    assert metric_spec("val_mse").plot == "loss" and metric_spec("val_accuracy").plot == "metric"
    with pytest.raises(KeyError, match="classification"):
        recipe_spec("nope")


def test_output_roles_agree_with_the_output_node():
    assert tuple(ROLES) == OUTPUT_ROLES


def test_a_paradigm_from_a_test_file_appears_in_settings_and_the_form(toy):
    s = TrainingSettings.from_dict({"recipe": "toy_line", "toy": {"slope": 3}})
    assert s.toy.slope == 3.0 and s.section("toy").slope == 3.0
    with pytest.raises(SettingsError) as info:
        TrainingSettings.from_dict({"recipe": "toy_line", "toy": {"slope": 30}})
    assert info.value.key == "toy.slope"
    fields = {f.key: f for f in F.settings_fields("toy_line")}
    assert fields["toy.slope"].group == "Toy line" and fields["toy.slope"].maximum == 10.0
    assert "optimizer.lr" in fields and "dataset.name" not in fields and "gan.d_steps" not in fields
    assert "toy_line" in fields["recipe"].choices
    assert F.label_for("toy.slope") == "Slope"


def test_unregistered_section_is_unknown_again(toy):
    unregister("toy_line")
    with pytest.raises(SettingsError) as info:
        TrainingSettings.from_dict({"toy": {"slope": 1.0}})
    assert info.value.key == "toy"
    register(TOY)


def test_duplicate_names_and_disagreeing_metrics_are_refused(toy):
    with pytest.raises(ValueError, match="already registered"):
        register(TOY)
    clash = RecipeSpec(name="toy_clash", label="Clash", factory=ToyRecipe,
                       metrics=(MetricSpec("toy_fit", "Toy fit", higher_is_better=False),))
    with pytest.raises(ValueError, match="disagrees"):
        register(clash)
    with pytest.raises(ValueError, match="role"):
        RecipeSpec(name="toy_roles", label="Roles", factory=ToyRecipe, roles=("guess",))


def test_toy_paradigm_trains_headless_and_its_declared_directions_steer_early_stopping(toy, registry):
    base = {"recipe": "toy_line", "epochs": 6, "threads": 1, "device": "cpu", "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.0}}
    # both metrics improve every epoch: whichever is watched, no early stop
    for metric in ("val_toy_error", "val_toy_fit"):
        last = run_to_end(project(_line(registry), training=dict(base, early_stopping={
            "enabled": True, "patience": 1, "metric": metric})), registry)
        assert last.kind == "done", last.message
        assert len(last.history) == 6, metric
    assert last.history[-1]["val_toy_error"] < last.history[0]["val_toy_error"]
    # a fit that gets worse every epoch (by its declared direction, higher is better) stops the run
    last = run_to_end(project(_line(registry), training=dict(base, toy={"worsen": 1.0}, early_stopping={
        "enabled": True, "patience": 1, "metric": "val_toy_fit"})), registry)
    assert last.kind == "done" and len(last.history) < 6


def test_trained_graphs_follow_the_declaration(registry):
    from studio.train.recipes.registry import trained_graphs

    a, b, c = (_line(registry) for _ in range(3))
    a.name, b.name, c.name = "first", "generator", "discriminator"
    p = project(a, b, c)
    assert trained_graphs(p, {}) == [a]
    assert trained_graphs(p, {"graph": "discriminator"}) == [c]
    assert trained_graphs(p, TrainingSettings.from_dict({"recipe": "adversarial"})) == [b, c]
    assert trained_graphs(p, {"recipe": "q_learning_tabular"}) == []
    assert not recipe_spec("dqn").reads("dataset") and recipe_spec("adversarial").reads("dataset.params")


@pytest.mark.slow
@pytest.mark.parametrize("first", ["studio.train.recipes.rl", "studio.train.recipes.tabular_lab"])
def test_builtin_order_does_not_depend_on_which_module_is_imported_first(first):
    import subprocess
    import sys

    code = f"import {first}\nfrom studio.train.recipes.registry import recipe_names\nprint(','.join(recipe_names()))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip().split(",")[:len(BUILT_IN)] == list(BUILT_IN)
