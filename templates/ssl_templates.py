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


DIFFUSION_EXPLANATION = """
What it is: a denoising diffusion model (DDPM) that draws 8×8 handwritten digits. Training takes a real
digit, adds a random amount of Gaussian noise (step t of T = 100 small steps) and asks the denoiser for
the noise it added; sampling starts from pure noise and removes the predicted noise one step at a time.

Why it is wired this way: the denoiser must know how noisy its input is. The TimestepEmbedding node
turns the time t / T into sines and cosines of many frequencies (as a Transformer encodes positions), a
Linear layer mixes them into a time code, and the code joins the flattened noisy image. Pixels are
mapped from [0, 1] to [−1, 1] for the model, so at t = T the noise hides the image completely.

What to watch: the loss falls quickly, then slowly (most of the work is at small noise levels). The
Reverse process tab plays sampling: press Play, or drag the slider from pure noise (left) to the
finished digits (right); strokes appear only in the last few dozen steps. Generated samples shows the
final draws.

Try: set Diffusion steps T in the Training panel (Diffusion (DDPM)) to 20 and train again: fewer, larger
steps give blotchier digits. Or set the time_embedding node's dim to 2: the denoiser barely knows
the noise level and samples turn to grey smudges.
"""


def digits_diffusion(reg: Registry) -> Project:
    from templates.build_templates import GraphBuilder, L, new

    training = {"recipe": "diffusion", "graph": "denoiser", "dataset": dict(DIGITS, val_fraction=0.1),
                "batch_size": 128, "epochs": 600, "optimizer": {"name": "adam", "lr": 0.001},
                "schedule": {"name": "cosine"}, "diffusion": {"steps": 100, "samples": 1000, "sample_every": 100},
                "seed": 0}
    p = new("digits_diffusion", "Digits: diffusion",
            "A denoising diffusion model draws 8×8 handwritten digits from pure noise, step by step.",
            26, DIFFUSION_EXPLANATION, training, targets={"samples_confident": 0.8},
            try_steps=[{"setting": "diffusion.steps"}, {"node": "time_embedding", "param": "dim"}])
    g = GraphBuilder(p, reg, "denoiser")
    x = g.add("io.input", "x", shape=[1, 8, 8])
    t = g.add("io.input", "t", shape=[1])
    flat = g.chain(x, L("nn.flatten", "flatten"))
    time = g.chain(t, L("diffusion.timestep_embedding", "time_embedding", dim=64),
                   L("nn.linear", "time_code", out_features=128), L("nn.silu", "t_act"))
    cat = g.add("nn.concat", "join", dim=1)
    g.wire(flat, cat, dst_port="in1")
    g.wire(time, cat, dst_port="in2")
    last = g.chain(cat, L("nn.linear", "h1", out_features=512), L("nn.silu", "a1"),
                   L("nn.linear", "h2", out_features=512), L("nn.silu", "a2"),
                   L("nn.linear", "h3", out_features=512), L("nn.silu", "a3"),
                   L("nn.linear", "noise_guess", out_features=64),
                   L("nn.unflatten", "to_image", dim=1, unflattened_size=[1, 8, 8]))
    g.wire(last, g.add("io.output", "noise"))
    g.layout(lanes={"t": 1, "time_embedding": 1, "time_code": 1, "t_act": 1})
    return p


CLUSTERING_EXPLANATION = """
What it is: deep clustering of real handwritten digits. An autoencoder squeezes each 8×8 image into 10
numbers and rebuilds it (no labels); after every epoch k-means groups the validation images' codes into
10 clusters. Cluster purity counts how many images share their cluster with mostly their own digit.

Why it is wired this way: k-means measures plain distances, and distances between raw pixels mix up
what matters (stroke shapes) with what does not (thickness, small shifts). The bottleneck keeps what
varies most between images. But a plain autoencoder keeps everything it needs to redraw an image,
thickness and slant included, so its codes group digits only a little better than the raw pixels do
(about 0.77 against 0.75 here). Raw-pixel purity is the same k-means on the 64 pixels: the baseline.

What to watch: Cluster purity (codes) against Cluster purity (raw inputs) on the metric plot; the latent
view colours the codes (their two main directions) by the cluster k-means put them in; Reconstruction
shows what the codes keep.

Try: set the bottleneck node's out features to 2 and train again: the codes become a picture you can
read directly, but purity drops: two numbers cannot keep ten digits apart. Or set Clusters k in the
Training panel (Deep clustering) to 20: purity rises simply because smaller clusters are purer.
"""


def digits_clustering(reg: Registry) -> Project:
    from templates.build_templates import GraphBuilder, L, new

    training = {"recipe": "clustering", "dataset": dict(DIGITS), "batch_size": 64, "epochs": 60,
                "optimizer": {"name": "adam", "lr": 0.003}, "clustering": {"clusters": 0}, "seed": 0}
    p = new("digits_clustering", "Digits: deep clustering",
            "An autoencoder codes 8×8 digits in 10 numbers; k-means on the codes finds the digits without labels.",
            27, CLUSTERING_EXPLANATION, training,
            try_steps=[{"node": "bottleneck", "param": "out_features"}, {"setting": "clustering.clusters"}])
    g = GraphBuilder(p, reg, "autoencoder")
    x = g.add("io.input", "x", shape=[1, 8, 8])
    code = g.chain(x, L("nn.flatten", "flatten"), L("nn.linear", "enc", out_features=128), L("nn.relu", "relu1"),
                   L("nn.linear", "bottleneck", out_features=10))
    last = g.chain(code, L("nn.linear", "dec", out_features=128), L("nn.relu", "relu2"),
                   L("nn.linear", "pixels", out_features=64), L("nn.sigmoid", "squash"),
                   L("nn.unflatten", "to_image", dim=1, unflattened_size=[1, 8, 8]))
    g.wire(last, g.add("io.output", "reconstruction"))
    g.wire(code, g.add("io.output", "code", role="latent"))
    g.layout(lanes={"code": 1})
    return p


SSL_BUILDERS: dict[str, Callable[[Registry], Project]] = {
    "digits_contrastive": digits_contrastive,
    "digits_diffusion": digits_diffusion,
    "digits_clustering": digits_clustering,
}
