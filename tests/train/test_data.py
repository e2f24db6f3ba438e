import gzip
import struct

import numpy as np
import pytest
import torch

from studio.train import synthetic
from studio.train.data import DataError, TensorLoader, check_input, load_data
from studio.train.data_files import read_idx
from studio.train.settings import Augment, DatasetSettings


def write_idx(path, array, gz):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if gz:
        with gzip.open(str(path) + ".gz", "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_idx_files_in_torchvision_layout(tmp_path, gz):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    xi, yi = rng.integers(0, 256, (12, 28, 28)), rng.integers(0, 10, 12)
    xv, yv = rng.integers(0, 256, (5, 28, 28)), rng.integers(0, 10, 5)
    write_idx(raw / "train-images-idx3-ubyte", xi, gz)
    write_idx(raw / "train-labels-idx1-ubyte", yi, gz)
    write_idx(raw / "t10k-images-idx3-ubyte", xv, gz)
    write_idx(raw / "t10k-labels-idx1-ubyte", yv, gz)
    b = load_data(DatasetSettings(name="mnist", path=str(tmp_path), download=False), 0)
    assert b.train_x.shape == (12, 1, 28, 28) and b.val_x.shape == (5, 1, 28, 28)
    assert torch.allclose(b.train_x[:, 0], torch.from_numpy(xi / 255.0).float())
    assert b.val_y.tolist() == yv.tolist()
    assert read_idx(next(raw.iterdir())).shape[0] in (5, 12)


def test_missing_mnist_offline_says_where_to_put_files(tmp_path):
    with pytest.raises(DataError) as info:
        load_data(DatasetSettings(name="fashion_mnist", path=str(tmp_path), download=False), 0)
    assert str(tmp_path / "FashionMNIST" / "raw") in str(info.value)
    assert "train-images-idx3-ubyte.gz" in str(info.value)


def test_truncated_idx_is_reported(tmp_path):
    p = tmp_path / "bad"
    p.write_bytes(struct.pack(">BBBBI", 0, 0, 8, 1, 10) + b"\x00" * 3)
    with pytest.raises(DataError, match="truncated"):
        read_idx(p)


def test_image_folder_is_resized_to_the_input(tmp_path):
    from PIL import Image

    for cls, colour in (("cats", 40), ("dogs", 220)):
        (tmp_path / cls).mkdir()
        for i in range(3):
            Image.new("RGB", (20 + i, 16), (colour, colour, colour)).save(tmp_path / cls / f"{i}.png")
    b = load_data(DatasetSettings(name="image_folder", path=str(tmp_path), val_fraction=0.34), 0, (1, 8, 8))
    assert b.sample_shape == (1, 8, 8)
    assert b.classes == ["cats", "dogs"]
    assert len(b.train_x) + len(b.val_x) == 6
    x = torch.cat([b.train_x, b.val_x]).mean((1, 2, 3))
    y = torch.cat([b.train_y, b.val_y])
    assert (x[y == 0] < 0.3).all() and (x[y == 1] > 0.7).all()


def test_csv_classification_and_regression(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("a,b,kind,price\n1,2,x,1.5\n3,4,y,2.5\n5,6,x,3.25\n7,8,y,0.5\n")
    b = load_data(DatasetSettings(name="csv", path=str(f), target="kind", val_fraction=0.25,
                                  params={"features": ["a", "b", "price"]}), 0)
    assert b.sample_shape == (3,) and b.classes == ["x", "y"] and b.task == "classification"
    r = load_data(DatasetSettings(name="csv", path=str(f), target="price", val_fraction=0.25,
                                  params={"task": "regression", "features": ["a", "b"]}), 0)
    assert r.task == "regression" and r.train_y.shape[1] == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("a,t\n1,2\nzz,3\n4,5\n")
    with pytest.raises(DataError, match="line 3, column 'a'"):
        load_data(DatasetSettings(name="csv", path=str(bad)), 0)


def test_builtin_sets_are_seeded_and_adapt_to_the_input():
    a = load_data(DatasetSettings(name="shapes", params={"n": 50}), 3, (3, 32, 32))
    b = load_data(DatasetSettings(name="shapes", params={"n": 50}), 3, (3, 32, 32))
    assert a.sample_shape == (3, 32, 32) and torch.equal(a.train_x, b.train_x)
    c = load_data(DatasetSettings(name="shapes", params={"n": 50}), 4, (3, 32, 32))
    assert not torch.equal(a.train_x, c.train_x)


def test_shape_mismatch_names_both_shapes():
    b = load_data(DatasetSettings(name="spirals", params={"n": 20}), 0)
    with pytest.raises(DataError) as info:
        check_input(b, (3,), "float32", "x")
    assert "(2)" in str(info.value) and "(3)" in str(info.value)


def test_unknown_generator_parameter_is_named():
    with pytest.raises(DataError, match="colour"):
        load_data(DatasetSettings(name="spirals", params={"colour": 1}), 0)


def test_waves_baseline_is_repeat_last():
    x, y, info = synthetic.make_waves(n=10, horizon=3)
    assert np.allclose(info["baseline"], np.repeat(x[:, -1, :], 3, axis=1))


def test_sequence_targets():
    x, y, _ = synthetic.make_sequences(n=5, task="sort")
    assert (np.diff(y, axis=1) >= 0).all() and (np.sort(x, 1) == y).all()
    x, y, _ = synthetic.make_sequences(n=5, task="reverse")
    assert (x[:, ::-1] == y).all()


def test_loader_augments_and_resumes_exactly():
    x = torch.rand(20, 1, 8, 8)
    y = torch.arange(20)
    loader = TensorLoader(x, y, 6, True, 0, Augment(flip=True, crop=2, rotation=10))
    full = list(loader.batches(1))
    tail = list(loader.batches(1, start=2))
    assert torch.equal(full[2][1], tail[0][1])
    assert full[0][0].shape == (6, 1, 8, 8)
    assert not torch.equal(full[0][0], x[full[0][1]])  # augmented


def test_cifar_offline_message(tmp_path):
    with pytest.raises(DataError) as info:
        load_data(DatasetSettings(name="cifar10", path=str(tmp_path), download=False), 0)
    text = str(info.value)
    assert "downloads are off" in text and str(tmp_path) in text and "\n" not in text


def test_text_file_gives_character_windows(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("hello world, hello text. " * 20, encoding="utf-8")
    b = load_data(DatasetSettings(name="text", path=str(f), params={"length": 8}), 0)
    assert b.sample_shape == (8,) and b.train_x.dtype == torch.int64 and b.task == "tokens"
    assert b.train_y.shape[1] == 8 and "h" in b.classes
    chars = b.classes
    x, y = b.train_x[0].tolist(), b.train_y[0].tolist()
    assert [chars[i] for i in x[1:]] == [chars[i] for i in y[:-1]]  # y is x shifted by one
    with pytest.raises(DataError, match="at least 10"):
        (tmp_path / "short.txt").write_text("abc")
        load_data(DatasetSettings(name="text", path=str(tmp_path / "short.txt"), params={"length": 8}), 0)


def test_few_label_limit_is_balanced():
    b = load_data(DatasetSettings(name="glyphs", params={"n": 600}, limit=60), 0)
    counts = torch.bincount(b.train_y, minlength=6)
    assert len(b.train_y) == 60 and counts.min() == 10 and counts.max() == 10
