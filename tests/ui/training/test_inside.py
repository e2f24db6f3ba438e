"""The Inside tab (sparklines, feature maps, canvas heat map) and the Checks tab (overfit one batch, LR range test)."""

from __future__ import annotations

import pytest

from studio.core.model import Project
from studio.ui.canvas import heat_overlay
from tests import factories
from tests.ui.training import projects


def _deep(registry, act: str, init: str) -> Project:
    """10 Linear layers on spirals: the vanishing-gradient demo."""
    g = factories.mlp(registry, "model", 2, 32, 3, depth=9, act=act)
    t = {"recipe": "classification", "dataset": {"name": "spirals", "params": {"n": 400}}, "epochs": 3,
         "batch_size": 32, "optimizer": {"lr": 0.01}, "threads": 1, "device": "cpu", "init": {"scheme": init}}
    return Project(name="deep", graphs=[g], training=t)


def _step_once(window, qtbot):
    panel = window.window.training_panel
    panel.step_bar.step_button.click()  # one step, then paused: the stats of that step arrive
    qtbot.waitUntil(lambda: panel.inside.latest is not None, timeout=60_000)
    return panel


def _stop(panel, qtbot) -> None:
    panel.stop_training()
    qtbot.waitUntil(lambda: not panel.running, timeout=30_000)


def _first_last_linear(window, panel):
    graph = window.document.project.main_graph
    linears = [nid for nid in graph.nodes if graph.nodes[nid].type_id == "nn.linear"]
    values = panel.inside.heat_values[graph.id]
    return values[linears[0]], values[linears[-1]]


@pytest.mark.parametrize(("act", "init", "vanishes"), [("nn.sigmoid", "default", True), ("nn.relu", "kaiming", False)])
def test_the_heat_map_shows_where_the_gradient_vanishes(window, qtbot, registry, act, init, vanishes):
    window.document.replace_project(_deep(registry, act, init))
    panel = _step_once(window, qtbot)
    inside = panel.inside
    inside.heat.setChecked(True)
    assert inside.metric_key == "grad_norm"
    first, last = _first_last_linear(window, panel)
    assert (last / first >= 10) is vanishes, (first, last)
    state = heat_overlay.state(window.document)
    gid = window.document.project.main_graph.id
    assert state.enabled and len(state.heat[gid]) == 10  # every Linear coloured (activations have no weights)
    assert len(inside.sparks.rows) == 19
    if vanishes:
        panel.tabs.setCurrentWidget(inside)
        window.window.resize(1280, 720)
        window.flush()
        assert not window.window.grab().isNull()
    _stop(panel, qtbot)
    inside.heat.setChecked(False)
    assert not state.enabled


def test_statistics_follow_each_step_and_conv_nodes_show_feature_maps(window, qtbot, registry):
    window.document.replace_project(projects.images(registry))
    panel = _step_once(window, qtbot)
    assert panel.inside.latest["step"] == 1
    panel.step_bar.step_button.click()
    qtbot.waitUntil(lambda: len(panel.inside.sparks.rows[0][2]) == 2, timeout=30_000)  # two points per sparkline
    assert panel.inside.latest["step"] == 2
    assert panel.inside.maps.title.startswith("Feature maps of conv")
    assert len(panel.inside.maps.tiles) == 4
    panel.inside.metric_box.setCurrentIndex(panel.inside.metric_box.findData("dead"))
    relu = next(r for r in panel.inside.sparks.rows if r[0] == "relu")
    assert 0.0 <= relu[4] <= 1.0
    panel.tabs.setCurrentWidget(panel.inside)
    assert not panel.grab().isNull()
    _stop(panel, qtbot)


def test_dqn_network_is_inspected_with_its_own_states(window, qtbot, registry):
    window.document.replace_project(projects.dqn(registry))
    panel = _step_once(window, qtbot)
    stats = next(iter(panel.inside.latest["graphs"].values()))
    assert all(s["act_mean"] is not None for s in stats.values())
    _stop(panel, qtbot)


def test_overfit_one_batch_runs_in_the_background(window, qtbot, registry):
    window.document.replace_project(projects.classification(registry))
    checks = window.window.training_panel.checks
    assert checks.run_overfit()
    assert checks.busy and not checks.overfit_button.isEnabled()  # the window is free while it runs
    qtbot.waitUntil(lambda: not checks.busy and checks.result is not None, timeout=120_000)
    assert checks.result.ok, checks.result.message
    assert "Passed" in checks.status.text()


def test_lr_range_test_suggestion_is_one_undo_step(window, qtbot, registry):
    window.document.replace_project(projects.classification(registry))
    panel = window.window.training_panel
    checks = panel.checks
    assert checks.run_range()
    qtbot.waitUntil(lambda: not checks.busy and checks.result is not None, timeout=120_000)
    assert checks.suggested is not None
    assert checks.apply_button.text() == f"Apply learning rate {checks.suggested:.2g}"
    panel.tabs.setCurrentWidget(checks)
    assert not panel.grab().isNull()
    stack = window.document.undo_stack
    before, old = stack.index(), window.document.project.training["optimizer"]["lr"]
    checks.apply_button.click()
    assert stack.index() == before + 1
    assert window.document.project.training["optimizer"]["lr"] == checks.suggested
    stack.undo()
    assert window.document.project.training["optimizer"]["lr"] == old


def test_checks_refuse_other_paradigms_with_a_reason(window, qtbot, registry):
    window.document.replace_project(projects.dqn(registry))
    checks = window.window.training_panel.checks
    assert checks.run_overfit()
    qtbot.waitUntil(lambda: not checks.busy, timeout=60_000)
    assert "Deep Q-learning" in checks.status.text()


def test_a_table_says_there_is_no_network(window, qtbot, registry):
    window.document.replace_project(projects.tabular(registry))
    panel = window.window.training_panel
    panel.step_bar.step_button.click()
    qtbot.waitUntil(lambda: "table" in panel.inside.info.text(), timeout=30_000)
    assert panel.inside.latest is None
    _stop(panel, qtbot)


def test_fast_payloads_repaint_a_few_times_a_second_and_show_the_last(window, qtbot, monkeypatch):
    from studio.train.engine import Update

    inside = window.window.training_panel.inside
    graph = window.document.project.main_graph
    nid = next(iter(graph.nodes))
    shown = []
    monkeypatch.setattr(inside, "_update_heat", lambda: shown.append(inside.latest["step"]))

    def payload(step):
        stat = {"node": "fc", "node_id": nid, "type_id": "nn.linear", "grad_norm": float(step), "hist": None}
        return Update("step", info={"inside": {"step": step, "graphs": {graph.name: {nid: stat}}}})

    for step in range(1, 51):
        inside.add_updates([payload(step)])
    assert shown == [1]  # the first at once, the rest coalesced
    qtbot.waitUntil(lambda: shown[-1] == 50, timeout=2000)
    assert len(shown) == 2
    assert len(inside.history[(graph.name, nid, "grad_norm")]) == 50  # every point kept for the sparkline
