import copy
import json

import pytest

from studio.io.stages import merge
from studio.io.templates import TEMPLATE_DIR
from studio.train import settings_form as F
from studio.train.settings import LR_MAX, LR_MIN, SettingsError, TrainingSettings
from studio.train.settings_form import describe


def test_defaults_round_trip():
    s = TrainingSettings.from_dict({})
    again = TrainingSettings.from_dict(s.to_dict())
    assert again == s


def test_nested_values_are_read():
    s = TrainingSettings.from_dict({"optimizer": {"name": "sgd", "lr": 0.1, "nesterov": True},
                                    "epochs": 3.0, "nodes": {"fc": {"freeze": True}}})
    assert s.optimizer.name == "sgd" and s.optimizer.lr == 0.1 and s.epochs == 3
    assert s.node_settings()["fc"].freeze is True


@pytest.mark.parametrize("data, key", [
    ({"optimizer": {"lrr": 1}}, "optimizer.lrr"),
    ({"optimizer": {"name": "adagrad"}}, "optimizer.name"),
    ({"epochs": 0}, "epochs"),
    ({"epochs": "ten"}, "epochs"),
    ({"amp": 1}, "amp"),
    ({"rl": {"grid": {"slip": 2.0}}}, "rl.grid.slip"),
    ({"nodes": {"fc": {"lr_mult": "x"}}}, "nodes.fc.lr_mult"),
    ({"dataset": []}, "dataset"),
    ({"optimizer": {"lr": float("nan")}}, "optimizer.lr"),
])
def test_invalid_values_name_the_key(data, key):
    with pytest.raises(SettingsError) as info:
        TrainingSettings.from_dict(data)
    assert info.value.key == key
    assert key in str(info.value)


def test_describe_lists_every_leaf():
    d = describe()
    assert d["optimizer.name"]["choices"] == ("sgd", "adam", "adamw", "rmsprop")
    assert d["rl.grid.slip"]["default"] == 0.0


# -- the schema as a form -------------------------------------------------------------------


def test_learning_rate_range_is_defined_once():
    lr = next(f for f in F.settings_fields("classification") if f.key == "optimizer.lr")
    assert (lr.minimum, lr.maximum) == (LR_MIN, LR_MAX)
    with pytest.raises(SettingsError):
        F.validate_setting("optimizer.lr", LR_MAX * 10)


def test_every_field_has_label_group_and_help_where_declared():
    fields = F.settings_fields()
    keys = [f.key for f in fields]
    assert len(keys) == len(set(keys))
    assert {f.group for f in fields} >= {"Data", "Optimisation", "Regularisation", "Schedule", "Advanced",
                                         "GAN", "Reinforcement learning"}
    by_key = {f.key: f for f in fields}
    assert by_key["memory_limit_mb"].advanced and by_key["memory_limit_mb"].group == "Advanced"
    assert by_key["memory_limit_mb"].default == 2048
    assert by_key["optimizer.name"].kind == "choice" and "sgd" in by_key["optimizer.name"].choices
    assert by_key["recipe"].choices[:2] == ("classification", "regression")
    assert by_key["rl.grid.slip"].maximum == 1.0 and by_key["rl.grid.slip"].help


def test_paradigm_form_shows_only_what_it_reads():
    tabular = {f.key for f in F.settings_fields("q_learning_tabular")}
    assert "rl.gamma" in tabular and "optimizer.lr" not in tabular and "gan.d_steps" not in tabular
    gan = {f.key for f in F.settings_fields("adversarial", dataset="ring")}
    assert "gan.d_steps" in gan and "dataset.params.modes" in gan and "rl.gamma" not in gan
    recon = {f.key for f in F.settings_fields("reconstruction")}
    assert "loss.noise" in recon and "loss.label_smoothing" not in recon


