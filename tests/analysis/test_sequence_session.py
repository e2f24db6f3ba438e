"""Sequence runs opened for analysis: a class per position, the position chosen by the user."""

from __future__ import annotations

import pytest
import torch

from studio.analysis.attack import accuracy
from studio.analysis.explain import attribute
from studio.analysis.session import RunError, open_run
from tests.analysis.seq_models import LENGTH, attention_graph, lstm_graph, train_sequence_run


@pytest.fixture(scope="module")
def registry():
    from studio.catalog import default_registry

    return default_registry()


@pytest.fixture(scope="module")
def lstm_run(registry, tmp_path_factory):
    return train_sequence_run(registry, lstm_graph(registry), tmp_path_factory.mktemp("lstm"), epochs=2)


@pytest.mark.slow
def test_a_per_position_run_opens_at_the_last_position_and_follows_the_chosen_one(registry, lstm_run):
    proj, folder = lstm_run
    data = open_run(proj, registry, folder, max_samples=16)
    assert data.task == "tokens" and data.tokens and data.positions == LENGTH
    assert data.position == LENGTH - 1 and data.vocab == [str(i) for i in range(6)]
    assert data.model(data.val_x).shape == (16, 6)
    assert torch.equal(data.val_y, data.val_labels[:, -1])
    data.set_position(0)
    assert torch.equal(data.val_y, data.val_labels[:, 0])
    full = data.model.module(data.val_x)
    assert torch.equal(data.model(data.val_x), full[:, 0])
    data.set_position(-2)
    assert data.position == LENGTH - 2
    with pytest.raises(RunError, match="outside the sequence"):
        data.set_position(LENGTH)


@pytest.mark.slow
def test_ig_on_a_trained_sequence_model_is_complete_and_finds_the_reversed_token(registry, tmp_path):
    proj, folder = train_sequence_run(registry, attention_graph(registry), tmp_path)
    data = open_run(proj, registry, folder, max_samples=32)
    data.set_position(LENGTH - 1)  # reversal: the last output is the first input token
    result = attribute(data.model, data.val_x, None, "ig")
    assert float(result.delta.max()) < 1e-2
    top = result.values.abs().argmax(1)
    assert accuracy(data.model, data.val_x, data.val_y) > 0.9
    assert (top == 0).float().mean() > 0.8


@pytest.mark.slow
def test_a_regression_run_is_refused_in_one_line(registry, tmp_path):
    from studio.core.factory import chain_graph
    from studio.core.model import Project

    graph = chain_graph(registry, "f", [8, 1], [("nn.flatten", {}), ("nn.linear", {"out_features": 2})])
    proj = Project(name="w", graphs=[graph], training={
        "recipe": "sequence", "dataset": {"name": "waves", "params": {"n": 64, "length": 8, "horizon": 2}},
        "epochs": 1, "threads": 1})
    from studio.train.engine import run_to_end

    assert run_to_end(proj, registry, checkpoint_dir=tmp_path, views=False).kind == "done"
    with pytest.raises(RunError, match="regression task") as err:
        open_run(proj, registry, tmp_path)
    assert "\n" not in str(err.value)


@pytest.mark.slow
def test_a_many_to_one_text_model_is_explained_per_character(registry, tmp_path):
    from studio.core.factory import chain_graph
    from studio.core.model import Project
    from studio.train.engine import run_to_end

    text = tmp_path / "text.txt"
    text.write_text("the cat sat on the mat. " * 40)
    graph = chain_graph(registry, "chars", [8], [("nn.embedding", {"num_embeddings": 16, "embedding_dim": 8}),
                                                 ("nn.lstm", {"hidden_size": 16, "output": "last step"}),
                                                 ("nn.linear", {"out_features": 11})], dtype="int64")
    proj = Project(name="text", graphs=[graph], training={
        "recipe": "sequence", "dataset": {"name": "text", "path": str(text), "params": {"length": 8,
                                                                                      "many_to_many": False}},
        "epochs": 1, "threads": 1})
    final = run_to_end(proj, registry, checkpoint_dir=tmp_path / "run", views=False)
    assert final.kind == "done", final.message
    data = open_run(proj, registry, tmp_path / "run", max_samples=4)
    assert data.task == "classification" and data.tokens and data.positions is None
    assert " " in data.vocab and "t" in data.vocab  # the labels are the text's characters
    result = attribute(data.model, data.val_x, None, "ig")
    assert result.values.shape == (4, 8) and float(result.delta.max()) < 1e-2
    with pytest.raises(RunError, match="no positions"):
        data.set_position(2)
