"""Builds every template project in this folder: ``python -m templates.build_templates`` (or run the file).

Each template is constructed through :mod:`studio.core` (``make_node`` + undoable operations,
``layered_layout`` for positions) and written with ``save_project``, so a template is always a
valid project in the current file format. Edit a template here, never the generated JSON.

Besides ``title``/``description``/``order``/``explanation`` a template's ``meta`` may hold:

* ``targets``: the quality each default reaches on a 2-core CPU (checked by ``bench/templates.py``);
* ``stages``: named variants of the project (``node_params`` by node name, ``rename`` of nodes,
  ``training`` overrides merged into ``project.training``); the transfer template uses them for
  its offline pretrain -> fine-tune -> from-scratch comparison, the others for their variants;
* ``default_stage``: the stage the Training panel starts on (the transfer template's offline
  pretrain stage, since ImageNet weights are not cached on a fresh install);
* ``try_steps``: what the explanation's "Try" paragraph asks the user to change, one control each
  (``setting`` in the Training panel, ``node`` + ``param`` or ``training`` in the Inspector, a
  ``stage``, a panel ``button``); ``tests/templates/test_try_steps.py`` finds each control in the app.
"""

from __future__ import annotations

import json
import math
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.catalog import default_registry
from studio.core.factory import make_node
from studio.core.layout import ROW_GAP, layered_layout
from studio.core.model import Edge, Graph, Project
from studio.core.ops import AddEdge, AddGraph, AddNode, MoveNodes
from studio.core.registry import Registry
from studio.io.project_file import SUFFIX, project_from_dict, project_to_dict, save_project
from templates.digits_templates import DIGITS_BUILDERS
from templates.embedding_templates import EMBEDDING_BUILDERS
from templates.rl_templates import RL_BUILDERS
from templates.ssl_templates import SSL_BUILDERS
from templates.text_templates import TEXT_BUILDERS

HERE = Path(__file__).resolve().parent
# spacing as in the editor's auto-layout (studio/ui/arrange.py): room for a B×C×H×W label between nodes
COLUMN_SPACING, NODE_HEIGHT, BAND_GAP = 290.0, 110.0, 110.0


class GraphBuilder:
    """Adds nodes and wires to one graph of a project through core operations."""

    def __init__(self, project: Project, registry: Registry, name: str) -> None:
        self.project, self.registry = project, registry
        graph = Graph(name=name)
        AddGraph(graph).apply(project)
        self.graph = project.graph(graph.id)  # AddGraph inserts a copy

    def add(self, type_id: str, name: str | None = None, **params: Any) -> str:
        node = make_node(self.registry.get(type_id), self.graph, name=name, **params)
        AddNode(self.graph.id, node).apply(self.project)
        return node.id

    def wire(self, src: str, dst: str, src_port: str = "out", dst_port: str = "in") -> None:
        AddEdge(self.graph.id, Edge(src, src_port, dst, dst_port)).apply(self.project)

    def chain(self, start: str, *layers: tuple[str, str | None, dict[str, Any]]) -> str:
        """Append ``(type_id, name, params)`` layers after ``start``; returns the last node id."""
        prev = start
        for type_id, name, params in layers:
            node = self.add(type_id, name, **params)
            self.wire(prev, node)
            prev = node
        return prev

    def sequential(self, input_shape: list[int], layers: list[tuple[str, str | None, dict[str, Any]]],
                   dtype: str = "float32", output: str = "output") -> None:
        """Input -> layers -> Output, the common case."""
        x = self.add("io.input", "x", shape=list(input_shape), dtype=dtype)
        last = self.chain(x, *layers)
        self.wire(last, self.add("io.output", output))

    def layout(self, lanes: dict[str, int] | None = None, per_band: int = 0,
               viewport: tuple[float, float] = (1000.0, 700.0)) -> None:
        """Layered layout: columns by depth, one row per lane (``lanes``: node name -> row; side branches go
        below the main row, so no wire runs behind a node); long chains wrap into bands of ``per_band`` columns (0: the
        number that fits ``viewport`` best, as the editor's auto-layout does)."""
        positions = layered_layout(self.graph)  # columns by data-flow depth; rows by lane (no centring)
        for nid, (x, _y) in positions.items():
            positions[nid] = (x, (lanes or {}).get(self.graph.nodes[nid].name, 0) * ROW_GAP)
        xs = sorted({x for x, _ in positions.values()})
        ys = [y for _, y in positions.values()]
        band_h = max(ys) - min(ys) + NODE_HEIGHT
        best, best_scale = 1, 0.0
        for bands in range(1, len(xs) + 1):
            per = math.ceil(len(xs) / bands)
            scale = min(viewport[0] / (per * COLUMN_SPACING), viewport[1] / (bands * band_h + (bands - 1) * BAND_GAP))
            if scale > best_scale * 1.05:  # fewer bands unless more clearly helps
                best, best_scale = bands, scale
        per = per_band or math.ceil(len(xs) / best)
        column = {x: i for i, x in enumerate(xs)}
        moves = {}
        for nid, (x, y) in positions.items():
            band, col = divmod(column[x], per)
            moves[nid] = (self.graph.nodes[nid].position, (col * COLUMN_SPACING, y + band * (band_h + BAND_GAP)))
        MoveNodes(self.graph.id, moves).apply(self.project)


