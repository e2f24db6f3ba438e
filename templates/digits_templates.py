"""Templates on real handwritten digits (scikit-learn's 1,797 8×8 images, no download):
a CNN classifier, an autoencoder, a GAN and a variational autoencoder.

Built with the same helpers as every template (:mod:`templates.build_templates` merges
:data:`DIGITS_BUILDERS` into its table); ``bench/gallery.py`` checks their quality bars.
"""

from __future__ import annotations

from collections.abc import Callable

from studio.core.model import Project
from studio.core.registry import Registry

# build_templates imports this module to fill its table, so its helpers are imported where used.

DIGITS = {"name": "digits", "val_fraction": 0.2}

CNN_EXPLANATION = """
What it is: a small convolutional network that reads real handwritten digits: the 1,797 8×8 scans of
the UCI collection that ship inside scikit-learn (no download). Two 3×3 convolutions find strokes,
max pooling halves the grid, and two Linear layers score the ten digits.

Why it is wired this way: a digit is recognised by its strokes wherever they are; convolutions share
one small filter over the whole image, so 8×8 pictures with few examples are enough. Dropout keeps the
first Linear layer from memorising the 1,438 training images.

What to watch: val_accuracy passes 95 % within a few epochs; the confusion matrix shows which digits
are mixed up (often 1 with 7, 8 with 9 or 3).

Try: in the Inspector set the dropout node's p to 0 and train again: training accuracy reaches 100 %
sooner and the gap to validation widens. Then lower the Training panel's Learning rate to 0.0003.
"""

AE_EXPLANATION = """
What it is: an autoencoder on real handwritten digits. The encoder squeezes each 8×8 image (64 pixels)
into 8 numbers; the decoder rebuilds the image from them; the loss is the pixel error.

Why it is wired this way: the 8-number bottleneck forces the network to keep only what varies between
digits (stroke shapes), not noise. The second Output (role latent) shows the codes as a scatter.

What to watch: the reconstructions sharpen; val_vs_baseline says how many times better than the
average digit image they are; in the latent view the digits form clusters without ever seeing a label.

Try: select the bottleneck node and in the Inspector set out features to 2: reconstructions blur, but the latent view
now shows the codes themselves. Or pick the Stage "Denoising" (noisy inputs, clean targets).
"""

GAN_EXPLANATION = """
What it is: a GAN that learns to draw handwritten digits. The generator turns 32 random numbers into
an 8×8 image; the discriminator scores real digits against generated ones.

Why it is wired this way: small fully connected networks suffice for 64 pixels; LeakyReLU keeps
gradients flowing to the generator when the discriminator is confident, and the generator ends in a
Sigmoid because pixels lie in [0, 1].

What to watch: the sample grid (the same noise every time) turns from grey noise into strokes and
then into digits; the two losses keep balancing each other instead of one falling to zero.

Try: set Discriminator steps to 3 in the Training panel (GAN): the discriminator wins more easily and
the samples improve more slowly. Compare with the VAE template's samples.
"""

VAE_EXPLANATION = """
What it is: a variational autoencoder on real handwritten digits. The encoder gives, for each image, a
mean and a log-variance of an 8-number code (two Outputs with roles mean and log_variance); training
draws a code z = mean + σ·ε from that Gaussian (the reparameterisation trick) and the decoder rebuilds
the image from z. The loss is the reconstruction error plus β times the KL divergence between the
code's Gaussian and the standard normal prior.

Why it is wired this way: the KL term packs all codes around the origin, so any point drawn from N(0, 1)
decodes to a plausible digit: the VAE is a generative model, an ordinary autoencoder is not. Drawing z
instead of using the mean makes nearby codes decode to similar images.

What to watch: Reconstruction shows validation digits and their rebuilds; Generated samples decodes
codes drawn from the prior; Latent traversal moves one code dimension at a time from −2.5 to 2.5, the
most used first (a dimension whose KL stays near 0 is unused: its row never changes); the
latent view shows the codes (their two main directions), coloured by digit although the VAE never saw
a label. Recon and KL terms are plotted with the loss.

Try: set β (KL weight) in the Training panel (Variational autoencoder) to 4 and train again: the samples
get smoother and the traversal rows more regular, while reconstructions blur; β = 0 makes sharp
reconstructions but samples from the prior turn into noise.
"""


