"""A checkpoint that does not fit the project is described in one line: counts and the first names."""

import pytest
import torch

from studio.train.checkpoint import CheckpointError, save_checkpoint
from studio.train.checkpoint_fit import check_checkpoint_fits, describe_mismatch
from tests.train.helpers import mlp, project


def test_describe_mismatch_counts_missing_unexpected_and_reshaped_keys():
    expected = {"a.weight": (4, 2), "a.bias": (4,), "b.weight": (3, 4), "b.bias": (3,), "c.weight": (1,)}
    found = {"a.weight": torch.zeros(8, 2), "a.bias": torch.zeros(4), "z.weight": torch.zeros(1)}
    text = describe_mismatch(expected, found)
    assert text == ("3 missing (b.weight, b.bias, c.weight); 1 unexpected (z.weight); "
                    "1 of another shape (a.weight: checkpoint 8×2, graph 4×2)")
    assert describe_mismatch({"a": (1,)}, {"a": torch.zeros(1)}) is None


def test_a_checkpoint_from_another_architecture_is_refused_before_training(registry, tmp_path):
    small = project(mlp(registry, "model", 2, 8, 3))
    weights = {k: torch.zeros(v.shape) for k, v in _state(registry, small).items()}
    path = save_checkpoint(tmp_path / "c.pt", {"models": {"model": weights}, "epoch": 1})
    check_checkpoint_fits(small, registry, path)  # fits: no error
    big = project(mlp(registry, "model", 2, 32, 3, depth=2))
    with pytest.raises(CheckpointError) as info:
        check_checkpoint_fits(big, registry, path)
    text = str(info.value)
    assert "\n" not in text and "missing" in text and "of another shape" in text and "8" in text
    other = project(mlp(registry, "other", 2, 8, 3))
    with pytest.raises(CheckpointError, match="holds graph 'model'"):
        check_checkpoint_fits(other, registry, path)


def _state(registry, p):
    from studio.train.build import build_model

    return build_model(p.graphs[0], registry).module.state_dict()
