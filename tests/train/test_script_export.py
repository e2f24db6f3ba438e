import ast
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from studio.compile.exporter import export_project
from studio.train.script_export import ScriptExportError, export_train_script, train_source
from tests.train.helpers import mlp, project

ROOT = Path(__file__).resolve().parents[2]
TRAINING = {"recipe": "classification", "dataset": {"name": "spirals", "params": {"n": 240}}, "epochs": 1,
            "batch_size": 16, "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
            "schedule": {"name": "cosine"}, "seed": 3}


def _env(tmp_path):
    """PYTHONPATH points at stand-in packages that refuse import: the script must not need NN Studio."""
    block = tmp_path / "_block"
    for name in ("studio", "nodes"):
        (block / name).mkdir(parents=True, exist_ok=True)
        (block / name / "__init__.py").write_text("raise ImportError('exported code imported NN Studio')\n")
    return dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(block))


def _export(registry, tmp_path, training=TRAINING):
    p = project(mlp(registry, "model", 2, 16, 3), training=training)
    export_project(p, registry, tmp_path)
    export_train_script(p, registry, tmp_path)
    return p


def test_train_script_runs_plainly_without_nnstudio(registry, tmp_path):
    _export(registry, tmp_path)
    for name in ("train.py", "data.py"):
        tree = ast.parse((tmp_path / name).read_text())
        imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not imported & {"studio", "nodes"}, imported
    r = subprocess.run([sys.executable, "train.py", "--out", "w"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=120, env=_env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "epoch 1/1" in r.stdout and "val_accuracy" in r.stdout
    assert (tmp_path / "w" / "weights.safetensors").exists()


def test_train_script_under_torchrun_with_two_cpu_processes(registry, tmp_path):
    _export(registry, tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={port}",
                        "--master_addr=127.0.0.1", "train.py", "--out", "w"], cwd=tmp_path, capture_output=True,
                       text=True, timeout=180, env=_env(tmp_path))
    assert r.returncode == 0, r.stderr[:6000]
    assert r.stdout.count("epoch 1/1") == 1  # only rank 0 reports
    assert (tmp_path / "w" / "weights.safetensors").exists()


def test_exported_data_matches_the_engine(registry, tmp_path):
    _export(registry, tmp_path)
    code = (
        "import data, numpy as np\n"
        "x, y, info = data.load('spirals', {'n': 240}, 3)\n"
        "xt, yt, xv, yv, info = data.split(x, y, info, 0.2, 0, 3)\n"
        "np.save('xv.npy', xv)\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, timeout=60, env=_env(tmp_path))
    import numpy as np

    from studio.train.data import load_data
    from studio.train.settings import DatasetSettings

    bundle = load_data(DatasetSettings(name="spirals", params={"n": 240}), 3)
    assert np.array_equal(np.load(tmp_path / "xv.npy"), bundle.val_x.numpy())


def test_hostile_names_cannot_inject_code(registry):
    p = project(mlp(registry, "model", 2, 8, 3), training=TRAINING)
    p.name = '__SETTINGS__"""\nimport os; os.system("echo pwned")\n"""'
    p.training = dict(TRAINING, dataset={"name": "csv", "path": "x'''\nimport os\n'''", "target": "__CLASS__"})
    text = train_source(p, registry)
    tree = ast.parse(text)
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    assert all(getattr(n, "module", None) != "os" or isinstance(n, ast.Import) for n in imports)
    assert sum(isinstance(n, ast.Import) and any(a.name == "os" for a in n.names) for n in ast.walk(tree)) == 1
    assert not any(isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "system" for n in ast.walk(tree))


def test_rl_recipes_are_refused_clearly(registry):
    p = project(mlp(registry, "model", 2, 8, 4), training={"recipe": "dqn"})
    with pytest.raises(ScriptExportError, match="dqn"):
        train_source(p, registry)


def test_export_is_deterministic_and_ruff_clean(registry, tmp_path):
    p = project(mlp(registry, "model", 2, 16, 3), training=dict(TRAINING, nodes={"linear": {"lr_mult": 0.5}}))
    assert train_source(p, registry) == train_source(p, registry)
    export_project(p, registry, tmp_path)
    export_train_script(p, registry, tmp_path)
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select", "E,F,W,I,B,UP",
                        "--line-length", "120", "train.py", "data.py"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout
    assert "LR_MULT = {'linear': 0.5}" in (tmp_path / "train.py").read_text()


def test_gan_train_script_runs_plainly_and_under_torchrun(registry, tmp_path):
    g = mlp(registry, "generator", 4, 16, 2)
    d = mlp(registry, "discriminator", 2, 16, 1, act="nn.leaky_relu")
    t = {"recipe": "adversarial", "dataset": {"name": "ring", "params": {"n": 512}}, "epochs": 2, "batch_size": 32,
         "optimizer": {"lr": 0.002, "betas": [0.5, 0.999]}, "nodes": {"linear": {"lr_mult": 0.5}}}
    p = project(g, d, training=t)
    export_project(p, registry, tmp_path)
    export_train_script(p, registry, tmp_path)
    r = subprocess.run([sys.executable, "train.py", "--out", "w", "--max-steps", "5"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120, env=_env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "epoch 2/2" in r.stdout and "modes" in r.stdout
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={port}",
                        "--master_addr=127.0.0.1", "train.py", "--out", "w2", "--max-steps", "3"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=180, env=_env(tmp_path))
    assert r.returncode == 0, r.stderr[:6000]
    from safetensors.torch import load_file

    keys = load_file(str(tmp_path / "w2" / "weights.safetensors"))
    assert any(k.startswith("generator.") for k in keys) and any(k.startswith("discriminator.") for k in keys)
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select",
                           "E,F,W,I,B,UP", "--line-length", "120", "train.py"], cwd=tmp_path, capture_output=True,
                          text=True)
    assert lint.returncode == 0, lint.stdout
