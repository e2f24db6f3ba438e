"""Datasets read from disk: MNIST-format IDX files, CIFAR-10, image folders and CSV tables."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path
from typing import Any

import numpy as np

from studio.train.data import DataError, cache_dir

_IDX = {"mnist": ("MNIST", "MNIST"), "fashion_mnist": ("FashionMNIST", "FashionMNIST")}
_IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
              "t10k-labels-idx1-ubyte")
FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot")
CIFAR = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def read_idx(path: Path) -> np.ndarray:
    """One IDX file (raw or .gz): the big-endian format MNIST ships in."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        data = fh.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(f"{path} is not an IDX file (bad magic number)")
    dtypes = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if data[2] not in dtypes:
        raise DataError(f"{path}: unknown IDX element type {data[2]:#x}")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    arr = np.frombuffer(data, dtype=dtypes[data[2]], offset=4 + 4 * ndim)
    expected = int(np.prod(dims)) if dims else 0
    if arr.size != expected:
        raise DataError(f"{path}: header says {dims} but holds {arr.size} values (truncated file?)")
    return arr.reshape(dims)


def _find(raw: Path, stem: str) -> Path | None:
    for candidate in (raw / stem, raw / f"{stem}.gz"):
        if candidate.exists():
            return candidate
    return None


def load_mnist(name: str, root: str | None, download: bool) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """MNIST or FashionMNIST from ``<root>/<Folder>/raw`` (torchvision's layout); test set = validation."""
    folder, tv_name = _IDX[name]
    base = Path(root) if root else cache_dir()
    raw = base / folder / "raw"
    files = [_find(raw, stem) for stem in _IDX_FILES]
    if any(f is None for f in files) and download:
        try:
            import torchvision

            cls = getattr(torchvision.datasets, tv_name)
            for train in (True, False):
                cls(str(base), train=train, download=True)
        except Exception as exc:  # offline, proxy, disk full...
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError(_missing(name, raw, f"the download failed ({first.rstrip(':')})")) from exc
        files = [_find(raw, stem) for stem in _IDX_FILES]
    if any(f is None for f in files):
        reason = "downloads are off" if not download else "the files are incomplete"
        raise DataError(_missing(name, raw, reason))
    xi, yi, xv, yv = (read_idx(f) for f in files)  # type: ignore[arg-type]
    if len(xi) != len(yi) or len(xv) != len(yv):
        raise DataError(f"{name}: image and label files in {raw} hold different numbers of samples")
    classes = list(FASHION) if name == "fashion_mnist" else [str(i) for i in range(10)]
    info = {"task": "classification", "classes": classes,
            "val_x": (xv[:, None] / 255.0).astype(np.float32), "val_y": yv.astype(np.int64)}
    return (xi[:, None] / 255.0).astype(np.float32), yi.astype(np.int64), info


def _missing(name: str, raw: Path, reason: str) -> str:
    files = ", ".join(f"{stem}.gz" for stem in _IDX_FILES)
    return (f"{name} is not on this computer and {reason}. Connect to the internet and allow downloads, "
            f"or place {files} in {raw}")


def load_cifar10(root: str | None, download: bool) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    base = Path(root) if root else cache_dir()
    try:
        import torchvision

        train = torchvision.datasets.CIFAR10(str(base), train=True, download=download)
        test = torchvision.datasets.CIFAR10(str(base), train=False, download=download)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        how = "downloads are off" if not download else f"the download failed ({first.rstrip(':')})"
        raise DataError(f"cifar10 is not on this computer and {how}. Connect to the internet and allow downloads, "
                        f"or place cifar-10-python.tar.gz (or its extracted cifar-10-batches-py folder) in {base}") from exc

    def prep(ds) -> tuple[np.ndarray, np.ndarray]:
        return (np.asarray(ds.data).transpose(0, 3, 1, 2) / 255.0).astype(np.float32), np.asarray(ds.targets)

    x, y = prep(train)
    xv, yv = prep(test)
    return x, y.astype(np.int64), {"task": "classification", "classes": list(CIFAR),
                                   "val_x": xv, "val_y": yv.astype(np.int64)}


