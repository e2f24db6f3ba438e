"""The VAE recipe: its two terms, the reparameterisation, setup errors that name the graph, and a short run."""

from __future__ import annotations

import pytest
import torch

from bench.templates import load
from studio.core.model import Project
from studio.train.engine import run_to_end
from studio.train.recipes.vae import kl_divergence, reconstruction_term, reparameterise
from studio.train.settings import SettingsError, TrainingSettings


def test_kl_is_zero_at_the_prior_and_matches_torch_distributions():
    assert float(kl_divergence(torch.zeros(3, 4), torch.zeros(3, 4)).abs().max()) == 0.0
    mean, log_var = torch.randn(5, 4), torch.randn(5, 4)
    q = torch.distributions.Normal(mean, (0.5 * log_var).exp())
    p = torch.distributions.Normal(torch.zeros(4), torch.ones(4))
    expected = torch.distributions.kl_divergence(q, p).sum(1)
    assert torch.allclose(kl_divergence(mean, log_var), expected, atol=1e-5)


def test_reparameterised_draw_has_the_encoders_spread_and_passes_gradients():
    mean = torch.full((20000, 1), 2.0, requires_grad=True)
    log_var = torch.full((20000, 1), 2 * torch.log(torch.tensor(0.5)).item(), requires_grad=True)
    z = reparameterise(mean, log_var, torch.Generator().manual_seed(0))
    assert z.mean().item() == pytest.approx(2.0, abs=0.02) and z.std().item() == pytest.approx(0.5, abs=0.02)
    z.sum().backward()
    assert mean.grad is not None and log_var.grad is not None and log_var.grad.abs().sum() > 0


def test_reconstruction_term_sums_pixels_per_sample():
    x = torch.rand(2, 1, 8, 8)
    assert reconstruction_term(x.clone(), x).shape == (2,)
    assert float(reconstruction_term(torch.full_like(x, 0.5), x)[0]) > float(reconstruction_term(x.clone(), x)[0])


def test_beta_is_a_checked_setting():
    assert TrainingSettings.from_dict({"recipe": "vae", "vae": {"beta": 4}}).section("vae").beta == 4.0
    with pytest.raises(SettingsError) as err:
        TrainingSettings.from_dict({"recipe": "vae", "vae": {"beta": -1}})
    assert err.value.key == "vae.beta"


def _short(project: Project, **training) -> Project:
    project = project.snapshot()
    project.training.update({"epochs": 2, "steps_per_epoch": 5, "threads": 1, "device": "cpu", **training})
    return project


def test_the_vae_template_trains_and_the_loss_falls(registry):
    final = run_to_end(_short(load("digits_vae", registry)), registry)
    assert final.kind == "done", final.message
    first, last = final.history[0], final.history[-1]
    assert last["val_loss"] < first["val_loss"]
    assert {"val_recon", "val_kl", "val_mse", "val_vs_baseline"} <= set(last)
    assert set(final.views) >= {"reconstruction", "latent", "gan_samples", "traversal"}


def test_an_encoder_without_a_log_variance_output_is_named(registry):
    project = load("digits_vae", registry)
    encoder = project.graph_by_name("encoder")
    encoder.node_by_name("log_var").params["role"] = "auxiliary"
    final = run_to_end(_short(project), registry)
    assert final.kind == "error"
    assert "log_variance" in final.message and "encoder" in final.message


def test_a_code_size_mismatch_is_named(registry):
    project = load("digits_vae", registry)
    project.graph_by_name("decoder").node_by_name("x").params["shape"] = [4]
    final = run_to_end(_short(project), registry)
    assert final.kind == "error" and "decoder's Input takes (4,)" in final.message
