"""Tiny trained runs for the workspace tests: a shapes CNN (images) and a spirals MLP (features)."""

from __future__ import annotations

import pytest

from studio.core.factory import chain_graph
from tests.factories import project

CNN_TRAINING = {"recipe": "classification", "dataset": {"name": "shapes", "params": {"n": 300, "size": 12,
                                                                                     "classes": 3}},
                "epochs": 3, "batch_size": 32, "optimizer": {"lr": 0.01}, "threads": 1}
MLP_TRAINING = {"recipe": "classification", "dataset": {"name": "spirals", "params": {"n": 300}},
                "epochs": 3, "batch_size": 32, "optimizer": {"lr": 0.01}, "threads": 1}


@pytest.fixture(scope="session")
def registry():
    from studio.catalog import default_registry

    return default_registry()


def _train(registry, proj, folder):
    from studio.train.engine import run_to_end

    last = run_to_end(proj, registry, checkpoint_dir=folder, views=False)
    assert last.kind == "done", last.message
    return proj, folder


@pytest.fixture(scope="session")
def cnn_run(registry, tmp_path_factory):
    graph = chain_graph(registry, "cnn", [1, 12, 12], [
        ("nn.conv2d", {"out_channels": 6, "kernel_size": 3, "padding": 1}), ("nn.relu", {}),
        ("nn.max_pool2d", {"kernel_size": 2}), ("nn.flatten", {}), ("nn.linear", {"out_features": 16}),
        ("nn.relu", {}), ("nn.linear", {"out_features": 3})],
        names=["conv", "relu", "pool", "flat", "hidden", "relu2", "head"])
    return _train(registry, project(graph, training=dict(CNN_TRAINING)), tmp_path_factory.mktemp("cnn"))


@pytest.fixture(scope="session")
def mlp_run(registry, tmp_path_factory):
    graph = chain_graph(registry, "mlp", [2], [("nn.linear", {"out_features": 16}), ("nn.relu", {}),
                                               ("nn.linear", {"out_features": 3})], names=["hidden", "relu", "head"])
    return _train(registry, project(graph, training=dict(MLP_TRAINING)), tmp_path_factory.mktemp("mlp"))


@pytest.fixture
def workspace(qtbot, registry):
    """Open a workspace on a trained run; its runner is shut down (threads waited for) afterwards."""
    from studio.ui.analysis import AnalysisWorkspace
    from studio.ui.document import Document

    made = []

    def make(run):
        proj, folder = run
        import copy

        doc = Document(registry, copy.deepcopy(proj))
        ws = AnalysisWorkspace(doc, folder)
        qtbot.addWidget(ws)
        ws.resize(1280, 720)
        ws.show()
        ws.runner.wait()
        assert ws.loaded is not None, ws.status.text()
        made.append(ws)
        return ws

    yield make
    for ws in made:
        ws.shutdown()


@pytest.fixture(scope="session")
def seq_run(registry, tmp_path_factory):
    """A tiny attention model on digit reversal: a class per position, the weights on an attention Output."""
    from tests.analysis.seq_models import attention_graph, train_sequence_run

    return train_sequence_run(registry, attention_graph(registry), tmp_path_factory.mktemp("seq"))
