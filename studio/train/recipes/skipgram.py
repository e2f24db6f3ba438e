"""Skip-gram word embeddings with negative sampling (word2vec, Mikolov et al. 2013) on a bundled text.

The text is split into lower-case words; words seen at least ``min_count`` times form the vocabulary
(most frequent first, so the ids are stable). Every word and each neighbour within ``window`` words
make a (centre, context) pair. The user's graph maps a centre word id to its vector (Input word ids →
Embedding → …): that Embedding is the word-vector table. The paradigm keeps word2vec's second table,
the context vectors, itself; the loss asks σ(v_centre · u_context) to be 1 for a real pair and 0 for
``negatives`` words drawn from the unigram distribution raised to 3/4. Frequent words are subsampled
(word2vec's 1 − √(t / f) rule) so "the" and "and" do not drown the rest.

Judged by cosine similarity of the word vectors: words used within the window of each other should
be more similar than the same words paired at random (contexts shuffled, so frequencies stay) —
``val_pair_auc`` is the probability that a neighbour pair of the text scores above a shuffled pair
(0.5 = chance, the untrained table). ``val_held_pair_auc`` asks the same of the held-out last tenth of
the text, never trained on; on a text as small as the Sonnets (about 12,000 words in the vocabulary's
reach) it stays near chance, and says so. ``val_loss`` is the skip-gram loss on held-out pairs.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from studio.train.build import ModelError
from studio.train.bundled import TEXTS, bundled_text
from studio.train.nnloop.parts import Schedule, make_optimizer, set_train_mode
from studio.train.recipes.loop_recipe import LoopTaskRecipe
from studio.train.recipes.registry import MetricSpec, RecipeSpec, register
from studio.train.settings import Float, Int, S, Section

SHOWN_WORDS = 600  # most frequent words sent to the live projector


class SkipGramSettings(Section):
    """The skip-gram paradigm's own settings (``training.skipgram``)."""

    text: Literal[tuple(TEXTS)] = S("sonnets", title="Text",  # type: ignore[valid-type]
                                    help="The bundled public-domain text the words come from.")
    min_count: Int = S(5, title="Min count", ge=1, le=1000,
                       help="Words seen fewer times are left out of the vocabulary (and of the pairs).")
    window: Int = S(2, title="Window size", ge=1, le=10,
                    help="A word's context: this many words on each side.")
    negatives: Int = S(5, title="Negative samples", ge=1, le=50,
                       help="Random words per pair the model must tell apart from the real context word.")
    subsample: Float = S(0.001, title="Subsampling t", ge=0.0, le=1.0,
                         help="Frequent words are dropped with probability 1 − √(t / frequency); 0 = keep all.")


def words(text: str) -> list[str]:
    """Lower-case words of ``text`` (apostrophes inside a word kept: o'er, thou'rt)."""
    return re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower())


def vocabulary(tokens: list[str], min_count: int) -> tuple[list[str], np.ndarray]:
    """Words seen at least ``min_count`` times, most frequent first (ties alphabetical), and their counts."""
    counts = Counter(tokens)
    kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    return kept, np.array([counts[w] for w in kept], dtype=np.int64)


def encode(tokens: list[str], vocab: list[str]) -> np.ndarray:
    """Ids of the tokens that are in ``vocab`` (the others are dropped, as word2vec does)."""
    index = {w: i for i, w in enumerate(vocab)}
    return np.array([index[t] for t in tokens if t in index], dtype=np.int64)


def pairs(ids: np.ndarray, window: int) -> np.ndarray:
    """Every (centre, context) pair within ``window`` positions, as a P×2 array."""
    parts = []
    for o in range(1, window + 1):
        if o < len(ids):
            parts.append(np.stack([ids[:-o], ids[o:]], 1))
            parts.append(np.stack([ids[o:], ids[:-o]], 1))
    return np.concatenate(parts) if parts else np.zeros((0, 2), np.int64)


def keep_probability(counts: np.ndarray, t: float) -> np.ndarray:
    """word2vec's subsampling: each occurrence of a word of frequency f is kept with probability √(t / f)."""
    if t <= 0:
        return np.ones(len(counts))
    f = counts / counts.sum()
    return np.minimum(1.0, np.sqrt(t / f))


