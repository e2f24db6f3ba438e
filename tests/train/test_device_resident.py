"""Small datasets stay on the GPU for a whole run (one copy instead of one per batch), with the same
batches, in the same order, as when each batch is copied over."""

import pytest
import torch

from studio.train.nnloop.parts import Batches, fits_on_device


def test_nothing_stays_on_a_cpu():
    x = torch.zeros(10, 3)
    assert not fits_on_device(torch.device("cpu"), x)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_resident_batches_are_the_copied_batches():
    dev = torch.device("cuda")
    x, y = torch.randn(100, 4), torch.arange(100) % 3
    stats = (x.mean(0), x.std(0))
    on_host = Batches(x, y, 16, True, 7, None, stats, drop_last=True)
    resident = Batches(x.to(dev), y.to(dev), 16, True, 7, None, tuple(s.to(dev) for s in stats), drop_last=True)
    assert fits_on_device(dev, x, y)
    for (hx, hy), (rx, ry) in zip(on_host.batches(3), resident.batches(3), strict=True):
        assert rx.is_cuda and ry.is_cuda
        torch.testing.assert_close(rx.cpu(), hx)
        assert torch.equal(ry.cpu(), hy)
    assert not fits_on_device(dev, x, cap_bytes=100)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_classifier_trains_on_the_gpu_from_resident_data():
    from studio.catalog import default_registry
    from studio.core.factory import chain_graph
    from studio.core.model import Project
    from studio.train.engine import run

    reg = default_registry()
    graph = chain_graph(reg, "model", [2], [("nn.linear", {"out_features": 32}), ("nn.relu", {}),
                                            ("nn.linear", {"out_features": 3})])
    training = {"recipe": "classification", "dataset": {"name": "spirals"}, "epochs": 3, "batch_size": 64,
                "optimizer": {"lr": 0.01}, "device": "cuda"}
    last = None
    for u in run(Project(graphs=[graph], training=training), reg, views=False):
        last = u
    assert last is not None and last.kind == "done", last.message if last else "no updates"
    assert last.history[-1]["val_accuracy"] > 0.4
