import pytest

from studio.train.settings import SettingsError, TrainingSettings, describe


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