def with_shuffled(p: np.ndarray, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Pairs of two different words, and the same words paired at random (contexts shuffled: each word
    keeps its frequency, only who stands next to whom is lost)."""
    p = p[p[:, 0] != p[:, 1]]
    return torch.from_numpy(p), torch.from_numpy(np.stack([p[:, 0], rng.permutation(p[:, 1])], 1))


def pair_auc(real: np.ndarray, shuffled: np.ndarray) -> float:
    """Probability that a real pair's similarity beats a shuffled pair's, ties counting half (the area under
    the ROC curve, from average ranks: the Mann-Whitney U statistic)."""
    n1, n0 = len(real), len(shuffled)
    if n1 == 0 or n0 == 0:
        return 0.5
    _, where, counts = np.unique(np.r_[real, shuffled], return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2.0)[where]
    return float((ranks[:n1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


class SkipGramTask:
    """Skip-gram training on one model (its first Embedding is the word table). Plain torch, numpy and
    nnloop, so the app trains with it and an exported train.py gets a copy of it."""

    monitor = "val_pair_auc"

    def __init__(self, cfg, model, forward, *, device, multipliers, frozen, input_shape, **_context):
        ks = cfg["skipgram"]
        self.cfg, self.ks, self.model, self.forward, self.device = cfg, ks, model, forward, device
        self.frozen, self.input_shape, self.batch = list(frozen), tuple(input_shape), cfg["batch_size"]
        text = bundled_text(ks["text"])
        cut = int(round(len(text) * 0.9))  # the last tenth is held out
        self.vocab, self.counts = vocabulary(words(text[:cut]), ks["min_count"])
        table = next((m for m in model.modules() if isinstance(m, nn.Embedding)), None)
        if table is None:
            raise ValueError("the graph needs an Embedding node: its rows are the word vectors")
        if len(self.vocab) > table.num_embeddings:
            raise ValueError(f"the vocabulary has {len(self.vocab)} words but the Embedding has {table.num_embeddings} "
                             f"rows; set its num_embeddings to {len(self.vocab)} or raise min_count")
        if cfg["init"]["scheme"] == "default" and not cfg["init"].get("checkpoint"):
            with torch.no_grad():  # word2vec's start: small uniform vectors, so no random direction dominates
                table.weight.uniform_(-0.5 / table.embedding_dim, 0.5 / table.embedding_dim)
        self.ids = encode(words(text[:cut]), self.vocab)
        self.keep = keep_probability(self.counts, ks["subsample"])
        noise = torch.from_numpy(self.counts.astype(np.float64)) ** 0.75
        self.noise = (noise / noise.sum()).float()
        with torch.no_grad():
            dim = self._centre(torch.zeros(1, dtype=torch.int64)).shape[-1]
        self.context = nn.Embedding(table.num_embeddings, dim).to(device)
        nn.init.zeros_(self.context.weight)  # word2vec starts the context table at zero
        rng = np.random.default_rng(cfg["seed"] + 7)
        self.text_pairs = with_shuffled(pairs(self.ids, ks["window"]), rng)
        self.held = with_shuffled(pairs(encode(words(text[cut:]), self.vocab), ks["window"]), rng)
        self.held_negatives = torch.multinomial(self.noise, len(self.held[0]) * ks["negatives"], True,
                                                generator=torch.Generator().manual_seed(cfg["seed"] + 3))
        self.held_negatives = self.held_negatives.view(len(self.held[0]), -1)
        self.epoch_pairs = None
        self.steps = max(1, math.ceil(len(self.pairs_for(0)) / self.batch))
        self.optimizer = make_optimizer(cfg["optimizer"], [model, self.context], multipliers)
        self.schedule = Schedule(cfg["schedule"], self.optimizer, cfg["epochs"], self.steps_per_epoch())
        self.schedules = [self.schedule]
        self.rows = []

    def pairs_for(self, epoch):
        """This epoch's training pairs: frequent words subsampled, then shuffled (seeded by epoch)."""
        rng = np.random.default_rng(self.cfg["seed"] * 7919 + epoch)
        kept = self.ids[rng.random(len(self.ids)) < self.keep[self.ids]]
        p = pairs(kept, self.ks["window"])
        return torch.from_numpy(p[rng.permutation(len(p))])

    def steps_per_epoch(self):
        cap = self.cfg.get("steps_per_epoch") or 0
        return max(1, min(self.steps, cap) if cap else self.steps)

    def _centre(self, ids):
        """The model's vector for each word id (B,)."""
        x = ids.view(-1, *([1] * len(self.input_shape))).expand(-1, *self.input_shape) if self.input_shape else ids
        return self.forward(x.to(self.device)).float().reshape(len(ids), -1)

    def _loss(self, centre, context, negatives):
        v = self._centre(centre)
        pos = (v * self.context(context.to(self.device))).sum(-1)
        neg = torch.bmm(self.context(negatives.to(self.device)), v.unsqueeze(-1)).squeeze(-1)
        return -(F.logsigmoid(pos) + F.logsigmoid(-neg).sum(-1)).mean()

    def step(self, epoch, index):
        if index == 0 or self.epoch_pairs is None:
            self.epoch_pairs = self.pairs_for(epoch)
            self.generator = torch.Generator().manual_seed(self.cfg["seed"] * 104729 + epoch)
        start = (index * self.batch) % max(1, len(self.epoch_pairs))
        batch = self.epoch_pairs[start:start + self.batch]
        negatives = torch.multinomial(self.noise, len(batch) * self.ks["negatives"], True, generator=self.generator)
        set_train_mode(self.model, self.frozen)
        loss = self._loss(batch[:, 0], batch[:, 1], negatives.view(len(batch), -1))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.cfg.get("grad_clip", 0) > 0:
            torch.nn.utils.clip_grad_norm_(list(self.model.parameters()) + list(self.context.parameters()),
                                           self.cfg["grad_clip"])
        self.optimizer.step()
        self.schedule.after_step()
        self.rows.append({"loss": loss.detach(), "samples": float(len(batch))})

    def flush(self):
        rows, self.rows = [dict(r, loss=float(r["loss"])) for r in self.rows], []
        return rows

    @torch.no_grad()
    def word_vectors(self):
        """The vocabulary's vectors as the model gives them (V×D)."""
        self.model.eval()
        ids = torch.arange(len(self.vocab))
        return torch.cat([self._centre(ids[i:i + 1024]).cpu() for i in range(0, len(ids), 1024)]).numpy()

    @torch.no_grad()
    def evaluate(self):
        unit = F.normalize(torch.from_numpy(self.word_vectors()), dim=1)

        def cos(p):
            return (unit[p[:, 0]] * unit[p[:, 1]]).sum(-1).numpy()

        real, shuffled = cos(self.text_pairs[0]), cos(self.text_pairs[1])
        held, n = self.held[0], len(self.held[0])
        losses = [float(self._loss(held[i:i + 4096, 0], held[i:i + 4096, 1], self.held_negatives[i:i + 4096]))
                  * len(held[i:i + 4096]) for i in range(0, n, 4096)]
        return {"val_loss": sum(losses) / max(1, n), "val_pair_auc": pair_auc(real, shuffled),
                "val_pair_cos": float(real.mean()), "val_random_cos": float(shuffled.mean()),
                "val_held_pair_auc": pair_auc(cos(held), cos(self.held[1]))}

    def lr(self):
        return float(self.optimizer.param_groups[0]["lr"])


class SkipGram(LoopTaskRecipe):
    """The app's side: check the graph (errors name the node), then train with :class:`SkipGramTask`."""

    monitor = "val_pair_auc"

    def setup(self) -> None:
        s, ks = self.settings, self.settings.section("skipgram")
        graph = self.graph(s.graph)
        self.model = self.build(graph)
        name = self.model.name
        if len(self.model.inputs) != 1 or self.model.inputs[0].dtype not in ("int64", "int32"):
            raise ModelError(f"graph '{name}' needs one Input of word ids (dtype int64)", graph=name)
        tables = [n for n in graph.nodes.values() if self.ctx.registry.canonical_id(n.type_id) == "nn.embedding"]
        if not tables:
            raise ModelError(f"graph '{name}' needs an Embedding node: its rows are the word vectors", graph=name)
        self.table_node = tables[0]
        rows = int(self.model.submodule(self.table_node.name).weight.shape[0])
        vocab, _ = vocabulary(words(bundled_text(ks.text)[:int(round(len(bundled_text(ks.text)) * 0.9))]), ks.min_count)
        if len(vocab) < 2:
            raise ModelError(f"only {len(vocab)} word(s) occur {ks.min_count} times; lower Min count", graph=name)
        if len(vocab) > rows:
            raise ModelError(f"the vocabulary has {len(vocab)} words (min count {ks.min_count}) but Embedding "
                             f"'{self.table_node.name}' has {rows} rows; set its num_embeddings to {len(vocab)} "
                             "or raise Min count", self.table_node.name, self.table_node.id, name)
        self.load_initial_weights()
        multipliers = self.node_settings([self.model])
        t = SkipGramTask(s.to_dict(), self.model.module, self.step_forward(self.model), device=self.device,
                         multipliers=multipliers, frozen=self.frozen, input_shape=self.model.inputs[0].shape)
        self.adopt(t)
        self.info.update(vocabulary=len(t.vocab), train_words=len(t.ids), held_out_pairs=len(t.held[0]),
                         text=ks.text, untrained_pair_auc=t.evaluate()["val_pair_auc"])

    def views(self, quick: bool = False) -> dict[str, Any]:
        t = self.loop_task
        n = min(SHOWN_WORDS, len(t.vocab))
        return {"projector": {"vectors": t.word_vectors()[:n].astype(np.float32), "tokens": t.vocab[:n],
                              "title": f"Word vectors of the {n} most frequent words ({self.table_node.name})"}}

    def extra_state(self) -> dict[str, Any]:
        return {"context": self.loop_task.context.weight.detach().cpu().clone(), "vocab": list(self.loop_task.vocab)}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        context = self.loop_task.context.weight
        if "context" in state and state["context"].shape == context.shape:
            context.data.copy_(state["context"])


#: what train.py needs beside SkipGramTask, copied verbatim (bundled_text reads texts/ beside train.py)
EXPORT_HELPERS = (words, vocabulary, encode, pairs, keep_probability, with_shuffled, pair_auc, bundled_text)


def _export_files(settings: Any) -> dict[str, str]:
    """The text an exported train.py reads (``texts/`` beside it, where its copy of bundled_text looks)."""
    name = settings.section("skipgram").text
    return {f"texts/{name}.txt": bundled_text(name)}


SPEC = register(RecipeSpec(
    name="skipgram",
    label="Skip-gram word embeddings",
    help="Word vectors from a bundled text (word2vec's skip-gram with negative sampling): the graph's Embedding "
         "learns one vector per word so that words used near each other get similar vectors.",
    factory=SkipGram,
    settings=SkipGramSettings,
    section="skipgram",
    uses=("batch_size", "steps_per_epoch", "optimizer", "schedule", "grad_clip", "nodes", "init"),
    metrics=(
        MetricSpec("pair_auc", "Neighbour-pair AUC", "share", True,
                   help="Probability that two words used within the window of each other in the text have more "
                        "similar vectors (cosine) than the same words paired at random. 0.5 = chance."),
        MetricSpec("held_pair_auc", "Neighbour-pair AUC (held-out text)", "share", True,
                   help="The same on the held-out last tenth of the text, never trained on."),
        MetricSpec("pair_cos", "Cosine of neighbour pairs", "", True,
                   help="Mean cosine similarity of word pairs within the window."),
        MetricSpec("random_cos", "Cosine of random pairs", "", False,
                   help="Mean cosine similarity of the same words paired at random: the baseline."),
    ),
    monitor="val_pair_auc",
    roles=("prediction",),
    views=("projector",),
    export=True,  # script_export copies SkipGramTask and EXPORT_HELPERS into train.py (loop_writer)
    extra={"export_files": _export_files},
))