def L(type_id: str, name: str | None = None, **params: Any) -> tuple[str, str | None, dict[str, Any]]:
    return (type_id, name, params)


def new(key: str, title: str, description: str, order: int, explanation: str, training: dict[str, Any],
        **meta: Any) -> Project:
    return Project(name=title, graphs=[], training=training,
                   meta={"template": key, "title": title, "description": description, "order": order,
                         "explanation": explanation.strip(), **meta})


# -- 1. CNN transfer learning -----------------------------------------------------------------------

TRANSFER_EXPLANATION = """
What it is: a ResNet-18 image backbone (the Pretrained family) whose ImageNet classifier is replaced by
a new Linear head. Only the head learns: the backbone is frozen (its freeze parameter), so a few labelled
images are enough, and SGD with momentum trains the head in seconds.

Why it is wired this way: early convolution layers learn edges, blobs and corners that are useful for
almost any image task. Reusing them means the head only has to learn which features mean which class.

Weights: weights = imagenet uses the torchvision ImageNet weights when they are in the torch cache
(connect once to download them); offline you get a clear message. weights = file loads your own
checkpoint.

Offline transfer demo: the Training panel opens on Stage "1. Pretrain on shapes"; train it (the whole
network learns the built-in 'shapes' images), then "2. Fine-tune on 60 glyphs" (starts from that
checkpoint, trains only the head on 60 labelled 'glyphs' images), then "3. From scratch on 60 glyphs"
(the same network from random weights, the same images and steps). "2b" also unfreezes layer4.
The benchmark runs the same three stages.

What to watch: compare val_accuracy of fine-tuned vs from-scratch on one plot: the fine-tuned curve
rises within a few epochs while from-scratch stays near chance and overfits (train accuracy 100%,
validation low).

Try: select the backbone node and in the Inspector set its freeze to all_but_last: its last stage
(layer4) learns too, at its LR multiplier (Inspector > Training, 0.1 here) times the learning rate.
The Stage "2b. Fine-tune head + layer4" does exactly that.
"""


