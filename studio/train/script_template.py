"""Source text of the exported ``train.py`` and the file-dataset half of ``data.py``.

The template is plain Python with ``__NAME__`` markers that :mod:`studio.train.script_export`
replaces with ``repr()`` literals only, so no project text can become code.
"""

DATA_FILES = r'''

# ---------------------------------------------------------------------------------------------
# Datasets read from disk (same layout and split as NN Studio)


def read_idx(path):
    import gzip

    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    kinds = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=kinds[raw[2]], offset=4 + 4 * ndim).reshape(dims)


def load_mnist(root, folder, download):
    import os

    raw = os.path.join(root, folder, "raw")
    stems = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

    def find(stem):
        for name in (stem, stem + ".gz"):
            if os.path.exists(os.path.join(raw, name)):
                return os.path.join(raw, name)
        return None

    if any(find(s) is None for s in stems) and download:
        import torchvision

        cls = getattr(torchvision.datasets, folder)
        for train in (True, False):
            cls(root, train=train, download=True)
    files = [find(s) for s in stems]
    if any(f is None for f in files):
        raise SystemExit(f"{folder} not found: place {', '.join(s + '.gz' for s in stems)} in {raw}")
    xi, yi, xv, yv = (read_idx(f) for f in files)
    info = {"task": "classification", "val_x": (xv[:, None] / 255.0).astype(np.float32), "val_y": yv.astype(np.int64)}
    return (xi[:, None] / 255.0).astype(np.float32), yi.astype(np.int64), info


def load_cifar10(root, download):
    import torchvision

    def prep(ds):
        return (np.asarray(ds.data).transpose(0, 3, 1, 2) / 255.0).astype(np.float32), np.asarray(ds.targets, np.int64)

    x, y = prep(torchvision.datasets.CIFAR10(root, train=True, download=download))
    xv, yv = prep(torchvision.datasets.CIFAR10(root, train=False, download=download))
    return x, y, {"task": "classification", "val_x": xv, "val_y": yv}


def load_image_folder(path, shape):
    import torch
    import torchvision
    from torchvision.transforms import v2

    c, h, w = shape
    mode = "L" if c == 1 else "RGB"
    tf = v2.Compose([v2.Lambda(lambda im: im.convert(mode)), v2.PILToTensor(), v2.Resize((h, w), antialias=True),
                     v2.ToDtype(torch.float32, scale=True)])
    ds = torchvision.datasets.ImageFolder(path, transform=tf)
    xs, ys = zip(*[ds[i] for i in range(len(ds))], strict=True)
    return torch.stack(xs).numpy(), np.asarray(ys, np.int64), {"task": "classification", "classes": ds.classes}


def load_csv(path, target, task="auto", features=None):
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.reader(fh) if any(c.strip() for c in r)]
    header = [h.strip() for h in rows[0]]
    ti = header.index(target or header[-1])
    use = [j for j, h in enumerate(header) if j != ti and (not features or h in features)]
    x = np.asarray([[float(r[j]) for j in use] for r in rows[1:]], np.float32)
    labels = [r[ti].strip() for r in rows[1:]]
    try:
        nums = [float(v) for v in labels]
    except ValueError:
        nums = None
    if task == "auto":
        few = nums is not None and all(v.is_integer() for v in nums) and len(set(nums)) <= 20
        task = "regression" if nums is not None and not few else "classification"
    if task == "regression":
        return x, np.asarray(nums, np.float32)[:, None], {"task": "regression"}
    classes = sorted(set(labels), key=lambda v: (float(v), v) if nums is not None else (0.0, v))
    index = {c: i for i, c in enumerate(classes)}
    return x, np.asarray([index[v] for v in labels], np.int64), {"task": "classification", "classes": classes}


def load(name, params, seed, path="", target="", download=True, input_shape=None, cache="data"):
    """(x, y, info) for a dataset named as in NN Studio."""
    params = dict(params)
    if name in GENERATORS:
        if name in ("shapes", "glyphs") and input_shape is not None and len(input_shape) == 3:
            params.setdefault("channels", int(input_shape[0]))
            params.setdefault("size", int(input_shape[-1]))
        return GENERATORS[name](seed=seed, **params)
    if name in ("mnist", "fashion_mnist"):
        return load_mnist(path or cache, "MNIST" if name == "mnist" else "FashionMNIST", download)
    if name == "cifar10":
        return load_cifar10(path or cache, download)
    if name == "image_folder":
        return load_image_folder(path, input_shape)
    if name == "text":
        with open(path, encoding="utf-8") as fh:
            return text_windows(fh.read()[:5_000_000], **params)
    if name == "csv":
        return load_csv(path, target, params.get("task", "auto"), params.get("features"))
    raise SystemExit(f"unknown dataset {name!r}")


def split(x, y, info, val_fraction, limit, seed):
    """Train/validation split identical to NN Studio's (same seed, same samples)."""
    info = dict(info)
    if "val_x" in info:
        idx = np.arange(len(x))
        if limit:
            idx = take_balanced(np.random.default_rng(seed + 1).permutation(len(x)), y, limit)
        return x[idx], y[idx], info.pop("val_x"), info.pop("val_y"), info
    n = len(x)
    order = np.random.default_rng(seed + 1).permutation(n)
    n_val = int(round(n * val_fraction)) if val_fraction > 0 else 0
    n_val = min(max(n_val, 1 if val_fraction > 0 else 0), n - 1)
    val_idx, train_idx = order[:n_val], order[n_val:]
    if limit:
        train_idx = take_balanced(train_idx, y, limit)
    if "baseline" in info:
        info["val_baseline"] = np.asarray(info.pop("baseline"))[val_idx]
    return x[train_idx], y[train_idx], x[val_idx], y[val_idx], info
'''

