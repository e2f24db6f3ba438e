"""Datasets read from disk: MNIST-format IDX files, CIFAR-10, image folders, CSV tables and text.

Every reader streams or caps what it reads, so a hostile or mistaken file costs a bounded amount of
memory and ends in one :class:`DataError` line: IDX files are read to the size their header
declares (a .gz that inflates past it is refused as a decompression bomb), CSV tables are parsed
row by row (latin-1 files are read as latin-1, an oversized field is named by line), text files
are read up to :data:`MAX_TEXT_CHARS` and images larger than :data:`MAX_IMAGE_PIXELS` are refused
before they are decoded.
"""

from __future__ import annotations

import array
import csv
import gzip
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from studio.train.data import DataError, cache_dir

#: characters of a text dataset read (the rest of the file is ignored)
MAX_TEXT_CHARS = 5_000_000
#: bytes an IDX file (after decompression) may hold: MNIST's largest is 47 MB, EMNIST's 550 MB
MAX_IDX_BYTES = 1 << 30
#: values a CSV table may hold (float32: 1 GB)
MAX_CSV_VALUES = 1 << 28
#: characters of one CSV line: csv splits a whole line into strings (~60 bytes per field) before
#: a row can be checked, so one endless line must be refused before it is split
MAX_CSV_LINE = 4_000_000
#: pixels of one image in an image folder (a 48-megapixel photo still loads)
MAX_IMAGE_PIXELS = 50_000_000
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif")

_IDX = {"mnist": ("MNIST", "MNIST"), "fashion_mnist": ("FashionMNIST", "FashionMNIST")}
_IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
              "t10k-labels-idx1-ubyte")
FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot")
CIFAR = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def human(n: float) -> str:
    """Bytes as ``512 B`` / ``3.4 MB`` / ``7.5 GB`` / ``1.2 TB``."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PB"  # pragma: no cover


def read_idx(path: Path, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """One IDX file (raw or .gz): the big-endian format MNIST ships in.

    Reads the header first and then exactly the bytes it declares, so neither a header claiming
    terabytes nor a .gz that inflates past its header can take more than ``max_bytes``.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    dtypes = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    try:
        with opener(path, "rb") as fh:
            head = fh.read(4)
            if len(head) < 4 or head[0] != 0 or head[1] != 0:
                raise DataError(f"{path} is not an IDX file (bad magic number)")
            if head[2] not in dtypes:
                raise DataError(f"{path}: unknown IDX element type {head[2]:#x}")
            ndim = head[3]
            raw_dims = fh.read(4 * ndim)
            if len(raw_dims) < 4 * ndim:
                raise DataError(f"{path}: the header is cut short (truncated file?)")
            dims = [int.from_bytes(raw_dims[4 * i: 4 * i + 4], "big") for i in range(ndim)]
            dtype = np.dtype(dtypes[head[2]])
            expected = int(np.prod(dims, dtype=object)) if dims else 0
            nbytes = expected * dtype.itemsize
            if nbytes > max_bytes:
                raise DataError(f"{path}: the header declares {dims} values ({_size(nbytes)}), more than the "
                                f"{_size(max_bytes)} an IDX file may hold")
            data = fh.read(nbytes)
            if len(data) != nbytes:
                raise DataError(f"{path}: header says {dims} but holds {len(data) // dtype.itemsize} values "
                                "(truncated file?)")
            if fh.read(1):
                raise DataError(f"{path} holds more data than its header declares ({dims}); refusing it "
                                "(a corrupt file or a decompression bomb)")
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path} cannot be read ({type(exc).__name__}: {exc})") from exc
    return np.frombuffer(data, dtype=dtype).reshape(dims)


def _size(n: int) -> str:

    return human(n)


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
    info = {"task": "classification", "classes": classes, "val_x": _unit(xv[:, None]), "val_y": yv.astype(np.int64)}
    return _unit(xi[:, None]), yi.astype(np.int64), info


