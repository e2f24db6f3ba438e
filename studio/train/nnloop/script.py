"""What an exported ``train.py`` does around the loop: options, processes, data, models, weights.

NN Studio's engine builds the same tasks from the project (with node-located error messages);
this module builds them from the exported model classes, in the same order and from the same
seeds, so ``python train.py`` reproduces the app's per-epoch metrics on the same device.
"""

from __future__ import annotations

import argparse
import copy
import os
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from .parts import NothingToTrain, checkpoint_models, init_weights, load_matching, param_groups, pick
from .robust import attach_adversarial, flip_labels
from .tasks import GanTask, SupervisedTask, TabularQTask
from .trainer import EarlyStop, fit, higher_is_better, write_metrics_csv
from .vae import VaeTask


def options(doc: str, settings: dict, argv: list[str] | None = None) -> tuple[dict, str]:
    """The settings with command-line overrides applied, and the output folder."""
    first = (doc or "").strip().splitlines()[0] if doc else "train"
    p = argparse.ArgumentParser(description=first)
    p.add_argument("--epochs", type=int, default=settings["epochs"])
    if "batch_size" in settings:
        p.add_argument("--batch-size", type=int, default=settings["batch_size"], help="per process")
    if "optimizer" in settings:
        p.add_argument("--lr", type=float, default=settings["optimizer"]["lr"])
    if "steps_per_epoch" in settings:
        p.add_argument("--max-steps", type=int, default=settings["steps_per_epoch"], help="cap steps per epoch")
    p.add_argument("--device", default=settings.get("device", "auto"), help="auto, cpu, cuda or mps")
    p.add_argument("--out", default="trained", help="folder for metrics.csv and the trained weights")
    args = p.parse_args(argv)
    cfg = copy.deepcopy(settings)
    cfg["epochs"], cfg["device"] = args.epochs, args.device
    if "batch_size" in cfg:
        cfg["batch_size"] = args.batch_size
    if "optimizer" in cfg:
        cfg["optimizer"]["lr"] = args.lr
    if "steps_per_epoch" in cfg:
        cfg["steps_per_epoch"] = args.max_steps
    return cfg, args.out


def setup(cfg: dict) -> tuple[int, int, torch.device]:
    """(rank, world size, device) — torchrun sets WORLD_SIZE/RANK/LOCAL_RANK; seeds and threads as NN Studio."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available() and cfg.get("device", "auto") in ("auto", "cuda")
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if world > 1:
        dist.init_process_group("nccl" if cuda else "gloo")
        rank, local = dist.get_rank(), int(os.environ.get("LOCAL_RANK", "0"))
        device = torch.device(f"cuda:{local}") if cuda else torch.device("cpu")
        if cuda:
            torch.cuda.set_device(device)
    else:
        rank = 0
        name = cfg.get("device", "auto")
        device = torch.device("cuda" if cuda else "mps" if name in ("auto", "mps") and mps else "cpu")
    torch.set_num_threads(cfg.get("threads") or max(1, (os.cpu_count() or 2) - 1))
    seed = cfg["seed"]
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return rank, world, device


def load_data(data: Any, cfg: dict, input_shape: list[int] | None) -> tuple[torch.Tensor, ...]:
    """(train x, train y, validation x, validation y, info) split exactly as NN Studio splits them."""
    ds = cfg["dataset"]
    x, y, info = data.load(ds["name"], ds.get("params", {}), cfg["seed"], ds.get("path", ""), ds.get("target", ""),
                           ds.get("download", True), input_shape)
    x, y, xv, yv, info = data.split(x, y, info, ds["val_fraction"], ds["limit"], cfg["seed"])
    x, y, xv, yv = (torch.from_numpy(np.ascontiguousarray(a)) for a in (x, y, xv, yv))
    if ds.get("label_noise"):  # training labels only, the same samples NN Studio flips
        try:
            y, _done = flip_labels(y, ds["label_noise"], cfg["seed"], len(info.get("classes", [])),
                                   info.get("task", "classification"), ds["name"])
        except ValueError as exc:
            raise SystemExit(f"dataset.label_noise: {exc}") from None
    return x, y, xv, yv, info


def make_model(cls: Callable[[], nn.Module], cfg: dict, device: torch.device) -> nn.Module:
    """The model from the project's seed and initialisation, as NN Studio builds it."""
    torch.manual_seed(cfg["seed"])
    model = cls()
    init_weights(model, cfg["init"]["scheme"])
    return model.to(device)


