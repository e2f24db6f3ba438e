"""The beginner's missing Flatten, caught while editing: Problems list, red node, one-click fixes."""

from __future__ import annotations

from studio.core.factory import make_node
from studio.core.ops import AddNode, RemoveNode
from studio.train.target_check import check
from studio.ui.canvas import heat_overlay
from tests.factories import chain, project
from tests.ui.conftest import close_editor, open_editor

SHAPES = {"recipe": "classification", "dataset": {"name": "shapes"}}


def _no_flatten(registry):
    """Input 1×28×28 -> Linear(128) -> ReLU -> Linear(64): B×1×28×64 out, for 6 classes."""
    return chain(registry, "model", [1, 28, 28], [("nn.linear", {"out_features": 128}), ("nn.relu", {}),
                                                 ("nn.linear", {"out_features": 64})])


def test_missing_flatten_is_a_problem_on_the_first_linear_and_one_click_fixes_it(qtbot, registry):
    ed = open_editor(qtbot, registry, project(_no_flatten(registry), training=SHAPES))
    try:
        problems = ed.window.panels["problems"]
        problems.refresh()
        graph = ed.document.project.main_graph
        first = next(n for n in graph.nodes.values() if n.name == "linear")
        item = problems.item_for(first.id, "B×1×28×64")
        assert item is not None, [i.message for i in problems.issues]
        assert "6 class scores" in item.text(0)
        assert heat_overlay.state(ed.document).marks[graph.id] == {first.id: item.text(0)}  # red on the canvas
        assert [b.text() for b in problems.fixes.buttons] == ["Insert Flatten before 'linear'"]
        assert problems.fixes.isVisible()
        ed.scene.flush()
        assert not ed.window.grab().isNull()
        before = ed.document.undo_stack.index()
        problems.fixes.buttons[0].click()
        assert ed.document.undo_stack.index() == before + 1  # one undo step
        assert ed.document.undo_stack.undoText() == "Insert Flatten before 'linear'"
        assert any(n.type_id == "nn.flatten" for n in graph.nodes.values())
        problems.refresh()
        assert problems.item_for(first.id) is None and not problems.fixes.isVisible()
        assert heat_overlay.state(ed.document).marks[graph.id] == {}
        ed.document.undo_stack.undo()
        assert not any(n.type_id == "nn.flatten" for n in graph.nodes.values())
        problems.refresh()
        assert problems.item_for(first.id, "B×1×28×64") is not None
    finally:
        close_editor(ed)


def test_an_input_added_to_a_spirals_project_offers_the_datasets_shape(qtbot, registry):
    graph = chain(registry, "model", [2], [("nn.linear", {"out_features": 16}), ("nn.relu", {}),
                                          ("nn.linear", {"out_features": 3})])
    ed = open_editor(qtbot, registry, project(graph, training={"recipe": "classification",
                                                               "dataset": {"name": "spirals"}}))
    try:
        problems = ed.window.panels["problems"]
        problems.refresh()
        assert not problems.fixes.isVisible() and not check(ed.document.project, graph, registry)
        # the user replaces the Input with a fresh one (default 1×28×28) and wires it in
        old = next(n for n in graph.nodes.values() if n.type_id == "io.input")
        linear = next(e.dst for e in graph.edges.values() if e.src == old.id)
        ed.document.push(RemoveNode(graph.id, old.id))
        new = make_node(registry.get("io.input"), graph, (0, 0))
        ed.document.push(AddNode(graph.id, new))
        from studio.core.ops import connect

        ed.document.push(connect(graph, new.id, "out", linear, "in"))
        problems.refresh()
        item = problems.item_for(new.id, "dataset 'spirals'")
        assert item is not None, [i.message for i in problems.issues]
        labels = [b.text() for b in problems.fixes.buttons]
        assert labels == [f"Set Input '{new.name}' to the dataset's shape [2]"]
        problems.fixes.buttons[0].click()
        assert graph.nodes[new.id].params["shape"] == [2]
        problems.refresh()
        assert problems.item_for(new.id) is None
    finally:
        close_editor(ed)


def test_headless_check_covers_targets_of_each_paradigm(registry):
    ok = chain(registry, "m", [1, 28, 28], [("nn.flatten", {}), ("nn.linear", {"out_features": 6})])
    assert check(project(ok, training=SHAPES), ok, registry) == []
    few = chain(registry, "m", [1, 28, 28], [("nn.flatten", {}), ("nn.linear", {"out_features": 4})])
    (issue,) = check(project(few, training=SHAPES), few, registry)
    assert "set the last layer's size to 6" in issue.message
    recon = dict(SHAPES, recipe="reconstruction")
    (issue,) = check(project(ok, training=recon), ok, registry)
    assert "must match the input B×1×28×28" in issue.message
    q = chain(registry, "q", [12], [("nn.linear", {"out_features": 3})])
    (issue,) = check(project(q, training={"recipe": "dqn"}), q, registry)
    assert "B×4" in issue.message
    waves = chain(registry, "w", [32, 1], [("nn.flatten", {}), ("nn.linear", {"out_features": 8})])
    assert check(project(waves, training={"recipe": "sequence", "dataset": {"name": "waves"}}), waves, registry) == []
    assert check(project(few, training={}), few, registry) == []  # no dataset chosen: nothing to compare


def test_flatten_is_offered_when_the_class_count_is_wrong_too(registry):
    """Two mistakes at once: the fix for the layout is still offered; the class count is the next problem."""
    g = chain(registry, "m", [1, 28, 28], [("nn.linear", {"out_features": 16}), ("nn.relu", {}),
                                          ("nn.linear", {"out_features": 3})])
    p = project(g, training=SHAPES)
    (issue,) = check(p, g, registry)
    assert [f.label for f in issue.fixes] == ["Insert Flatten before 'linear'"]
    issue.fixes[0].make().apply(p)
    (after,) = check(p, g, registry)
    assert "B×3" in after.message and "set the last layer's size to 6" in after.message and not after.fixes


def test_bundled_datasets_are_known_without_loading_them(registry):
    """The shapes of scikit-learn's datasets agree with what loading them gives (checked once here)."""
    from studio.train.data import load_data
    from studio.train.settings import DatasetSettings
    from studio.train.target_check import dataset_shape

    for name in ("digits", "iris", "wine", "breast_cancer"):
        known = dataset_shape({"dataset": {"name": name}})
        bundle = load_data(DatasetSettings(name=name), 0)
        assert known.x == bundle.sample_shape and known.classes == len(bundle.classes), name
    g = chain(registry, "m", [1, 8, 8], [("nn.linear", {"out_features": 32}), ("nn.relu", {}),
                                        ("nn.linear", {"out_features": 10})])
    (issue,) = check(project(g, training={"recipe": "classification", "dataset": {"name": "digits"}}), g, registry)
    assert "B×1×8×10" in issue.message and [f.label for f in issue.fixes] == ["Insert Flatten before 'linear'"]
