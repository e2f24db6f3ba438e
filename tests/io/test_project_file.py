import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.core.model import Group
from studio.core.ops import SetGroup, SetTraining
from studio.io.errors import ProjectFileError
from studio.io.migrations import CURRENT_VERSION
from studio.io.project_file import dumps, load_project, loads, project_to_dict, save_project
from tests.core.helpers import mlp


def test_save_load_round_trip_is_exact(registry, tmp_path):
    project = mlp(registry)
    graph = project.main_graph
    SetGroup(graph.id, [graph.node_by_name("linear").id], Group("encoder")).apply(project)
    SetTraining("optimizer.lr", 0.01).apply(project)
    project.meta["description"] = "päivää ✓"
    path = save_project(project, tmp_path / "p.nnstudio", registry)
    loaded = load_project(path, registry)
    assert project_to_dict(loaded, registry) == project_to_dict(project, registry)
    assert dumps(loaded, registry) == path.read_text(encoding="utf-8")


def test_save_is_atomic_and_leaves_no_temp_files(registry, tmp_path, monkeypatch):
    project = mlp(registry)
    path = tmp_path / "p.nnstudio"
    save_project(project, path, registry)
    original = path.read_text()

    def boom(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    project.name = "changed"
    with pytest.raises(ProjectFileError, match="cannot save: disk full"):
        save_project(project, path, registry)
    assert path.read_text() == original
    assert os.listdir(tmp_path) == ["p.nnstudio"]


def test_migrates_version_1(registry):
    v1 = {
        "format": "nnstudio.project", "version": 1, "name": "old",
        "graph": {"name": "net", "nodes": [
            {"id": "a", "type": "io.input", "name": "x", "params": {"shape": [4]}, "x": 10, "y": 20},
            {"id": "b", "type": "nn.linear", "name": "fc", "params": {"out_features": 3}, "x": 200, "y": 20},
            {"id": "c", "type": "io.output", "name": "y", "params": {}, "x": 400, "y": 20}],
            "edges": [{"id": "e1", "src": "a", "src_port": "out", "dst": "b", "dst_port": "in"},
                      {"id": "e2", "src": "b", "dst": "c"}]},
    }
    project = loads(json.dumps(v1), registry)
    graph = project.main_graph
    assert graph.name == "net" and graph.nodes["a"].position == (10.0, 20.0)
    assert graph.nodes["b"].params == {"in_features": None, "out_features": 3, "bias": True}
    assert [(e.src, e.dst) for e in graph.edges.values()] == [("a", "b"), ("b", "c")]
    assert project_to_dict(project, registry)["version"] == CURRENT_VERSION


def test_unknown_types_load_as_placeholders_and_save_back(registry):
    data = project_to_dict(mlp(registry), registry)
    data["graphs"][0]["nodes"][1]["type"] = "plugin.magic"
    data["graphs"][0]["nodes"][1]["params"]["spell"] = "x"
    project = loads(json.dumps(data), registry)
    node = project.main_graph.nodes[data["graphs"][0]["nodes"][1]["id"]]
    assert node.placeholder is not None and node.type_id == "plugin.magic"
    again = project_to_dict(project, registry)
    assert again["graphs"][0]["nodes"][1]["params"]["spell"] == "x"
    assert again["graphs"][0]["nodes"][1]["type"] == "plugin.magic"


@pytest.mark.parametrize(("mutate", "field", "message"), [
    (lambda d: d.update(version=99), "version", "newer NN Studio"),
    (lambda d: d.update(format="other"), "format", "not an NN Studio project"),
    (lambda d: d.update(graphs={}), "graphs", "must be a list"),
    (lambda d: d["graphs"][0]["nodes"][0].update(position=[1]), "graphs[0].nodes[0].position", "[x, y]"),
    (lambda d: d["graphs"][0]["nodes"][1].update(params=[1, 2]), "graphs[0].nodes[1].params", "object"),
    (lambda d: d["graphs"][0]["edges"][0]["to"].update(node="ghost"), "graphs[0].edges[0].to.node", "ghost"),
    (lambda d: d["graphs"][0]["nodes"][1].update(id=d["graphs"][0]["nodes"][0]["id"]),
     "graphs[0].nodes[1].id", "used twice"),
    (lambda d: d["graphs"][0]["nodes"][1].update(type_version=50), "graphs[0].nodes[1].type_version", "newer"),
])
def test_bad_fields_name_the_file_and_field(registry, tmp_path, mutate, field, message):
    data = project_to_dict(mlp(registry), registry)
    mutate(data)
    path = tmp_path / "bad.nnstudio"
    path.write_text(json.dumps(data))
    with pytest.raises(ProjectFileError) as info:
        load_project(path, registry)
    assert info.value.field == field
    assert message in str(info.value) and str(path) in str(info.value)


def test_truncated_binary_missing_and_nan_files(registry, tmp_path):
    text = dumps(mlp(registry), registry)
    cut = tmp_path / "cut.nnstudio"
    cut.write_text(text[: len(text) // 2])
    with pytest.raises(ProjectFileError, match="cut off"):
        load_project(cut, registry)
    binary = tmp_path / "bin.nnstudio"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(ProjectFileError, match="not a text file"):
        load_project(binary, registry)
    with pytest.raises(ProjectFileError, match="file not found"):
        load_project(tmp_path / "nope.nnstudio", registry)
    with pytest.raises(ProjectFileError, match="NaN"):
        loads(text.replace("784", "NaN", 1), registry)
    with pytest.raises(ProjectFileError, match="nested too deeply|not valid JSON"):
        loads('{"format": "nnstudio.project", "version": 2, "graphs": [], "meta": ' + "[" * 5000 + "]" * 5000
              + "}", registry)


def test_loading_never_executes_code(registry, tmp_path):
    data = project_to_dict(mlp(registry), registry)
    marker = tmp_path / "pwned"
    evil = f"__import__('pathlib').Path({str(marker)!r}).write_text('x')"
    data["graphs"][0]["nodes"][1]["type"] = evil
    data["graphs"][0]["nodes"][2]["name"] = evil
    data["name"] = evil
    project = loads(json.dumps(data), registry)
    assert not marker.exists()
    assert all(n.name.isidentifier() for n in project.main_graph.nodes.values())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_only_project_file_error_escapes(registry, data):
    """Random damage to a valid file either loads or raises ProjectFileError, nothing else."""
    doc = project_to_dict(mlp(registry), registry)
    for _ in range(data.draw(st.integers(1, 4))):
        target, key = _pick(doc, data)
        if key is None:
            break
        target[key] = data.draw(json_values)
    text = json.dumps(doc)
    if data.draw(st.booleans()):
        text = text[: data.draw(st.integers(0, len(text)))]
    try:
        loads(text, registry, source="fuzz.nnstudio")
    except ProjectFileError as exc:
        assert str(exc).startswith("fuzz.nnstudio")


def _pick(doc, data):
    """A random (container, key) inside ``doc``; (doc, None) when there is nothing to pick."""
    node = doc
    while True:
        if isinstance(node, dict) and node:
            key = data.draw(st.sampled_from(sorted(node)))
        elif isinstance(node, list) and node:
            key = data.draw(st.integers(0, len(node) - 1))
        else:
            return doc, None
        child = node[key]
        if not isinstance(child, dict | list) or not child or data.draw(st.booleans()):
            return node, key
        node = child
