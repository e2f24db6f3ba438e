"""Attribution pictures as PNG files, drawn with Pillow (no Qt: the CLI writes them headless).

Images get the input in grey beside the attribution as a heat overlay (red: raises the class
score, blue: lowers it); flat inputs (tables, sequences) get one bar per feature or step, and
token sequences one bar per token with the token (its character or id) written under it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

SCALE = 24  # screen pixels per input pixel: an 8×8 digit becomes 192×192, readable on a projector


def _grey(x: np.ndarray) -> np.ndarray:
    img = x.mean(0) if x.ndim == 3 else x
    lo, hi = float(img.min()), float(img.max())
    img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    return np.repeat((img * 255).astype(np.uint8)[..., None], 3, axis=2)


def _heat(a: np.ndarray) -> np.ndarray:
    a = a.sum(0) if a.ndim == 3 else a
    peak = float(np.abs(a).max()) or 1.0
    a = a / peak
    rgb = np.full(a.shape + (3,), 255.0)
    rgb[..., 1] -= 255 * np.abs(a)
    rgb[..., 2] -= 255 * np.clip(a, 0, 1)
    rgb[..., 0] -= 255 * np.clip(-a, 0, 1)
    return rgb.clip(0, 255).astype(np.uint8)


def _bars(values: np.ndarray, height: int = 160, bar: int = 14) -> np.ndarray:
    values = values.reshape(-1)
    peak = float(np.abs(values).max()) or 1.0
    img = np.full((height, max(1, len(values)) * bar, 3), 255, np.uint8)
    mid = height // 2
    img[mid, :] = 120
    for i, v in enumerate(values):
        h = int(round((height // 2 - 4) * abs(v) / peak))
        top, bottom = (mid - h, mid) if v >= 0 else (mid, mid + h)
        img[top:bottom, i * bar + 2:(i + 1) * bar - 2] = (200, 60, 50) if v >= 0 else (50, 90, 200)
    return img


def token_bars(values: np.ndarray, labels: list[str], title: str = "", marked: int | None = None):
    """One bar per token with its label under it (a PIL image); ``marked``: the explained position, underlined."""
    from PIL import Image, ImageDraw, ImageFont

    bar = 30
    font = ImageFont.load_default(size=14)
    bars = _bars(np.asarray(values, dtype=np.float64), height=160, bar=bar)
    top, below = (22 if title else 4), 40
    img = Image.new("RGB", (max(bars.shape[1], 8 * len(title) + 8), top + bars.shape[0] + below), "white")
    img.paste(Image.fromarray(bars), (0, top))
    draw = ImageDraw.Draw(img)
    if title:
        draw.text((4, 3), title, fill=(30, 30, 30), font=font)
    y = top + bars.shape[0] + 4
    for i, label in enumerate(labels):
        w = draw.textlength(label, font=font)
        draw.text((i * bar + (bar - w) / 2, y), label, fill=(20, 20, 20), font=font)
        if i == marked:
            draw.line((i * bar + 3, y + 19, (i + 1) * bar - 3, y + 19), fill=(200, 60, 50), width=2)
    return img


def attribution_image(x: torch.Tensor, values: torch.Tensor) -> np.ndarray:
    """One sample (C×H×W or flat) and its attribution side by side, as an RGB array."""
    xs, vs = x.detach().cpu().float().numpy(), values.detach().cpu().float().numpy()
    if xs.ndim == 3:
        left = np.kron(_grey(xs), np.ones((SCALE, SCALE, 1), np.uint8))
        right = np.kron(_heat(vs), np.ones((SCALE, SCALE, 1), np.uint8))
        gap = np.full((left.shape[0], 8, 3), 255, np.uint8)
        return np.concatenate([left, gap, right], axis=1)
    return _bars(vs.sum(-1) if vs.ndim == 2 else vs)


def write_pictures(x: torch.Tensor, values: torch.Tensor, names: list[str], out: str | Path,
                   tokens: list[list[str]] | None = None, titles: list[str] | None = None,
                   marked: int | None = None) -> list[Path]:
    """One PNG per sample into ``out`` (created); returns the paths written.

    ``tokens``: each sample's token labels (sequence models: bars labelled by token); ``titles``: a
    line over each token picture; ``marked``: the explained output position, underlined.
    """
    from PIL import Image

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for i, name in enumerate(names):
        path = folder / f"{name}.png"
        if tokens is not None:
            token_bars(values[i].detach().cpu().float().numpy(), tokens[i], titles[i] if titles else "",
                       marked).save(path)
        else:
            Image.fromarray(attribution_image(x[i], values[i])).save(path)
        written.append(path)
    return written
