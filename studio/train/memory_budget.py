"""A memory budget checked before a run allocates anything: model, optimizer, activations and data.

Why: building a model or generating a dataset that cannot fit takes the whole machine down (swap,
the OOM killer) long before an error could be shown. Everything here is computed from shapes on
the meta device, file sizes and a tiny probe of the dataset generator, so checking costs
milliseconds and no memory.

Usage (the engine calls this once at setup, before the recipe builds models or loads data)::

    from studio.train.memory_budget import check_before_allocation
    estimate = check_before_allocation(project, registry, settings, device)   # or raises

:class:`MemoryBudgetError` is a :class:`~studio.train.settings.SettingsError`, so the engine
reports it like any bad setting: one line with the figures, ``key`` naming what to change
(``dataset.params.n``, ``batch_size``, ``memory_limit_mb``, ...).

The limit is the smallest of the setting ``memory_limit_mb``, ``NNSTUDIO_MEMORY_LIMIT_MB`` and what
this process can still get: the memory the OS reports available, the cgroup's ``memory.max`` and
``RLIMIT_AS`` / ``RLIMIT_DATA`` minus what the process already uses.
"""

from __future__ import annotations

import inspect
import math
import os
import resource
import threading
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.train.data_files import human
from studio.train.settings import SettingsError

#: bytes per element of the dtypes a wire can carry
DTYPE_BYTES = {"float16": 2, "bfloat16": 2, "float32": 4, "float64": 8, "int8": 1, "uint8": 1, "int16": 2,
               "int32": 4, "int64": 8, "bool": 1, "complex64": 8}
#: optimizer state per trainable weight, in weights (Adam keeps two moments)
OPTIMIZER_STATES = {"adam": 2, "adamw": 2, "sgd": 1, "rmsprop": 2}
#: upper bounds for the size parameters of the built-in generators (beyond them one sample alone is huge)
PARAM_BOUNDS = {"size": 1024, "channels": 16, "length": 100_000, "horizon": 100_000, "classes": 100_000,
                "vocab": 1_000_000, "components": 1_000, "modes": 100_000, "n": 10**12}
#: what the readers in :mod:`studio.train.data_files` hold per byte of a file, at their peak
CSV_BYTES_PER_FILE_BYTE = 12.0  # floats, labels and the row list, measured on numeric tables
MB = 1024 * 1024
#: the probe measures generation; the train/validation split copies add up to ~10% on top (measured)
PROBE_MARGIN = 1.15
#: recipes that make their own experience instead of reading a dataset
NO_DATASET = ("q_learning_tabular", "dqn")


class MemoryBudgetError(SettingsError):
    """A run that would need more memory than its limit; ``key`` is the setting to change."""

    def __init__(self, key: str, message: str) -> None:
        ValueError.__init__(self, message)  # the message already names the setting
        self.key = key


@dataclass
class MemoryEstimate:
    """Bytes a run needs at its peak, by part; ``notes`` say how the data figure was reached."""

    weights: int = 0
    grads: int = 0
    optimizer: int = 0
    activations: int = 0
    data: int = 0
    notes: list[str] = field(default_factory=list)
    data_key: str = "dataset"  # setting that drives the data figure

    @property
    def model(self) -> int:
        return self.weights + self.grads + self.optimizer + self.activations

    @property
    def total(self) -> int:
        return self.model + self.data

    def summary(self) -> str:
        """``model 1.2 GB (weights …, gradients …, optimizer …, activations …), data 8 GB (…)``."""
        model = (f"model {human(self.model)} (weights {human(self.weights)}, gradients {human(self.grads)}, "
                 f"optimizer {human(self.optimizer)}, activations {human(self.activations)})")
        data = f"data {human(self.data)}" + (f" ({'; '.join(self.notes)})" if self.notes else "")
        return f"{model}, {data}"