def _unit(pixels: np.ndarray) -> np.ndarray:
    """uint8 pixels as float32 in [0, 1], without a float64 copy (5 bytes per pixel at the peak, not 13)."""
    out = pixels.astype(np.float32)
    out /= 255.0
    return out


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
        return _unit(np.asarray(ds.data).transpose(0, 3, 1, 2)), np.asarray(ds.targets)

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
        ds = torchvision.datasets.ImageFolder(str(root), transform=transform, loader=open_image)
    except (FileNotFoundError, RuntimeError) as exc:
        raise DataError(f"image folder {root}: {exc}") from exc
    loader = torch.utils.data.DataLoader(ds, batch_size=64, num_workers=workers)
    xs, ys = [], []
    try:
        for xb, yb in loader:
            xs.append(xb)
            ys.append(yb)
    except DataError:
        raise
    except Exception as exc:
        text = str(exc)
        if "DataError: " in text:  # raised in a worker process: torch wraps it with the worker's traceback
            raise DataError(text.rsplit("DataError: ", 1)[1].strip().splitlines()[0]) from None
        first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        raise DataError(f"image folder {root}: could not read an image ({first})") from exc
    x = torch.cat(xs).numpy()
    y = torch.cat(ys).numpy().astype(np.int64)
    return x, y, {"task": "classification", "classes": list(ds.classes)}


def open_image(path: str):
    """ImageFolder's loader with a pixel cap checked on the header, before anything is decoded."""
    from PIL import Image

    try:
        im = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise DataError(f"{path}: {exc}") from exc
    except OSError as exc:
        raise DataError(f"{path} is not a readable image ({exc})") from exc
    width, height = im.size
    if width * height > MAX_IMAGE_PIXELS:
        im.close()
        raise DataError(f"{path} is {width}×{height} pixels ({width * height:,}); images in a folder may "
                        f"have at most {MAX_IMAGE_PIXELS:,}, so scale it down first")
    return im


def load_csv(path: str, target: str, task: str = "auto", features: Any = None,
             max_values: int = MAX_CSV_VALUES) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """A table with a header row: numeric feature columns (default: all others) and one target column
    (default: the last). Parsed row by row; UTF-8 (with or without a BOM), else read as latin-1."""
    if not path:
        raise DataError("csv needs a file: set dataset.path to a .csv file with a header row")
    file = Path(path)
    if not file.is_file():
        raise DataError(f"CSV file {file} {_not_a_file(file)}")
    if features is not None and (not isinstance(features, list | tuple)
                                 or not all(isinstance(f, str) for f in features)):
        raise DataError(f"dataset.params.features must be a list of column names of {file.name}, got {features!r}")
    if task not in ("auto", "classification", "regression"):
        raise DataError(f"dataset.params.task must be auto, classification or regression, got {task!r}")
    try:
        header, x, labels = _read_table(file, target, list(features or []), "utf-8-sig", max_values)
        encoding = "utf-8"
    except UnicodeDecodeError:
        header, x, labels = _read_table(file, target, list(features or []), "latin-1", max_values)
        encoding = "latin-1"
    col, use = header[-1], header[:-1]
    numeric = _all_numbers(labels)
    if task == "auto":
        task = "regression" if numeric and not _few_integers(labels) else "classification"
    extra = {"encoding": encoding} if encoding != "utf-8" else {}
    if task == "regression":
        if not numeric:
            raise DataError(f"{file}: target column '{col}' must hold numbers for regression")
        y = np.asarray([float(v) for v in labels], dtype=np.float32)[:, None]
        return x, y, {"task": "regression", "columns": use, **extra}
    classes = sorted(set(labels), key=lambda v: (float(v), v) if numeric else (0.0, v))
    index = {c: i for i, c in enumerate(classes)}
    y = np.asarray([index[v] for v in labels], dtype=np.int64)
    return x, y, {"task": "classification", "classes": classes, "columns": use, **extra}


