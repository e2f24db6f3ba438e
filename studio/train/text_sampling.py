"""Text a character model writes while it trains: sampling at every temperature the view offers.

A character model (Embedding -> LSTM or causal transformer -> Linear, trained on next-character
targets) continues a prompt one character at a time: the scores of the last position, divided by
the temperature, become probabilities, and one character is drawn. Low temperatures pick the
likeliest character (repetitive text), high ones flatten the choice (inventive, then garbled).

One batch carries every temperature of the view's slider (ten stops from 0.1 to 2.0), so moving the
slider shows text at once, without asking the running model again (ten rows, not twenty: each
character costs a forward pass of the whole window per row, and sampling stays a small part of an epoch). Every row draws with the
same random numbers (inverse-CDF sampling), so neighbouring temperatures write related text and
what changes along the slider is the temperature alone. Headless: the engine calls it from the
training thread; the Qt view (:mod:`studio.ui.training.text_generation`) only shows the strings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

#: the view's slider stops; the default is where text usually reads best
TEMPERATURES: tuple[float, ...] = (0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 1.0, 1.25, 1.5, 2.0)
DEFAULT_TEMPERATURE = 0.8
#: characters written per sample (about three lines of verse)
SAMPLE_CHARS = 200
#: datasets whose tokens are characters of a text (the other token datasets are digit puzzles)
TEXT_DATASETS = ("text", "bundled_text")


def is_character_data(dataset: str, classes: Sequence[str]) -> bool:
    """Whether a dataset's classes are the characters of a text, i.e. a model of it can write."""
    return dataset in TEXT_DATASETS and bool(classes) and all(isinstance(c, str) and len(c) == 1 for c in classes)


def last_scores(out: Any) -> torch.Tensor:
    """The scores for the next character from a model's output: (B, T, V) -> its last position; (B, V) as is."""
    if isinstance(out, tuple | list):
        out = out[0]
    if out.dim() == 3:
        return out[:, -1]
    if out.dim() == 2:
        return out
    raise ValueError(f"a character model returns (B, T, classes) or (B, classes), not {tuple(out.shape)}")


@torch.no_grad()
def sample_ids(scores_fn: Callable[[torch.Tensor], torch.Tensor], prompt: Sequence[int], n_chars: int,
               temperatures: Sequence[float], vocab: int, seed: int = 0) -> np.ndarray:
    """``(len(temperatures), n_chars)`` character ids continuing ``prompt`` (ids).

    ``scores_fn(x)`` maps ids (K, L) to next-character scores (K, >= vocab); the window keeps the
    prompt's length ``L`` by dropping its first character as each new one is appended, so models
    with a fixed Input length run unchanged. Scores beyond ``vocab`` (a Linear wider than the
    text's alphabet) are never drawn. The same ``seed`` gives the same text."""
    if not len(prompt):
        raise ValueError("the prompt is empty: a character model needs at least one character to continue")
    temps = torch.tensor([max(float(t), 1e-3) for t in temperatures], dtype=torch.float32)[:, None]
    window = torch.as_tensor(list(prompt), dtype=torch.long)[None].repeat(len(temps), 1)
    gen = torch.Generator().manual_seed(int(seed))
    draws = torch.rand(n_chars, generator=gen, dtype=torch.float64)
    out = np.zeros((len(temps), n_chars), dtype=np.int64)
    for i in range(n_chars):
        scores = scores_fn(window).float().cpu()[:, :vocab]
        probs = torch.softmax(scores / temps, dim=-1).double()
        cdf = probs.cumsum(-1)
        pick = (cdf < draws[i] * cdf[:, -1:]).sum(-1).clamp(max=vocab - 1)  # the same draw for every row
        out[:, i] = pick.numpy()
        window = torch.cat([window[:, 1:], pick[:, None].to(window.device)], dim=1)
    return out


def decode(ids: Sequence[int] | np.ndarray, chars: Sequence[str]) -> str:
    """Character ids as text (ids outside the alphabet become '?')."""
    return "".join(chars[i] if 0 <= i < len(chars) else "?" for i in np.asarray(ids).reshape(-1).tolist())


def generation(scores_fn: Callable[[torch.Tensor], torch.Tensor], prompt: Sequence[int], chars: Sequence[str],
               n_chars: int = SAMPLE_CHARS, temperatures: Sequence[float] = TEMPERATURES, seed: int = 0,
               written: int = 0) -> dict[str, Any]:
    """The ``text_generation`` view payload: the prompt and one continuation per temperature (plain
    strings, cheap to send across threads); ``written`` counts the samples of this run so far."""
    ids = sample_ids(scores_fn, prompt, n_chars, temperatures, len(chars), seed)
    return {"prompt": decode(prompt, chars), "temperatures": [float(t) for t in temperatures],
            "texts": [decode(row, chars) for row in ids], "default": DEFAULT_TEMPERATURE,
            "written": int(written)}
