import threading
import time

import pytest
import torch
from torch import nn

from studio.catalog import default_registry
from studio.core.registry import Registry
from studio.core.spec import ExportInfo, NodeSpec, PortSpec
from studio.train.engine import RunControl, Update, run, run_to_end
from tests.train.helpers import chain, mlp, project

SPIRALS = {"recipe": "classification", "dataset": {"name": "spirals", "params": {"n": 600}}, "epochs": 3,
           "batch_size": 32, "optimizer": {"lr": 0.02}, "threads": 1}


class Boom(nn.Module):
    """Fails on real tensors only, so shape inference (meta) passes."""

    def forward(self, x):
        if not x.is_meta:
            raise ValueError("boom from inside")
        return x


class Blowup(nn.Module):
    def forward(self, x):
        return x * float("inf")


class LateBlowup(nn.Module):
    """Fine for 20 training calls, then infinite: NaN arrives after the first epoch's checkpoint."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        if x.is_meta or not self.training or not torch.is_grad_enabled():
            return x
        self.calls += 1
        return x * float("inf") if self.calls > 20 else x


class Hungry(nn.Module):
    def forward(self, x):
        if not x.is_meta:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return x


def _registry_with_extras() -> Registry:
    extra = [NodeSpec(type_id="test.boom", title="Boom", category="Test", inputs=(PortSpec("in"),), module=Boom,
                      export=ExportInfo("Boom")),
             NodeSpec(type_id="test.blowup", title="Blowup", category="Test", inputs=(PortSpec("in"),),
                      module=Blowup, export=ExportInfo("Blowup")),
             NodeSpec(type_id="test.late_blowup", title="Late blowup", category="Test", inputs=(PortSpec("in"),),
                      module=LateBlowup, export=ExportInfo("LateBlowup")),
             NodeSpec(type_id="test.hungry", title="Hungry", category="Test", inputs=(PortSpec("in"),),
                      module=Hungry, export=ExportInfo("Hungry"))]
    return Registry([*default_registry(), *extra])


def test_classification_loss_falls_and_metrics_are_reported(registry):
    p = project(mlp(registry, "model", 2, 32, 3, depth=2), training=SPIRALS)
    updates = list(run(p, registry, throttle_s=0.0))
    kinds = [u.kind for u in updates]
    assert kinds[0] == "started" and kinds[-1] == "done"
    epochs = [u for u in updates if u.kind == "epoch"]
    assert len(epochs) == 3
    assert epochs[-1].metrics["loss"] < epochs[0].metrics["loss"]
    for key in ("val_accuracy", "val_precision", "val_recall", "val_f1", "val_loss", "epoch_s"):
        assert key in epochs[-1].metrics
    cm = epochs[-1].views["confusion"]["matrix"]
    assert cm.shape == (3, 3) and cm.sum() == 120
    steps = [pt for u in updates if u.kind == "step" for pt in u.points]
    assert [s for s, _ in steps] == list(range(1, len(steps) + 1))  # every step arrives once
    assert updates[-1].progress == 1.0 and updates[-1].history[-1]["epoch"] == 3
    assert updates[0].info["models"]["model"]["params"] == 2 * 32 + 32 + 32 * 32 + 32 + 32 * 3 + 3


def test_same_seed_same_run(registry):
    a = run_to_end(project(mlp(registry, "model", 2, 16, 3), training=SPIRALS), registry)
    b = run_to_end(project(mlp(registry, "model", 2, 16, 3), training=SPIRALS), registry)
    assert a.history[-1]["loss"] == b.history[-1]["loss"]


def test_regression_on_waves_beats_nothing_and_reports_baseline(registry):
    g = chain(registry, "model", [16, 1], [("nn.flatten", {}), ("nn.linear", {"out_features": 32}), ("nn.tanh", {}),
                                           ("nn.linear", {"out_features": 4})])
    t = {"recipe": "regression", "dataset": {"name": "waves", "params": {"n": 800, "length": 16, "horizon": 4}},
         "epochs": 3, "batch_size": 32, "optimizer": {"lr": 0.01}, "threads": 1}
    last = run_to_end(project(g, training=t), registry)
    assert last.kind == "done", last.message
    h = last.history
    assert h[-1]["loss"] < h[0]["loss"]
    assert h[-1]["val_baseline_mse"] > 0 and "val_vs_baseline" in h[-1] and "val_mae" in h[-1]
    assert "forecast" in last.views


def test_denoising_reconstruction_with_latent_view(registry):
    g = chain(registry, "model", [1, 12, 12], [("nn.flatten", {}), ("nn.linear", {"out_features": 8}),
                                               ("nn.linear", {"out_features": 144}),
                                               ("nn.unflatten", {"dim": 1, "unflattened_size": [1, 12, 12]})],
              names=["flat", "code", "dec", "unflat"])
    t = {"recipe": "reconstruction", "dataset": {"name": "shapes", "params": {"n": 400, "classes": 3}},
         "loss": {"noise": 0.1}, "epochs": 3, "batch_size": 32, "optimizer": {"lr": 0.005}, "threads": 1}
    last = run_to_end(project(g, training=t), registry)
    assert last.kind == "done", last.message
    assert last.history[-1]["loss"] < last.history[0]["loss"]
    assert last.views["reconstruction"]["outputs"].shape == (8, 1, 12, 12)
    assert last.views["reconstruction"]["noisy"] is not None
    assert last.views["latent"]["points"].shape == (80, 2)


def test_cancel_within_one_step_and_checkpoint_kept(registry, tmp_path):
    p = project(mlp(registry, "model", 2, 16, 3), training=dict(SPIRALS, epochs=50))
    control = RunControl()
    seen = []
    for u in run(p, registry, control=control, checkpoint_dir=tmp_path, throttle_s=0.0):
        seen.append(u)
        if u.kind == "step" and u.step >= 5 and not control.cancelled:
            control.cancel()
            cancelled_at = u.step
    assert seen[-1].kind == "cancelled"
    assert seen[-1].step == cancelled_at  # no step ran after the request
    assert (tmp_path / "last.pt").exists()


def test_pause_blocks_and_resume_continues(registry):
    p = project(mlp(registry, "model", 2, 16, 3), training=dict(SPIRALS, epochs=2))
    control = RunControl()
    kinds: list[str] = []
    gen = run(p, registry, control=control, throttle_s=0.0)
    for u in gen:
        kinds.append(u.kind)
        if u.kind == "step" and u.step == 3:
            control.pause()
            break
    t = threading.Timer(0.3, control.resume)
    t.start()
    t0 = time.perf_counter()
    nxt = next(gen)
    assert nxt.kind == "paused"
    nxt = next(gen)  # blocks until resumed
    assert time.perf_counter() - t0 >= 0.25 and nxt.step == 4
    rest = list(gen)
    assert rest[-1].kind == "done"


def test_resume_from_checkpoint_matches_uninterrupted_run(registry, tmp_path):
    t = dict(SPIRALS, epochs=4)
    full = run_to_end(project(mlp(registry, "model", 2, 16, 3), training=t), registry)
    # stop after two epochs, then resume from the checkpoint
    first = run_to_end(project(mlp(registry, "model", 2, 16, 3), training=dict(t, epochs=2)), registry,
                       checkpoint_dir=tmp_path / "a")
    resumed_updates = list(run(project(mlp(registry, "model", 2, 16, 3), training=t), registry,
                               resume_from=tmp_path / "a" / "last.pt"))
    assert first.kind == "done"
    assert resumed_updates[0].info["resumed_at"] == first.step
    last = resumed_updates[-1]
    assert last.kind == "done" and len(last.history) == 4
    assert last.history[-1]["loss"] == pytest.approx(full.history[-1]["loss"], rel=1e-4)


def test_nan_loss_stops_naming_the_step_and_keeps_good_checkpoint(tmp_path):
    from studio.train.checkpoint import load_checkpoint

    reg = _registry_with_extras()
    g = chain(reg, "model", [2], [("nn.linear", {"out_features": 3}), ("test.late_blowup", {})])
    last = run_to_end(project(g, training=SPIRALS), reg, checkpoint_dir=tmp_path)  # 15 steps per epoch
    assert last.kind == "error"
    assert "step 21" in last.message and "epoch 2" in last.message and str(tmp_path / "last.pt") in last.message
    state = load_checkpoint(tmp_path / "last.pt")
    assert state["epoch"] == 1 and state["global_step"] == 15
    assert all(torch.isfinite(t).all() for t in state["models"]["model"].values())


def test_inf_from_a_layer_is_caught(registry):
    reg = _registry_with_extras()
    g = chain(reg, "model", [2], [("nn.linear", {"out_features": 3}), ("test.blowup", {})])
    last = run_to_end(project(g, training=SPIRALS), reg)
    assert last.kind == "error" and "step 1 " in last.message


def test_raising_layer_is_named(registry):
    reg = _registry_with_extras()
    g = chain(reg, "model", [2], [("nn.linear", {"out_features": 8}), ("test.boom", {}),
                                  ("nn.linear", {"out_features": 3})], names=["fc1", "kaboom", "fc2"])
    last = run_to_end(project(g, training=SPIRALS), reg)
    assert last.kind == "error"
    assert last.node == "kaboom" and "boom from inside" in last.message
    assert last.node_id == g.node_by_name("kaboom").id


def test_dataset_shape_mismatch_is_a_clear_error(registry):
    p = project(mlp(registry, "model", 5, 16, 3), training=SPIRALS)
    last = run_to_end(p, registry)
    assert last.kind == "error" and "(2)" in last.message and "(5)" in last.message
    assert last.setting == "dataset"


def test_too_few_outputs_for_classes(registry):
    last = run_to_end(project(mlp(registry, "model", 2, 16, 2), training=SPIRALS), registry)
    assert last.kind == "error" and "3 classes" in last.message


def test_bad_setting_is_an_error_update(registry):
    last = run_to_end(project(mlp(registry, "model", 2, 16, 3), training={"optimizer": {"lr": -1}}), registry)
    assert isinstance(last, Update) and last.kind == "error" and last.setting == "optimizer.lr"


def test_freeze_and_lr_multiplier_by_node_name(registry):
    g = mlp(registry, "model", 2, 16, 3)
    first = next(n for n in g.nodes.values() if n.type_id == "nn.linear")
    t = dict(SPIRALS, epochs=1, nodes={first.name: {"freeze": True}}, schedule={"name": "one_cycle"},
             optimizer={"name": "sgd", "lr": 0.05, "nesterov": True})
    updates = list(run(project(g, training=t), registry))
    assert updates[-1].kind == "done", updates[-1].message
    assert updates[0].info["models"]["model"]["trainable"] < updates[0].info["models"]["model"]["params"]
    bad = run_to_end(project(mlp(registry, "model", 2, 16, 3), training=dict(t, nodes={"nope": {"freeze": True}})),
                     registry)
    assert bad.kind == "error" and bad.setting == "nodes.nope"


def test_transfer_from_checkpoint(registry, tmp_path):
    src = run_to_end(project(mlp(registry, "model", 2, 32, 3, depth=2), training=SPIRALS), registry,
                     checkpoint_dir=tmp_path)
    assert src.kind == "done"
    t = dict(SPIRALS, epochs=1, init={"checkpoint": str(tmp_path / "last.pt")})
    updates = list(run(project(mlp(registry, "model", 2, 32, 3, depth=2), training=t), registry))
    assert updates[0].info["init_tensors_loaded"] == 6
    assert updates[-1].history[0]["val_accuracy"] >= src.history[-1]["val_accuracy"] - 0.1


@pytest.mark.parametrize("optimizer", ["adamw", "rmsprop"])
@pytest.mark.parametrize("schedule", ["step", "cosine", "plateau"])
def test_optimizers_and_schedules_run(registry, optimizer, schedule):
    t = dict(SPIRALS, epochs=2, optimizer={"name": optimizer, "lr": 0.01, "weight_decay": 0.01, "l1": 1e-5},
             schedule={"name": schedule, "step_size": 1}, grad_clip=1.0, init={"scheme": "xavier"},
             early_stopping={"enabled": True, "patience": 1}, loss={"label_smoothing": 0.1},
             dataset={"name": "spirals", "params": {"n": 200}, "augment": {"normalize": True}})
    last = run_to_end(project(mlp(registry, "model", 2, 8, 3), training=t), registry)
    assert last.kind == "done", last.message
    assert torch.isfinite(torch.tensor(last.history[-1]["loss"]))


def test_many_to_many_tokens_with_attention_view(registry):
    g = chain(registry, "model", [6], [("nn.embedding", {"num_embeddings": 5, "embedding_dim": 16}),
                                       ("nn.positional_encoding", {}),
                                       ("nn.self_attention", {"num_heads": 2}),
                                       ("nn.linear", {"out_features": 5})],
              dtype="int64", names=["embed", "pos", "attn", "head"])
    t = {"recipe": "sequence", "dataset": {"name": "sequences", "params": {"n": 600, "task": "reverse", "length": 6,
                                                                             "vocab": 5}},
         "epochs": 3, "batch_size": 32, "optimizer": {"lr": 0.01}, "threads": 1}
    updates = list(run(project(g, training=t), registry, throttle_s=0.0))
    last = updates[-1]
    assert last.kind == "done", last.message
    assert last.history[-1]["loss"] < last.history[0]["loss"]
    assert last.history[-1]["val_accuracy"] > updates[0].info["initial"]["val_accuracy"]
    w = last.views["attention"]["weights"]
    assert w.shape == (6, 6) and abs(w.sum(-1) - 1).max() < 1e-4
    assert last.views["attention"]["layer"] == "attn" and set(last.views["attention"]["layers"]) == {"attn"}
    assert last.views["predictions"]["predicted"].shape == (16, 6)
    rates = [u.samples_per_s for u in updates if u.kind == "step"]
    assert max(rates) > 0 and all(u.metrics["samples_per_s"] > 0 for u in updates if u.kind == "epoch")


def test_evaluate_load_trained_activations_and_preview(registry, tmp_path):
    from studio.train.build import activations
    from studio.train.data import preview
    from studio.train.engine import evaluate, load_trained
    from studio.train.settings import DatasetSettings

    p = project(mlp(registry, "model", 2, 16, 3), training=SPIRALS)
    done = run_to_end(p, registry, checkpoint_dir=tmp_path)
    ev = evaluate(p, registry, tmp_path / "last.pt")
    assert ev.kind == "done" and ev.metrics["val_accuracy"] == pytest.approx(done.history[-1]["val_accuracy"])
    assert "confusion" in ev.views
    models = load_trained(p, registry, tmp_path / "last.pt")
    layer = next(iter(models["model"].targets))
    acts = activations(models["model"], (torch.zeros(4, 2),), [layer])
    assert acts[layer].shape == (4, 16)
    pv = preview(DatasetSettings(name="shapes", params={"n": 40}), input_shape=(1, 16, 16), n=5)
    assert pv["inputs"].shape == (5, 1, 16, 16) and len(pv["classes"]) == 6
    bad = evaluate(p, registry, tmp_path / "missing.pt")
    assert bad.kind == "error" and "missing.pt" in bad.message


def test_out_of_memory_suggests_a_smaller_batch(registry):
    reg = _registry_with_extras()
    g = chain(reg, "model", [2], [("nn.linear", {"out_features": 3}), ("test.hungry", {})])
    last = run_to_end(project(g, training=SPIRALS), reg)
    assert last.kind == "error" and "batch size 32" in last.message and "batch size 16" in last.message
    assert last.setting == "batch_size"


def test_binary_cross_entropy_with_one_output(registry):
    t = dict(SPIRALS, dataset={"name": "spirals", "params": {"n": 400, "classes": 2}}, loss={"name": "bce"})
    last = run_to_end(project(mlp(registry, "model", 2, 16, 1), training=t), registry)
    assert last.kind == "done", last.message
    assert last.history[-1]["loss"] < last.history[0]["loss"]


def test_frozen_batch_norm_keeps_its_statistics(registry, tmp_path):
    from studio.train.checkpoint import load_checkpoint

    g = chain(registry, "model", [2], [("nn.linear", {"out_features": 8}), ("nn.batch_norm1d", {}), ("nn.relu", {}),
                                       ("nn.linear", {"out_features": 3})], names=["fc1", "bn", "act", "head"])
    t = dict(SPIRALS, epochs=1, nodes={"bn": {"freeze": True}, "fc1": {"freeze": True}})
    last = run_to_end(project(g, training=t), registry, checkpoint_dir=tmp_path)
    assert last.kind == "done", last.message
    weights = load_checkpoint(tmp_path / "last.pt")["models"]["model"]
    bn = [k for k in weights if k.endswith("running_mean")][0]
    assert torch.equal(weights[bn], torch.zeros(8))  # untouched: frozen layers run in eval mode
    free = run_to_end(project(g, training=dict(SPIRALS, epochs=1)), registry, checkpoint_dir=tmp_path / "free")
    assert free.kind == "done"
    assert not torch.equal(load_checkpoint(tmp_path / "free" / "last.pt")["models"]["model"][bn], torch.zeros(8))


def test_live_views_never_change_what_is_trained(registry):
    """Views and validation draw noise (denoising) from a kept random state: a run watched every step,
    one with views once a second and a headless one train identically."""
    g = mlp(registry, "model", 2, 8, 2)
    t = {"recipe": "reconstruction", "dataset": {"name": "spirals", "params": {"n": 300}}, "loss": {"noise": 0.2},
         "epochs": 2, "batch_size": 32, "threads": 1}
    watched = run_to_end(project(g, training=t), registry, throttle_s=0.0, view_interval_s=0.0)
    headless = list(run(project(g, training=t), registry, views=False))
    assert all(not u.views for u in headless)
    assert headless[-1].kind == "done" and watched.kind == "done"
    for a, b in zip(watched.history, headless[-1].history, strict=True):
        assert {k: v for k, v in a.items() if not k.endswith("_s") and "ms_per" not in k} == \
            {k: v for k, v in b.items() if not k.endswith("_s") and "ms_per" not in k}


def test_a_non_finite_loss_is_named_by_its_step_even_between_metric_reads(tmp_path):
    """Per-step metrics are read in batches (every throttle window); the error still names the exact step."""
    reg = _registry_with_extras()
    g = chain(reg, "model", [2], [("nn.linear", {"out_features": 3}), ("test.late_blowup", {})])
    last = run_to_end(project(g, training=SPIRALS), reg, checkpoint_dir=tmp_path, throttle_s=3600.0)
    assert last.kind == "error" and "step 21 " in last.message and "epoch 2" in last.message
