"""GPU figures of the training engine against a hand-written loop: the same compiled module, data and
optimizer on one CUDA device, with mixed precision (AMP, float16 with a gradient scaler, as the engine
uses) on and off; the hand-written loop also with ``channels_last`` and ``torch.compile``, the two
speed-ups the engine does not apply, to show what they would add.

Throughput is training samples per second of wall time after a warm-up run, the median of interleaved
repeats (CUDA work is asynchronous, so every timed region ends with a synchronise).

Run: python -m bench.train_cuda [--out FILE]   (prints the table; writes its docs section unless --out)
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from bench.train import cnn
from studio.catalog import default_registry
from studio.core.model import Project
from studio.train.build import build_model
from studio.train.data import load_data
from studio.train.engine import run
from studio.train.settings import TrainingSettings

DEVICE = "cuda"
N_IMAGES = 8000
_MODELS: dict = {}


def _sync() -> None:
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def _engine(reg, graph, training: dict) -> tuple[float, int]:
    """Wall seconds from the engine's first step to its final update, and the samples it trained."""
    t0, last = None, None
    for u in run(Project(graphs=[graph], training=training), reg, views=False):
        if u.kind == "started":
            _sync()
            t0 = time.perf_counter()
        last = u
    _sync()
    assert last is not None and last.kind == "done" and t0 is not None, last.message if last else "no updates"
    s = TrainingSettings.from_dict(training)
    return time.perf_counter() - t0, s.epochs * s.steps_per_epoch * s.batch_size if s.steps_per_epoch else 0


def _bare(reg, graph, settings: TrainingSettings, amp: bool, channels_last: bool, compiled: bool) -> tuple[float, int]:
    """A hand-written loop: shuffled batches from tensors already on the GPU, Adam, the loss read once
    per epoch, one validation pass per epoch (loss and accuracy)."""
    torch.manual_seed(settings.seed)
    dev = torch.device(DEVICE)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    key = (channels_last, compiled)
    if key not in _MODELS:  # one module per variant, so torch.compile compiles it once, not every repeat
        built = build_model(graph, reg)
        model = built.module.to(dev, memory_format=fmt)
        step_model = torch.compile(model) if compiled and DEVICE == "cuda" else model
        _MODELS[key] = (model, step_model, {k: v.clone() for k, v in model.state_dict().items()}, built.inputs[0].shape)
    model, step_model, initial, shape = _MODELS[key]
    model.load_state_dict(initial)
    data = load_data(settings.dataset, settings.seed, shape)
    opt = torch.optim.Adam(model.parameters(), lr=settings.optimizer.lr)
    scaler = torch.amp.GradScaler(DEVICE, enabled=amp and DEVICE == "cuda")
    x, y = data.train_x.to(dev).contiguous(memory_format=fmt), data.train_y.to(dev)
    vx, vy = data.val_x.to(dev).contiguous(memory_format=fmt), data.val_y.to(dev)
    bs, n = settings.batch_size, 0
    _sync()
    t0 = time.perf_counter()
    for _epoch in range(settings.epochs):
        model.train()
        order = torch.randperm(len(x), device=dev)
        total = torch.zeros((), device=dev)
        steps = len(x) // bs if not settings.steps_per_epoch else min(settings.steps_per_epoch, len(x) // bs)
        for i in range(steps):
            idx = order[i * bs:(i + 1) * bs]
            with torch.autocast(DEVICE, dtype=torch.float16, enabled=amp and DEVICE == "cuda"):
                loss = F.cross_entropy(step_model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            total += loss.detach()
            n += bs
        model.eval()
        with torch.no_grad(), torch.autocast(DEVICE, dtype=torch.float16, enabled=amp and DEVICE == "cuda"):
            out = step_model(vx)
            _val = (float(F.cross_entropy(out.float(), vy)), float((out.argmax(-1) == vy).float().mean()))
        _train = float(total) / max(steps, 1)
    _sync()
    return time.perf_counter() - t0, n


def figures(rounds: int) -> list[str]:
    reg = default_registry()
    graph = cnn(reg, 6)
    rows = ["| run | AMP | channels_last | torch.compile | samples/s | vs engine, same AMP |", "|---|---|---|---|---|---|"]
    for bs in (64, 512):
        training = {"recipe": "classification", "dataset": {"name": "shapes", "params": {"n": N_IMAGES}}, "epochs": 2,
                    "batch_size": bs, "optimizer": {"lr": 0.002}, "device": DEVICE}
        settings = TrainingSettings.from_dict(training)
        variants = [(amp, cl, comp) for amp in (False, True) for cl, comp in ((False, False), (True, False),
                                                                            (False, True))]
        for amp in (False, True):  # warm-ups: cuDNN autotuning and compilation belong to neither side
            _engine(reg, graph, dict(training, amp=amp))
        for v in variants:
            _bare(reg, graph, settings, *v)
        eng: dict[bool, list[float]] = {False: [], True: []}
        bare: dict[tuple, list[float]] = {v: [] for v in variants}
        for _ in range(rounds):
            for amp in (False, True):
                s, _n = _engine(reg, graph, dict(training, amp=amp))
                eng[amp].append(s)
            for v in variants:
                s, n = _bare(reg, graph, settings, *v)
                bare[v].append(n / s)
        n_samples = len(load_data(settings.dataset, settings.seed, (1, 28, 28)).train_x) // bs * bs * settings.epochs
        for amp in (False, True):
            e = n_samples / statistics.median(eng[amp])
            rows.append(f"| engine, batch {bs} | {'on' if amp else 'off'} | no | no | {e:,.0f} | 1.00 |")
            for v in variants:
                if v[0] != amp:
                    continue
                b = statistics.median(bare[v])
                rows.append(f"| hand-written loop, batch {bs} | {'on' if amp else 'off'} | {'yes' if v[1] else 'no'} | "
                            f"{'yes' if v[2] else 'no'} | {b:,.0f} | {e / b:.2f} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", help="write the section's text to this file instead of docs/benchmarks.md")
    p.add_argument("--smoke-cpu", action="store_true", help="run the same code on the CPU, tiny (checks the script)")
    args = p.parse_args(argv)
    global DEVICE, N_IMAGES
    if args.smoke_cpu:
        DEVICE, N_IMAGES = "cpu", 1400
    elif not torch.cuda.is_available():
        print("no CUDA device: nothing to measure")
        return 0
    lines = [f"CNN 16-32 conv on shapes 28×28 ({N_IMAGES:,} images, 2 epochs) on {torch.cuda.get_device_name() if DEVICE == 'cuda' else 'CPU'}, torch "
             f"{torch.__version__}: training samples per wall second after warm-up, median of {args.rounds} "
             "interleaved repeats. 'vs engine' is the engine's throughput over the hand-written loop's "
             "(≥ 1 means the engine is as fast).", "", *figures(args.rounds)]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        from bench.report import write_section

        write_section("Training on a GPU", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