def transfer_cnn(reg: Registry) -> Project:
    training = {
        "recipe": "classification",
        "dataset": {"name": "glyphs", "params": {"n": 1200, "classes": 6}, "limit": 60, "val_fraction": 0.25},
        "batch_size": 30, "epochs": 40,
        "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.9, "weight_decay": 0.0005},
        "nodes": {"backbone": {"lr_mult": 0.1}},
        "seed": 0,
    }
    stages = {
        "pretrain": {
            "label": "1. Pretrain on shapes",
            "about": "The whole network from random weights on 3,000 'shapes' images (4 epochs, Adam); "
                     "its checkpoint is where 'Fine-tune' starts.",
            "node_params": {"backbone": {"weights": "none", "freeze": "none"}},
            "rename": {"head": "pretrain_head"},
            "training": {"dataset": {"name": "shapes", "params": {"n": 3000, "classes": 6}, "limit": 0,
                                     "val_fraction": 0.2},
                         "batch_size": 64, "epochs": 4, "nodes": {},
                         "optimizer": {"name": "adam", "lr": 0.002},
                         "schedule": {"name": "cosine"}},
        },
        "finetune": {
            "label": "2. Fine-tune on 60 glyphs",
            "about": "Starts from the pretrain checkpoint, backbone frozen: only the head learns the 60 labelled "
                     "'glyphs' images.",
            "node_params": {"backbone": {"weights": "none", "freeze": "all"}},
            "training": {"init": {"checkpoint": "{pretrain}"}},
        },
        "finetune_last_stage": {
            "label": "2b. Fine-tune head + layer4",
            "about": "Like 'Fine-tune', with the backbone's last stage (layer4) also learning at 0.1 x the rate.",
            "node_params": {"backbone": {"weights": "none", "freeze": "all_but_last"}},
            "training": {"init": {"checkpoint": "{pretrain}"}},
        },
        "scratch": {
            "label": "3. From scratch on 60 glyphs",
            "about": "The same network from random weights, everything trainable, on the same 60 images and "
                     "steps: the baseline the fine-tuned curve should beat.",
            "node_params": {"backbone": {"weights": "none", "freeze": "none"}},
            "training": {"nodes": {}},
        },
    }
    p = new("transfer_cnn", "CNN transfer learning",
            "A pretrained ResNet-18 with a new head: fine-tune on 60 labelled images and beat training from scratch.",
            1, TRANSFER_EXPLANATION, training, stages=stages, default_stage="pretrain",
            try_steps=[{"node": "backbone", "param": "freeze"}, {"node": "backbone", "training": "lr_mult"},
                       {"stage": "finetune_last_stage"}],
            targets={"finetune_beats_scratch": True})
    g = GraphBuilder(p, reg, "classifier")
    g.sequential([3, 32, 32], [
        L("tv.resnet18", "backbone", weights="imagenet", freeze="all"),
        L("nn.dropout", "dropout", p=0.2),
        L("nn.linear", "head", out_features=6),
    ])
    g.layout()
    return p


# -- 2. LSTM forecasting -----------------------------------------------------------------------------

LSTM_EXPLANATION = """
What it is: a two-layer LSTM reads 32 noisy samples of a sum of sine waves and a Linear head predicts the
next 8 clean values (many-to-one forecasting).

Why it is wired this way: the LSTM's cell state carries phase and frequency along the sequence;
output = last step hands the final summary to the head, which maps it to all 8 future values at once.

What to watch: val_mse against val_baseline_mse (the naive forecast that repeats the last observed
value); val_vs_baseline says how many times better the model is (the target is at least 5x). The
forecast view shows the input, the true future, the prediction and the baseline.

Your own text: the second graph, 'char_model', is a character-level language model: Embedding (each
character id becomes 32 numbers) -> LSTM (output = sequence, one state per character) -> Linear with one
score per possible character. Choose the stage "Characters: your text file" in the Training panel,
pick any UTF-8 text file (a bundled sample is used otherwise) and train: it learns to predict every next
character; the loss falls from ln(vocabulary) towards 1.5 or lower as it learns spelling and common words.
The Generated text tab shows what it writes from a held-out line, with a Temperature slider; val_perplexity
(e to the validation loss) reads as "a fair choice among this many characters". The window length (64) must match
char_model's Input shape; up to 128 distinct characters fit. The char_gpt template does the same with a
small causal transformer on Shakespeare's Sonnets.

Try: in the Training panel (Data) set Components to 3 or Noise to 0.2 and see how the gap to the
baseline changes; or select the lstm node and set its num layers to 1 in the Inspector.
"""


CHAR_WINDOW, CHAR_VOCAB = 64, 128  # characters per sample; distinct characters the char model can score