HEADER = r'''"""Training script generated by NN Studio (the project is named in PROJECT below).

It reproduces the project's data, loss, optimizer, schedule and epochs with plain PyTorch.

    python train.py                                  # one process (GPU if there is one)
    torchrun --nproc_per_node=4 train.py             # DistributedDataParallel (gloo on CPU, nccl on GPUs)

Options: --epochs N, --batch-size N (per process), --lr X, --max-steps N (per epoch), --out DIR.
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

'''

SUPERVISED_CONSTANTS = r'''PROJECT = __PROJECT__
SETTINGS = __SETTINGS__
# classification, regression or reconstruction
TASK = __TASK__
# which returned value is the prediction when the model returns several
PREDICTION = __PREDICTION__
INPUT_SHAPE = __INPUT_SHAPE__
# submodules whose weights stay fixed, and submodule -> learning-rate multiplier
FROZEN = __FROZEN__
LR_MULT = __LR_MULT__
WEIGHTS_PREFIX = __PREFIX__


'''

COMMON = r'''def setup_distributed():
    """(rank, world size, device); torchrun sets WORLD_SIZE/RANK/LOCAL_RANK."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        cuda = torch.cuda.is_available()
        dist.init_process_group("nccl" if cuda else "gloo")
        rank, local = dist.get_rank(), int(os.environ.get("LOCAL_RANK", "0"))
        device = torch.device(f"cuda:{local}") if cuda else torch.device("cpu")
        if cuda:
            torch.cuda.set_device(device)
        return rank, world, device
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return 0, 1, device


def make_optimizer(model, lr, frozen, lr_mult):
    """Frozen submodules keep their weights; each LR multiplier gets its own parameter group."""
    opt = SETTINGS["optimizer"]
    groups = {}
    for name, module in model.named_modules():
        if name in frozen:
            for p in module.parameters():
                p.requires_grad_(False)
    mult_of = {}
    for name, mult in lr_mult.items():
        for p in model.get_submodule(name).parameters():
            mult_of[id(p)] = mult
    for p in model.parameters():
        if p.requires_grad:
            groups.setdefault(mult_of.get(id(p), 1.0), []).append(p)
    params = [{"params": ps, "lr": lr * m} for m, ps in groups.items()]
    if opt["name"] == "sgd":
        nesterov = opt["nesterov"] and opt["momentum"] > 0
        return torch.optim.SGD(params, lr=lr, momentum=opt["momentum"], nesterov=nesterov,
                               weight_decay=opt["weight_decay"])
    if opt["name"] == "adam":
        return torch.optim.Adam(params, lr=lr, betas=tuple(opt["betas"]), weight_decay=opt["weight_decay"])
    if opt["name"] == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=tuple(opt["betas"]), weight_decay=opt["weight_decay"])
    return torch.optim.RMSprop(params, lr=lr, momentum=opt["momentum"], weight_decay=opt["weight_decay"])


def make_schedule(optimizer, epochs, steps):
    s = SETTINGS["schedule"]
    sched = torch.optim.lr_scheduler
    if s["name"] == "step":
        return sched.StepLR(optimizer, step_size=s["step_size"], gamma=s["gamma"])
    if s["name"] == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=max(1, epochs), eta_min=s["min_lr"])
    if s["name"] == "one_cycle":
        peak = [s["max_lr"] or 10 * g["lr"] for g in optimizer.param_groups]
        return sched.OneCycleLR(optimizer, max_lr=peak, total_steps=max(2, epochs * steps))
    if s["name"] == "plateau":
        return sched.ReduceLROnPlateau(optimizer, factor=s["factor"], patience=s["patience"])
    return None


def init_weights(model):
    scheme = SETTINGS["init"]["scheme"]
    if scheme == "default":
        return
    for m in model.modules():
        if isinstance(m, (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            w = m.weight
            if scheme == "xavier":
                torch.nn.init.xavier_uniform_(w)
            elif scheme == "kaiming":
                torch.nn.init.kaiming_normal_(w, nonlinearity="relu")
            elif scheme == "orthogonal":
                torch.nn.init.orthogonal_(w)
            else:
                torch.nn.init.normal_(w, 0.0, 0.02)
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)


'''

