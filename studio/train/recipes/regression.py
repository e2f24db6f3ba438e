"""The regression paradigm. Real-valued targets: mean squared error (or L1 / Huber)."""

from __future__ import annotations

import functools

from studio.train.recipes import metrics_common as M
from studio.train.recipes.registry import DATASET_TRAINING_KEYS, RecipeSpec, register
from studio.train.recipes.supervised import Supervised

SPEC = register(RecipeSpec(
    name="regression",
    label="Regression",
    help="Real-valued targets: mean squared error (or L1 / Huber).",
    factory=functools.partial(Supervised, task="regression"),
    uses=DATASET_TRAINING_KEYS + ("loss.name",),
    metrics=M.REGRESSION,
    monitor="val_loss",
    roles=("prediction", "latent", "attention", "auxiliary"),
    views=("forecast", "attention", "latent"),
    export=True,
))
