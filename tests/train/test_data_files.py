"""Readers stream or cap: hostile files cost bounded memory and end in one DataError line."""

from __future__ import annotations

import gzip
import struct
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest

from studio.train.data import DataError
from studio.train.data_files import MAX_IMAGE_PIXELS, load_csv, load_image_folder, load_text, read_idx

MB = 1024 * 1024


def traced_peak(fn, *args, **kwargs):
    """(result or exception, peak bytes of Python/numpy allocations) while ``fn`` runs."""
    tracemalloc.start()
    try:
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - returned for the test to inspect
            result = exc
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def idx_header(dims: list[int]) -> bytes:
    return bytes([0, 0, 0x08, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)


def test_a_gz_that_inflates_past_its_header_is_refused_without_inflating_it(tmp_path):
    bomb = tmp_path / "train-images-idx3-ubyte.gz"
    zeros = bytes(16 * MB)
    with gzip.open(bomb, "wb", compresslevel=1) as fh:
        fh.write(idx_header([100, 28, 28]) + bytes(100 * 784))
        for _ in range(24):  # 384 MB of zeros behind a header that declares 78 KB
            fh.write(zeros)
    assert bomb.stat().st_size < 2 * MB
    error, peak = traced_peak(read_idx, bomb)
    assert isinstance(error, DataError) and "more data than its header" in str(error)
    assert peak < 8 * MB, peak


def test_an_idx_header_declaring_terabytes_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge-idx3-ubyte"
    path.write_bytes(idx_header([1 << 20, 1 << 20, 1 << 10]) + bytes(64))
    with pytest.raises(DataError, match="declares"):
        read_idx(path)
    short = tmp_path / "short-idx1-ubyte"
    short.write_bytes(idx_header([100]) + bytes(50))
    with pytest.raises(DataError, match="truncated"):
        read_idx(short)
    good = tmp_path / "good-idx1-ubyte.gz"
    with gzip.open(good, "wb") as fh:
        fh.write(idx_header([3]) + bytes([1, 2, 3]))
    assert read_idx(good).tolist() == [1, 2, 3]


def test_a_latin1_csv_is_read_and_a_bom_is_dropped(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("température,débit,classe\n1,2,a\n3,4,b\n5,6,a\n".encode("latin-1"))
    x, y, info = load_csv(str(latin), "")
    assert info["columns"] == ["température", "débit"] and info["encoding"] == "latin-1"
    assert x.tolist() == [[1, 2], [3, 4], [5, 6]] and y.tolist() == [0, 1, 0]
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffa,b\n1,0\n2,1\n".encode())
    assert load_csv(str(bom), "b")[2]["columns"] == ["a"]


def test_csv_oversized_field_and_bad_features_are_one_line(tmp_path):
    wide = tmp_path / "wide.csv"
    wide.write_text("a,b\n1,0\n" + "2" * 131_073 + ",1\n3,0\n")
    with pytest.raises(DataError, match="line 3") as info:
        load_csv(str(wide), "")
    assert "\n" not in str(info.value)
    table = tmp_path / "t.csv"
    table.write_text("a,b,c\n1,2,0\n3,4,1\n")
    for features in (5, "a", [1, 2]):
        with pytest.raises(DataError, match="features"):
            load_csv(str(table), "", features=features)
    with pytest.raises(DataError, match="task"):
        load_csv(str(table), "", task="guess")


def test_a_csv_table_is_capped_by_its_number_of_values(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("a,b,c\n" + "".join(f"{i},{i},0\n" for i in range(100)))
    with pytest.raises(DataError, match="more than 50 values"):
        load_csv(str(table), "", max_values=50)


def test_a_huge_text_file_is_read_only_up_to_the_cap(tmp_path):
    big = tmp_path / "big.txt"
    line = ("the quick brown fox jumps over the lazy dog " * 20 + "\n").encode()
    with open(big, "wb") as fh:
        for _ in range(60 * MB // len(line)):
            fh.write(line)
    result, peak = traced_peak(load_text, str(big), {"length": 16, "max_windows": 1000})
    x, _y, _info = result
    assert x.shape[1] == 16 and abs(len(x) - 1000) <= 1
    assert peak < 90 * MB, peak  # reading the whole 60 MB file would take over 120 MB (bytes + str)
    with pytest.raises(DataError, match="max_windows"):
        load_text(str(big), {"max_windows": "all"})


def png_header_only(path: Path, width: int, height: int) -> None:
    """A valid greyscale PNG of width×height (rows of zeros, streamed: cheap to write)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    comp = zlib.compressobj(9)
    row = bytes(width + 1)
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def test_an_image_past_the_pixel_cap_is_refused_before_decoding(tmp_path):
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
    side = int(np.sqrt(MAX_IMAGE_PIXELS)) + 200
    png_header_only(tmp_path / "a" / "huge.png", side, side)
    png_header_only(tmp_path / "b" / "small.png", 8, 8)
    import torchvision.datasets  # noqa: F401 - imported before tracing: module code is not what is measured
    from torchvision.transforms import v2  # noqa: F401
    error, peak = traced_peak(load_image_folder, str(tmp_path), (1, 8, 8))
    assert isinstance(error, DataError) and "huge.png" in str(error) and "pixels" in str(error)
    assert "\n" not in str(error)
    assert peak < 32 * MB, peak


def test_an_endless_csv_line_is_refused_before_it_is_split(tmp_path):
    endless = tmp_path / "endless.csv"
    endless.write_text("a,b\n1,0\n" + "1," * 3_000_000 + "0\n2,1\n")
    error, peak = traced_peak(load_csv, str(endless), "")
    assert isinstance(error, DataError) and "line 3 is longer than" in str(error)
    assert peak < 40 * MB, peak  # splitting it would hold 3 million strings (~180 MB)


def test_devices_pipes_and_folders_are_named_for_what_they_are(tmp_path):
    import os

    os.mkfifo(tmp_path / "pipe.csv")  # reading it would block forever
    assert "not a regular file" in str(pytest.raises(DataError, load_csv, str(tmp_path / "pipe.csv"), "").value)
    assert "not a regular file" in str(pytest.raises(DataError, load_text, "/dev/zero", {}).value)
    assert "is a folder" in str(pytest.raises(DataError, load_csv, str(tmp_path), "").value)
