"""The diffusion recipe: its schedule, setup errors that name the graph, a short run, and the ring bar (slow)."""

from __future__ import annotations

import pytest

from bench.templates import load
from studio.core.model import Project
from studio.train.engine import run_to_end
from studio.train.recipes.diffusion import FRAMES, linear_schedule


def test_schedule_turns_data_into_noise():
    import torch

    betas = linear_schedule(100)
    alpha_bar = torch.cumprod(1 - betas, 0)
    assert betas[0] == pytest.approx(1e-4) and float(alpha_bar[-1]) < 1e-3


def _short(project: Project, **training) -> Project:
    project = project.snapshot()
    project.training.update({"epochs": 2, "steps_per_epoch": 10, "threads": 1, "device": "cpu", **training})
    project.training["diffusion"] = {"steps": 20, "samples": 200}
    return project


def test_the_ring_template_trains_and_plays_the_reverse_process(registry):
    final = run_to_end(_short(load("diffusion_ring", registry)), registry)
    assert final.kind == "done", final.message
    assert final.history[-1]["val_loss"] < final.history[0]["val_loss"]
    frames = final.views["diffusion"]["frames"]
    steps = final.views["diffusion"]["steps"]
    assert 2 <= len(frames) == len(steps) <= FRAMES and frames[0].shape == (200, 2)
    assert steps[0] == 20 and steps[-1] == 0 and steps == sorted(steps, reverse=True)
    assert frames[0].std() > frames[-1].std() * 0.5  # starts as wide noise
    assert final.views["gan_samples"]["samples"].shape == (200, 2)


def test_a_denoiser_without_a_time_input_is_named(registry):
    project = load("diffusion_ring", registry)
    project.graph_by_name("denoiser").node_by_name("t").name = "time"
    final = run_to_end(_short(project), registry)
    assert final.kind == "error" and "one named 't'" in final.message and "denoiser" in final.message


@pytest.mark.slow
def test_ring_bar_eight_modes_and_80_percent_near_a_mode(registry):
    project = load("diffusion_ring", registry).snapshot()
    project.training.update(threads=1, device="cpu")
    final = run_to_end(project, registry)
    assert final.history[-1]["val_modes_covered"] == 8 and final.history[-1]["val_high_quality"] >= 0.8