SUPERVISED = r'''def prediction(out):
    return out[PREDICTION] if isinstance(out, (tuple, list)) else out


def align(out, y):
    """Class scores (N, C) and labels (N,) from (B, C) / (B, T, C) / (B, C, T) outputs."""
    if out.dim() == y.dim() + 1 and out.shape[:-1] == y.shape:
        return out.reshape(-1, out.shape[-1]), y.reshape(-1)
    out = out.movedim(1, -1)
    return out.reshape(-1, out.shape[-1]), y.reshape(-1)


def compute_loss(out, y):
    loss = SETTINGS["loss"]
    out = out.float()
    if TASK == "classification":
        if loss["name"] == "bce":
            return F.binary_cross_entropy_with_logits(out.reshape(-1), y.reshape(-1).float())
        scores, labels = align(out, y)
        return F.cross_entropy(scores, labels, label_smoothing=loss["label_smoothing"])
    out = out.reshape(y.shape)
    y = y.float()
    if loss["name"] == "l1":
        return F.l1_loss(out, y)
    if loss["name"] == "huber":
        return F.smooth_l1_loss(out, y)
    return F.mse_loss(out, y)


def augment(xb, g):
    a = SETTINGS["dataset"]["augment"]
    if xb.dim() != 4:
        return xb
    b = xb.shape[0]
    if a["flip"]:
        flip = torch.rand(b, generator=g) < 0.5
        xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
    if a["rotation"]:
        ang = (torch.rand(b, generator=g) * 2 - 1) * math.radians(a["rotation"])
        cos, sin, zero = torch.cos(ang), torch.sin(ang), torch.zeros(b)
        theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
        xb = F.grid_sample(xb, F.affine_grid(theta, list(xb.shape), align_corners=False), align_corners=False)
    if a["crop"]:
        p = a["crop"]
        h, w = xb.shape[2:]
        padded = F.pad(xb, (p, p, p, p))
        dx = torch.randint(0, 2 * p + 1, (b,), generator=g)
        dy = torch.randint(0, 2 * p + 1, (b,), generator=g)
        rows = (dy[:, None] + torch.arange(h)[None])[:, None, :, None].expand(b, xb.shape[1], h, w + 2 * p)
        cols = (dx[:, None] + torch.arange(w)[None])[:, None, None, :].expand(b, xb.shape[1], h, w)
        xb = padded.gather(2, rows).gather(3, cols)
    return xb


@torch.no_grad()
def evaluate(model, xv, yv, device, stats):
    model.eval()
    total, correct, count, n = 0.0, 0, 0, 0
    for i in range(0, len(xv), 512):
        xb, yb = xv[i:i + 512].to(device), yv[i:i + 512].to(device)
        if stats is not None:
            xb = (xb - stats[0]) / stats[1]
        target = xb if TASK == "reconstruction" else yb
        inputs = xb
        if TASK == "reconstruction" and SETTINGS["loss"]["noise"] > 0:
            inputs = xb + torch.randn_like(xb) * SETTINGS["loss"]["noise"]
        out = prediction(model(inputs)).float()
        total += float(compute_loss(out, target)) * len(xb)
        n += len(xb)
        if TASK == "classification" and SETTINGS["loss"]["name"] != "bce":
            scores, labels = align(out, target)
            correct += int((scores.argmax(-1) == labels).sum())
            count += labels.numel()
    metrics = {"val_loss": total / max(1, n)}
    if count:
        metrics["val_accuracy"] = correct / count
    return metrics


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"])
    parser.add_argument("--batch-size", type=int, default=SETTINGS["batch_size"])
    parser.add_argument("--lr", type=float, default=SETTINGS["optimizer"]["lr"])
    parser.add_argument("--max-steps", type=int, default=SETTINGS["steps_per_epoch"], help="cap steps per epoch")
    parser.add_argument("--out", default="trained")
    args = parser.parse_args()
    import data  # data.py and the model file sit beside this script
    from __MODULE__ import __CLASS__

    rank, world, device = setup_distributed()
    seed = SETTINGS["seed"]
    torch.manual_seed(seed)
    ds = SETTINGS["dataset"]
    x, y, info = data.load(ds["name"], ds["params"], seed, ds["path"], ds["target"], ds["download"], INPUT_SHAPE)
    x, y, xv, yv, info = data.split(x, y, info, ds["val_fraction"], ds["limit"], seed)
    x, y, xv, yv = (torch.from_numpy(np.ascontiguousarray(a)) for a in (x, y, xv, yv))
    stats = None
    if ds["augment"]["normalize"] and x.is_floating_point():
        dims = (0, 2, 3) if x.dim() == 4 else (0,)
        stats = (x.mean(dims, keepdim=True)[0].to(device), x.std(dims, keepdim=True)[0].clamp_min(1e-6).to(device))

    model = __CLASS__()
    init_weights(model)
    model.to(device)
    optimizer = make_optimizer(model, args.lr, FROZEN, LR_MULT)
    net = DistributedDataParallel(model) if world > 1 else model

    train = TensorDataset(x, y)
    sampler = DistributedSampler(train, num_replicas=world, rank=rank, shuffle=True, seed=seed) if world > 1 else None
    loader = DataLoader(train, batch_size=args.batch_size, shuffle=sampler is None, sampler=sampler, drop_last=True,
                        generator=torch.Generator().manual_seed(seed) if sampler is None else None)
    steps = len(loader) if not args.max_steps else min(len(loader), args.max_steps)
    schedule = make_schedule(optimizer, args.epochs, max(1, steps))
    g = torch.Generator().manual_seed(seed + rank)
    for epoch in range(args.epochs):
        if sampler is not None:
            sampler.set_epoch(epoch)
        net.train()
        t0, seen, running = time.perf_counter(), 0, 0.0
        for i, (xb, yb) in enumerate(loader):
            if i >= steps:
                break
            if xb.is_floating_point() and any(ds["augment"][k] for k in ("flip", "crop", "rotation")):
                xb = augment(xb, g)
            xb, yb = xb.to(device), yb.to(device)
            if stats is not None:
                xb = (xb - stats[0]) / stats[1]
            target = xb if TASK == "reconstruction" else yb
            if TASK == "reconstruction" and SETTINGS["loss"]["noise"] > 0:
                xb = xb + torch.randn_like(xb) * SETTINGS["loss"]["noise"]
            loss = compute_loss(prediction(net(xb)), target)
            if SETTINGS["optimizer"]["l1"] > 0:
                loss = loss + SETTINGS["optimizer"]["l1"] * sum(p.abs().sum() for p in model.parameters()
                                                                if p.requires_grad and p.dim() > 1)
            if not torch.isfinite(loss):
                raise SystemExit(f"the loss became {float(loss)} at epoch {epoch + 1}, step {i + 1}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if SETTINGS["grad_clip"] > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), SETTINGS["grad_clip"])
            optimizer.step()
            if SETTINGS["schedule"]["name"] == "one_cycle" and schedule is not None and i + 1 < steps:
                schedule.step()
            running += float(loss) * len(xb)
            seen += len(xb)
        metrics = evaluate(model, xv, yv, device, stats) if rank == 0 else {}
        if world > 1:  # every rank needs the same numbers (plateau schedule) and waits for rank 0 here
            shared = [metrics]
            dist.broadcast_object_list(shared, src=0)
            metrics = shared[0]
        if schedule is not None and SETTINGS["schedule"]["name"] == "plateau":
            schedule.step(metrics.get("val_loss", running / max(1, seen)))
        elif schedule is not None and SETTINGS["schedule"]["name"] != "one_cycle":
            schedule.step()
        if rank == 0:
            shown = "  ".join(f"{k} {v:.4g}" for k, v in metrics.items())
            rate = seen * world / max(1e-9, time.perf_counter() - t0)
            print(f"epoch {epoch + 1}/{args.epochs}  loss {running / max(1, seen):.4g}  {shown}  {rate:.0f} samples/s",
                  flush=True)
    if rank == 0:
        os.makedirs(args.out, exist_ok=True)
        state = {f"{WEIGHTS_PREFIX}.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        try:
            from safetensors.torch import save_file

            save_file(state, os.path.join(args.out, "weights.safetensors"))
        except ImportError:
            torch.save(state, os.path.join(args.out, "weights.pt"))
        print(f"saved weights to {args.out}", flush=True)
    if world > 1:
        dist.barrier()  # let rank 0 finish saving before the group goes away
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
'''

TRAIN = HEADER + SUPERVISED_CONSTANTS + COMMON + SUPERVISED
