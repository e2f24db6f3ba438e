"""The sequence paradigm. Sequence models: classification per token or a forecast, following the dataset."""

from __future__ import annotations

import functools

from studio.train.recipes import metrics_common as M
from studio.train.recipes.registry import DATASET_TRAINING_KEYS, RecipeSpec, register
from studio.train.recipes.supervised import Supervised

SPEC = register(RecipeSpec(
    name="sequence",
    label="Sequence",
    help="Sequence models: classification per token or a forecast, following the dataset.",
    factory=functools.partial(Supervised, task="auto"),
    uses=DATASET_TRAINING_KEYS + ("loss.name", "loss.label_smoothing"),
    metrics=M.CLASSIFICATION + M.REGRESSION,
    monitor="val_loss",
    roles=("prediction", "latent", "attention", "auxiliary"),
    views=("predictions", "forecast", "confusion", "attention", "latent"),
    export=True,
))