def load_initial(models: dict[str, nn.Module], path: str) -> None:
    """``init.checkpoint``: copy matching tensors into each model (graph name, or the only one)."""
    if not path:
        return
    weights = checkpoint_models(path)
    loaded = 0
    for name, model in models.items():
        found = weights.get(name) or (next(iter(weights.values())) if len(weights) == 1 else None)
        if found:
            loaded += load_matching(model, found)[0]
    if loaded == 0:
        raise SystemExit(f"none of the weights in {path} match this model's layer names and shapes")


def frozen_modules(model: nn.Module, frozen: list[str]) -> list[nn.Module]:
    mods = [model.get_submodule(name) for name in frozen]
    for m in mods:
        m.eval()
    return mods


def average_gradients(world: int) -> Callable[[nn.Module], None] | None:
    """Data parallel by hand: gradients averaged over processes (works with gradient penalties too)."""
    if world <= 1:
        return None

    def average(model: nn.Module) -> None:
        for p in model.parameters():
            if p.grad is not None:
                dist.all_reduce(p.grad)
                p.grad /= world

    return average


def early(cfg: dict, fallback: str, better: dict[str, bool]) -> EarlyStop | None:
    e = cfg.get("early_stopping", {})
    if not e.get("enabled"):
        return None
    return EarlyStop(True, e["patience"], e["min_delta"], e["metric"], fallback,
                     lambda m: better.get(m, higher_is_better(m)))


def finish(out: str, rank: int, world: int, history: list[dict], message: str,
           weights: dict[str, nn.Module] | None = None, arrays: dict[str, np.ndarray] | None = None) -> None:
    """``metrics.csv`` (the columns ``nnstudio train`` writes) and the trained weights, from rank 0."""
    if rank == 0:
        os.makedirs(out, exist_ok=True)
        write_metrics_csv(os.path.join(out, "metrics.csv"), history)
        if weights:
            state = {f"{prefix}.{k}": v.detach().cpu().contiguous()
                     for prefix, m in weights.items() for k, v in m.state_dict().items()}
            try:
                from safetensors.torch import save_file

                save_file(state, os.path.join(out, "weights.safetensors"))
            except ImportError:
                torch.save(state, os.path.join(out, "weights.pt"))
        for name, array in (arrays or {}).items():
            np.save(os.path.join(out, f"{name}.npy"), array)
        print(f"{message}; metrics and weights in {out}", flush=True)
    if world > 1:
        dist.barrier()  # rank 0 finishes writing before the group goes away
        dist.destroy_process_group()


def _log(rank: int) -> Callable[[str], None] | None:
    return (lambda line: print(line, flush=True)) if rank == 0 else None


