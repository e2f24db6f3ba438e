"""Datasets as in-memory tensors with a train/validation split, batching and batch augmentation.

Everything the CPU templates use fits in memory, so batches are slices of one tensor (no
per-sample Python calls): far faster than a DataLoader on two cores. Image folders are decoded
once, in ``workers`` processes, resized to the model's Input.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from studio.train import bundled, synthetic
from studio.train.robust import flip_labels
from studio.train.settings import FILE_SETS, Augment, DatasetSettings, SettingsError, dataset_params

BUILTIN = tuple(synthetic.GENERATORS) + tuple(bundled.LOADERS)  # generated, or shipped inside scikit-learn
ALL_DATASETS = BUILTIN + FILE_SETS


class DataError(ValueError):
    """A dataset that cannot be loaded or does not fit the model; the message says what to do."""


def cache_dir() -> Path:
    """Where downloaded datasets live (``NNSTUDIO_CACHE_DIR`` overrides)."""
    env = os.environ.get("NNSTUDIO_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nnstudio" / "datasets"


@dataclass
class DataBundle:
    """Train and validation tensors plus what the task is (see :mod:`studio.train.synthetic`)."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    info: dict[str, Any] = field(default_factory=dict)
    name: str = ""

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.train_x.shape[1:])

    @property
    def task(self) -> str:
        return self.info.get("task", "classification")

    @property
    def classes(self) -> list[str]:
        return list(self.info.get("classes", []))


def load_data(ds: DatasetSettings, seed: int, input_shape: tuple[int, ...] | None = None) -> DataBundle:
    """Build the dataset named in ``ds``; image sets adapt size/channels to ``input_shape``."""
    name = ds.name
    try:  # each dataset declares its parameters, with ranges (nothing can ask for gigabytes)
        checked = dataset_params(name, ds.params, "params")
    except SettingsError as exc:
        raise DataError(f"dataset '{name}': {exc.key.removeprefix('params.')}: {exc.reason}") from None
    if name in synthetic.GENERATORS or name in bundled.LOADERS:
        params = dict(checked)
        make = synthetic.GENERATORS.get(name) or bundled.LOADERS[name]
        if input_shape is not None and len(input_shape) == 3:  # image generators follow the model's Input
            for pname, decl in synthetic.PARAMS.get(name, {}).items():
                if decl.get("from_input") is not None:
                    params.setdefault(pname, int(input_shape[decl["from_input"]]))
            if name == "digits":  # the 8×8 scans are upscaled to the Input's width
                params.setdefault("size", int(input_shape[-1]))
        try:
            x, y, info = make(seed=seed, **params)
        except TypeError as exc:
            raise DataError(f"dataset '{name}': {exc}".replace(f"make_{name}()", "")) from exc
        except ValueError as exc:
            raise DataError(f"dataset '{name}': {exc}") from exc
    elif name in ("mnist", "fashion_mnist"):
        from studio.train.data_files import load_mnist

        x, y, info = load_mnist(name, ds.path or None, ds.download)
    elif name == "cifar10":
        from studio.train.data_files import load_cifar10

        x, y, info = load_cifar10(ds.path or None, ds.download)
    elif name == "image_folder":
        from studio.train.data_files import load_image_folder

        x, y, info = load_image_folder(ds.path, input_shape, ds.workers)
    elif name == "text":
        from studio.train.data_files import load_text

        x, y, info = load_text(ds.path, ds.params)
    elif name == "csv":
        from studio.train.data_files import load_csv

        x, y, info = load_csv(ds.path, ds.target, ds.params.get("task", "auto"), ds.params.get("features"))
    else:
        raise DataError(f"unknown dataset '{name}'; choose one of {', '.join(ALL_DATASETS)}")
    bundle = split(x, y, info, ds, seed, name)
    try:
        return flip_labels(bundle, ds.label_noise, seed)
    except ValueError as exc:
        raise DataError(f"dataset.label_noise: {exc}") from None


def split(x: np.ndarray, y: np.ndarray, info: dict, ds: DatasetSettings, seed: int, name: str) -> DataBundle:
    n = len(x)
    info = dict(info)
    if "val_x" in info:  # the dataset ships its own test split: use it for validation
        xv, yv = info.pop("val_x"), info.pop("val_y")
        idx = np.arange(n)
        if ds.limit:
            idx = synthetic.take_balanced(np.random.default_rng(seed + 1).permutation(n), y, ds.limit)
        return DataBundle(torch.from_numpy(x[idx]), torch.from_numpy(y[idx]), torch.from_numpy(xv),
                          torch.from_numpy(yv), info, name)
    if n < 2:
        raise DataError(f"dataset '{name}' has {n} samples; at least 2 are needed")
    rng = np.random.default_rng(seed + 1)
    order = rng.permutation(n)
    n_val = int(round(n * ds.val_fraction)) if ds.val_fraction > 0 else 0
    n_val = min(max(n_val, 1 if ds.val_fraction > 0 else 0), n - 1)
    val_idx, train_idx = order[:n_val], order[n_val:]
    if ds.limit:
        train_idx = synthetic.take_balanced(train_idx, y, ds.limit)
    if "baseline" in info:
        info["val_baseline"] = torch.from_numpy(np.asarray(info.pop("baseline"))[val_idx])
    xt, yt = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))
    return DataBundle(xt[train_idx], yt[train_idx], xt[val_idx], yt[val_idx], info, name)


