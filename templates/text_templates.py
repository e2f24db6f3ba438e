"""Templates on the bundled public-domain text (Shakespeare's Sonnets, inside the package, no
download): a small GPT, a character-level causal transformer that writes while it trains.

Built with the same helpers as every template (:mod:`templates.build_templates` merges
:data:`TEXT_BUILDERS` into its table); ``bench/templates.py`` checks its quality bar (validation
perplexity at most half a unigram model's).
"""

from __future__ import annotations

from collections.abc import Callable

from studio.core.model import Project
from studio.core.registry import Registry
from studio.train.bundled import bundled_text

# build_templates imports this module to fill its table, so its helpers are imported where used.

GPT_WINDOW = 64  # characters the model sees at once (its Input length and the positional table)
GPT_VOCAB = len(set(bundled_text("sonnets")))  # one score per distinct character of the text

GPT_EXPLANATION = """
What it is: a small GPT: a character-level causal transformer trained on Shakespeare's Sonnets (public
domain, bundled: no download). Each of 64 characters becomes a 96-number embedding, a learned
positional table adds where it stands, two causal transformer blocks let every position look back at
the ones before it, a final LayerNorm and a Linear layer score the 61 possible next characters.

Why it is wired this way: causal = True in each block masks the future: position i attends only to
positions 0..i, so one pass trains 64 next-character predictions at once and the same model can then
write, one character at a time. Pre-norm blocks (norm first) and the one-cycle schedule (a warm-up to
ten times the learning rate, then a slow decline) keep the few minutes of training stable; the
positions table is what tells the model order (attention alone sees a bag of characters). No dropout:
500 steps (8 epochs) end long before the model could memorise the Sonnets.

What to watch: val_perplexity: the model is as unsure as a fair choice among this many characters. A
unigram model (letter frequencies only) scores about 22 on the held-out sonnets; the bar is half of
that. The Generated text view continues a held-out line every epoch: letters soup, then words, then
lines that scan. Its Temperature slider divides the scores before sampling: 0.2 repeats the likeliest
words, 1.0 samples the model as it is, 2.0 garbles.

Try: select block1 and set causal to false in the Inspector: loss and perplexity collapse (each position
can now read the very character it must predict, perplexity ~2) while the generated text falls apart into
runs of one letter: writing has no future to peek at. Or set the Learning rate to 0.0001 in the Training panel (the schedule peaks at ten
times it) and compare the curves.
"""


def char_gpt(reg: Registry) -> Project:
    from templates.build_templates import GraphBuilder, L, new

    training = {
        "recipe": "sequence",
        "dataset": {"name": "bundled_text", "params": {"text": "sonnets", "length": GPT_WINDOW, "max_windows": 4000,
                                                       "holdout": 0.1}},
        "batch_size": 64, "epochs": 8,
        "optimizer": {"name": "adamw", "lr": 0.0004, "weight_decay": 0.01},
        "schedule": {"name": "one_cycle"},  # warm up to 10 x the learning rate, then anneal: transformers like it
        "grad_clip": 1.0,
        "seed": 0,
    }
    p = new("char_gpt", "A small GPT (characters)",
            "A character-level causal transformer learns Shakespeare's Sonnets and writes verse while it trains.",
            30, GPT_EXPLANATION, training, targets={"val_perplexity_vs_unigram": 0.5},
            try_steps=[{"node": "block1", "param": "causal"}, {"setting": "optimizer.lr"}])
    g = GraphBuilder(p, reg, "gpt")
    block = {"nhead": 4, "dim_feedforward": 384, "dropout": 0.0, "activation": "gelu", "norm_first": True,
             "causal": True}
    g.sequential([GPT_WINDOW], [
        L("nn.embedding", "embed", num_embeddings=GPT_VOCAB, embedding_dim=96),
        L("nn.positional_encoding", "positions", max_len=GPT_WINDOW, kind="learned"),
        L("nn.transformer_encoder_layer", "block1", **block),
        L("nn.transformer_encoder_layer", "block2", **block),
        L("nn.layer_norm", "final_norm"),
        L("nn.linear", "next_char", out_features=GPT_VOCAB),
    ], dtype="int64", output="scores")
    g.layout()
    return p


TEXT_BUILDERS: dict[str, Callable[[Registry], Project]] = {
    "char_gpt": char_gpt,
}
