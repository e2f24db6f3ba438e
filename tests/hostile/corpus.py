"""A hostile-file corpus, generated (never stored): each case is a project file that once crashed,
hung, overflowed or misled NN Studio, or a variation of one.

``build(folder)`` writes every case and returns their descriptions; the runners in
:mod:`tests.hostile.worker` push each file through load, ``nnstudio check``, ``nnstudio export``
and the editor's open.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.robustness import chain, loose_nodes

BIG = 10 ** 400


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    #: "ok" must load; "refused" must be a one-line ProjectFileError; "any" may do either
    expect: str = "any"
    #: small enough to export and to open in the editor in the fast run
    small: bool = True


def base_project() -> dict[str, Any]:
    """Input(4) -> Linear(3) -> ReLU -> Output, as the app saves it."""

    def node(i: int, type_id: str, name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"id": f"n{i}", "type": type_id, "type_version": 1, "name": name, "params": params or {},
                "position": [i * 220.0, 0.0], "group": None}

    nodes = [node(0, "io.input", "x", {"shape": [4], "dtype": "float32"}),
             node(1, "nn.linear", "linear", {"out_features": 3}),
             node(2, "nn.relu", "relu"), node(3, "io.output", "output")]
    edges = [{"id": f"e{i}", "from": {"node": f"n{i}", "port": "out"}, "to": {"node": f"n{i + 1}", "port": "in"}}
             for i in range(3)]
    return {"format": "nnstudio.project", "version": 2, "name": "hostile", "meta": {},
            "training": {"optimizer": {"name": "adam", "lr": 0.001}},
            "graphs": [{"id": "g0", "name": "model", "nodes": nodes, "edges": edges, "groups": []}]}


def _nodes(d: dict) -> list[dict]:
    return d["graphs"][0]["nodes"]


def _edit(fn: Callable[[dict], Any]) -> Callable[[], bytes]:
    def make() -> bytes:
        d = copy.deepcopy(base_project())
        fn(d)
        return json.dumps(d).encode()
    return make


def _text(text: str) -> Callable[[], bytes]:
    return lambda: text.encode("utf-8", "surrogatepass")


def _raw(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def _replace(marker: str, value: str, where: Callable[[dict], Any]) -> Callable[[], bytes]:
    def make() -> bytes:
        d = copy.deepcopy(base_project())
        where(d)
        return json.dumps(d).replace(json.dumps(marker), value).encode()
    return make


def _unknown(d: dict, extra: Any = "@@") -> None:
    _nodes(d)[2]["type"] = "plugin.mystery"
    _nodes(d)[2]["extra"] = extra


def _long_names(d: dict) -> None:
    long = "encoder_block_" + "very_long_layer_name_" * 3
    copy_node = copy.deepcopy(_nodes(d)[1])
    copy_node.update(id="n9", name=long[:62] + "_1")
    _nodes(d)[1]["name"] = long[:64]
    _nodes(d).insert(0, copy_node)  # the copy first: it used to take the original's name
    d["training"]["nodes"] = {long[:64]: {"freeze": True}, long[:62] + "_1": {"lr_mult": 2.0}}


def _v1(graph: Any) -> Callable[[], bytes]:
    return lambda: json.dumps({"format": "nnstudio.project", "version": 1, "graph": graph}).encode()


CASES: list[tuple[str, str, Callable[[], bytes]]] = [
    # issue 16, point 1: a setting of the wrong kind, then the learning rate is edited
    ("optimizer_is_a_number", "any", _edit(lambda d: d.update(training={"optimizer": 5}))),
    ("training_is_a_list", "refused", _edit(lambda d: d.update(training=[1, 2]))),
    # point 3: numbers the loader used to accept
    ("position_400_digits", "refused", _edit(lambda d: _nodes(d)[0].update(position=[BIG, 0]))),
    ("position_1e308", "refused", _edit(lambda d: _nodes(d)[0].update(position=[1e308, 1e308]))),
    ("param_400_digits", "refused", _edit(lambda d: _nodes(d)[1]["params"].update(out_features=BIG))),
    ("lr_400_digits", "refused", _edit(lambda d: d["training"]["optimizer"].update(lr=BIG))),
    ("lr_negative", "any", _edit(lambda d: d["training"]["optimizer"].update(lr=-1.0))),
    ("input_shape_16x1e6", "refused", _edit(lambda d: _nodes(d)[0]["params"].update(shape=[10 ** 6] * 16))),
    ("input_shape_huge_but_bounded", "any", _edit(lambda d: _nodes(d)[0]["params"].update(shape=[65536, 65536]))),
    ("int_digits_5000", "refused", _text('{"format": "nnstudio.project", "version": 2, "graphs": [], "x": '
                                         + "9" * 5000 + "}")),
    ("param_wrong_kind", "refused", _edit(lambda d: _nodes(d)[1]["params"].update(out_features={"a": 1}))),
    ("param_float_overflow", "refused", _edit(lambda d: _nodes(d)[1]["params"].update(bias=BIG))),
    # point 7: long names
    ("long_names_swapped_order", "ok", _edit(_long_names)),
    ("name_10k_chars", "refused", _edit(lambda d: _nodes(d)[1].update(name="n" * 10_000))),
    ("names_unicode_and_keywords", "ok", _edit(lambda d: [n.update(name=v) for n, v in
                                                           zip(_nodes(d), ["class", "é名", "x y", "__init__"], strict=True)])),
    ("duplicate_names", "ok", _edit(lambda d: [n.update(name="same") for n in _nodes(d)])),
    # point 8: unknown-type records
    ("unknown_type_1e400", "refused", _replace("@@", "1e400", _unknown)),
    ("unknown_type_deep_40", "refused", _replace("@@", "[" * 40 + "]" * 40, _unknown)),
    ("unknown_type_deep_100k", "refused", _replace("@@", "[" * 100_000 + "]" * 100_000, _unknown)),
    ("unknown_type_digits", "refused", _replace("@@", str(BIG), _unknown)),
    ("unknown_type_sane", "ok", _edit(lambda d: _unknown(d, {"a": [1, 2.5, None]}))),
    ("unknown_type_wired", "ok", _edit(_unknown)),
    # point 12: a byte-order mark
    ("utf8_bom", "ok", lambda: b"\xef\xbb\xbf" + _edit(lambda d: None)()),
    # shapes of JSON the loader must survive
    ("empty_file", "refused", _raw(b"")),
    ("binary", "refused", _raw(bytes(range(256)) * 4)),
    ("latin1", "refused", _raw('{"name": "caf\xe9"}'.encode("latin-1"))),
    ("truncated", "refused", lambda: _edit(lambda d: None)()[:200]),
    ("nan_constant", "refused", _replace("@@", "NaN", lambda d: d["meta"].update(x="@@"))),
    ("top_level_list", "refused", _text("[1, 2, 3]")),
    ("wrong_format", "refused", _edit(lambda d: d.update(format="other"))),
    ("future_version", "refused", _edit(lambda d: d.update(version=999))),
    ("version_digits", "refused", _edit(lambda d: d.update(version=BIG))),
    ("no_graphs", "refused", _edit(lambda d: d.update(graphs=[]))),
    ("graph_is_text", "refused", _edit(lambda d: d.update(graphs=["model"]))),
    ("v1_nodes_is_number", "refused", _v1({"nodes": 5})),
    ("v1_edges_is_text", "refused", _v1({"nodes": [], "edges": "abc"})),
    ("v1_node_x_digits", "refused", _v1({"nodes": [{"id": "a", "type": "nn.relu", "x": BIG}]})),
    ("duplicate_node_ids", "refused", _edit(lambda d: _nodes(d)[1].update(id="n0"))),
    ("dangling_edge", "refused", _edit(lambda d: d["graphs"][0]["edges"][0]["to"].update(node="ghost"))),
    ("edge_to_unknown_port", "ok", _edit(lambda d: d["graphs"][0]["edges"][0]["to"].update(port="nope"))),
    ("self_loop_and_cycle", "ok", _edit(lambda d: d["graphs"][0]["edges"].extend([
        {"id": "c1", "from": {"node": "n2", "port": "out"}, "to": {"node": "n2", "port": "in"}},
        {"id": "c2", "from": {"node": "n2", "port": "out"}, "to": {"node": "n1", "port": "in"}}]))),
    ("group_missing", "refused", _edit(lambda d: _nodes(d)[1].update(group="nowhere"))),
    ("type_version_future", "refused", _edit(lambda d: _nodes(d)[1].update(type_version=99))),
    ("meta_deep", "refused", _replace("@@", "{\"a\":" * 60 + "1" + "}" * 60, lambda d: d["meta"].update(x="@@"))),
    ("huge_string", "refused", _edit(lambda d: d["meta"].update(x="x" * 2_000_000))),
    ("graph_names_collide_with_files", "ok", _edit(lambda d: d["graphs"][0].update(name="train"))),
    ("many_graphs", "ok", _edit(lambda d: d["graphs"].extend(
        [dict(copy.deepcopy(d["graphs"][0]), id=f"g{i}", name=f"m{i}") for i in range(1, 20)]))),
]


def build(folder: Path, large: bool = False) -> list[Case]:
    """Write the corpus into ``folder``; ``large`` adds the 60k-node files (2 MB and 12 MB)."""
    folder.mkdir(parents=True, exist_ok=True)
    cases = []
    for name, expect, make in CASES:
        path = folder / f"{name}.nnstudio"
        path.write_bytes(make())
        cases.append(Case(name, str(path), expect))
    if large:
        for name, data in (("loose_60k", loose_nodes(60_000)), ("chain_60k", chain(60_000))):
            path = folder / f"{name}.nnstudio"
            path.write_bytes(data)
            cases.append(Case(name, str(path), "ok", small=False))
    return cases


def add_fuzzed(folder: Path, count: int, seed: int) -> list[Case]:
    """Random mutations of the base project: a value anywhere replaced by a hostile one."""
    import random

    rnd = random.Random(seed)
    hostile = [BIG, -BIG, 1e308, -0.0, 2 ** 63, None, True, "", "x" * 300, [], {}, [[[[1]]]], {"a": {"b": [1]}},
               "__import__('os')", 0, -1, 1e-320, "NaN"]
    cases = []
    for i in range(count):
        data = base_project()
        for _ in range(rnd.randint(1, 3)):
            holder, key = _random_slot(data, rnd)
            holder[key] = copy.deepcopy(rnd.choice(hostile))
        path = folder / f"fuzz_{seed}_{i}.nnstudio"
        path.write_text(json.dumps(data))
        cases.append(Case(path.stem, str(path), "any"))
    return cases


def _random_slot(data: Any, rnd) -> tuple[Any, Any]:
    holder, key = data, None
    while True:
        options = list(holder.items()) if isinstance(holder, dict) else list(enumerate(holder))
        if not options:
            return (holder, key) if key is not None else (data, "name")
        key, value = rnd.choice(options)
        if not isinstance(value, dict | list) or not value or rnd.random() < 0.3:
            return holder, key
        holder = value
