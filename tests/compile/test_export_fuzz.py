"""Hypothesis: hostile names and strings from a project file never change the statements of an export.

The same graph is exported twice, once with hostile node, group and graph names and string
params, once with plain ones. After erasing names and string constants, both syntax trees must
be identical: the hostile text can only ever appear inside names and ``repr`` literals.
"""

from __future__ import annotations

import ast
import keyword
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.compile.exporter import export_graph_code
from studio.core.model import identifier
from studio.core.ops import RenameGraph, SetGroupState, SetParam
from tests.compile.util import Builder

NASTY = [
    "", " ", "self", "forward", "torch", "nn", "F", "load_weights", "example_inputs", "train", "eval", "cuda",
    "state_dict", "__init__", "__class__", "_modules", "0day", "x", "x_1", "Model", "None", "True", "match",
    '"""', "'''", "\\", "\n", "\r\n", "#", "'); import os; os.system('x') #", '"; raise SystemExit; "',
    "\u2028", "\x00", "é", "名前", "🙂", "a\tb", "__import__('os')", "lambda: 0", "print", "super", "math",
    *keyword.kwlist, *keyword.softkwlist,
]

#: dotted names (``layer1.0``) and hyphenated words (``block1-0``, as torchvision names RegNet stages) are
#: submodule paths, some reached with getattr / add_module, so they change the statement shape on purpose;
#: test_hyphenated_paths_are_quoted and tests/compile/test_export_style.py cover them
_PATHLIKE = re.compile(r"\.|[A-Za-z0-9_]-[A-Za-z0-9_]")
names = st.one_of(st.sampled_from(NASTY), st.text(max_size=24),
                  st.lists(st.sampled_from(NASTY), min_size=1, max_size=3).map("".join)
                  ).filter(lambda s: not _PATHLIKE.search(s))


class _Erase(ast.NodeTransformer):
    """Replace every name and string by a placeholder, leaving only the statement structure."""

    def visit_Name(self, node):
        return ast.copy_location(ast.Name(id="N", ctx=node.ctx), node)

    def visit_Attribute(self, node):
        self.generic_visit(node)
        node.attr = "A"
        return node

    def visit_arg(self, node):
        node.arg = "A"
        node.annotation = None
        return node

    def visit_FunctionDef(self, node):
        self.generic_visit(node)
        node.name = "F"
        return node

    def visit_ClassDef(self, node):
        self.generic_visit(node)
        node.name = "C"
        return node

    def visit_Constant(self, node):
        return ast.copy_location(ast.Constant(value="S"), node) if isinstance(node.value, str) else node


def shape_of(code: str) -> str:
    return ast.dump(_Erase().visit(ast.parse(code)))


def build(registry, node_names, graph_name, group_name, path):
    b = Builder(registry, "model")
    x = b.node("io.input", shape=[6])
    l1 = b.node("nn.linear", out_features=4)
    act = b.node("nn.relu")
    l2 = b.node("nn.linear", out_features=4)
    cat = b.node("nn.concat", dim=1)
    out = b.node("io.output")
    img = b.node("io.input", shape=[3, 16, 16])
    backbone = b.node("tv.resnet18")
    out2 = b.node("io.output")
    b.chain(x, l1, act, l2)
    b.wire(l2, cat, "in1")
    b.wire(act, cat, "in2")
    b.wire(cat, out)
    b.chain(img, backbone, out2)
    b.group("g", l1, act)
    ids = [x, l1, act, l2, cat, out, img, backbone, out2]
    for nid, name in zip(ids, node_names, strict=False):
        b.graph.nodes[nid].name = name  # straight into the model, as a hostile file could (no dedupe)
    RenameGraph(b.graph.id, graph_name).apply(b.project)
    SetGroupState(b.graph.id, next(iter(b.graph.groups)), name=group_name).apply(b.project)
    SetParam(b.graph.id, backbone, "weights_path", path).apply(b.project)
    return b


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(names, min_size=9, max_size=9), names, names, names)
def test_hostile_names_only_change_names(registry, node_names, graph_name, group_name, path):
    hostile = export_graph_code(build(registry, node_names, graph_name, group_name, path).graph, registry)
    # a string equal to its default is left out of the export, so the clean twin keeps "" as ""
    clean_path = "" if path == "" else "weights.pt"
    # inside group g a node named g_3 is the submodule g[3] (an index), so the clean twin keeps that form
    index = re.compile(re.escape(identifier(group_name, "block")) + r"_(0|[1-9][0-9]*)")
    clean_names = [f"group_{m.group(1)}" if (m := index.fullmatch(identifier(n))) else f"n{i}"
                   for i, n in enumerate(node_names)]
    clean = export_graph_code(build(registry, clean_names, "model", "group", clean_path).graph, registry)
    assert shape_of(hostile) == shape_of(clean)
    tree = ast.parse(hostile)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name | ast.FunctionDef | ast.ClassDef | ast.arg):
            name = getattr(node, "id", None) or getattr(node, "name", None) or node.arg
            assert name.isidentifier() and not keyword.iskeyword(name)
    for line in hostile.splitlines():
        assert not line.lstrip().startswith("#") or line.startswith("# ")  # comments are ours alone


def test_hostile_export_runs(registry, tmp_path):
    """One hand-picked hostile project: the export imports and its forward works."""
    from tests.compile.util import load_export

    b = build(registry, ["self", "forward", "train", "torch", "x", "x", "'''", "名前", "None"],
              '"""; import os', "state_dict", "'); import os #")
    from studio.compile.exporter import export_graph

    exported = export_graph(b.graph, registry)
    module = load_export(exported.code, tmp_path)
    model = getattr(module, exported.class_name)().eval()
    assert exported.class_name != "StateDict"  # the group named state_dict is a block class of its own
    out = model(*module.example_inputs())
    assert isinstance(out, tuple) and len(out) == 2
    model.train()  # a node named 'train' must not have shadowed nn.Module.train


def test_hyphenated_paths_are_quoted(registry, tmp_path):
    """Group names like ``block1-0`` keep their exact key; the text only ever appears as a repr literal."""
    from studio.compile.exporter import export_graph
    from tests.compile.util import check_parity

    b = build(registry, [f"n{i}" for i in range(9)], "model", "stage-1", "")
    _, model, exported = check_parity(b.graph, registry, tmp_path)
    assert "self.add_module('stage-1', " in exported.code and "getattr(self, 'stage-1')(" in exported.code
    assert any(k.startswith("stage-1.") for k in model.state_dict())
    hostile = build(registry, [f"n{i}" for i in range(9)], "model", "x-1'); import os #", "")
    clean = build(registry, [f"n{i}" for i in range(9)], "model", "group", "")
    assert shape_of(export_graph(hostile.graph, registry).code) == shape_of(export_graph(clean.graph, registry).code)
