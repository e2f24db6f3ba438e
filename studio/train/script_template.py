"""Source text of the exported ``train.py`` (one small template per kind of paradigm) and the
file-dataset part of ``data.py``.

A ``train.py`` only configures: the loop itself is the ``nnloop/`` package copied verbatim beside
it (:mod:`studio.train.nnloop`), the code NN Studio trains with. Templates hold ``__NAME__``
markers that :mod:`studio.train.script_export` replaces with ``repr()`` literals and checked
identifiers only, so no project text can become code.
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
    if name in BUNDLED:  # shipped inside scikit-learn
        if name == "digits" and input_shape is not None and len(input_shape) == 3:
            params.setdefault("size", int(input_shape[-1]))
        return BUNDLED[name](seed=seed, **params)
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


_DOC = r'''(the project is named in PROJECT below).

It trains with nnloop/, the training loop NN Studio itself runs (copied beside this file), and
writes metrics.csv with the columns `nnstudio train` writes, then the trained weights.

    python train.py                                  # one process (GPU if there is one)
    torchrun --nproc_per_node=4 train.py             # data parallel over processes (gloo on CPU, nccl on GPUs)

Options: __OPTIONS__, --device D, --out DIR.
"""

from __future__ import annotations

PROJECT = __PROJECT__
# the training settings this paradigm reads (the rest of the project's settings do not apply)
SETTINGS = __SETTINGS__
# metric -> higher is better (early stopping)
BETTER = __BETTER__
'''

TRAIN_SUPERVISED = '"""Training script generated by NN Studio ' + _DOC + r'''# classification, regression, sequence (follows the data) or reconstruction
TASK = __TASK__
# which returned value is the prediction when the model returns several
PREDICTION = __PREDICTION__
INPUT_SHAPE = __INPUT_SHAPE__
# submodules whose weights stay fixed, and submodule -> learning-rate multiplier
FROZEN = __FROZEN__
LR_MULT = __LR_MULT__
WEIGHTS_PREFIX = __PREFIX__
# the graph's name in NN Studio checkpoints (init.checkpoint)
GRAPH = __GRAPH__


def model_class():
    from __MODULE__ import __CLASS__  # the exported model file beside this script

    return __CLASS__


def main():
    import data  # data.py and nnloop/ sit beside this script
    from nnloop import script

    cfg, out = script.options(__doc__, SETTINGS)
    script.train_supervised(cfg, out, data, model_class(), task=TASK, prediction=PREDICTION, input_shape=INPUT_SHAPE,
                            frozen=FROZEN, lr_mult=LR_MULT, weights_prefix=WEIGHTS_PREFIX, graph=GRAPH, better=BETTER)


if __name__ == "__main__":
    main()
'''

TRAIN_GAN = '"""GAN training script generated by NN Studio ' + _DOC + r'''# per role: (model file, class, weights prefix, graph name)
MODELS = __MODELS__
# the generator's Input (noise) and the discriminator's Input (one sample)
LATENT_SHAPE = __LATENT_SHAPE__
INPUT_SHAPE = __INPUT_SHAPE__
# per role: submodules whose weights stay fixed, and submodule -> learning-rate multiplier
FROZEN = __FROZEN__
LR_MULT = __LR_MULT__


def main():
    import importlib

    import data  # data.py, nnloop/ and the model files sit beside this script
    from nnloop import script

    models = {role: (getattr(importlib.import_module(module), cls), prefix, graph)
              for role, (module, cls, prefix, graph) in MODELS.items()}
    cfg, out = script.options(__doc__, SETTINGS)
    script.train_gan(cfg, out, data, models, latent_shape=LATENT_SHAPE, input_shape=INPUT_SHAPE, frozen=FROZEN,
                     lr_mult=LR_MULT, better=BETTER)


if __name__ == "__main__":
    main()
'''

TRAIN_VAE = '"""VAE training script generated by NN Studio ' + _DOC + r'''# per role: (model file, class, weights prefix, graph name)
MODELS = __MODELS__
# which of the encoder's returned values are the code's mean and its log-variance
MEANS = __MEANS__
LOG_VARIANCES = __LOG_VARIANCES__
# the encoder's Input (one image)
INPUT_SHAPE = __INPUT_SHAPE__
# per role: submodules whose weights stay fixed, and submodule -> learning-rate multiplier
FROZEN = __FROZEN__
LR_MULT = __LR_MULT__


def main():
    import importlib

    import data  # data.py, nnloop/ and the model files sit beside this script
    from nnloop import script

    models = {role: (getattr(importlib.import_module(module), cls), prefix, graph)
              for role, (module, cls, prefix, graph) in MODELS.items()}
    cfg, out = script.options(__doc__, SETTINGS)
    script.train_vae(cfg, out, data, models, means=MEANS, log_variances=LOG_VARIANCES, input_shape=INPUT_SHAPE,
                     frozen=FROZEN, lr_mult=LR_MULT, better=BETTER)


if __name__ == "__main__":
    main()
'''

# a paradigm's own task (RecipeSpec.export = script_export.loop_writer(...)): its code is copied in
TRAIN_LOOP = ('"""Training script generated by NN Studio '
              + _DOC.replace("from __future__ import annotations\n", "from __future__ import annotations\n\n__IMPORTS__\n")
              + r'''# the model's Input, and which returned value is the prediction when the model returns several
INPUT_SHAPE = __INPUT_SHAPE__
PREDICTION = __PREDICTION__
# submodules whose weights stay fixed, and submodule -> learning-rate multiplier
FROZEN = __FROZEN__
LR_MULT = __LR_MULT__
WEIGHTS_PREFIX = __PREFIX__
# the graph's name in NN Studio checkpoints (init.checkpoint)
GRAPH = __GRAPH__


# The paradigm's training step, copied from its NN Studio recipe
__CODE__


def model_class():
    from __MODULE__ import __CLASS__  # the exported model file beside this script

    return __CLASS__


def main():
    import data  # data.py and nnloop/ sit beside this script
    from nnloop import script

    cfg, out = script.options(__doc__, SETTINGS)
    script.train_task(cfg, out, model_class(), __MAKE__, prediction=PREDICTION, input_shape=INPUT_SHAPE,
                      frozen=FROZEN, lr_mult=LR_MULT, weights_prefix=WEIGHTS_PREFIX, graph=GRAPH, better=BETTER,
                      data=data)


if __name__ == "__main__":
    main()
''')

TRAIN_TABULAR_Q = '"""Q-learning script generated by NN Studio ' + _DOC + r'''

def main():
    import tabular  # tabular.py, gridworld.py and nnloop/ sit beside this script
    from gridworld import GridWorld
    from nnloop import script

    cfg, out = script.options(__doc__, SETTINGS)
    script.train_tabular_q(cfg, out, GridWorld, tabular, better=BETTER)


if __name__ == "__main__":
    main()
'''