def lstm_forecast(reg: Registry) -> Project:
    training = {
        "recipe": "sequence",
        "dataset": {"name": "waves", "params": {"n": 4000, "length": 32, "horizon": 8, "components": 2,
                                                "noise": 0.05}},
        "batch_size": 64, "epochs": 12,
        "optimizer": {"name": "adam", "lr": 0.003},
        "schedule": {"name": "cosine"},
        "grad_clip": 1.0,
        "seed": 0,
    }
    stages = {"characters": {
        "label": "Characters: your text file",
        "about": "Trains the char_model graph to predict the next character of a UTF-8 text file of yours "
                 "(a bundled sample by default).",
        "defaults": {"text": "lstm_sample_text.txt"},
        "training": {"graph": "char_model", "epochs": 6, "batch_size": 64,
                     "optimizer": {"name": "adam", "lr": 0.005}, "schedule": {"name": "cosine"}},
        "replace": {"dataset": {"name": "text", "path": "{text}", "val_fraction": 0.1,
                                "params": {"length": CHAR_WINDOW, "many_to_many": True, "max_windows": 6000}}},
    }}
    p = new("lstm_forecast", "LSTM forecasting",
            "An LSTM forecasts noisy multi-frequency waves 8 steps ahead, far better than repeating the last value.",
            2, LSTM_EXPLANATION, training, stages=stages, targets={"val_vs_baseline": 5.0},
            try_steps=[{"setting": "dataset.params.components"}, {"setting": "dataset.params.noise"},
                       {"node": "lstm", "param": "num_layers"}])
    g = GraphBuilder(p, reg, "forecaster")
    g.sequential([32, 1], [
        L("nn.lstm", "lstm", hidden_size=64, num_layers=2, output="last step"),
        L("nn.linear", "head", out_features=8),
    ])
    g.layout()
    c = GraphBuilder(p, reg, "char_model")
    c.sequential([CHAR_WINDOW], [
        L("nn.embedding", "embed", num_embeddings=CHAR_VOCAB, embedding_dim=32),
        L("nn.lstm", "lstm", hidden_size=128, num_layers=1, output="sequence"),
        L("nn.linear", "next_char", out_features=CHAR_VOCAB),
    ], dtype="int64", output="scores")
    c.layout()
    return p


# -- 3. Convolutional autoencoder ---------------------------------------------------------------------

AE_EXPLANATION = """
What it is: a convolutional autoencoder. The encoder (two strided convolutions) squeezes a 28x28 image
into a 16-number code ('bottleneck'); the decoder (transposed convolutions) rebuilds the image from the
code alone. It learns without labels: the target is the input itself.

Why it is wired this way: strided convolutions halve the resolution while adding channels; the Linear
bottleneck forces the network to keep only what matters; the Sigmoid keeps pixels in [0, 1]. The second
Output, 'latent', carries no loss: it averages the encoder's features over the image (what is there,
wherever it is), and the latent view projects it to 2-D (PCA). The bottleneck itself mostly encodes
where a shape sits and how big it is, because that is what most of the pixel error is about.

What to watch: val_mse against val_baseline_mse (predicting the mean image; target: at most 0.25 of
it, i.e. val_vs_baseline >= 4); the reconstruction view (input / output); the latent view, where the
shape classes gather in their own regions although the network never saw a label.

Try: choose the Stage "Denoising" in the Training panel (its Input noise is 0.3): noisy images in,
clean images as the target; or select the bottleneck node, set its out features to 2 in the Inspector
and watch the reconstructions blur.
"""


def conv_autoencoder(reg: Registry) -> Project:
    training = {
        "recipe": "reconstruction",
        "dataset": {"name": "shapes", "params": {"n": 4000, "classes": 6}},
        "batch_size": 64, "epochs": 30,
        "optimizer": {"name": "adam", "lr": 0.002},
        "seed": 0,
    }
    stages = {"denoising": {"label": "Denoising", "about": "Noisy images in (noise 0.3), clean images as the target.",
                            "training": {"loss": {"noise": 0.3}}}}
    p = new("conv_autoencoder", "Convolutional autoencoder",
            "Compress shape images to a 16-number code and rebuild them; a 2-D latent view groups the classes.",
            3, AE_EXPLANATION, training, stages=stages, targets={"val_vs_baseline": 4.0},
            try_steps=[{"stage": "denoising"}, {"setting": "loss.noise"}, {"node": "bottleneck", "param": "out_features"}])
    g = GraphBuilder(p, reg, "autoencoder")
    x = g.add("io.input", "x", shape=[1, 28, 28])
    features = g.chain(x, L("nn.conv2d", "enc1", out_channels=16, kernel_size=3, stride=2, padding=1),
                       L("nn.relu", "relu1"),
                       L("nn.conv2d", "enc2", out_channels=32, kernel_size=3, stride=2, padding=1),
                       L("nn.relu", "relu2"))
    last = g.chain(features, L("nn.flatten", "flatten"),
                   L("nn.linear", "bottleneck", out_features=16),
                   L("nn.linear", "expand", out_features=32 * 7 * 7), L("nn.relu", "relu3"),
                   L("nn.unflatten", "unflatten", dim=1, unflattened_size=[32, 7, 7]),
                   L("nn.conv_transpose2d", "dec1", out_channels=16, kernel_size=2, stride=2), L("nn.relu", "relu4"),
                   L("nn.conv_transpose2d", "dec2", out_channels=1, kernel_size=2, stride=2),
                   L("nn.sigmoid", "pixels"))
    g.wire(last, g.add("io.output", "reconstruction"))
    # a second Output with role 'latent' feeds the latent view (no loss on it): the encoder's features
    # averaged over the image, i.e. what is there regardless of where it is
    pooled = g.chain(features, L("nn.adaptive_avg_pool2d", "pool", output_size=1), L("nn.flatten", "summary"))
    g.wire(pooled, g.add("io.output", "latent", role="latent"))
    g.layout(lanes={"pool": 1, "summary": 1, "latent": 1})
    return p


