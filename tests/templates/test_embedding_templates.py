"""The word-embedding template: it validates and exports with identical outputs, its table fits the
vocabulary its settings give, and its explanation names the views it promises; its shortened run lives in
``tests/train/test_skipgram.py``, the full bar in ``bench/templates.py``."""

from __future__ import annotations

from bench.templates import load

EMBEDDING_TEMPLATES = ("sonnets_skipgram",)


def test_skipgram_template_validates_exports_and_fits_its_vocabulary(registry):
    from studio.train.bundled import text_split
    from studio.train.recipes.skipgram import vocabulary, words
    from tests.templates.test_templates import _checked  # that module lists these templates as covered

    project = _checked(load("sonnets_skipgram", registry), registry)
    sg = project.training["skipgram"]
    assert project.training["recipe"] == "skipgram" and project.meta["targets"]["val_pair_auc"] > 0.5
    embed = next(n for n in project.graph_by_name(project.training["graph"]).nodes.values() if n.name == "embed")
    vocab, _ = vocabulary(words(text_split(sg["text"], 0.1)[0]), sg["min_count"])
    assert embed.params["num_embeddings"] == len(vocab)
    text = project.meta["explanation"]
    for promised in ("Projection", "Nearest", "Window size", "embedding dim", "Projector"):
        assert promised in text
