"""The memory budget: estimated from shapes and a tiny data probe, refused in one line before allocating."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.train.memory_budget import (
    MB,
    MemoryBudgetError,
    check_before_allocation,
    estimate,
    limit_bytes,
)
from studio.train.settings import SettingsError, TrainingSettings
from tests.train.helpers import mlp, project

ROOT = Path(__file__).resolve().parents[2]


def settings(**kw) -> TrainingSettings:
    base = {"dataset": {"name": "spirals", "params": {"n": 1000}}, "batch_size": 10, "threads": 1}
    base.update(kw)
    return TrainingSettings.from_dict(base)


def test_the_model_part_follows_the_parameter_count_and_the_optimizer(registry):
    p = project(mlp(registry, "model", 2, 16, 3))
    params = 2 * 16 + 16 + 16 * 3 + 3
    adam = estimate(p, registry, settings())
    assert (adam.weights, adam.grads, adam.optimizer) == (4 * params, 4 * params, 8 * params)
    sgd = estimate(p, registry, settings(optimizer={"name": "sgd", "momentum": 0.0}))
    assert sgd.optimizer == 0
    # activations: every node's output per sample, times the batch, kept for backward plus gradients
    assert estimate(p, registry, settings(batch_size=20)).activations == 2 * adam.activations > 0


def test_the_data_part_grows_with_the_dataset_and_matches_what_loading_takes(registry):
    import tracemalloc

    from studio.train.data import load_data

    p = project(mlp(registry, "model", 2, 16, 3))
    small = estimate(p, registry, settings(dataset={"name": "spirals", "params": {"n": 10_000}}))
    large = estimate(p, registry, settings(dataset={"name": "spirals", "params": {"n": 100_000}}))
    assert 9 < large.data / small.data < 11
    s = settings(dataset={"name": "spirals", "params": {"n": 100_000}})
    tracemalloc.start()
    load_data(s.dataset, 0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak <= large.data <= 3 * peak  # an upper bound, not a wild one


def test_a_run_past_the_limit_is_refused_with_the_figures(registry):
    p = project(mlp(registry, "model", 2, 16, 3))
    s = settings(dataset={"name": "spirals", "params": {"n": 1_000_000}}, memory_limit_mb=16)
    with pytest.raises(MemoryBudgetError) as info:
        check_before_allocation(p, registry, s, "cpu")
    err = info.value
    assert isinstance(err, SettingsError) and err.key == "dataset.params.n"
    text = str(err)
    assert "\n" not in text and "needs about" in text and "16.0 MB" in text and "memory_limit_mb" in text
    assert check_before_allocation(p, registry, settings(), "cpu").total < 16 * MB
    wide = project(mlp(registry, "model", 2, 4000, 3, depth=2))  # 16 M weights: 256 MB with Adam
    with pytest.raises(MemoryBudgetError) as model_info:
        check_before_allocation(wide, registry, settings(memory_limit_mb=100), "cpu")
    assert model_info.value.key == "memory_limit_mb" and "smaller model" in str(model_info.value)


@pytest.mark.slow
def test_the_limit_is_the_least_of_setting_environment_and_free_memory(monkeypatch):
    monkeypatch.setenv("NNSTUDIO_MEMORY_LIMIT_MB", "64")
    assert limit_bytes(settings(memory_limit_mb=100)) == (64 * MB, "NNSTUDIO_MEMORY_LIMIT_MB")
    assert limit_bytes(settings(memory_limit_mb=32))[0] == 32 * MB
    monkeypatch.delenv("NNSTUDIO_MEMORY_LIMIT_MB")
    assert limit_bytes(settings(memory_limit_mb=1_000_000))[1] == "the memory available to this process"
    code = ("import resource; from studio.train.memory_budget import available_bytes, _proc_status;"
            "resource.setrlimit(resource.RLIMIT_DATA, (_proc_status()['VmData:'] + 300 * 2**20, resource.RLIM_INFINITY));"
            "print(available_bytes() // 2**20)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 0, r.stderr
    assert 250 <= int(r.stdout) <= 300  # what RLIMIT_DATA leaves, not the machine's free memory