# -- 5. Attention ------------------------------------------------------------------------------------

ATTN_EXPLANATION = """
What it is: a one-layer transformer encoder. Each digit becomes a 64-number embedding, a positional
encoding adds where it stands, one self-attention layer (with its feed-forward block) lets every
position look at every other, and a Linear layer scores the 10 digits at each position. Task: output
the input sequence reversed.

Why it is wired this way: reversing is pure routing: output position i must copy input position
7 - i. Attention can learn exactly that lookup, but only if it knows positions, hence the sinusoidal
positional encoding (without it the model sees a bag of digits). One layer with one head keeps the
heatmap readable: all the routing has to happen in it.

What to watch: val_accuracy is per-token (target >= 95%; it gets there within the first epoch). The
attention view shows the weights for one sequence: once learned, a bright anti-diagonal appears
(position i attends to 7 - i).

Try: in the Training panel (Data) set Task to sort: accuracy drops and the heatmap attends by value
instead of by position; add a second attention layer for it. Or delete the positions node (the
positional encoding) and watch accuracy stall near 30%.
"""


def attention_reverse(reg: Registry) -> Project:
    training = {
        "recipe": "sequence",
        "dataset": {"name": "sequences", "params": {"n": 10000, "task": "reverse", "length": 8, "vocab": 10}},
        "batch_size": 64, "epochs": 4,
        "optimizer": {"name": "adam", "lr": 0.001},
        "seed": 0,
    }
    p = new("attention_reverse", "Attention: reverse a sequence",
            "A one-layer transformer learns to reverse digit sequences; its attention map shows the alignment.",
            5, ATTN_EXPLANATION, training, targets={"val_accuracy": 0.95},
            try_steps=[{"setting": "dataset.params.task"}, {"node": "positions"}])
    g = GraphBuilder(p, reg, "transformer")
    g.sequential([8], [
        L("nn.embedding", "embed", num_embeddings=10, embedding_dim=64),
        L("nn.positional_encoding", "positions", max_len=64, kind="sinusoidal"),
        L("nn.transformer_encoder_layer", "attention", nhead=1, dim_feedforward=128, dropout=0.0),
        L("nn.linear", "scores", out_features=10),
    ], dtype="int64")
    g.layout()
    return p


# -- 4. GAN ---------------------------------------------------------------------------------------------

GAN_EXPLANATION = """
What it is: a generative adversarial network in two graphs. The generator turns 8 random numbers into a
2-D point; the discriminator scores points as real (from the data) or fake (from the generator). They
train in turns: D learns to tell them apart, G learns to fool D. Data: 8 Gaussian blobs on a ring.

Why it is wired this way: both are small MLPs (LeakyReLU in D keeps gradients flowing for fakes it
rejects); D ends in one logit per sample. The side branch in D (batch_mean -> deviation -> squared ->
batch_variance -> spread) adds the batch's feature variance to every sample ("minibatch statistics"):
a generator that puts all its points on one or two blobs makes a batch with the wrong spread, D
notices, and G is pushed to cover every blob. Without it this GAN collapses onto 1-2 modes. Adam with
beta1 = 0.5, a cosine-decaying learning rate and one-sided label smoothing (D aims at 0.9 for real
points, loss > label_smoothing) damp the oscillation of the two-player game.

What to watch: the sample view (fixed noise -> points over the 8 blobs); val_modes_covered (target >= 7
of 8) and val_high_quality (share of samples within 3 sigma of a blob; target >= 0.8). d_real and
d_fake should hover near 0.5 once the game is balanced; D winning outright (d_fake -> 0) stalls G.

Try: in the discriminator graph delete the 'with_spread' node and wire d_act1 straight into d_fc2:
the samples collapse onto a few blobs (mode collapse);
the gan_dcgan template is the same game on images (best with a GPU).
"""


