"""Templates that learn from the digits without labels, or generate them: contrastive self-supervised
learning judged by a linear probe, deep clustering (an autoencoder, then k-means on its codes) and
diffusion on 8×8 images.

Built with the same helpers as every template (:mod:`templates.build_templates` merges
:data:`SSL_BUILDERS` into its table); ``bench/gallery.py`` checks their quality bars.
"""

from __future__ import annotations

from collections.abc import Callable

from studio.core.model import Project
from studio.core.registry import Registry

# build_templates imports this module to fill its table, so its helpers are imported where used.

DIGITS = {"name": "digits", "val_fraction": 0.2}

CONTRASTIVE_EXPLANATION = """
What it is: self-supervised contrastive learning (SimCLR) on real handwritten digits, without a single
label. Every image is augmented twice (moved by up to a pixel, a fifth of its pixels dropped, a little
noise); the encoder maps both views to a projection, and the NT-Xent loss asks the two views of one
image to find each other among all the other views in the batch.

Why it is wired this way: to tell its own twin from 511 other views, the encoder has to keep what makes
a digit that digit and ignore what augmentation changes (position, missing pixels, noise). The
8-number features Output (role latent) is the representation; the projection head after it is used by
the loss only (features before the head transfer better, as in the SimCLR paper).

What to watch: the Linear probe accuracy: a logistic regression trained on the frozen features of the
training images (with their labels, only for judging), scored on validation images. Probe on a random
encoder is the same probe on this graph before training: the gap is what contrastive learning taught
(the bar: at least 15 points). Augmented views shows the pairs; the latent view shows the features
(their two main directions) coloured by digit.

Try: set Temperature τ in the Training panel (Contrastive) to 1.0 and train again: the loss weighs all
negatives alike and the probe gains less. Or set Dropped pixels to 0 and Shift to 0: the task becomes
too easy (noise alone tells the twins apart) and the features learn less.
"""


def digits_contrastive(reg: Registry) -> Project:
    from templates.build_templates import GraphBuilder, L, new

    training = {"recipe": "contrastive", "dataset": dict(DIGITS), "batch_size": 256, "epochs": 60,
                "optimizer": {"name": "adam", "lr": 0.002}, "seed": 0,
                "contrastive": {"encoder": "encoder", "temperature": 0.2, "shift": 1, "drop": 0.2, "noise": 0.1}}
    p = new("digits_contrastive", "Digits: contrastive (self-supervised)",
            "Learn features of 8×8 digits without labels (two augmented views, NT-Xent); a linear probe judges them.",
            25, CONTRASTIVE_EXPLANATION, training, targets={"val_probe_gain": 0.15},
            try_steps=[{"setting": "contrastive.temperature"}, {"setting": "contrastive.drop"}])
    g = GraphBuilder(p, reg, "encoder")
    x = g.add("io.input", "x", shape=[1, 8, 8])
    features = g.chain(x, L("nn.flatten", "flatten"), L("nn.linear", "hidden", out_features=256),
                       L("nn.relu", "relu1"), L("nn.linear", "features", out_features=8))
    g.wire(features, g.add("io.output", "representation", role="latent"))
    head = g.chain(features, L("nn.relu", "relu2"), L("nn.linear", "projection", out_features=32))
    g.wire(head, g.add("io.output", "projected"))
    g.layout(lanes={"representation": 1})
    return p


SSL_BUILDERS: dict[str, Callable[[Registry], Project]] = {
    "digits_contrastive": digits_contrastive,
}
