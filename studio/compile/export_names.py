"""File names an export may write: one rule, used by every writer of an export folder.

A graph's file stem (also its weights prefix and the module name ``train.py`` imports) must never

- collide with another graph's stem, even on a case-insensitive file system (``Model`` / ``model``);
- collide with a file the export itself writes (``train.py``, ``data.py``, ``weights.safetensors``);
- shadow an importable module: the export folder comes first on ``sys.path`` when a user runs
  ``python train.py`` there, so ``typing_extensions.py`` would break ``import torch``;
- be a reserved device name on Windows (``CON``, ``NUL``, ``COM1``, ... with any extension).

Stems are ASCII identifiers (so ``import <stem>`` works and Unicode normalisation cannot change
them); a reserved stem gets ``_model`` appended, a taken one a number.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable

from studio.core.model import identifier, numbered

__all__ = ["EXPORT_FILE_STEMS", "is_reserved_stem", "unique_stems", "graph_stems", "importable_modules"]

#: stems of files and folders an export holds besides the model files (train.py and its support files:
#: data.py, gridworld.py, the nnloop package; weights); a writer of a new support file adds its stem here
EXPORT_FILE_STEMS = frozenset({"train", "data", "gridworld", "nnloop", "weights", "requirements", "readme",
                               "setup", "conftest", "main", "sitecustomize", "usercustomize"})

#: Windows reserved device names (any case, any extension)
_DEVICES = frozenset({"con", "prn", "aux", "nul", "conin", "conout", "clock"}
                     | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)})

#: modules an export, its training script or its ONNX check imports, reserved even where not installed
_ALWAYS = frozenset({"torch", "torchvision", "torchaudio", "numpy", "safetensors", "onnx", "onnxruntime",
                     "onnxscript", "typing_extensions", "sympy", "networkx", "jinja2", "fsspec", "filelock",
                     "PIL", "nn", "F", "studio", "nodes", "triton", "functorch", "setuptools", "pip",
                     "pkg_resources", "google", "yaml", "packaging", "tqdm", "matplotlib", "pandas", "scipy"})


@functools.lru_cache(maxsize=1)
def importable_modules() -> frozenset[str]:
    """Lower-cased top-level module names: stdlib, built-in, installed distributions, and a fixed list."""
    names = set(sys.stdlib_module_names) | set(sys.builtin_module_names) | set(_ALWAYS)
    try:
        from importlib.metadata import packages_distributions

        names |= set(packages_distributions())
    except Exception:  # a broken distribution's metadata must not stop an export
        pass
    return frozenset(n.lower() for n in names)


def is_reserved_stem(stem: str) -> bool:
    """True when ``<stem>.py`` (or ``.onnx``) could clash with something outside the graph's own files."""
    low = stem.lower()
    return low in EXPORT_FILE_STEMS or low.split(".")[0] in _DEVICES or low in importable_modules()


def unique_stems(names: Iterable[str], fallback: str = "model") -> list[str]:
    """A safe, distinct stem per name, in order (see the module docstring for the rule)."""
    taken: set[str] = set()
    out: list[str] = []
    for name in names:
        base = identifier(str(name), fallback)
        while is_reserved_stem(base):
            base = identifier(base + "_" + fallback, fallback)
        stem, i = base, 1
        while stem.lower() in taken or is_reserved_stem(stem):
            stem = numbered(base, i)
            i += 1
        taken.add(stem.lower())
        out.append(stem)
    return out


def graph_stems(project) -> dict[str, str]:
    """File stem (= weights prefix = module name) per graph id, in graph order."""
    graphs = list(project.graphs)
    return dict(zip((g.id for g in graphs), unique_stems(g.name for g in graphs), strict=True))