def gan_ring(reg: Registry) -> Project:
    training = {
        "recipe": "adversarial",
        "dataset": {"name": "ring", "params": {"n": 20000, "modes": 8, "radius": 2.0, "std": 0.05},
                    "val_fraction": 0.1},
        "batch_size": 256, "epochs": 80,
        "optimizer": {"name": "adam", "lr": 0.001, "betas": [0.5, 0.999]},
        "schedule": {"name": "cosine"},
        "loss": {"label_smoothing": 0.1},
        "gan": {"generator": "generator", "discriminator": "discriminator", "samples": 512},
        "seed": 0,
    }
    p = new("gan_ring", "GAN: ring of Gaussians",
            "A generator and a discriminator play against each other until the fakes cover all 8 blobs of a ring.",
            4, GAN_EXPLANATION, training, targets={"val_modes_covered": 7, "val_high_quality": 0.8},
            try_steps=[{"graph": "discriminator", "node": "with_spread"}, {"graph": "discriminator", "node": "d_act1"},
                       {"graph": "discriminator", "node": "d_fc2"}])
    g = GraphBuilder(p, reg, "generator")
    g.sequential([8], [
        L("nn.linear", "g_fc1", out_features=128), L("nn.relu", "g_act1"),
        L("nn.linear", "g_fc2", out_features=128), L("nn.relu", "g_act2"),
        L("nn.linear", "g_fc3", out_features=128), L("nn.relu", "g_act3"),
        L("nn.linear", "point", out_features=2),
    ], output="sample")
    g.layout()
    d = GraphBuilder(p, reg, "discriminator")
    x = d.add("io.input", "x", shape=[2])
    h = d.chain(x, L("nn.linear", "d_fc1", out_features=128), L("nn.leaky_relu", "d_act1", negative_slope=0.2))
    # minibatch statistics: the feature variance over the batch, projected and added to every sample's
    # features, lets D spot a generator that puts all its points on a few blobs (mode collapse)
    mean = d.add("fn.mean", "batch_mean", dim=[0], keepdim=True)
    d.wire(h, mean)
    dev = d.add("fn.sub", "deviation")
    d.wire(h, dev, dst_port="a")
    d.wire(mean, dev, dst_port="b")
    sq = d.add("nn.multiply", "squared")
    d.wire(dev, sq, dst_port="a")
    d.wire(dev, sq, dst_port="b")
    spread = d.chain(sq, L("fn.mean", "batch_variance", dim=[0], keepdim=True),
                     L("nn.linear", "spread", out_features=128))
    joined = d.add("nn.add", "with_spread")
    d.wire(h, joined, dst_port="a")
    d.wire(spread, joined, dst_port="b")
    last = d.chain(joined, L("nn.linear", "d_fc2", out_features=128),
                   L("nn.leaky_relu", "d_act2", negative_slope=0.2), L("nn.linear", "realness", out_features=1))
    d.wire(last, d.add("io.output", "score"))
    d.layout(lanes={n: 1 for n in ("batch_mean", "deviation", "squared", "batch_variance", "spread")}, per_band=7)
    return p