def load_image_folder(path: str, input_shape: tuple[int, ...] | None,
                      workers: int = 0) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """``path/<class>/<image>`` decoded once, converted to the Input's channels and resized to its H×W."""
    if not path:
        raise DataError("image_folder needs a folder: set dataset.path to a folder with one subfolder per class")
    root = Path(path)
    if not root.is_dir():
        raise DataError(f"image folder {root} does not exist")
    if input_shape is None or len(input_shape) != 3 or input_shape[0] not in (1, 3):
        raise DataError(f"image folders need an Input of shape (channels, height, width) with 1 or 3 channels; "
                        f"the model's Input is {input_shape}")
    import torch
    import torchvision
    from torchvision.transforms import v2

    c, h, w = (int(d) for d in input_shape)
    mode = "L" if c == 1 else "RGB"
    transform = v2.Compose([v2.Lambda(lambda im: im.convert(mode)), v2.PILToTensor(),
                            v2.Resize((h, w), antialias=True), v2.ToDtype(torch.float32, scale=True)])
    try:
        ds = torchvision.datasets.ImageFolder(str(root), transform=transform)
    except (FileNotFoundError, RuntimeError) as exc:
        raise DataError(f"image folder {root}: {exc}") from exc
    loader = torch.utils.data.DataLoader(ds, batch_size=64, num_workers=workers)
    xs, ys = [], []
    try:
        for xb, yb in loader:
            xs.append(xb)
            ys.append(yb)
    except Exception as exc:
        raise DataError(f"image folder {root}: could not read an image ({exc})") from exc
    x = torch.cat(xs).numpy()
    y = torch.cat(ys).numpy().astype(np.int64)
    return x, y, {"task": "classification", "classes": list(ds.classes)}


def load_csv(path: str, target: str, task: str = "auto",
             features: list[str] | None = None) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """A table with a header row: numeric feature columns (default: all others) and one target column
    (default: the last)."""
    if not path:
        raise DataError("csv needs a file: set dataset.path to a .csv file with a header row")
    file = Path(path)
    if not file.is_file():
        raise DataError(f"CSV file {file} does not exist")
    with open(file, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if len(rows) < 3:
        raise DataError(f"{file} needs a header row and at least two data rows")
    header = [h.strip() for h in rows[0]]
    col = target or header[-1]
    if col not in header:
        raise DataError(f"{file} has no column '{col}'; columns: {', '.join(header)}")
    ti = header.index(col)
    for name in features or []:
        if name not in header:
            raise DataError(f"{file} has no column '{name}'; columns: {', '.join(header)}")
    use = [j for j, h in enumerate(header) if j != ti and (not features or h in features)]
    feats, labels = [], []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DataError(f"{file} line {line}: {len(row)} values, the header has {len(header)}")
        values = []
        for j in use:
            cell = row[j]
            try:
                values.append(float(cell))
            except ValueError:
                raise DataError(f"{file} line {line}, column '{header[j]}': {cell!r} is not a number") from None
        feats.append(values)
        labels.append(row[ti].strip())
    x = np.asarray(feats, dtype=np.float32)
    numeric = _all_numbers(labels)
    if task == "auto":
        task = "regression" if numeric and not _few_integers(labels) else "classification"
    if task == "regression":
        if not numeric:
            raise DataError(f"{file}: target column '{col}' must hold numbers for regression")
        y = np.asarray([float(v) for v in labels], dtype=np.float32)[:, None]
        return x, y, {"task": "regression", "columns": [header[j] for j in use]}
    classes = sorted(set(labels), key=lambda v: (float(v), v) if numeric else (0.0, v))
    index = {c: i for i, c in enumerate(classes)}
    y = np.asarray([index[v] for v in labels], dtype=np.int64)
    return x, y, {"task": "classification", "classes": classes, "columns": [header[j] for j in use]}


def _all_numbers(values: list[str]) -> bool:
    try:
        [float(v) for v in values]
    except ValueError:
        return False
    return True


def _few_integers(values: list[str]) -> bool:
    nums = [float(v) for v in values]
    return all(v.is_integer() for v in nums) and len(set(nums)) <= 20


def load_text(path: str, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Character-level windows from a UTF-8 text file (params: length, many_to_many, max_windows)."""
    from studio.train.synthetic import text_windows

    if not path:
        raise DataError("text needs a file: set dataset.path to a UTF-8 text file")
    file = Path(path)
    if not file.is_file():
        raise DataError(f"text file {file} does not exist")
    try:
        text = file.read_text(encoding="utf-8")[:5_000_000]
    except UnicodeDecodeError as exc:
        raise DataError(f"{file} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    unknown = set(params) - {"length", "many_to_many", "max_windows"}
    if unknown:
        raise DataError(f"dataset 'text' has no parameter {sorted(unknown)[0]!r}; use length, many_to_many, max_windows")
    try:
        return text_windows(text, **params)
    except ValueError as exc:
        raise DataError(f"{file}: {exc}") from exc
