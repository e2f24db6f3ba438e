"""The classification paradigm. One label per sample (or per position): cross-entropy on class scores."""

from __future__ import annotations

import functools

from studio.train.recipes import metrics_common as M
from studio.train.recipes.registry import DATASET_TRAINING_KEYS, RecipeSpec, register
from studio.train.recipes.supervised import Supervised

SPEC = register(RecipeSpec(
    name="classification",
    label="Classification",
    help="One label per sample (or per position): cross-entropy on class scores.",
    factory=functools.partial(Supervised, task="classification"),
    uses=DATASET_TRAINING_KEYS + ("loss.name", "loss.label_smoothing"),
    metrics=M.CLASSIFICATION,
    monitor="val_loss",
    roles=("prediction", "latent", "attention", "auxiliary"),
    views=("predictions", "confusion", "decision", "attention", "latent"),
    export=True,
))