def test_dataset_parameters_are_declared_and_bounded():
    fields = {f.key: f for f in F.settings_fields("classification", dataset="spirals")}
    n = fields["dataset.params.n"]
    assert n.kind == "int" and n.maximum <= 1_000_000 and n.label == "Samples"
    with pytest.raises(SettingsError) as info:
        TrainingSettings.from_dict({"dataset": {"name": "spirals", "params": {"n": 10**9}}})
    assert info.value.key == "dataset.params.n" and "at most" in str(info.value)
    with pytest.raises(SettingsError) as info:
        TrainingSettings.from_dict({"dataset": {"name": "spirals", "params": {"colour": 1}}})
    assert info.value.key == "dataset.params.colour"
    s = TrainingSettings.from_dict({"dataset": {"name": "sequences", "params": {"n": 100.0, "task": "sort"}}})
    assert s.dataset.params == {"n": 100, "task": "sort"}  # left-out parameters stay out


def test_validate_setting_normalises_or_names_the_reason():
    assert F.validate_setting("epochs", 3.0) == 3
    assert F.validate_setting("dataset.params.task", "sort", {"dataset": {"name": "sequences"}}) == "sort"
    with pytest.raises(SettingsError) as info:
        F.validate_setting("dataset.params.task", "shuffle", {"dataset": {"name": "sequences"}})
    assert info.value.key == "dataset.params.task" and "copy" in info.value.reason
    with pytest.raises(SettingsError) as info:
        F.validate_setting("rl.grid.slip", 1.5)
    assert info.value.key == "rl.grid.slip" and "at most 1" in info.value.reason
    # an invalid value elsewhere in the project is not blamed on the edited key
    assert F.validate_setting("epochs", 2, {"optimizer": {"lr": -1}}) == 2


def test_labels_are_words():
    assert F.label_for("optimizer.lr") == "Learning rate"
    assert F.label_for("rl.grid.slip") == "Slip"
    assert F.label_for("dataset.params.n") == "Samples"
    assert F.label_for("nodes.fc1.lr_mult") == "LR multiplier of fc1"


def test_get_setting_falls_back_to_the_schema_default():
    assert F.get_setting({}, "optimizer.lr") == 1e-3
    assert F.get_setting({"optimizer": {"lr": 0.1}}, "optimizer.lr") == 0.1
    assert F.get_setting({}, "gan.samples") == 64
    assert F.get_setting({}, "nope", "fallback") == "fallback"


def test_every_template_and_stage_validates():
    checked = 0
    for path in sorted(TEMPLATE_DIR.glob("*.nnstudio")):
        data = json.loads(path.read_text())
        TrainingSettings.from_dict(data["training"])
        for stage in (data.get("meta", {}).get("stages") or {}).values():
            training = merge(copy.deepcopy(data["training"]), stage.get("training", {}))
            for key, value in (stage.get("replace") or {}).items():
                training = F.set_setting(training, key, value)
            TrainingSettings.from_dict(training)
            checked += 1
    assert checked >= 5


def test_sections_round_trip_and_compare():
    s = TrainingSettings.from_dict({"recipe": "adversarial", "gan": {"d_steps": 2.0}, "rl": {"grid": {"slip": 0.1}}})
    assert s.gan.d_steps == 2 and s.rl.grid.slip == 0.1
    d = s.to_dict()
    assert d["gan"]["d_steps"] == 2 and isinstance(d["rl"]["grid"], dict)
    assert TrainingSettings.from_dict(json.loads(json.dumps(d))) == s


def test_early_stopping_offers_the_paradigms_own_metrics():
    rl = next(f for f in F.settings_fields("q_learning_tabular") if f.key == "early_stopping.metric")
    assert rl.kind == "choice" and rl.choices[0] == "val_optimal_paths" and "val_accuracy" not in rl.choices
    cls = next(f for f in F.settings_fields("classification") if f.key == "early_stopping.metric")
    assert cls.choices[0] == "val_loss" and "val_accuracy" in cls.choices and "val_f1" in cls.choices