def _read_table(file: Path, target: str, features: list[str], encoding: str,
                max_values: int) -> tuple[list[str], np.ndarray, list[str]]:
    """Stream the rows: (used columns + the target column's name last, features as float32, labels)."""
    values = array.array("f")
    labels: list[str] = []
    with open(file, newline="", encoding=encoding) as fh:
        reader = csv.reader(_lines(fh, file))
        try:
            header: list[str] | None = None
            use: list[int] = []
            ti = 0
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                if header is None:
                    header = [h.strip() for h in row]
                    col = target or header[-1]
                    for name in [col, *features]:
                        if name not in header:
                            raise DataError(f"{file} has no column '{name}'; columns: {_columns(header)}")
                    ti = header.index(col)
                    use = [j for j, h in enumerate(header) if j != ti and (not features or h in features)]
                    continue
                line = reader.line_num
                if len(row) != len(header):
                    raise DataError(f"{file} line {line}: {len(row)} values, the header has {len(header)}")
                if len(values) + len(use) > max_values:
                    raise DataError(f"{file} holds more than {max_values:,} values; use a smaller table")
                for j in use:
                    cell = row[j]
                    try:
                        values.append(float(cell))
                    except ValueError:
                        raise DataError(f"{file} line {line}, column '{header[j]}': {cell[:40]!r} is not a "
                                        "number") from None
                labels.append(row[ti].strip())
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise DataError(f"{file} line {reader.line_num}: a field is longer than "
                                f"{csv.field_size_limit():,} characters; is this a CSV table?") from None
            raise DataError(f"{file} line {reader.line_num}: {exc}") from None
    if header is None or len(labels) < 2:
        raise DataError(f"{file} needs a header row and at least two data rows")
    x = np.frombuffer(values, dtype=np.float32).reshape(len(labels), len(use)).copy()
    return [header[j] for j in use] + [header[ti]], x, labels


def _not_a_file(path: Path) -> str:
    """Why ``path`` cannot be read as a data file (devices and pipes never end)."""
    if path.is_dir():
        return "is a folder; give a file"
    return "is not a regular file (a device or a pipe)" if path.exists() else "does not exist"


def _lines(fh: Any, file: Path):
    """The file's lines, each read with a length cap (an endless line is refused, never split)."""
    number = 0
    while True:
        line = fh.readline(MAX_CSV_LINE + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_CSV_LINE:
            raise DataError(f"{file} line {number} is longer than {MAX_CSV_LINE:,} characters; is this a CSV table?")
        yield line


def _columns(header: list[str]) -> str:
    shown = ", ".join(h[:40] for h in header[:20])
    return shown + (f", … ({len(header)} in all)" if len(header) > 20 else "")


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
    """Character-level windows from a UTF-8 text file (params: length, many_to_many, max_windows).

    At most :data:`MAX_TEXT_CHARS` characters are read, however large the file."""
    from studio.train.synthetic import text_windows

    if not path:
        raise DataError("text needs a file: set dataset.path to a UTF-8 text file")
    file = Path(path)
    if not file.is_file():
        raise DataError(f"text file {file} {_not_a_file(file)}")
    unknown = set(params) - {"length", "many_to_many", "max_windows"}
    if unknown:
        raise DataError(f"dataset 'text' has no parameter {sorted(unknown)[0]!r}; use length, many_to_many, max_windows")
    for key, low, high in (("length", 1, 100_000), ("max_windows", 1, MAX_TEXT_CHARS)):
        value = params.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high):
            raise DataError(f"dataset.params.{key} must be a whole number from {low:,} to {high:,}, got {value!r}")
    if "many_to_many" in params and not isinstance(params["many_to_many"], bool):
        raise DataError(f"dataset.params.many_to_many must be true or false, got {params['many_to_many']!r}")
    try:
        with open(file, encoding="utf-8-sig") as fh:
            text = fh.read(MAX_TEXT_CHARS)
    except UnicodeDecodeError as exc:
        raise DataError(f"{file} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    try:
        return text_windows(text, **params)
    except ValueError as exc:
        raise DataError(f"{file}: {exc}") from exc