def digits_cnn(reg: Registry) -> Project:
    from templates.build_templates import GraphBuilder, L, new

    training = {"recipe": "classification", "dataset": dict(DIGITS), "batch_size": 64, "epochs": 20,
                "optimizer": {"name": "adam", "lr": 0.002}, "seed": 0}
    p = new("digits_cnn", "Digits: CNN classifier",
            "Real handwritten digits (8×8, bundled, offline): a small CNN reaches over 95 % validation accuracy.",
            20, CNN_EXPLANATION, training, targets={"val_accuracy": 0.95},
            try_steps=[{"node": "dropout", "param": "p"}, {"setting": "optimizer.lr"}])
    g = GraphBuilder(p, reg, "cnn")
    g.sequential([1, 8, 8], [
        L("nn.conv2d", "conv1", out_channels=32, kernel_size=3, padding=1), L("nn.relu", "relu1"),
        L("nn.conv2d", "conv2", out_channels=64, kernel_size=3, padding=1), L("nn.relu", "relu2"),
        L("nn.max_pool2d", "pool", kernel_size=2), L("nn.flatten", "flatten"),
        L("nn.dropout", "dropout", p=0.3),
        L("nn.linear", "hidden", out_features=128), L("nn.relu", "relu3"),
        L("nn.linear", "scores", out_features=10),
    ], output="digit")
    g.layout()
    return p


def digits_autoencoder(reg: Registry) -> Project:
    from templates.build_templates import GraphBuilder, L, new

    training = {"recipe": "reconstruction", "dataset": dict(DIGITS), "batch_size": 64, "epochs": 60,
                "optimizer": {"name": "adam", "lr": 0.003}, "seed": 0}
    stages = {"denoising": {"label": "Denoising", "about": "Noisy images in (noise 0.3), clean images as the target.",
                            "training": {"loss": {"noise": 0.3}}}}
    p = new("digits_autoencoder", "Digits: autoencoder",
            "Compress real 8×8 handwritten digits to 8 numbers and rebuild them; the codes cluster by digit.",
            21, AE_EXPLANATION, training, stages=stages, targets={"val_vs_baseline": 2.0},
            try_steps=[{"node": "bottleneck", "param": "out_features"}, {"stage": "denoising"}])
    g = GraphBuilder(p, reg, "autoencoder")
    x = g.add("io.input", "x", shape=[1, 8, 8])
    code = g.chain(x, L("nn.flatten", "flatten"), L("nn.linear", "enc", out_features=128), L("nn.relu", "relu1"),
                   L("nn.linear", "bottleneck", out_features=8))
    last = g.chain(code, L("nn.linear", "dec", out_features=128), L("nn.relu", "relu2"),
                   L("nn.linear", "pixels", out_features=64), L("nn.sigmoid", "squash"),
                   L("nn.unflatten", "to_image", dim=1, unflattened_size=[1, 8, 8]))
    g.wire(last, g.add("io.output", "reconstruction"))
    g.wire(code, g.add("io.output", "latent", role="latent"))
    g.layout(lanes={"latent": 1})
    return p


def digits_gan(reg: Registry) -> Project:
    from templates.build_templates import GraphBuilder, L, new

    training = {"recipe": "adversarial", "dataset": dict(DIGITS, val_fraction=0.1), "batch_size": 64, "epochs": 80,
                "optimizer": {"name": "adam", "lr": 0.0005, "betas": [0.5, 0.999]},
                "gan": {"generator": "generator", "discriminator": "discriminator", "samples": 64}, "seed": 0}
    p = new("digits_gan", "Digits: GAN",
            "A generator learns to draw 8×8 handwritten digits against a discriminator on the real ones.",
            22, GAN_EXPLANATION, training, try_steps=[{"setting": "gan.d_steps"}])
    g = GraphBuilder(p, reg, "generator")
    g.sequential([32], [
        L("nn.linear", "hidden", out_features=256), L("nn.leaky_relu", "g_act", negative_slope=0.2),
        L("nn.linear", "pixels", out_features=64), L("nn.sigmoid", "squash"),
        L("nn.unflatten", "to_image", dim=1, unflattened_size=[1, 8, 8]),
    ], output="image")
    g.layout()
    d = GraphBuilder(p, reg, "discriminator")
    d.sequential([1, 8, 8], [
        L("nn.flatten", "flatten"), L("nn.linear", "hidden", out_features=256),
        L("nn.leaky_relu", "d_act", negative_slope=0.2), L("nn.linear", "realness", out_features=1),
    ], output="score")
    d.layout()
    return p