# -- the limit ---------------------------------------------------------------------------------
def limit_bytes(settings: Any = None) -> tuple[int, str]:
    """The memory limit in force and where it comes from (for the message): the smallest of the
    setting ``memory_limit_mb``, ``NNSTUDIO_MEMORY_LIMIT_MB`` and what this process can still get."""
    limits = [(available_bytes(), "the memory available to this process")]
    setting = getattr(settings, "memory_limit_mb", 0) if settings is not None else 0
    if isinstance(setting, int) and setting > 0:
        limits.append((setting * MB, "the training setting memory_limit_mb"))
    env = os.environ.get("NNSTUDIO_MEMORY_LIMIT_MB", "").strip()
    if env.isdigit() and int(env) > 0:
        limits.append((int(env) * MB, "NNSTUDIO_MEMORY_LIMIT_MB"))
    return min(limits, key=lambda item: item[0])


def available_bytes() -> int:
    """Memory this process can still allocate: OS available, cgroup limit and rlimits, whichever is least."""
    used = _proc_status()
    candidates = []
    meminfo = _read_kb("/proc/meminfo", "MemAvailable:")
    if meminfo:
        candidates.append(meminfo)
    else:
        try:
            candidates.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    try:
        cg_max = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        cg_cur = Path("/sys/fs/cgroup/memory.current").read_text().strip()
        if cg_max.isdigit() and cg_cur.isdigit():
            candidates.append(max(0, int(cg_max) - int(cg_cur)))
    except OSError:
        pass
    for res, key in ((resource.RLIMIT_AS, "VmSize:"), (getattr(resource, "RLIMIT_DATA", None), "VmData:")):
        if res is None:
            continue
        soft, _hard = resource.getrlimit(res)
        if soft != resource.RLIM_INFINITY:
            candidates.append(max(0, soft - used.get(key, 0)))
    return min(candidates) if candidates else 1 << 62


def _proc_status() -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[-1] == "kB":
                out[parts[0]] = int(parts[1]) * 1024
    except (OSError, ValueError):
        pass
    return out


