"""Diffusion on 8×8 digits: the timestep-embedding node, pixels trained in [−1, 1] and sampled back to
[0, 1], sampling every few epochs, and the template's short run with its reverse-process frames."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.templates import load, train
from nodes.diffusion import TimestepEmbedding
from studio.core.shapes import ShapeInferencer
from studio.train.nnloop.diffusion import frame_steps, is_unit_images

SHORT = {"threads": 1, "device": "cpu", "seed": 0, "epochs": 2, "steps_per_epoch": 5}


def test_timestep_embedding_is_sines_and_cosines_that_change_smoothly_with_time():
    emb = TimestepEmbedding(dim=16, scale=1000.0)
    t = torch.tensor([[0.0], [0.01], [0.011], [0.9]])
    e = emb(t)
    assert e.shape == (4, 16)
    assert torch.allclose(e[:, :8] ** 2 + e[:, 8:] ** 2, torch.ones(4, 8), atol=1e-6)
    assert torch.equal(e[0], torch.cat([torch.zeros(8), torch.ones(8)]))  # t = 0
    near, far = (e[1] - e[2]).norm(), (e[1] - e[3]).norm()
    assert near < far  # close times, close codes
    assert torch.equal(emb(t.reshape(-1)), e)  # (B,) or (B, 1)


def test_an_odd_embedding_size_is_refused_naming_the_parameter(registry):
    project = load("digits_diffusion", registry)
    graph = project.graph_by_name("denoiser")
    node = graph.node_by_name("time_embedding")
    node.params["dim"] = 63
    info = ShapeInferencer(registry).infer(graph).nodes[node.id]
    assert info.error and "even" in info.error


def test_unit_images_are_trained_in_minus_one_to_one():
    assert is_unit_images(torch.rand(4, 1, 8, 8))
    assert not is_unit_images(torch.randn(4, 2))  # points stay as they are
    assert not is_unit_images(torch.rand(4, 1, 8, 8) * 3)
    assert frame_steps(100)[0] == 100 and frame_steps(100)[-1] == 0


@pytest.mark.slow
def test_digits_template_trains_and_plays_image_frames(registry):
    r = train(load("digits_diffusion", registry), registry,
              {**SHORT, "diffusion": {"steps": 10, "samples": 16, "sample_every": 1}})
    assert r.curve("val_loss")[-1] < r.curve("val_loss")[0]
    frames = r.update.views["diffusion"]["frames"]
    assert frames[0].shape == (16, 1, 8, 8) and r.update.views["diffusion"]["steps"][0] == 10
    assert abs(float(frames[0].mean()) - 0.5) < 0.2  # pure noise, mapped back around the middle grey
    assert r.update.views["gan_samples"]["samples"].shape == (16, 1, 8, 8)
    assert "val_modes_covered" not in r.history[-1]  # no ring to judge images by


def test_samples_are_drawn_every_few_epochs_and_after_the_last(registry, monkeypatch):
    from studio.train.nnloop import diffusion

    drawn = []
    sample = diffusion.DiffusionTask.sample

    def counting(self, n, seed=0):
        drawn.append(self._epoch)
        return sample(self, n, seed)

    monkeypatch.setattr(diffusion.DiffusionTask, "sample", counting)
    train(load("digits_diffusion", registry), registry,
          {**SHORT, "epochs": 5, "steps_per_epoch": 1, "diffusion": {"steps": 5, "samples": 4, "sample_every": 2}})
    assert drawn == [0, 2, 4, 5]  # before training, epochs 2 and 4, and the last


@pytest.mark.slow
def test_digits_samples_look_like_digits_after_a_short_run(registry):
    from bench.gallery import confident_share

    r = train(load("digits_diffusion", registry), registry,
              {"threads": 1, "epochs": 60, "diffusion": {"steps": 100, "samples": 300, "sample_every": 60}})
    share, digits = confident_share(np.clip(r.update.views["gan_samples"]["samples"], 0, 1))
    assert share >= 0.4 and len(set(digits.tolist())) >= 6
