"""Training against corrupted data, as the app's data bundles and settings ask for it.

The label flipping and the attacks themselves are :mod:`studio.train.nnloop.robust` (the loop
package, so an exported ``train.py`` runs the same code); this module adapts them to a
:class:`~studio.train.data.DataBundle` and to the ``dataset.augment`` settings.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from studio.train.nnloop import robust as _loop
from studio.train.nnloop.robust import AdversarialBatches, attack

__all__ = ["AdversarialBatches", "attach_adversarial", "attack", "flip_labels"]


def flip_labels(bundle: Any, share: float, seed: int) -> Any:
    """A copy of ``bundle`` whose training labels are flipped to another class for ``share`` of the samples.

    Validation labels are never touched. ``bundle.info`` gains ``label_noise`` (share asked,
    samples flipped) for the run info and the curves.
    """
    noisy, done = _loop.flip_labels(bundle.train_y, share, seed, len(bundle.info.get("classes", [])),
                                    bundle.info.get("task", "classification"), bundle.name)
    if done is None:
        return bundle
    return dataclasses.replace(bundle, train_y=noisy, info=dict(bundle.info, label_noise=done))


def attach_adversarial(task: Any, module: nn.Module, augment: Any, train_x: torch.Tensor) -> dict[str, Any] | None:
    """Make ``task`` (a supervised nnloop task) train on clean plus adversarial batches when
    ``augment.adversarial`` asks; returns what the run info should say, or None when it is off."""
    return _loop.attach_adversarial(task, module, augment.adversarial, augment.adversarial_eps, train_x)
