"""Label noise: a seeded share of training labels flipped to another class; validation untouched."""

from __future__ import annotations

import pytest
import torch

from studio.core.factory import chain_graph
from studio.train.data import DataError, load_data
from studio.train.engine import run
from studio.train.settings import DatasetSettings, SettingsError
from tests.train.helpers import project


def _data(share: float, seed: int = 0, name: str = "spirals"):
    return load_data(DatasetSettings(name=name, label_noise=share), seed)


def test_the_share_asked_is_flipped_and_only_in_training():
    clean, noisy = _data(0.0), _data(0.3)
    flipped = (clean.train_y != noisy.train_y).float().mean().item()
    assert flipped == pytest.approx(0.3, abs=1 / len(clean.train_y))
    assert torch.equal(clean.val_y, noisy.val_y) and torch.equal(clean.val_x, noisy.val_x)
    assert torch.equal(clean.train_x, noisy.train_x)
    assert noisy.info["label_noise"] == {"share": 0.3, "flipped": int(round(0.3 * len(clean.train_y))),
                                         "of": len(clean.train_y)}
    assert int(noisy.train_y.max()) < len(clean.classes)


def test_the_same_seed_flips_the_same_samples_and_another_seed_others():
    a, b, c = _data(0.2, 0), _data(0.2, 0), _data(0.2, 5)
    assert torch.equal(a.train_y, b.train_y)
    base_c = _data(0.0, 5)
    assert not torch.equal((a.train_y != _data(0.0, 0).train_y), (c.train_y != base_c.train_y))


def test_out_of_range_share_and_a_regression_set_are_refused_with_the_setting_named():
    with pytest.raises(SettingsError) as err:
        DatasetSettings(name="spirals", label_noise=1.5)
    assert "label_noise" in err.value.key
    with pytest.raises(DataError, match="label_noise"):
        _data(0.2, name="waves")


def test_a_noisy_run_says_so_in_its_run_info(tmp_path):
    from studio.catalog import default_registry

    registry = default_registry()
    graph = chain_graph(registry, "mlp", [2], [("nn.linear", {"out_features": 16}), ("nn.relu", {}),
                                               ("nn.linear", {"out_features": 3})])
    proj = project(graph, training={"recipe": "classification", "epochs": 1, "steps_per_epoch": 2, "threads": 1,
                                    "dataset": {"name": "spirals", "label_noise": 0.25}})
    updates = list(run(proj, registry, views=False))
    assert updates[-1].kind == "done", updates[-1].message
    started = next(u for u in updates if u.kind == "started")
    assert started.info["label_noise"]["share"] == 0.25