def digits_vae(reg: Registry) -> Project:
    from templates.build_templates import GraphBuilder, L, new

    training = {"recipe": "vae", "dataset": dict(DIGITS), "batch_size": 64, "epochs": 400,
                "optimizer": {"name": "adam", "lr": 0.002}, "seed": 0,
                "vae": {"encoder": "encoder", "decoder": "decoder", "beta": 1.0, "samples": 64}}
    p = new("digits_vae", "Digits: variational autoencoder",
            "Encode 8×8 digits as Gaussians over 8-number codes; decode codes drawn from N(0, 1) into new digits.",
            23, VAE_EXPLANATION, training, targets={"val_vs_baseline": 2.0, "prior_samples_confident": 0.8},
            try_steps=[{"setting": "vae.beta"}])
    g = GraphBuilder(p, reg, "encoder")
    x = g.add("io.input", "x", shape=[1, 8, 8])
    h = g.chain(x, L("nn.flatten", "flatten"), L("nn.linear", "enc1", out_features=256), L("nn.relu", "relu1"),
                L("nn.linear", "enc2", out_features=128), L("nn.relu", "relu2"))
    g.wire(g.chain(h, L("nn.linear", "to_mean", out_features=8)), g.add("io.output", "mean", role="mean"))
    g.wire(g.chain(h, L("nn.linear", "to_log_var", out_features=8)),
           g.add("io.output", "log_var", role="log_variance"))
    g.layout(lanes={"to_log_var": 1, "log_var": 1})
    d = GraphBuilder(p, reg, "decoder")
    d.sequential([8], [
        L("nn.linear", "dec1", out_features=128), L("nn.relu", "relu1"),
        L("nn.linear", "dec2", out_features=256), L("nn.relu", "relu2"),
        L("nn.linear", "pixels", out_features=64), L("nn.sigmoid", "squash"),
        L("nn.unflatten", "to_image", dim=1, unflattened_size=[1, 8, 8]),
    ], output="image")
    d.layout()
    return p


DIGITS_BUILDERS: dict[str, Callable[[Registry], Project]] = {
    "digits_cnn": digits_cnn,
    "digits_autoencoder": digits_autoencoder,
    "digits_gan": digits_gan,
    "digits_vae": digits_vae,
}


DIFFUSION_EXPLANATION = """
What it is: a denoising diffusion model (DDPM) on the ring of 8 Gaussians. Training takes a point, adds
a random amount of Gaussian noise (step t of T = 100 small steps) and asks the denoiser for the noise it
added; sampling starts from pure noise and removes the predicted noise one step at a time.

Why it is wired this way: the denoiser needs to know how noisy its input is, so the time t / T is a
second Input, concatenated with the point. An MLP with SiLU activations is enough for 2-D points.
Unlike a GAN there is no adversary: the loss is a plain mean squared error, so training is stable and
every mode is learned.

What to watch: the loss falls; Modes covered reaches 8 of 8 and Samples near a mode rises as the
samples (orange) gather on the blobs (green centres). The Reverse process tab plays sampling step by
step: drag its slider from pure noise (left) to the finished samples (right).

Try: set Diffusion steps T in the Training panel (Diffusion (DDPM)) to 20 and train again: fewer, larger
steps make blurrier rings.
"""


def diffusion_ring(reg: Registry) -> Project:
    from templates.build_templates import GraphBuilder, L, new

    training = {"recipe": "diffusion", "graph": "denoiser",
                "dataset": {"name": "ring", "params": {"n": 20000, "modes": 8, "radius": 2.0, "std": 0.05},
                            "val_fraction": 0.1},
                "batch_size": 256, "epochs": 200, "optimizer": {"name": "adam", "lr": 0.002},
                "schedule": {"name": "cosine"}, "diffusion": {"steps": 100, "samples": 1000}, "seed": 0}
    p = new("diffusion_ring", "Diffusion: ring of Gaussians",
            "A denoising diffusion model learns the 8 blobs of a ring and draws them from pure noise.",
            24, DIFFUSION_EXPLANATION, training, targets={"val_modes_covered": 8, "val_high_quality": 0.8},
            try_steps=[{"setting": "diffusion.steps"}])
    g = GraphBuilder(p, reg, "denoiser")
    x = g.add("io.input", "x", shape=[2])
    t = g.add("io.input", "t", shape=[1])
    cat = g.add("nn.concat", "join", dim=1)
    g.wire(x, cat, dst_port="in1")
    g.wire(t, cat, dst_port="in2")
    last = g.chain(cat, L("nn.linear", "h1", out_features=128), L("nn.silu", "a1"),
                   L("nn.linear", "h2", out_features=128), L("nn.silu", "a2"),
                   L("nn.linear", "h3", out_features=128), L("nn.silu", "a3"),
                   L("nn.linear", "noise_guess", out_features=2))
    g.wire(last, g.add("io.output", "noise"))
    g.layout(lanes={"t": 1})
    return p


DIGITS_BUILDERS["diffusion_ring"] = diffusion_ring
