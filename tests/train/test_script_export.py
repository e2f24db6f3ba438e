import ast
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from studio.compile.exporter import export_project
from studio.train.script_export import ScriptExportError, export_train_script, loop_writer, train_source
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


def _imports(text):
    tree = ast.parse(text)
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    return names | {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}


@pytest.mark.slow
def test_train_script_runs_plainly_without_nnstudio(registry, tmp_path):
    _export(registry, tmp_path)
    files = ["train.py", "data.py", *(f"nnloop/{p.name}" for p in (tmp_path / "nnloop").glob("*.py"))]
    assert len(files) > 4
    for name in files:
        assert not _imports((tmp_path / name).read_text()) & {"studio", "nodes"}, name
    r = subprocess.run([sys.executable, "train.py", "--out", "w"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=120, env=_env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "epoch 1/1" in r.stdout and "val_accuracy" in r.stdout
    assert (tmp_path / "w" / "weights.safetensors").exists()
    header = (tmp_path / "w" / "metrics.csv").read_text().splitlines()[0]
    assert header.startswith("epoch,loss,accuracy,val_loss,val_accuracy") and header.endswith("lr")


def test_the_loop_is_copied_verbatim_and_imports_no_studio(registry, tmp_path):
    from studio.train import nnloop

    _export(registry, tmp_path)
    package = Path(nnloop.__file__).parent
    sources = sorted(package.glob("*.py"))
    assert {p.name for p in sources} == {p.name for p in (tmp_path / "nnloop").glob("*.py")}
    for path in sources:
        assert (tmp_path / "nnloop" / path.name).read_bytes() == path.read_bytes()
        assert not _imports(path.read_text()) & {"studio", "nodes"}, path.name


@pytest.mark.slow
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


class _Strings(ast.NodeTransformer):
    def visit_Constant(self, node):
        return ast.copy_location(ast.Constant(value="S"), node) if isinstance(node.value, str) else node


def _shape_of(text):
    return ast.dump(_Strings().visit(ast.parse(text)))


def test_hostile_names_cannot_inject_code(registry):
    p = project(mlp(registry, "model", 2, 8, 3), training=TRAINING)
    p.training = dict(TRAINING, dataset={"name": "csv", "path": "data.csv", "target": "y"})
    plain = _shape_of(train_source(p, registry))
    p.name = '__SETTINGS__"""\nimport os; os.system("echo pwned")\n"""'
    p.training = dict(TRAINING, dataset={"name": "csv", "path": "x\'\'\'\nimport os\n\'\'\'", "target": "__CLASS__"})
    text = train_source(p, registry)
    tree = ast.parse(text)
    assert not _imports(text) & {"os", "subprocess"}
    assert not any(isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "system" for n in ast.walk(tree))
    assert _shape_of(text) == plain  # the hostile text only ever lands inside string literals


def test_graph_named_like_a_support_file_never_shadows_it(registry, tmp_path):
    p = project(mlp(registry, "nnloop", 2, 8, 3), training=TRAINING)
    model_import = [n.module for n in ast.walk(ast.parse(train_source(p, registry)))
                    if isinstance(n, ast.ImportFrom) and n.module not in ("__future__", "nnloop")]
    assert model_import and "nnloop" not in model_import  # exported under another name
    q = project(mlp(registry, "tabular", 2, 8, 4), training={"recipe": "q_learning_tabular"})
    export_project(q, registry, tmp_path)
    with pytest.raises(ScriptExportError, match="tabular.py"):
        export_train_script(q, registry, tmp_path)


def test_each_paradigm_carries_only_its_settings(registry):
    cls = train_source(project(mlp(registry, "model", 2, 8, 3), training=TRAINING), registry)
    settings = ast.literal_eval(_constant(cls, "SETTINGS"))
    assert "gan" not in settings and "rl" not in settings and "noise" not in settings["loss"]
    assert set(settings["schedule"]) == {"name", "min_lr"} and "betas" not in settings["optimizer"]  # cosine, sgd
    gan = train_source(project(mlp(registry, "generator", 4, 8, 2), mlp(registry, "discriminator", 2, 8, 1),
                               training={"recipe": "adversarial", "dataset": {"name": "ring"}}), registry)
    settings = ast.literal_eval(_constant(gan, "SETTINGS"))
    assert "rl" not in settings and "gp" not in settings["gan"] and "r1" in settings["gan"]
    q = train_source(project(mlp(registry, "model", 2, 8, 4), training={"recipe": "q_learning_tabular"}), registry)
    settings = ast.literal_eval(_constant(q, "SETTINGS"))
    assert "rl" in settings and not {"dataset", "optimizer", "gan", "batch_size"} & set(settings)
    assert "replay_size" not in settings["rl"]  # a DQN setting


def test_label_noise_and_adversarial_batches_travel_with_classifiers_only(registry):
    dataset = {"name": "spirals", "label_noise": 0.2, "augment": {"adversarial": "pgd", "adversarial_eps": 0.05}}
    cls = train_source(project(mlp(registry, "model", 2, 8, 3), training=dict(TRAINING, dataset=dataset)), registry)
    ds = ast.literal_eval(_constant(cls, "SETTINGS"))["dataset"]
    assert ds["label_noise"] == 0.2 and ds["augment"]["adversarial"] == "pgd" and ds["augment"]["adversarial_eps"] == 0.05
    gan = train_source(project(mlp(registry, "generator", 4, 8, 2), mlp(registry, "discriminator", 2, 8, 1),
                               training={"recipe": "adversarial", "dataset": dict(dataset, name="ring")}), registry)
    ds = ast.literal_eval(_constant(gan, "SETTINGS"))["dataset"]
    assert "label_noise" not in ds and "adversarial" not in ds["augment"]


def test_the_vae_export_names_its_roles_and_carries_its_settings(registry):
    from bench.templates import load

    p = load("digits_vae", registry)
    text = train_source(p, registry)
    settings = ast.literal_eval(_constant(text, "SETTINGS"))
    assert settings["vae"] == {"beta": 1.0} and not {"gan", "rl", "loss", "amp"} & set(settings)
    assert set(settings["dataset"]) == {"name", "params", "val_fraction", "limit", "augment"}  # no path: bundled
    assert (_constant(text, "MEANS"), _constant(text, "LOG_VARIANCES")) == ("0", "1")
    p.graph_by_name("encoder").node_by_name("log_var").params["role"] = "auxiliary"
    with pytest.raises(ScriptExportError, match="log_variance"):
        train_source(p, registry)


@pytest.mark.slow
def test_exported_data_loads_the_bundled_sets_as_the_app_does(registry, tmp_path):
    import numpy as np

    from studio.train.data import load_data
    from studio.train.settings import DatasetSettings

    _export(registry, tmp_path)
    code = ("import data, numpy as np\n"
            "for name, shape in (('digits', [1, 16, 16]), ('iris', None)):\n"
            "    x, y, info = data.load(name, {}, 4, input_shape=shape)\n"
            "    xt, yt, xv, yv, info = data.split(x, y, info, 0.2, 0, 4)\n"
            "    np.save(name + '.npy', xv)\n")
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, timeout=60, env=_env(tmp_path))
    for name, shape in (("digits", (1, 16, 16)), ("iris", None)):
        bundle = load_data(DatasetSettings(name=name), 4, shape)
        assert np.array_equal(np.load(tmp_path / f"{name}.npy"), bundle.val_x.numpy()), name


class _NeedsTheApp:
    def step(self):
        return ScriptExportError  # NN Studio code, which train.py cannot import


class _NeedsAConstant:
    def step(self):
        return ROOT  # defined in this module only


def test_loop_writer_refuses_code_train_py_could_not_run():
    with pytest.raises(ScriptExportError, match="uses ScriptExportError, which train.py cannot import"):
        loop_writer(_NeedsTheApp)
    with pytest.raises(ScriptExportError, match="uses ROOT from .*helper"):
        loop_writer(_NeedsAConstant)


def _constant(text, name):
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and node.targets[0].id == name:
            return ast.unparse(node.value)
    raise AssertionError(name)


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
                        "--line-length", "120", "train.py", "data.py", "nnloop"], cwd=tmp_path, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout
    assert "LR_MULT = {'linear': 0.5}" in (tmp_path / "train.py").read_text()


@pytest.mark.slow
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