def train_supervised(cfg: dict, out: str, data: Any, model_cls: Callable[[], nn.Module], *, task: str,
                     prediction: int, input_shape: list[int], frozen: list[str], lr_mult: dict[str, float],
                     weights_prefix: str, graph: str, better: dict[str, bool]) -> list[dict]:
    rank, world, device = setup(cfg)
    model = make_model(model_cls, cfg, device)
    x, y, xv, yv, info = load_data(data, cfg, input_shape)
    if task == "sequence":  # follows the data, as in NN Studio
        task = "regression" if info.get("task") == "regression" else "classification"
    load_initial({graph: model}, cfg["init"].get("checkpoint", ""))
    mult = param_groups(model, frozen, lr_mult)
    base = info.get("val_baseline")
    job = SupervisedTask(cfg, model, lambda t: pick(model(t), prediction), (x, y), (xv, yv), task=task,
                         multipliers=mult, frozen=frozen_modules(model, frozen), device=device,
                         amp=cfg.get("amp", False), classes=len(info.get("classes", [])),
                         val_baseline=None if base is None else torch.as_tensor(base), rank=rank, world=world,
                         after_backward=_bind(average_gradients(world), model))
    aug = cfg["dataset"]["augment"]
    try:  # clean plus FGSM / PGD copies of each batch
        attach_adversarial(job, model, aug.get("adversarial", "off"), aug.get("adversarial_eps", 0.0), x)
    except ValueError as exc:
        raise SystemExit(f"dataset.augment.adversarial: {exc}") from None
    history, message = fit(job, cfg["epochs"], early(cfg, job.monitor, better), log=_log(rank))
    finish(out, rank, world, history, message, {weights_prefix: model})
    return history


def train_gan(cfg: dict, out: str, data: Any, models: dict[str, tuple[Callable[[], nn.Module], str, str]], *,
              latent_shape: list[int], input_shape: list[int], frozen: dict[str, list[str]],
              lr_mult: dict[str, dict[str, float]], better: dict[str, bool]) -> list[dict]:
    """``models``: role -> (class, weights prefix, graph name) for ``generator`` and ``discriminator``."""
    rank, world, device = setup(cfg)
    G = make_model(models["generator"][0], cfg, device)
    D = make_model(models["discriminator"][0], cfg, device)
    x, _y, xv, _yv, info = load_data(data, cfg, input_shape)
    load_initial({models["generator"][2]: G, models["discriminator"][2]: D}, cfg["init"].get("checkpoint", ""))
    mult = {**param_groups(G, frozen["generator"], lr_mult["generator"]),
            **param_groups(D, frozen["discriminator"], lr_mult["discriminator"])}
    fz = frozen_modules(G, frozen["generator"]) + frozen_modules(D, frozen["discriminator"])
    job = GanTask(cfg, G, D, lambda t: pick(G(t)), lambda t: pick(D(t)), x, xv, latent_shape=latent_shape,
                  multipliers=mult, frozen=fz, device=device, amp=cfg.get("amp", False),
                  centres=info.get("centres") if info.get("task") == "points" else None, std=info.get("std", 0.0),
                  coverage=data.mode_coverage, rank=rank, world=world, after_backward=average_gradients(world))
    if world > 1:  # different noise per process
        torch.manual_seed(cfg["seed"] + 1000 * rank)
    history, message = fit(job, cfg["epochs"], early(cfg, job.monitor, better), log=_log(rank))
    finish(out, rank, world, history, message, {models["generator"][1]: G, models["discriminator"][1]: D})
    return history


