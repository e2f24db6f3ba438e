"""Weights files: named from the whole project stem, saved like project files, read with one-line errors."""

from __future__ import annotations

import json
import os
import stat
import struct

import pytest

from studio.compile.compiler import compile_graph
from studio.compile.weights import (
    WeightsError,
    find_weights,
    load_into,
    load_weights,
    save_weights,
    weights_path,
)
from tests.core.helpers import mlp


def test_the_weights_file_is_named_from_the_full_stem(tmp_path):
    assert weights_path(tmp_path / "exp.v2.nnstudio").name == "exp.v2.weights.safetensors"
    assert weights_path(tmp_path / "exp.nnstudio").name == "exp.weights.safetensors"
    assert weights_path(tmp_path / "plain").name == "plain.weights.safetensors"


def test_another_projects_weights_are_never_picked_up(registry, tmp_path):
    exp = mlp(registry)
    module = compile_graph(exp.main_graph, registry)
    save_weights(exp, {exp.main_graph.id: module}, tmp_path / "exp.weights.safetensors")  # exp.nnstudio's
    # exp.v2 began as a "Save as" of exp: same graph ids, still not its weights
    assert find_weights(tmp_path / "exp.v2.nnstudio", exp) is None
    assert find_weights(tmp_path / "exp.nnstudio", exp) == tmp_path / "exp.weights.safetensors"
    own = save_weights(exp, {exp.main_graph.id: module}, weights_path(tmp_path / "exp.v2.nnstudio"))
    assert find_weights(tmp_path / "exp.v2.nnstudio", exp) == own


def test_weights_save_keeps_mode_and_leaves_no_temp(registry, tmp_path):
    project = mlp(registry)
    module = compile_graph(project.main_graph, registry)
    path = save_weights(project, {project.main_graph.id: module}, tmp_path / "w.safetensors")
    os.chmod(path, 0o640)
    save_weights(project, {project.main_graph.id: module}, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.safetensors"]


def _raw_safetensors(path, header: bytes) -> None:
    path.write_bytes(struct.pack("<Q", len(header)) + header)


@pytest.mark.parametrize("metadata", ["[" * 100_000 + "]" * 100_000, "1e999", "{bad json", '"text"'])
def test_odd_metadata_never_escapes_as_recursion_or_value_error(registry, tmp_path, metadata):
    path = tmp_path / "odd.safetensors"
    _raw_safetensors(path, json.dumps({"__metadata__": {"graphs": metadata}}).encode())
    assert load_weights(mlp(registry), path) == {}


@pytest.mark.parametrize("payload", [b"", b"\x00" * 3, struct.pack("<Q", 10 ** 12), struct.pack("<Q", 5) + b"[[[[[",
                                     struct.pack("<Q", 4) + b"null"])
def test_corrupt_files_are_one_line_weights_errors(registry, tmp_path, payload):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(payload)
    with pytest.raises(WeightsError) as info:
        load_weights(mlp(registry), path)
    assert "\n" not in str(info.value)


def test_a_mismatch_is_summarised_in_one_line(registry, tmp_path):
    small, large = mlp(registry, widths=(8, 10)), mlp(registry, widths=(16, 10))
    path = save_weights(small, {small.main_graph.id: compile_graph(small.main_graph, registry)}, tmp_path / "w.st")
    large.graphs[0].id = small.graphs[0].id
    with pytest.raises(WeightsError) as info:
        load_into(large, {"model": compile_graph(large.main_graph, registry)}, path)
    text = str(info.value)
    assert "\n" not in text and "wrong shape" in text and "Error(s)" not in text
