"""Training parity: ``nnstudio train`` and the exported ``train.py`` (run as a subprocess, without NN
Studio importable) give the same per-epoch metrics for the same project and seed on the CPU."""

import csv
import subprocess
import sys

import pytest

from studio.cli import main as cli
from studio.compile.exporter import export_project
from studio.io.project_file import save_project
from studio.train.script_export import export_train_script
from tests.train.helpers import chain, mlp, project
from tests.train.test_script_export import _env

TIMING = {"epoch_s", "samples_per_s", "inference_ms_per_sample"}
BASE = {"epochs": 2, "seed": 5, "threads": 1, "device": "cpu"}


def _cases(registry):
    spirals = {"name": "spirals", "params": {"n": 300}}
    waves = {"name": "waves", "params": {"n": 300, "length": 8, "horizon": 2}}
    return {
        "classification": (project(mlp(registry, "model", 2, 16, 3), training=dict(
            BASE, recipe="classification", dataset=dict(spirals, augment={"normalize": True}), batch_size=32,
            optimizer={"name": "sgd", "lr": 0.05, "momentum": 0.9, "l1": 1e-4}, loss={"label_smoothing": 0.1},
            grad_clip=1.0, schedule={"name": "plateau", "patience": 0},
            early_stopping={"enabled": True, "patience": 5, "metric": "val_accuracy"},
            nodes={"linear": {"lr_mult": 0.5}}))),
        "regression": (project(chain(registry, "model", [8, 1], [("nn.flatten", {}), ("nn.linear", {"out_features": 16}),
                                                                ("nn.tanh", {}), ("nn.linear", {"out_features": 2})]),
                               training=dict(BASE, recipe="regression", dataset=waves, batch_size=32,
                                             optimizer={"lr": 0.01}, loss={"name": "huber"},
                                             schedule={"name": "one_cycle"}))),
        "reconstruction": (project(mlp(registry, "model", 2, 8, 2), training=dict(
            BASE, recipe="reconstruction", dataset=spirals, batch_size=32, optimizer={"name": "adamw", "lr": 0.01},
            loss={"noise": 0.1}, schedule={"name": "cosine"}, init={"scheme": "xavier"}))),
        "adversarial": (project(mlp(registry, "generator", 4, 16, 2),
                                mlp(registry, "discriminator", 2, 16, 1, act="nn.leaky_relu"),
                                training=dict(BASE, recipe="adversarial", dataset={"name": "ring", "params": {"n": 512}},
                                              batch_size=32, optimizer={"lr": 0.002, "betas": [0.5, 0.999]},
                                              gan={"r1": 0.5, "d_steps": 2}, schedule={"name": "step", "step_size": 1}))),
        # label noise flips the same training labels; FGSM attacks each (standardised) batch the same way
        "label_noise": (project(mlp(registry, "model", 2, 16, 3), training=dict(
            BASE, recipe="classification", dataset=dict(spirals, label_noise=0.3), batch_size=32,
            optimizer={"lr": 0.01}))),
        "fgsm": (project(mlp(registry, "model", 2, 16, 3), training=dict(
            BASE, recipe="classification", batch_size=32, optimizer={"lr": 0.01},
            dataset=dict(spirals, augment={"normalize": True, "adversarial": "fgsm", "adversarial_eps": 0.2})))),
        "pgd": (project(mlp(registry, "model", 2, 16, 3), training=dict(
            BASE, recipe="classification", batch_size=32, optimizer={"lr": 0.01},
            dataset=dict(spirals, augment={"adversarial": "pgd", "adversarial_eps": 0.1})))),
        # the bundled scikit-learn digits: an encoder / decoder pair, and a CNN
        "vae": _template(registry, "digits_vae"),
        "digits_cnn": _template(registry, "digits_cnn"),
        # an autoencoder whose validation adds k-means purity on its codes and on the raw pixels
        "clustering": _template(registry, "digits_clustering"),
        # a project file holds at least one graph; tabular Q-learning does not read it
        "q_learning_tabular": (project(mlp(registry, "unused", 2, 4, 4), training=dict(BASE, recipe="q_learning_tabular",
                                                     rl={"episodes": 80, "grid": {"slip": 0.1}}))),
    }


def _template(registry, key):
    from bench.templates import load

    p = load(key, registry).snapshot()
    p.training.update(BASE, steps_per_epoch=5)
    return p


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _compare(app, exported):
    assert list(app[0]) == list(exported[0])  # the same columns, in the same order
    assert len(app) == len(exported) == BASE["epochs"]
    worst = 0.0
    for a, b in zip(app, exported, strict=True):
        for key in a:
            if key not in TIMING:
                worst = max(worst, abs(float(a[key]) - float(b[key])))
    return worst


def _train_both(registry, p, tmp_path):
    path = save_project(p, tmp_path / "p.nnstudio", registry)
    assert cli(["train", str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    out = tmp_path / "export"
    export_project(p, registry, out)
    export_train_script(p, registry, out)
    r = subprocess.run([sys.executable, "train.py", "--out", "w"], cwd=out, capture_output=True, text=True,
                       timeout=120, env=_env(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    return _rows(tmp_path / "run" / "metrics.csv"), _rows(out / "w" / "metrics.csv")


@pytest.mark.slow
@pytest.mark.parametrize("paradigm", ["classification", "regression", "reconstruction", "adversarial",
                                      "q_learning_tabular", "label_noise", "fgsm", "pgd", "vae", "digits_cnn",
                                      "clustering"])
def test_app_and_exported_script_train_identically(registry, tmp_path, paradigm):
    p = _cases(registry)[paradigm]
    app, exported = _train_both(registry, p, tmp_path)
    assert _compare(app, exported) <= 1e-6


@pytest.mark.slow
def test_init_checkpoint_is_honoured_by_the_export(registry, tmp_path):
    p = _cases(registry)["classification"]
    path = save_project(p, tmp_path / "pre.nnstudio", registry)
    assert cli(["train", str(path), "--out", str(tmp_path / "pre"), "--quiet"]) == 0
    p.training = dict(p.training, init={"checkpoint": str(tmp_path / "pre" / "last.pt")}, epochs=2)
    app, exported = _train_both(registry, p, tmp_path / "fine")
    assert _compare(app, exported) <= 1e-6
    fresh, _ = _train_both(registry, _cases(registry)["classification"], tmp_path / "fresh")
    assert float(app[0]["val_loss"]) < float(fresh[0]["val_loss"])  # it really started from the trained weights