def train_vae(cfg: dict, out: str, data: Any, models: dict[str, tuple[Callable[[], nn.Module], str, str]], *,
              means: int, log_variances: int, input_shape: list[int], frozen: dict[str, list[str]],
              lr_mult: dict[str, dict[str, float]], better: dict[str, bool]) -> list[dict]:
    """``models``: role -> (class, weights prefix, graph name) for ``encoder`` and ``decoder``; ``means``
    and ``log_variances`` index the encoder's returned values."""
    rank, world, device = setup(cfg)
    enc = make_model(models["encoder"][0], cfg, device)
    dec = make_model(models["decoder"][0], cfg, device)
    x, _y, xv, _yv, _info = load_data(data, cfg, input_shape)
    load_initial({models["encoder"][2]: enc, models["decoder"][2]: dec}, cfg["init"].get("checkpoint", ""))
    mult = {**param_groups(enc, frozen["encoder"], lr_mult["encoder"]),
            **param_groups(dec, frozen["decoder"], lr_mult["decoder"])}
    fz = frozen_modules(enc, frozen["encoder"]) + frozen_modules(dec, frozen["decoder"])

    def encode(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        outs = enc(t)
        return outs[means].float(), outs[log_variances].float()

    average = average_gradients(world)

    def after_backward() -> None:
        for m in (enc, dec):
            average(m)  # type: ignore[misc]

    job = VaeTask(cfg, enc, dec, encode, lambda z: pick(dec(z)), x, xv, multipliers=mult, frozen=fz, device=device,
                  rank=rank, world=world, after_backward=None if average is None else after_backward)
    history, message = fit(job, cfg["epochs"], early(cfg, job.monitor, better), log=_log(rank))
    finish(out, rank, world, history, message, {models["encoder"][1]: enc, models["decoder"][1]: dec})
    return history


def train_task(cfg: dict, out: str, model_cls: Callable[[], nn.Module], make_task: Callable[..., Any], *,
               prediction: int, input_shape: list[int], frozen: list[str], lr_mult: dict[str, float],
               weights_prefix: str, graph: str, better: dict[str, bool], data: Any = None) -> list[dict]:
    """A paradigm's own task on one model: ``make_task(cfg, model, forward, **context)`` builds it, with
    ``context``: device, multipliers, frozen (modules), input_shape, data (train x, train y, validation x,
    validation y, info; None when the paradigm reads no dataset), rank, world and after_backward."""
    rank, world, device = setup(cfg)
    model = make_model(model_cls, cfg, device)
    loaded = load_data(data, cfg, input_shape) if data is not None and "dataset" in cfg else None
    load_initial({graph: model}, cfg["init"].get("checkpoint", ""))
    mult = param_groups(model, frozen, lr_mult)
    try:
        job = make_task(cfg, model, lambda t: pick(model(t), prediction), device=device, multipliers=mult,
                        frozen=frozen_modules(model, frozen), input_shape=input_shape, data=loaded, rank=rank,
                        world=world, after_backward=_bind(average_gradients(world), model))
    except NothingToTrain as exc:
        raise SystemExit(f"nodes: {exc}") from None
    history, message = fit(job, cfg["epochs"], early(cfg, job.monitor, better), log=_log(rank))
    finish(out, rank, world, history, message, {weights_prefix: model})
    return history


def train_tabular_q(cfg: dict, out: str, make_env: Callable[..., Any], tabular: Any,
                    better: dict[str, bool]) -> list[dict]:
    """``make_env`` is the GridWorld class; ``tabular`` the module that solves a grid to judge policies."""
    rank, world, _device = setup(cfg)
    g, gamma = cfg["rl"]["grid"], cfg["rl"]["gamma"]

    def rows(table: list, width: int) -> list[tuple]:
        return [tuple(int(v) for v in row[:width - 1]) + (float(row[width - 1]),) for row in table]

    env = make_env(g["layout"], g["goal_reward"], g["pit_reward"], g["cliff_reward"], g["step_reward"], g["slip"],
                   g["max_steps"], cfg["seed"], bump_reward=g["bump_reward"], cell_rewards=rows(g["cell_rewards"], 3),
                   teleports=rows(g["teleports"], 5), continuing=g["continuing"])
    solved: list = []

    def judge(q: np.ndarray) -> dict[str, float]:
        if not solved:
            solved.append(tabular.solve(env, gamma))
        return tabular.optimality(env, q, gamma, solved[0])

    job = TabularQTask(cfg, env, judge)
    history, message = fit(job, cfg["epochs"], early(cfg, job.monitor, better), log=_log(rank))
    finish(out, rank, world, history, message, arrays={"q_table": job.q})
    return history


def _bind(fn: Callable[[nn.Module], None] | None, model: nn.Module) -> Callable[[], None] | None:
    return None if fn is None else (lambda: fn(model))
