"""Checkpoints: plain containers of tensors and numbers, written atomically, loaded without pickle code.

``torch.save`` of dicts/lists/tensors/numbers and ``torch.load(weights_only=True)`` means a
checkpoint file can never run code on load. Writes go to a temp file in the same folder and
``os.replace`` it into place, so a crash mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

FORMAT = "nnstudio.checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    pass


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "version": VERSION, **state}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(exc).__name__}: {exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an NN Studio checkpoint")
    if int(data.get("version", 0)) > VERSION:
        raise CheckpointError(f"{path} was written by a newer NN Studio (version {data.get('version')})")
    return data


def model_weights(path: str | os.PathLike) -> dict[str, dict[str, torch.Tensor]]:
    """Weights per graph name from a checkpoint (for "load weights" and transfer learning)."""
    return load_checkpoint(path).get("models", {})


def load_matching(module: torch.nn.Module, weights: dict[str, torch.Tensor]) -> tuple[int, int]:
    """Copy tensors whose name and shape match; returns (loaded, total in module)."""
    own = module.state_dict()
    fit = {k: v for k, v in weights.items() if k in own and tuple(own[k].shape) == tuple(v.shape)}
    own.update(fit)
    module.load_state_dict(own)
    return len(fit), len(own)
