"""Diffusion exports train.py: the exported denoiser trained by nnloop's DiffusionTask gives the same
per-epoch metrics as ``nnstudio train`` (a subprocess without NN Studio importable), on the ring and
on the digits; the script refuses a denoiser without its time Input by name."""

from __future__ import annotations

import pytest

from bench.templates import load
from studio.train.script_export import train_source
from tests.train.test_training_parity import _compare, _train_both

SHORT = {"epochs": 2, "seed": 5, "threads": 1, "device": "cpu", "steps_per_epoch": 5}


def _short(registry, key: str):
    p = load(key, registry).snapshot()
    p.training.update(SHORT)
    p.training["diffusion"] = {"steps": 10, "samples": 64, "sample_every": 1}
    return p


def test_train_py_names_the_denoiser_and_its_time_input(registry):
    text = train_source(_short(registry, "digits_diffusion"), registry)
    assert "diffusion.train_diffusion(" in text and "TIME_INPUT = 1" in text and "'denoiser'" in text
    assert "INPUT_SHAPE = [1, 8, 8]" in text and "'sample_every': 1" in text


def test_a_denoiser_without_t_is_refused_by_the_export(registry):
    p = _short(registry, "diffusion_ring")
    p.graph_by_name("denoiser").node_by_name("t").name = "time"
    with pytest.raises(ValueError, match="one named 't'"):
        train_source(p, registry)


@pytest.mark.slow
@pytest.mark.parametrize("key", ["diffusion_ring", "digits_diffusion"])
def test_app_and_exported_script_train_identically(registry, tmp_path, key):
    app, exported = _train_both(registry, _short(registry, key), tmp_path)
    assert "val_loss" in app[0] and ("val_modes_covered" in app[0]) == (key == "diffusion_ring")
    assert _compare(app, exported) <= 1e-6


def test_the_exported_files_are_ruff_clean(registry, tmp_path):
    import subprocess
    import sys

    from studio.compile.exporter import export_project
    from studio.train.script_export import export_train_script

    p = _short(registry, "digits_diffusion")
    export_project(p, registry, tmp_path)
    export_train_script(p, registry, tmp_path)
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select", "E,F,W,I,B,UP",
                        "--line-length", "120", "train.py", "nnloop/diffusion.py"], cwd=tmp_path, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout
