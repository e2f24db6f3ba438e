"""Hypothesis fuzz of the loader: any JSON, or a valid project with hostile values anywhere.

Whatever loads must go on to work: shapes, validation and a save that loads back to the same
file. Whatever does not load is one ProjectFileError line. Nothing else may escape.
"""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.core.shapes import ShapeInferencer
from studio.core.validation import validate
from studio.io.errors import ProjectFileError
from studio.io.project_file import dumps, loads
from tests.hostile.corpus import base_project

HOSTILE = st.one_of(
    st.integers(min_value=-(10 ** 60), max_value=10 ** 60), st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(), st.none(), st.text(max_size=30), st.just(10 ** 400), st.just(-1e308),
    st.lists(st.integers(-5, 10 ** 7), max_size=20),
    st.recursive(st.integers(-3, 3) | st.text(max_size=3), lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=30),
)


def _slots(data, path=()):
    yield path
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        yield from _slots(value, (*path, key))


def _set(data, path, value):
    if not path:
        return value
    holder = data
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    return data


def _survives(registry, text: str) -> None:
    try:
        project = loads(text, registry, source="fuzz.nnstudio")
    except ProjectFileError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 600
        return
    inferencer = ShapeInferencer(registry)
    for graph in project.graphs:
        validate(graph, registry, inferencer.infer(graph))
    saved = dumps(project, registry)
    assert dumps(loads(saved, registry), registry) == saved


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_hostile_values_anywhere_in_a_valid_project(registry, data):
    project = base_project()
    slots = list(_slots(project))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(slots))
        project = _set(copy.deepcopy(project), path, data.draw(HOSTILE))
        slots = list(_slots(project))
    _survives(registry, json.dumps(project))


@settings(max_examples=80, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=40))
def test_any_json_is_a_project_or_one_line(registry, value):
    _survives(registry, json.dumps({"format": "nnstudio.project", "version": 2, "graphs": value}))
    _survives(registry, json.dumps(value))