def _read_kb(path: str, key: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


# -- the check ---------------------------------------------------------------------------------
def check_before_allocation(project: Any, registry: Any, settings: Any, device: Any = None,
                            limit: int | None = None, shapes: dict[str, Any] | None = None) -> MemoryEstimate:
    """Estimate what ``settings`` would allocate for ``project`` and raise :class:`MemoryBudgetError`
    (one line: the figure, the limit and what to change) when it exceeds the limit.

    Call it before building models or loading data. ``device``: a torch device or its type name;
    on a GPU the model's part is held against the GPU's free memory and the data against the
    host's. ``limit`` (bytes) overrides :func:`limit_bytes`. ``shapes``: {graph id: GraphShapes}
    already inferred (saves inferring them again). Returns the estimate when it fits.
    """
    est = estimate(project, registry, settings, shapes)
    kind = getattr(device, "type", device) or "cpu"
    cap, source = (limit, "the given limit") if limit is not None else limit_bytes(settings)
    host = est.total if kind == "cpu" else est.data + est.weights
    if host > cap:
        raise MemoryBudgetError(_key(est, host), _message(est, host, cap, source))
    if kind == "cuda":
        free = _cuda_free()
        if free is not None and est.model > free:
            raise MemoryBudgetError("batch_size", f"this run needs about {human(est.model)} of GPU memory "
                                    f"({est.summary()}) but the GPU has {human(free)} free; lower batch_size, "
                                    "use a smaller model or choose device cpu")
    return est


def _key(est: MemoryEstimate, host: int) -> str:
    parts = {est.data_key: est.data, "batch_size": est.activations, "memory_limit_mb": est.weights + est.grads
             + est.optimizer}
    return max(parts, key=lambda k: parts[k])


def _message(est: MemoryEstimate, need: int, cap: int, source: str) -> str:
    key = _key(est, need)
    advice = {"batch_size": "lower batch_size", "memory_limit_mb": "use a smaller model"}.get(
        key, f"lower {key}" if key.startswith("dataset.params.") else "use a smaller dataset")
    return (f"this run needs about {human(need)} of memory ({est.summary()}) but the limit is {human(cap)} "
            f"({source}); {advice} or raise memory_limit_mb")


def _cuda_free() -> int | None:
    try:
        import torch

        return int(torch.cuda.mem_get_info()[0]) if torch.cuda.is_available() else None
    except Exception:  # no driver, busy device: the run itself will say
        return None


# -- the estimate ------------------------------------------------------------------------------
def estimate(project: Any, registry: Any, settings: Any, shapes: dict[str, Any] | None = None) -> MemoryEstimate:
    """Peak bytes of the run's models (weights, gradients, optimizer state, one batch's activations)
    and of its dataset, without allocating either."""
    est = MemoryEstimate()
    batch = max(1, int(getattr(settings, "batch_size", 1) or 1))
    opt = getattr(getattr(settings, "optimizer", None), "name", "adam")
    states = OPTIMIZER_STATES.get(opt, 2)
    if opt == "sgd" and not getattr(settings.optimizer, "momentum", 0):
        states = 0
    input_shape = None
    for graph in _graphs(project, settings):
        weights, trainable, act, shape = _model(graph, registry, (shapes or {}).get(graph.id))
        est.weights += weights
        est.grads += trainable
        est.optimizer += trainable * states
        est.activations += act * batch * 2  # kept for backward, plus their gradients
        input_shape = input_shape or shape
    if getattr(settings, "recipe", "") not in NO_DATASET:
        est.data, est.notes, est.data_key = data_bytes(settings.dataset, input_shape, getattr(settings, "seed", 0))
    return est


def _graphs(project: Any, settings: Any) -> list[Any]:
    recipe = getattr(settings, "recipe", "")
    if recipe == "q_learning_tabular":
        return []
    if recipe == "adversarial":
        return list(project.graphs)
    name = getattr(settings, "graph", "")
    chosen = [g for g in project.graphs if g.name == name] if name else project.graphs[:1]
    return chosen or project.graphs[:1]


def _model(graph: Any, registry: Any, shapes: Any = None) -> tuple[int, int, int, tuple[int, ...] | None]:
    """(weight bytes, trainable bytes, activation bytes per sample, Input sample shape) from meta shapes."""
    from studio.core.shapes import ShapeInferencer

    try:
        shapes = shapes if shapes is not None else ShapeInferencer(registry).infer(graph)
    except Exception:  # the build reports an unbuildable graph with its node; nothing to add here
        return 0, 0, 0, None
    weights = trainable = act = 0
    input_shape = None
    for node_id, ns in shapes.nodes.items():
        weights += 4 * int(ns.params or 0)
        trainable += 4 * int(getattr(ns, "trainable", ns.params) or 0)
        for info in ns.outputs.values():
            act += DTYPE_BYTES.get(info.dtype, 4) * info.numel_per_sample
        node = graph.nodes.get(node_id)
        if input_shape is None and node is not None and node.type_id == "io.input":
            out = next(iter(ns.outputs.values()), None)
            input_shape = tuple(out.shape[1:]) if out is not None else None
    return weights, trainable, act, input_shape


def data_bytes(ds: Any, input_shape: tuple[int, ...] | None = None,
               seed: int = 0) -> tuple[int, list[str], str]:
    """Peak bytes of loading dataset settings ``ds``: (bytes, notes, setting to change)."""
    from studio.train import synthetic

    name = ds.name
    try:
        if name in synthetic.GENERATORS:
            return _synthetic(name, dict(ds.params), input_shape, seed)
        if name == "text":
            return _text(ds.path, dict(ds.params))
        if name == "csv":
            return _csv(ds.path)
        if name in ("mnist", "fashion_mnist"):
            n = 70_000  # uint8 files and float32 images, plus the training split's copy
            return n * 784 * 9, [f"{n:,} images of 28×28"], "dataset"
        if name == "cifar10":
            n = 60_000
            return n * 3072 * 9, [f"{n:,} images of 3×32×32"], "dataset"
        if name == "image_folder":
            return _image_folder(ds.path, input_shape)
    except MemoryBudgetError:
        raise
    except Exception:  # unreadable settings or files: the loader reports them with its own message
        return 0, [], "dataset"
    return 0, [], "dataset"


def _synthetic(name: str, params: dict[str, Any], input_shape: tuple[int, ...] | None,
               seed: int) -> tuple[int, list[str], str]:
    from studio.train import synthetic

    fn = synthetic.GENERATORS[name]
    for key, value in params.items():
        bound = PARAM_BOUNDS.get(key)
        if bound is not None and isinstance(value, int | float) and not isinstance(value, bool) and value > bound:
            raise MemoryBudgetError(f"dataset.params.{key}",
                                    f"dataset '{name}': {key} must be at most {bound:,}, got {value:,}")
    if name in ("shapes", "glyphs") and input_shape is not None and len(input_shape) == 3:
        params.setdefault("channels", int(input_shape[0]))
        params.setdefault("size", int(input_shape[-1]))
    default_n = inspect.signature(fn).parameters["n"].default
    n = params.pop("n", default_n)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        return 0, [], "dataset.params.n"
    small, large = _probe(fn, params, seed, 64), _probe(fn, params, seed, 128)
    per_sample = max(1.0, (large - small) / 64, large / 128 * 0.5)
    total = int(per_sample * n * PROBE_MARGIN)
    return total, [f"{n:,} samples × {human(per_sample)} while generating"], "dataset.params.n"


_PROBE_LOCK = threading.Lock()  # tracemalloc is process-wide: one probe at a time


def _probe(fn: Any, params: dict[str, Any], seed: int, n: int) -> int:
    """Peak bytes (numpy allocations, traced) of generating ``n`` samples."""
    with _PROBE_LOCK:
        return _traced_peak(fn, params, seed, n)


def _traced_peak(fn: Any, params: dict[str, Any], seed: int, n: int) -> int:
    was = tracemalloc.is_tracing()
    if not was:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        x, y, info = fn(n=n, seed=seed, **params)
        del x, y, info
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        if not was:
            tracemalloc.stop()


def _text(path: str, params: dict[str, Any]) -> tuple[int, list[str], str]:
    from studio.train.data_files import MAX_TEXT_CHARS

    size = Path(path).stat().st_size if path else 0
    chars = min(size, MAX_TEXT_CHARS)
    length = int(params.get("length", 32))
    windows = max(0, min(int(params.get("max_windows", 20000)), chars - length - 1))
    per_window = length * 8 * (2 if params.get("many_to_many", True) else 1)
    # the text as str (up to 4 B/char) and its ids, the stacked windows twice (stack + split copy)
    total = chars * 12 + windows * (2 * per_window + 200)
    return total, [f"{windows:,} windows of {length} characters"], "dataset.params.max_windows"


def _csv(path: str) -> tuple[int, list[str], str]:
    size = Path(path).stat().st_size if path else 0
    return int(size * CSV_BYTES_PER_FILE_BYTE), [f"a {human(size)} CSV file"], "dataset.path"


def _image_folder(path: str, input_shape: tuple[int, ...] | None) -> tuple[int, list[str], str]:
    if not path or input_shape is None:
        return 0, [], "dataset.path"
    from studio.train.data_files import IMAGE_SUFFIXES

    count = 0
    for _root, _dirs, files in os.walk(path):
        count += sum(1 for f in files if f.lower().endswith(IMAGE_SUFFIXES))
    per = 4 * math.prod(int(d) for d in input_shape)
    return count * per * 3, [f"{count:,} images of {'×'.join(str(d) for d in input_shape)}"], "dataset.path"
