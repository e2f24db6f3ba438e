"""Pretrained backbones: freezing, weights from files and the hub cache, and meta-only shape inference.

No test downloads anything: ImageNet files are faked in a temporary TORCH_HOME.
"""

from __future__ import annotations

import os

import pytest
import torch
from torchvision import models

from nodes.modules import PretrainedBackbone
from studio.core.buildctx import building_for_shapes
from tests.nodes.helpers import infer

IMAGE = [((3, 32, 32), "float32")]


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty torch hub cache, so nothing real is found (or downloaded)."""
    home = tmp_path / "torch_home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    return home


def _params(**overrides):
    return {"weights": "none", "weights_path": "", "freeze": "none", **overrides}


def _random_checkpoint(arch: str) -> dict[str, torch.Tensor]:
    torch.manual_seed(1)
    return getattr(models, arch)(weights=None).state_dict()  # with its 1000-class classifier


def _trainable(module) -> set[str]:
    return {name for name, p in module.named_parameters() if p.requires_grad}


@pytest.mark.parametrize(("arch", "last"), [("resnet18", "net.layer4."), ("mobilenet_v3_small", "net.features.12.")])
def test_freeze_leaves_only_the_last_stage_trainable(registry, arch, last):
    spec = registry.get(f"tv.{arch}")
    everything = {name for name, _ in spec.build(_params()).named_parameters()}
    assert _trainable(spec.build(_params())) == everything
    assert _trainable(spec.build(_params(freeze="all"))) == set()
    partial = _trainable(spec.build(_params(freeze="all_but_last")))
    assert partial == {name for name in everything if name.startswith(last)}
    assert partial and partial != everything


def test_frozen_batch_norm_stays_in_eval_mode_while_training(registry):
    model = registry.get("tv.resnet18").build(_params(freeze="all_but_last")).train()
    assert model.training
    assert not model.net.bn1.training  # frozen stem
    assert model.net.layer4[0].bn1.training  # trainable last stage
    assert all(m.training for m in registry.get("tv.resnet18").build(_params()).train().modules())


def test_shape_inference_reports_trainable_counts(registry):
    shapes, node = infer(registry, registry.get("tv.resnet18"), IMAGE, {"freeze": "all_but_last"})
    info = shapes.nodes[node.id]
    assert info.outputs["out"].shape == (2, 512)
    real = PretrainedBackbone("resnet18", freeze="all_but_last")
    assert info.params == sum(p.numel() for p in real.parameters())
    assert info.trainable == sum(p.numel() for p in real.parameters() if p.requires_grad) < info.params


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_weights_file_loads_ignoring_the_classifier(registry, tmp_path, suffix):
    state = _random_checkpoint("resnet18")
    assert "fc.weight" in state
    path = tmp_path / f"resnet18{suffix}"
    if suffix == ".pt":
        torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}}, path)
    else:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    model = registry.get("tv.resnet18").build(_params(weights="file", weights_path=str(path))).eval()
    assert torch.equal(model.net.conv1.weight, state["conv1.weight"])
    assert torch.equal(model.net.layer4[1].bn2.running_var, state["layer4.1.bn2.running_var"])
    with torch.no_grad():
        assert model(torch.randn(1, 3, 32, 32)).shape == (1, 512)


def test_weights_file_that_does_not_fit_names_the_file(registry, tmp_path):
    path = tmp_path / "mobilenet.pt"
    torch.save(_random_checkpoint("mobilenet_v3_small"), path)
    with pytest.raises(ValueError, match="does not fit resnet18") as err:
        registry.get("tv.resnet18").build(_params(weights="file", weights_path=str(path)))
    assert str(path) in str(err.value) and "missing keys" in str(err.value)


def test_weights_file_with_wrong_sizes_names_the_file(registry, tmp_path):
    state = _random_checkpoint("resnet18")
    state["conv1.weight"] = torch.zeros(64, 3, 3, 3)
    path = tmp_path / "odd.pt"
    torch.save(state, path)
    with pytest.raises(ValueError, match="sizes differ") as err:
        registry.get("tv.resnet18").build(_params(weights="file", weights_path=str(path)))
    assert str(path) in str(err.value)


def test_missing_or_unreadable_weights_file(registry, tmp_path):
    missing = tmp_path / "nope.pt"
    with pytest.raises(FileNotFoundError, match="does not exist") as err:
        registry.get("tv.resnet18").build(_params(weights="file", weights_path=str(missing)))
    assert str(missing) in str(err.value)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot be read as PyTorch weights") as err:
        registry.get("tv.resnet18").build(_params(weights="file", weights_path=str(junk)))
    assert str(junk) in str(err.value)


def test_imagenet_weights_not_cached_says_where_and_what_to_do(registry, torch_home):
    with pytest.raises(FileNotFoundError) as err:
        registry.get("tv.resnet18").build(_params(weights="imagenet"))
    folder = os.path.join(str(torch_home), "hub", "checkpoints")
    assert str(err.value) == (f"ImageNet weights for resnet18 are not cached in {folder}; "
                              "connect once to download them, or choose weights = file")


def test_imagenet_weights_load_from_the_hub_cache(registry, torch_home):
    url = models.ResNet18_Weights.DEFAULT.url
    folder = torch_home / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    state = _random_checkpoint("resnet18")
    torch.save(state, folder / os.path.basename(url))
    model = registry.get("tv.resnet18").build(_params(weights="imagenet", freeze="all"))
    assert torch.equal(model.net.conv1.weight, state["conv1.weight"])
    assert _trainable(model) == set()


def test_shape_inference_never_loads_weights_or_allocates(registry, tmp_path, torch_home, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("shape inference touched a weights file")

    monkeypatch.setattr(torch, "load", refuse)
    seen: list[bool] = []
    original = PretrainedBackbone.forward

    def spy(self, x):
        seen.append(all(p.is_meta for p in self.parameters()) and x.is_meta)
        return original(self, x)

    monkeypatch.setattr(PretrainedBackbone, "forward", spy)
    spec = registry.get("tv.resnet18")
    for params in ({"weights": "imagenet"}, {"weights": "file", "weights_path": str(tmp_path / "absent.pt")}):
        shapes, node = infer(registry, spec, IMAGE, params)
        info = shapes.nodes[node.id]
        assert info.error is None and info.outputs["out"].shape == (2, 512)
    assert seen == [True, True]
    assert not (torch_home / "hub").exists()
    with building_for_shapes():
        assert spec.constructor_kwargs(_params(weights="imagenet"))["weights"] == "none"
    assert spec.constructor_kwargs(_params(weights="imagenet"))["weights"] == "imagenet"


def test_module_on_meta_device_skips_loading(tmp_path):
    with torch.device("meta"):
        model = PretrainedBackbone("efficientnet_b0", weights="file", weights_path=str(tmp_path / "absent.pt"))
    assert all(p.is_meta for p in model.parameters())
