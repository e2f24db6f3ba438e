"""One test per template: load from templates/, validate, compile, export with parity, short training run.

The runs are shortened (few steps, small datasets, one thread) and assert learning progress; the
full-length quality targets are checked by ``python -m bench.templates``.
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

from bench.templates import apply_stage, load, train
from studio.compile.compiler import compile_graph
from studio.compile.exporter import export_graph
from studio.core.model import Project
from studio.core.validation import validate
from studio.io.templates import TEMPLATE_DIR, list_templates
from tests.templates.test_digits_templates import DIGITS_TEMPLATES
from tests.templates.test_embedding_templates import EMBEDDING_TEMPLATES
from tests.templates.test_rl_templates import RL_TEMPLATES
from tests.templates.test_ssl_templates import SSL_TEMPLATES
from tests.templates.test_text_templates import TEXT_TEMPLATES

SHORT = {"threads": 1, "device": "cpu", "seed": 0}


def _checked(project: Project, registry) -> Project:
    """Every graph validates without errors, compiles, and its export gives identical outputs."""
    assert project.meta.get("title") and project.meta.get("description") and project.meta.get("explanation")
    assert isinstance(project.meta.get("order"), int)
    for graph in project.graphs:
        errors = [i for i in validate(graph, registry) if i.severity == "error"]
        assert not errors, f"{graph.name}: {[i.message for i in errors]}"
        _parity(graph, registry)
    return project


def _parity(graph, registry) -> None:
    torch.manual_seed(0)
    compiled = compile_graph(graph, registry)
    exported = export_graph(graph, registry)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"export_{graph.id[:8]}.py"
        path.write_text(exported.code, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    model = getattr(module, exported.class_name)()
    model.load_state_dict(compiled.state_dict())
    gen = torch.Generator().manual_seed(0)
    inputs = []
    for name in exported.input_names:
        shape, dtype = exported.input_shapes[name]
        if dtype.startswith("float"):
            inputs.append(torch.randn((3, *shape), generator=gen))
        else:
            inputs.append(torch.randint(0, 10, (3, *shape), generator=gen))
    compiled.eval()
    model.eval()
    with torch.no_grad():
        a, b = compiled(*inputs), model(*inputs)
    a = a if isinstance(a, tuple) else (a,)
    b = b if isinstance(b, tuple) else (b,)
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x, y), f"{graph.name}: export differs by {(x - y).abs().max().item()}"


def _falls(values: list[float]) -> bool:
    return len(values) >= 2 and values[-1] < values[0]


def test_gallery_lists_every_template():
    keys = {t.key for t in list_templates()}
    assert {"transfer_cnn", "lstm_forecast", "conv_autoencoder", "gan_ring", "gan_dcgan", "attention_reverse",
            "gridworld_q"} <= keys
    orders = [t.order for t in list_templates()]
    assert orders == sorted(orders)


def test_templates_are_generated_from_the_builder(registry):
    """The committed files are exactly what build_templates.py makes: nobody hand-edited them."""
    from studio.io.project_file import project_to_dict
    from templates.build_templates import BUILDERS, stable_ids

    for key, build in BUILDERS.items():
        built = project_to_dict(stable_ids(build(registry), registry), registry)
        saved = project_to_dict(load(key, registry), registry)
        assert built == saved, f"templates/{key}.nnstudio is stale: run python templates/build_templates.py"


@pytest.mark.slow
def test_transfer_cnn(registry):
    project = load("transfer_cnn", registry)
    backbone = project.main_graph.node_by_name("backbone")
    assert backbone.type_id == "tv.resnet18" and backbone.params["freeze"] == "all"
    assert project.training["optimizer"]["name"] == "sgd" and project.training["optimizer"]["momentum"] > 0
    _checked(apply_stage(project, "scratch"), registry)  # ImageNet weights may be absent offline
    small = {**SHORT, "dataset": {"params": {"n": 400}}, "batch_size": 32, "steps_per_epoch": 5, "epochs": 3}
    with tempfile.TemporaryDirectory() as tmp:
        pre = train(apply_stage(project, "pretrain"), registry, small, checkpoint_dir=tmp)
        assert _falls([h["loss"] for h in pre.history])
        fine = train(apply_stage(project, "finetune", {"pretrain": str(Path(tmp) / "last.pt")}), registry,
                     {**SHORT, "dataset": {"params": {"n": 200}}, "epochs": 2})
    assert fine.info["init_tensors_loaded"] > 100  # the backbone started from the pretrained checkpoint
    assert np.isfinite(fine.last("val_loss"))


def test_transfer_cnn_without_cached_imagenet_weights_says_what_to_do(registry):
    from torchvision import models

    url = models.get_model_weights("resnet18").DEFAULT.url
    if (Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name).is_file():
        pytest.skip("ImageNet weights are cached here")
    with pytest.raises(RuntimeError, match="(?i)imagenet.*not cached|weights = file"):
        train(load("transfer_cnn", registry), registry, {**SHORT, "epochs": 1, "steps_per_epoch": 1})


@pytest.mark.slow
def test_lstm_forecast(registry):
    project = _checked(load("lstm_forecast", registry), registry)
    r = train(project, registry, {**SHORT, "dataset": {"params": {"n": 800}}, "epochs": 3, "steps_per_epoch": 10})
    assert _falls(r.curve("val_mse"))
    assert r.last("val_baseline_mse") > 0


@pytest.mark.slow
def test_lstm_characters_on_a_text_file_of_ones_own(registry, tmp_path):
    """The 'characters' stage trains the Embedding -> LSTM -> Linear graph on a file the user names."""
    from studio.io.stages import StageError, default_subs

    project = load("lstm_forecast", registry)
    with pytest.raises(StageError, match="text"):
        apply_stage(project, "characters")
    assert Path(default_subs(project, "characters")["text"]).is_file()  # the bundled sample
    text = tmp_path / "mine.txt"
    text.write_text("the cat sat on the mat. the dog sat on the log. " * 40, encoding="utf-8")
    variant = apply_stage(project, "characters", {"text": str(text)})
    assert variant.training["graph"] == "char_model" and variant.training["dataset"]["path"] == str(text)
    assert set(variant.training["dataset"]["params"]) == {"length", "many_to_many", "max_windows"}
    types = [n.type_id for n in variant.graph_by_name("char_model").nodes.values()]
    assert {"nn.embedding", "nn.lstm", "nn.linear"} <= set(types)
    r = train(variant, registry, {**SHORT, "epochs": 3, "steps_per_epoch": 8})
    losses = r.curve("val_loss")
    assert losses[-1] < losses[0] - 0.3, losses


def test_conv_autoencoder(registry):
    project = _checked(load("conv_autoencoder", registry), registry)
    for variant in (project, apply_stage(project, "denoising")):
        r = train(variant, registry, {**SHORT, "dataset": {"params": {"n": 600}}, "epochs": 3})
        assert _falls(r.curve("val_mse"))
    assert apply_stage(project, "denoising").training["loss"]["noise"] > 0
    assert "latent" in r.update.views and len(r.update.views["latent"]["points"]) > 0


def test_gan_ring(registry):
    project = _checked(load("gan_ring", registry), registry)
    assert [g.name for g in project.graphs] == ["generator", "discriminator"]
    r = train(project, registry, {**SHORT, "epochs": 3, "steps_per_epoch": 40})
    assert _falls(r.curve("val_mode_distance"))


def test_gan_dcgan(registry):
    project = _checked(load("gan_dcgan", registry), registry)
    r = train(project, registry, {**SHORT, "dataset": {"params": {"n": 300}}, "batch_size": 32, "epochs": 1,
                                  "steps_per_epoch": 3})
    assert np.isfinite(r.last("val_d_real"))


def test_attention_reverse(registry):
    project = _checked(load("attention_reverse", registry), registry)
    r = train(project, registry, {**SHORT, "dataset": {"params": {"n": 2000}}, "epochs": 3, "steps_per_epoch": 15})
    acc = r.curve("val_accuracy")
    assert acc[-1] > acc[0] and acc[-1] > 0.15
    assert r.update.views.get("attention") is not None


@pytest.mark.parametrize("recipe", ["q_learning_tabular", pytest.param("dqn", marks=pytest.mark.slow)])
def test_gridworld_q(registry, recipe):
    project = load("gridworld_q", registry)
    _checked(project, registry)
    variant = project if recipe == "q_learning_tabular" else apply_stage(project, "dqn")
    assert variant.training["recipe"] == recipe
    episodes = 300 if recipe == "q_learning_tabular" else 80
    r = train(variant, registry, {**SHORT, "epochs": 2, "rl": {"episodes": episodes}})
    returns = r.curve("val_return_mean50")
    assert returns[-1] > returns[0]  # the mean return of recent episodes rises
    assert r.last("val_optimal_actions") > 0.6  # most cells already point along a shortest path


def test_every_template_file_is_covered():
    tested = {"transfer_cnn", "lstm_forecast", "conv_autoencoder", "gan_ring", "gan_dcgan", "attention_reverse",
              "gridworld_q", *RL_TEMPLATES, *DIGITS_TEMPLATES, *SSL_TEMPLATES,
              *TEXT_TEMPLATES, *EMBEDDING_TEMPLATES}
    on_disk = {p.stem for p in TEMPLATE_DIR.glob("*.nnstudio")}
    assert on_disk == tested
