"""Node names: unique in O(1), and unchanged by a save and load however long they are."""

from __future__ import annotations

import json
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from studio.core.factory import make_node
from studio.core.model import MAX_NAME, Graph, Node, identifier, new_project
from studio.core.ops import AddNode, RemoveNode, RenameNode
from studio.io.project_file import dumps, loads, project_to_dict


@given(st.text(max_size=120))
def test_identifier_is_a_fixed_point(text):
    name = identifier(text)
    assert identifier(name) == name
    assert name.isidentifier() and len(name) <= MAX_NAME + 1  # a keyword gains one "_"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=90), min_size=1, max_size=25))
def test_unique_names_are_distinct_fixed_points(bases):
    graph = Graph("g")
    for base in bases:
        node = Node("nn.relu", graph.unique_name(base))
        graph.nodes[node.id] = node
    names = [n.name for n in graph.nodes.values()]
    assert len(set(names)) == len(names)
    assert all(identifier(n) == n and len(n) <= MAX_NAME + 1 for n in names)


def test_smallest_free_number_is_reused_after_a_delete(registry):
    project = new_project()
    graph = project.main_graph
    ids = []
    for _ in range(4):
        node = make_node(registry.get("nn.relu"), graph)
        AddNode(graph.id, node).apply(project)
        ids.append(node.id)
    assert [graph.nodes[i].name for i in ids] == ["relu", "relu_1", "relu_2", "relu_3"]
    RemoveNode(graph.id, ids[1]).apply(project)
    assert graph.unique_name("relu") == "relu_1"
    RenameNode(graph.id, ids[3], "relu").apply(project)  # its own name does not count
    assert graph.nodes[ids[3]].name == "relu_1"
    assert graph.node_by_name("relu_1").id == ids[3]


def test_unique_name_does_not_scan_the_graph():
    """20k nodes of one base name: each new name costs the same as with 200 (it was O(n) per name)."""

    def per_name(n: int) -> float:
        graph = Graph("g")
        for _ in range(n):
            node = Node("nn.relu", graph.unique_name("relu"))
            graph.nodes[node.id] = node
        start = time.process_time()
        for _ in range(2000):
            graph.unique_name("relu")
        return time.process_time() - start

    small, large = per_name(200), per_name(20_000)
    assert large < 5 * small + 0.05, (small, large)


def _long_named_pair(registry):
    long = "encoder_" + "very_long_layer_name_" * 4  # 92 characters before truncation
    project = new_project()
    graph = project.main_graph
    first = make_node(registry.get("nn.linear"), graph, name=long, out_features=3)
    AddNode(graph.id, first).apply(project)
    copy = make_node(registry.get("nn.linear"), graph, name=long, out_features=5)  # a pasted copy
    AddNode(graph.id, copy).apply(project)
    project.training = {"nodes": {graph.nodes[first.id].name: {"freeze": True},
                                  graph.nodes[copy.id].name: {"lr_mult": 2.0}}}
    return project, first.id, copy.id


def test_long_names_survive_save_and_load_in_any_order(registry):
    project, first, copy = _long_named_pair(registry)
    graph = project.main_graph
    names = {first: graph.nodes[first].name, copy: graph.nodes[copy].name}
    assert names[first] != names[copy] and all(len(n) <= MAX_NAME for n in names.values())
    data = json.loads(dumps(project, registry))
    data["graphs"][0]["nodes"].reverse()  # the copy comes first (as after an undo re-inserts it)
    again = loads(json.dumps(data), registry)
    loaded = again.main_graph
    assert {nid: loaded.nodes[nid].name for nid in names} == names
    # freeze stays with the first layer, lr_mult with the copy
    by_name = again.training["nodes"]
    assert by_name[loaded.nodes[first].name] == {"freeze": True}
    assert by_name[loaded.nodes[copy].name] == {"lr_mult": 2.0}
    assert project_to_dict(again, registry)["graphs"][0]["nodes"][0]["name"] == names[copy]
