"""The loader bounds every number and shape it accepts: one line naming the file and field, never later a traceback."""

from __future__ import annotations

import copy
import json

import pytest

from studio.core.shapes import ShapeInferencer
from studio.core.validation import validate
from studio.io.errors import ProjectFileError
from studio.io.project_file import dumps, load_project, loads, project_to_dict, save_project
from tests.core.helpers import mlp

BIG = 10 ** 400


def _nodes(d):
    return d["graphs"][0]["nodes"]


CASES = [
    ("position", lambda d: _nodes(d)[0].update(position=[BIG, 0]), "graphs[0].nodes[0].position[0]"),
    ("huge position", lambda d: _nodes(d)[0].update(position=[0, 1e300]), "graphs[0].nodes[0].position[1]"),
    ("int param", lambda d: _nodes(d)[1]["params"].update(out_features=BIG), "graphs[0].nodes[1].params"),
    ("param out of range", lambda d: _nodes(d)[1]["params"].update(out_features=0),
     "graphs[0].nodes[1].params.out_features"),
    ("param kind", lambda d: _nodes(d)[1]["params"].update(out_features="ten"),
     "graphs[0].nodes[1].params.out_features"),
    ("input shape overflow", lambda d: _nodes(d)[0]["params"].update(shape=[10 ** 6] * 16),
     "graphs[0].nodes[0].params.shape"),
    ("optimizer lr digits", lambda d: d.update(training={"optimizer": {"lr": BIG}}), "training.optimizer.lr"),
    ("type_version digits", lambda d: _nodes(d)[1].update(type_version=BIG), "graphs[0].nodes[1].type_version"),
    ("meta digits", lambda d: d.update(meta={"x": [BIG]}), "meta.x[0]"),
    ("edge end is a list", lambda d: d["graphs"][0]["edges"][0]["from"].update(node=[]), "graphs[0].edges[0].from.node"),
]


@pytest.mark.parametrize(("label", "mutate", "field"), CASES, ids=[c[0] for c in CASES])
def test_out_of_bounds_values_are_one_line_errors(registry, tmp_path, label, mutate, field):
    data = project_to_dict(mlp(registry), registry)
    mutate(data)
    path = tmp_path / "bad.nnstudio"
    path.write_text(json.dumps(data))
    with pytest.raises(ProjectFileError) as info:
        load_project(path, registry)
    text = str(info.value)
    assert info.value.field.startswith(field), text
    assert str(path) in text and "\n" not in text and len(text) < 400


def _with_unknown_record(registry, extra: str) -> str:
    data = project_to_dict(mlp(registry), registry)
    _nodes(data)[1]["type"] = "plugin.magic"
    _nodes(data)[1]["extra"] = "@@"
    return json.dumps(data).replace('"@@"', extra)


@pytest.mark.parametrize("extra", ["1e400", "-1e400", "[" * 40 + "]" * 40, "[" * 100_000 + "]" * 100_000,
                                   str(BIG), '{"a": ' * 50 + "1" + "}" * 50])
def test_unknown_type_records_are_checked_like_the_rest(registry, extra):
    with pytest.raises(ProjectFileError) as info:
        loads(_with_unknown_record(registry, extra), registry, source="p.nnstudio")
    assert "\n" not in str(info.value)


def test_a_sane_unknown_record_loads_and_saves_back(registry, tmp_path):
    project = loads(_with_unknown_record(registry, '{"depth": [1, 2.5, "x", null]}'), registry)
    path = save_project(project, tmp_path / "again.nnstudio", registry)
    assert _nodes(json.loads(path.read_text()))[1]["extra"] == {"depth": [1, 2.5, "x", None]}


def test_byte_order_mark_is_accepted(registry, tmp_path):
    text = dumps(mlp(registry), registry)
    path = tmp_path / "bom.nnstudio"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert project_to_dict(load_project(path, registry), registry) == json.loads(text)


def test_everything_the_loader_accepts_can_be_inferred_validated_and_saved(registry, tmp_path):
    """The largest values within bounds: shapes and checks run without raising, and the file saves."""
    data = project_to_dict(mlp(registry), registry)
    _nodes(data)[0]["params"]["shape"] = [2 ** 16, 2 ** 16]
    _nodes(data)[0]["position"] = [1e7, -1e7]
    _nodes(data)[1]["params"]["out_features"] = 1_000_000
    project = loads(json.dumps(copy.deepcopy(data)), registry)
    graph = project.main_graph
    shapes = ShapeInferencer(registry).infer(graph)
    validate(graph, registry, shapes)
    save_project(project, tmp_path / "edge.nnstudio", registry)
