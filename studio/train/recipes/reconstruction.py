"""The reconstruction paradigm. The model reproduces its input (autoencoders); with input noise, a denoising autoencoder."""

from __future__ import annotations

import functools

from studio.train.recipes import metrics_common as M
from studio.train.recipes.registry import DATASET_TRAINING_KEYS, RecipeSpec, register
from studio.train.recipes.supervised import Supervised

SPEC = register(RecipeSpec(
    name="reconstruction",
    label="Reconstruction",
    help="The model reproduces its input (autoencoders); with input noise, a denoising autoencoder.",
    factory=functools.partial(Supervised, task="reconstruction"),
    uses=DATASET_TRAINING_KEYS + ("loss.name", "loss.noise"),
    metrics=(M.MSE, M.BASELINE_MSE, M.VS_BASELINE),
    monitor="val_loss",
    roles=("prediction", "latent", "attention", "auxiliary"),
    views=("reconstruction", "latent", "attention"),
    export=True,
))