def check_input(bundle: DataBundle, input_shape: tuple[int, ...], input_dtype: str, input_name: str) -> None:
    """Raise :class:`DataError` naming both shapes when samples do not fit the model's Input."""
    shape = bundle.sample_shape
    if tuple(shape) != tuple(input_shape):
        raise DataError(
            f"dataset '{bundle.name}' gives samples of shape {_shape(shape)} but the model's Input "
            f"'{input_name}' expects {_shape(input_shape)}; set the Input's shape to {list(shape)} "
            f"or choose matching dataset parameters")
    is_int = not bundle.train_x.dtype.is_floating_point
    if is_int and not input_dtype.startswith("int"):
        raise DataError(f"dataset '{bundle.name}' gives integer tokens but Input '{input_name}' is "
                        f"{input_dtype}; set its dtype to int64 (and add an Embedding) or use one_hot")
    if not is_int and input_dtype.startswith("int"):
        raise DataError(f"dataset '{bundle.name}' gives real numbers but Input '{input_name}' is {input_dtype}")


def _shape(shape) -> str:
    return "(" + ", ".join(str(int(d)) for d in shape) + ")"


class TensorLoader:
    """Shuffled mini-batches sliced from tensors, augmented per batch; reproducible per epoch."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool, seed: int,
                 augment: Augment | None = None, stats: tuple[torch.Tensor, torch.Tensor] | None = None,
                 drop_last: bool = False) -> None:
        self.x, self.y = x, y
        self.batch_size = max(1, min(batch_size, len(x))) if len(x) else batch_size
        self.shuffle, self.seed = shuffle, seed
        self.augment = augment or Augment()
        self.stats = stats
        self.drop_last = drop_last and len(x) > self.batch_size
        self.epoch = 0

    def __len__(self) -> int:
        n = len(self.x)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def batches(self, epoch: int, start: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Batches of ``epoch`` from batch index ``start`` (a resumed run skips what it did)."""
        g = torch.Generator().manual_seed(self.seed * 1000003 + epoch)
        n = len(self.x)
        order = torch.randperm(n, generator=g) if self.shuffle else torch.arange(n)
        for i in range(start, len(self)):
            idx = order[i * self.batch_size:(i + 1) * self.batch_size]
            xb, yb = self.x[idx], self.y[idx]
            if xb.is_floating_point():
                xb = self._augment(xb, g)
                if self.stats is not None:
                    xb = (xb - self.stats[0]) / self.stats[1]
            yield xb, yb

    def _augment(self, xb: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        a = self.augment
        if xb.dim() != 4 or not self.shuffle or not (a.flip or a.crop or a.rotation):
            return xb
        b = xb.shape[0]
        if a.flip:
            flip = torch.rand(b, generator=g) < 0.5
            xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
        if a.rotation:
            import torch.nn.functional as F

            ang = (torch.rand(b, generator=g) * 2 - 1) * math.radians(a.rotation)
            cos, sin = torch.cos(ang), torch.sin(ang)
            theta = torch.stack([torch.stack([cos, -sin, torch.zeros(b)], 1),
                                 torch.stack([sin, cos, torch.zeros(b)], 1)], 1)
            grid = F.affine_grid(theta, list(xb.shape), align_corners=False)
            xb = F.grid_sample(xb, grid, align_corners=False)
        if a.crop:
            p = a.crop
            padded = torch.nn.functional.pad(xb, (p, p, p, p))
            h, w = xb.shape[2:]
            dx = torch.randint(0, 2 * p + 1, (b,), generator=g)
            dy = torch.randint(0, 2 * p + 1, (b,), generator=g)
            rows = (dy[:, None] + torch.arange(h)[None])[:, None, :, None].expand(b, xb.shape[1], h, w + 2 * p)
            cols = (dx[:, None] + torch.arange(w)[None])[:, None, None, :].expand(b, xb.shape[1], h, w)
            xb = padded.gather(2, rows).gather(3, cols)
        return xb


def preview(ds: DatasetSettings, seed: int = 0, input_shape: tuple[int, ...] | None = None,
            n: int = 16) -> dict[str, Any]:
    """A few training samples for the GUI's dataset preview: ``inputs``, ``labels``, ``classes``, ``task``,
    ``shape`` (one sample), ``train``/``val`` sizes. Raises :class:`DataError` like :func:`load_data`."""
    bundle = load_data(ds, seed, input_shape)
    return {"inputs": bundle.train_x[:n].numpy(), "labels": bundle.train_y[:n].numpy(), "classes": bundle.classes,
            "task": bundle.task, "shape": bundle.sample_shape, "train": len(bundle.train_x), "val": len(bundle.val_x)}
