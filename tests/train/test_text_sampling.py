"""Sampling text from a character model: at every temperature stop, shape-safe, reproducible."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.train import text_sampling as S


class Bigram(torch.nn.Module):
    """A character model with known next-character probabilities: row ``c`` of ``table`` after ``c``."""

    def __init__(self, table: torch.Tensor) -> None:
        super().__init__()
        self.table = table
        self.seen: list[tuple[int, ...]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(tuple(x.shape))
        return self.table[x].log()  # (B, T, V) scores


def _cycle(v: int, sure: float) -> torch.Tensor:
    """After character c comes c + 1 with probability ``sure``; the rest is spread evenly."""
    t = torch.full((v, v), (1 - sure) / (v - 1))
    t[torch.arange(v), (torch.arange(v) + 1) % v] = sure
    return t


def test_low_temperature_follows_the_likeliest_path_and_high_wanders():
    model = Bigram(_cycle(5, 0.6))
    ids = S.sample_ids(lambda x: S.last_scores(model(x)), [0, 1, 2], 60, [0.1, 3.0], vocab=5, seed=1)
    cold, hot = ids
    assert cold.tolist() == [(3 + i) % 5 for i in range(60)]  # 0.6 ** 10 dwarfs 0.1 ** 10: always the next one
    assert np.mean(hot != [(3 + i) % 5 for i in range(60)]) > 0.3


def test_the_window_keeps_the_prompts_length_and_every_temperature_is_one_row():
    model = Bigram(_cycle(7, 0.5))
    ids = S.sample_ids(lambda x: S.last_scores(model(x)), [1, 2, 3, 4], 25, S.TEMPERATURES, vocab=7, seed=0)
    assert ids.shape == (len(S.TEMPERATURES), 25)
    assert set(model.seen) == {(len(S.TEMPERATURES), 4)}  # models with a fixed Input length run unchanged
    again = S.sample_ids(lambda x: S.last_scores(model(x)), [1, 2, 3, 4], 25, S.TEMPERATURES, vocab=7, seed=0)
    assert np.array_equal(ids, again)


def test_scores_beyond_the_alphabet_are_never_drawn():
    table = torch.full((8, 8), 0.001)
    table[:, 7] = 1.0  # a Linear wider than the text's 5 characters likes an id the text does not have
    ids = S.sample_ids(lambda x: S.last_scores(Bigram(table)(x)), [0], 40, [0.5, 1.0, 2.0], vocab=5, seed=3)
    assert ids.max() < 5


def test_the_payload_is_text_not_ids():
    chars = list("abcde")
    d = S.generation(lambda x: S.last_scores(Bigram(_cycle(5, 0.9))(x)), [0, 1], chars, n_chars=12, written=2)
    assert d["prompt"] == "ab" and d["temperatures"] == list(S.TEMPERATURES) and d["written"] == 2
    assert all(isinstance(t, str) and len(t) == 12 and set(t) <= set(chars) for t in d["texts"])
    assert S.DEFAULT_TEMPERATURE in d["temperatures"] and min(d["temperatures"]) == 0.1 and max(d["temperatures"]) == 2.0


def test_many_to_one_models_and_bad_outputs():
    assert S.last_scores(torch.zeros(2, 9)).shape == (2, 9)
    assert S.last_scores((torch.zeros(2, 3, 9), torch.zeros(1))).shape == (2, 9)
    with pytest.raises(ValueError, match="returns"):
        S.last_scores(torch.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match="prompt is empty"):
        S.sample_ids(lambda x: x, [], 3, [1.0], vocab=2)


def test_only_texts_count_as_character_data():
    assert S.is_character_data("bundled_text", list("ab\n"))
    assert S.is_character_data("text", list("xyz"))
    assert not S.is_character_data("sequences", [str(i) for i in range(10)])  # digit puzzles do not write
    assert not S.is_character_data("text", ["ab", "c"])
