"""Specs the code exporter can write: plain-literal kwargs and self-contained helper source."""

from __future__ import annotations

import ast
import inspect
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

import nodes.modules
from studio.catalog import default_registry
from tests.nodes.helpers import infer, sample
from tests.nodes.test_every_node import INPUTS

ALLOWED_TOP_IMPORTS = {"torch", "torch.nn", "torch.nn.functional", "math", "typing"}
OWN = [default_registry().get(t) for t in INPUTS]


def test_modules_file_imports_only_torch_math_typing():
    tree = ast.parse(Path(nodes.modules.__file__).read_text())
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            assert {a.name for a in stmt.names} <= ALLOWED_TOP_IMPORTS, ast.unparse(stmt)
        elif isinstance(stmt, ast.ImportFrom):
            assert stmt.module in ALLOWED_TOP_IMPORTS, ast.unparse(stmt)


def _resolved(spec):
    shapes, node = infer(default_registry(), spec, INPUTS[spec.type_id])
    info = shapes.nodes[node.id]
    assert info.error is None
    return info.resolved


@pytest.mark.parametrize("spec", OWN, ids=lambda s: s.type_id)
def test_constructor_kwargs_are_plain_literals(spec):
    kwargs = spec.constructor_kwargs(_resolved(spec))
    for name, value in kwargs.items():
        assert name.isidentifier()
        assert ast.literal_eval(repr(value)) == value, (name, value)
        assert type(ast.literal_eval(repr(value))) is type(value), name


def _exported_namespace(spec) -> dict:
    """What a standalone export sees: torch, nn, F, math and the copied helper source."""
    namespace = {"torch": torch, "nn": nn, "F": F, "math": math, "__name__": "exported"}
    for obj in spec.export.source_of:
        exec(compile(inspect.getsource(obj), "<export>", "exec"), namespace)  # noqa: S102
    return namespace


@pytest.mark.parametrize("spec", OWN, ids=lambda s: s.type_id)
def test_exported_code_rebuilds_the_same_layer(spec):
    namespace = _exported_namespace(spec)
    resolved = _resolved(spec)
    kwargs = spec.constructor_kwargs(resolved)
    target = eval(spec.export.qualname, namespace)  # noqa: S307
    inputs = [sample(given) for given in INPUTS[spec.type_id]]
    torch.manual_seed(0)
    if spec.module is not None:
        original = spec.build(resolved).eval()
        copy = target(**kwargs).eval()
        copy.load_state_dict(original.state_dict())
        with torch.no_grad():
            expected, got = original(*inputs), copy(*inputs)
    else:
        expected, got = spec.function(*inputs, **kwargs), target(*inputs, **kwargs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    got = got if isinstance(got, tuple) else (got,)
    for a, b in zip(expected, got, strict=True):
        assert torch.equal(a, b)
