"""Templates on word embeddings: skip-gram word vectors learned from the bundled Sonnets (no download),
looked at in the projector (PCA / t-SNE) with a nearest-neighbour query box.

Built with the same helpers as every template (:mod:`templates.build_templates` merges
:data:`EMBEDDING_BUILDERS` into its table); ``bench/templates.py`` checks its quality bar (words used
near each other more similar than the same words paired at random).
"""

from __future__ import annotations

from collections.abc import Callable

from studio.core.model import Project
from studio.core.registry import Registry
from studio.train.bundled import text_split

# build_templates imports this module to fill its table, so its helpers are imported where used.

MIN_COUNT = 5
DIM = 48


def _vocab_size() -> int:
    from studio.train.recipes.skipgram import vocabulary, words

    return len(vocabulary(words(text_split("sonnets", 0.1)[0]), MIN_COUNT)[0])


SKIPGRAM_EXPLANATION = """
What it is: word2vec's skip-gram with negative sampling, on Shakespeare's Sonnets (public domain,
bundled: no download). Each word seen at least 5 times gets a row of the Embedding table: a vector
of 48 numbers. Training never sees a label: it asks, for every word and each neighbour within 2
words, whether the pair really occurs (σ of the dot product of the word's vector and a context vector
close to 1) while 10 random words drawn from the vocabulary must score close to 0.

Why it is wired this way: the graph is just the table: Input (one word id) → Embedding → Output. Its
rows are the word vectors; the skip-gram paradigm keeps word2vec's second table (the context vectors)
itself. Words used in the same company drift towards similar vectors (night lands near day).
Frequent words (the, and, of) are subsampled so they do not drown the rest.

What to watch: val_pair_auc: the probability that two words used within 2 words of each other in the
text have more similar vectors (cosine) than the same words paired at random (each keeps its
frequency). 0.5 is chance (the untrained table); the bar is 0.58. val_held_pair_auc asks the same of
the last tenth of the text, never trained on: on a text this small (about 12,000 words) it stays near
0.5, an honest sign of how little 154 sonnets teach. The Word vectors view is the projector: the 457
words placed by PCA (or t-SNE: the Projection switch); hover a point for its word; type a word in the
Nearest box (night, heart, thee) for its 10 nearest words by cosine similarity: night finds day,
heart finds heart's and eye.

Try: set Window size to 5 in the Training panel (Skip-gram word embeddings group): each word is
paired with words further away; compare the neighbours of night and the curves. Or select embed and
set embedding dim to 8 in the Inspector: 8 numbers per word instead of 48; compare val_pair_auc. The
projector also opens on any finished run from the results' Analyse… button (its Projector tab).
"""


def sonnets_skipgram(reg: Registry) -> Project:
    from templates.build_templates import GraphBuilder, L, new

    training = {
        "recipe": "skipgram",
        "graph": "word_vectors",
        "skipgram": {"text": "sonnets", "min_count": MIN_COUNT, "window": 2, "negatives": 10,
                     "subsample": 0.001},
        "batch_size": 256, "epochs": 40,
        "optimizer": {"name": "adam", "lr": 0.003},
        "early_stopping": {"metric": "val_pair_auc"},  # the best checkpoint is the one with the best bar metric
        "seed": 0,
    }
    p = new("sonnets_skipgram", "Word vectors (skip-gram)",
            "Skip-gram word embeddings learned from Shakespeare's Sonnets, seen in a projector with nearest "
            "neighbours.", 32, SKIPGRAM_EXPLANATION, training, targets={"val_pair_auc": 0.58},
            try_steps=[{"setting": "skipgram.window"}, {"node": "embed", "param": "embedding_dim"}])
    g = GraphBuilder(p, reg, "word_vectors")
    g.sequential([1], [L("nn.embedding", "embed", num_embeddings=_vocab_size(), embedding_dim=DIM)],
                 dtype="int64", output="vector")
    g.layout()
    return p


EMBEDDING_BUILDERS: dict[str, Callable[[Registry], Project]] = {
    "sonnets_skipgram": sonnets_skipgram,
}
