"""The real-data templates (scikit-learn's 8×8 digits): they validate, export with identical outputs and
train shortened to most of their bar; the full bars are ``bench/gallery.py``'s."""

from __future__ import annotations

import numpy as np
import pytest

from bench.gallery import confident_share
from bench.templates import load, train

DIGITS_TEMPLATES = ("digits_cnn", "digits_autoencoder", "digits_gan", "digits_vae", "diffusion_ring")
SHORT = {"threads": 1, "device": "cpu", "seed": 0}


def test_every_digits_template_validates_and_exports_on_the_bundled_digits(registry):
    from tests.templates.test_templates import _checked  # that module lists these templates as covered

    for key in DIGITS_TEMPLATES:
        project = _checked(load(key, registry), registry)
        assert project.training["dataset"]["name"] == ("ring" if key == "diffusion_ring" else "digits")
        assert project.meta.get("try_steps"), key


@pytest.mark.slow
def test_digits_cnn_passes_90_percent_in_three_epochs(registry):
    r = train(load("digits_cnn", registry), registry, {**SHORT, "epochs": 3})
    assert r.last("val_accuracy") >= 0.9


def test_digits_autoencoder_beats_the_mean_image(registry):
    r = train(load("digits_autoencoder", registry), registry, {**SHORT, "epochs": 10})
    assert r.last("val_vs_baseline") >= 1.5
    latent = r.update.views["latent"]
    assert np.asarray(latent["points"]).shape[1] == 2 and len(latent["classes"]) == 10


def test_digits_gan_draws_digit_sized_images(registry):
    r = train(load("digits_gan", registry), registry, {**SHORT, "epochs": 2})
    samples = np.asarray(r.update.views["gan_samples"]["samples"])
    assert samples.shape == (64, 1, 8, 8) and 0 <= samples.min() and samples.max() <= 1


@pytest.mark.slow
def test_digits_vae_shortened_reconstructs_and_samples_digits(registry):
    r = train(load("digits_vae", registry), registry, {**SHORT, "epochs": 40, "vae": {"samples": 200}})
    assert r.last("val_mse") <= 0.5 * r.last("val_baseline_mse")
    views = r.update.views
    share, digits = confident_share(views["gan_samples"]["samples"])
    assert share >= 0.5 and len(set(digits.tolist())) >= 6
    assert np.asarray(views["traversal"]["images"]).shape == (8, 9, 1, 8, 8)
    assert np.asarray(views["reconstruction"]["outputs"]).shape == (8, 1, 8, 8)
    assert views["latent"]["pca"] and np.asarray(views["latent"]["points"]).shape[1] == 2
