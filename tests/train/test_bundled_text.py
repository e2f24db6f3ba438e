"""The bundled public-domain text: shipped inside the package, offline, split without leaks."""

from __future__ import annotations

import numpy as np
import pytest

from studio.train.bundled import TEXTS, TEXTS_DIR, bundled_text, make_text, text_names, text_split
from studio.train.data import DataError, load_data
from studio.train.settings import DatasetSettings


def test_every_bundled_text_is_a_real_sized_file_with_a_named_source():
    readme = (TEXTS_DIR / "README.md").read_text(encoding="utf-8")
    for name in text_names():
        text = bundled_text(name)
        assert 40_000 <= len(text.encode("utf-8")) <= 100_000  # big enough to train on, small enough to ship
        assert f"`{name}.txt`" in readme and TEXTS[name]
    assert bundled_text("sonnets").startswith("From fairest creatures we desire increase,")
    assert bundled_text("sonnets").count("\n\n") == 153  # 154 sonnets


def test_an_unknown_text_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match="sonnets"):
        bundled_text("hamlet")


def test_windows_are_next_character_targets_over_one_vocabulary():
    x, y, info = make_text(length=32, max_windows=500)
    chars = info["classes"]
    assert chars == sorted(set(bundled_text("sonnets")))
    assert x.shape[1] == 32 and np.array_equal(x[:, 1:], y[:, :-1])  # y is x shifted by one character
    head, _ = text_split("sonnets", 0.1)
    first = "".join(chars[i] for i in x[0])
    assert head.startswith(first)


def test_validation_comes_from_the_held_out_tail_only():
    head, tail = text_split("sonnets", 0.2)
    x, y, info = make_text(length=48, max_windows=800, holdout=0.2)
    chars = info["classes"]
    decode = ["".join(chars[i] for i in row) for row in info["val_x"]]
    assert all(s in tail for s in decode[:50])
    assert len(tail) == pytest.approx(0.2 * (len(head) + len(tail)), abs=1)
    last_train = "".join(chars[i] for i in x[-1])
    assert last_train in head


def test_the_dataset_loads_with_checked_params_and_keeps_the_split():
    ds = DatasetSettings.model_validate({"name": "bundled_text", "params": {"length": 32, "max_windows": 400}})
    bundle = load_data(ds, seed=0, input_shape=(32,))
    assert bundle.task == "tokens" and bundle.sample_shape == (32,)
    assert len(bundle.val_x) == pytest.approx(400 * 0.1 / 0.9, rel=0.1)  # validation in proportion to the tail
    bad = DatasetSettings.model_validate({"name": "bundled_text", "params": {"text": "hamlet"}})
    with pytest.raises(DataError, match="text: must be one of sonnets"):
        load_data(bad, seed=0)