DCGAN_EXPLANATION = """
What it is: a DCGAN, the image version of the GAN template. The generator grows 64 random numbers into a
28x28 image with transposed convolutions; the discriminator shrinks images to one real/fake logit with
strided convolutions. Data: the built-in 'shapes' images.

Why it is wired this way: the DCGAN recipe - no pooling (strided convolutions learn their own up- and
down-sampling), batch norm in both nets except the discriminator's input layer, ReLU in G, LeakyReLU(0.2)
in D, a Sigmoid on G's output because the images are in [0, 1], Adam with lr 2e-4 and beta1 = 0.5.

What to watch: the sample grid (the same noise every time) sharpening from blobs into circles, squares
and crosses; d_real and d_fake staying apart but not at 1 and 0. This template is meant for a GPU
(device auto picks it); on a 2-core CPU an epoch takes minutes.

Try: coloured shapes: set Channels to 3 in the Training panel (Data), then in the Inspector the
generator's up2 out channels to 3 and the discriminator's x shape to 3, 28, 28.
"""


def gan_dcgan(reg: Registry) -> Project:
    training = {
        "recipe": "adversarial",
        "dataset": {"name": "shapes", "params": {"n": 12000, "classes": 6}, "val_fraction": 0.05},
        "batch_size": 128, "epochs": 15,
        "optimizer": {"name": "adam", "lr": 0.0002, "betas": [0.5, 0.999]},
        "gan": {"generator": "generator", "discriminator": "discriminator", "samples": 64},
        "seed": 0,
    }
    p = new("gan_dcgan", "GAN: DCGAN on images (GPU)",
            "A convolutional GAN that learns to draw the built-in shape images; best with a GPU.",
            7, DCGAN_EXPLANATION, training,
            try_steps=[{"setting": "dataset.params.channels"}, {"graph": "generator", "node": "up2", "param": "out_channels"},
                       {"graph": "discriminator", "node": "x", "param": "shape"}])
    g = GraphBuilder(p, reg, "generator")
    g.sequential([64], [
        L("nn.linear", "project", out_features=128 * 7 * 7), L("nn.batch_norm1d", "g_bn0"), L("nn.relu", "g_act0"),
        L("nn.unflatten", "to_maps", dim=1, unflattened_size=[128, 7, 7]),
        L("nn.conv_transpose2d", "up1", out_channels=64, kernel_size=4, stride=2, padding=1),
        L("nn.batch_norm2d", "g_bn1"), L("nn.relu", "g_act1"),
        L("nn.conv_transpose2d", "up2", out_channels=1, kernel_size=4, stride=2, padding=1),
        L("nn.sigmoid", "pixels"),
    ], output="image")
    g.layout()
    d = GraphBuilder(p, reg, "discriminator")
    d.sequential([1, 28, 28], [
        L("nn.conv2d", "down1", out_channels=64, kernel_size=4, stride=2, padding=1),
        L("nn.leaky_relu", "d_act1", negative_slope=0.2),
        L("nn.conv2d", "down2", out_channels=128, kernel_size=4, stride=2, padding=1),
        L("nn.batch_norm2d", "d_bn2"), L("nn.leaky_relu", "d_act2", negative_slope=0.2),
        L("nn.flatten", "flatten"),
        L("nn.linear", "realness", out_features=1),
    ], output="score")
    d.layout()
    return p


# -- 6. Q-learning gridworld ----------------------------------------------------------------------------

GRID_EXPLANATION = """
What it is: reinforcement learning on a gridworld (S start, G goal, # walls, X a pit that ends the
episode with a penalty). Default recipe: tabular Q-learning - a table Q(state, action) updated with
Q += alpha * (reward + gamma * max Q(next) - Q). Choose the Stage "Deep Q-learning (network)"
in the Training panel for deep Q-learning: the 'q_network' graph (one-hot cell in, 4 action values
out) replaces the table, trained from a replay buffer against a slowly updated target network.

Why it is wired this way: the small step penalty makes shorter paths worth more, gamma < 1 discounts
far rewards, epsilon-greedy exploration decays so the agent first explores and then exploits; episodes
start in random free cells so every state gets visited. The Q-network is an MLP because a one-hot cell
has no spatial structure to exploit.

What to watch: the return curve rising and episode length falling; the grid view's arrows (greedy
action per cell) and colours (state value); val_optimal_paths is the share of start cells whose greedy
path reaches the goal along a shortest path (target 1.0).

Try: redraw the grid (Training panel > Edit grid…: click cells to cycle wall, pit, cliff, goal,
start), add a pit on the shortest path and train again, or set Slip to 0.1 (Training panel >
Reinforcement learning) and watch the policy keep its distance from the pit. For deep Q-learning on a
grid of another size, set the q_network graph's x shape to rows x columns (one value per cell).
"""


def gridworld_q(reg: Registry) -> Project:
    training = {
        "recipe": "q_learning_tabular",
        "epochs": 10,
        "rl": {"gamma": 0.95, "lr": 0.5, "epsilon_start": 1.0, "epsilon_end": 0.05, "epsilon_decay": 0.6,
               "episodes": 2000, "random_start": True},
        "optimizer": {"name": "adam", "lr": 0.002},
        "graph": "q_network",
        "seed": 0,
    }
    stages = {"dqn": {"label": "Deep Q-learning (network)",
                      "about": "The q_network graph replaces the table: replay buffer, target network, 500 episodes.",
                      "training": {"recipe": "dqn", "rl": {"episodes": 500, "batch_size": 64,
                                                           "replay_size": 5000, "target_update": 200,
                                                           "warmup": 200},
                                   "schedule": {"name": "cosine"}}}}
    p = new("gridworld_q", "Q-learning gridworld",
            "An agent learns the shortest safe path to the goal: tabular Q-learning, or deep Q-learning with your network.",
            6, GRID_EXPLANATION, training, stages=stages, targets={"val_optimal_paths": 1.0},
            try_steps=[{"button": "Edit grid…"}, {"setting": "rl.grid.slip"}, {"stage": "dqn"},
                       {"graph": "q_network", "node": "x", "param": "shape"}])
    g = GraphBuilder(p, reg, "q_network")
    g.sequential([64], [
        L("nn.linear", "hidden1", out_features=128), L("nn.relu", "act1"),
        L("nn.linear", "hidden2", out_features=128), L("nn.relu", "act2"),
        L("nn.linear", "q_values", out_features=4),
    ], output="action_values")
    g.layout()
    return p


BUILDERS: dict[str, Callable[[Registry], Project]] = {
    "transfer_cnn": transfer_cnn,
    "lstm_forecast": lstm_forecast,
    "conv_autoencoder": conv_autoencoder,
    "gan_ring": gan_ring,
    "gan_dcgan": gan_dcgan,
    "attention_reverse": attention_reverse,
    "gridworld_q": gridworld_q,
}
BUILDERS.update(RL_BUILDERS)
BUILDERS.update(DIGITS_BUILDERS)
BUILDERS.update(TEXT_BUILDERS)
BUILDERS.update(SSL_BUILDERS)
BUILDERS.update(EMBEDDING_BUILDERS)


def build(key: str, registry: Registry | None = None) -> Project:
    return BUILDERS[key](registry or default_registry())


def stable_ids(project: Project, registry: Registry) -> Project:
    """The same project with ids derived from the template, graph and node names (uuid5), so rebuilding
    an unchanged template rewrites identical bytes and a diff shows only what really changed."""
    data = project_to_dict(project, registry)
    key = str(project.meta.get("template", project.name))
    ids: dict[str, str] = {}
    for graph in data["graphs"]:
        ids[graph["id"]] = uuid.uuid5(uuid.NAMESPACE_URL, f"nnstudio-template:{key}/{graph['name']}").hex
        names = {n["id"]: n["name"] for n in graph["nodes"]}
        for node in graph["nodes"]:
            ids[node["id"]] = uuid.uuid5(uuid.NAMESPACE_URL, f"nnstudio-template:{key}/{graph['name']}/{node['name']}").hex
        for edge in graph["edges"]:
            what = f"{names[edge['from']['node']]}.{edge['from']['port']}->{names[edge['to']['node']]}.{edge['to']['port']}"
            ids[edge["id"]] = uuid.uuid5(uuid.NAMESPACE_URL, f"nnstudio-template:{key}/{graph['name']}/{what}").hex
    text = json.dumps(data)
    for old, new_id in ids.items():
        text = text.replace(f'"{old}"', f'"{new_id}"')
    return project_from_dict(json.loads(text), registry, f"template {key}")


def main(argv: list[str] | None = None) -> int:
    reg = default_registry()
    keys = (argv if argv else None) or list(BUILDERS)
    for key in keys:
        path = save_project(stable_ids(build(key, reg), reg), HERE / f"{key}{SUFFIX}", reg)
        print(f"wrote {path.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
