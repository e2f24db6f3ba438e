"""The Explain tab on a sequence model: per-token bars labelled by token, the position chosen, the attention map."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.analysis.seq_models import LENGTH


@pytest.fixture
def seq_ws(workspace, seq_run):
    return workspace(seq_run)


def _explain(ws, qtbot) -> dict:
    qtbot.mouseClick(ws.explain.run_button, Qt.MouseButton.LeftButton)
    ws.runner.wait()
    QApplication.processEvents()
    assert ws.explain.last is not None, ws.status.text()
    return ws.explain.last


@pytest.mark.slow
def test_a_sequence_run_is_explained_per_token_at_the_chosen_position(seq_ws, qtbot):
    tab = seq_ws.explain
    assert tab.form.isRowVisible(tab.position) and tab.position.value() == LENGTH - 1  # default: the last
    assert "at each of 6 positions" in seq_ws.header.text()
    assert tab.method.currentData() == "ig"
    gradcam = tab.method.findData("gradcam")
    assert not tab.method.model().item(gradcam).isEnabled()  # needs real-valued inputs
    tab.sample.setValue(2)
    r = _explain(seq_ws, qtbot)
    tokens = seq_ws.loaded.data.val_x[2].tolist()
    assert r["values"].shape == (LENGTH,) and r["tokens"] == [str(t) for t in tokens]
    assert r["delta"] < 1e-2 and "Convergence delta" in tab.info.text() and "position <b>5</b>" in tab.info.text()
    ticks = tab.bars.getAxis("bottom")._tickLevels[0]
    assert [label for _i, label in ticks] == [str(t) for t in tokens]  # the bars are labelled by token
    assert int(np.abs(r["values"]).argmax()) == 0  # reversal: the last output copies the first token
    tab.position.setValue(0)
    r = _explain(seq_ws, qtbot)
    assert r["position"] == 0 and int(np.abs(r["values"]).argmax()) == LENGTH - 1
    assert r["label"] == int(seq_ws.loaded.data.val_labels[2, 0])
    tab.method.setCurrentIndex(tab.method.findData("occlusion"))
    assert _explain(seq_ws, qtbot)["values"].shape == (LENGTH,)


@pytest.mark.slow
def test_the_attention_map_of_the_sample_sits_next_to_the_attributions(seq_ws, qtbot):
    tab = seq_ws.explain
    tab.sample.setValue(1)
    tab.position.setValue(3)
    r = _explain(seq_ws, qtbot)
    name, weights = r["attention"]
    assert name == "Output 'weights'" and weights.shape == (LENGTH, LENGTH)
    assert np.allclose(weights.sum(1), 1.0, atol=1e-4)  # each query's weights are shares of its attention
    m = tab.attention
    assert m.isVisible() and tab.bars.isVisible()
    token = str(int(seq_ws.loaded.data.val_x[1, 0]))
    assert m.rows[0] == f"0:{token}" and m.cols[0] == f"0:{token}" and m.marked == 3
    assert m.geometry().left() > tab.bars.geometry().right() - 1  # beside the bars, not under them
    image = m.grab().toImage()
    cell = m.cell_rect(3, int(weights[3].argmax())).center()
    weak = m.cell_rect(3, int(weights[3].argmin())).center()
    strong_px, weak_px = image.pixelColor(cell.toPoint()), image.pixelColor(weak.toPoint())
    assert strong_px.lightness() < weak_px.lightness()  # the strongest weight is the darkest cell
    seq_ws.resize(1280, 720)
    assert not seq_ws.grab().isNull()
    # a graph whose attention layer feeds no attention Output: the map is read from the layer itself
    seq_ws.loaded.attention = {}
    r2 = _explain(seq_ws, qtbot)
    layer, from_layer = r2["attention"]
    assert layer == "layer 'attention'" and np.allclose(from_layer, weights, atol=1e-6)
    assert m.isVisible() and "layer 'attention'" in m.toolTip()


@pytest.mark.slow
def test_the_attack_tab_is_off_for_token_inputs_with_the_reason(seq_ws):
    index = seq_ws.tabs.indexOf(seq_ws.attack)
    assert not seq_ws.attack.isEnabled()
    assert "token ids" in seq_ws.tabs.tabToolTip(index)


@pytest.mark.slow
def test_compress_measures_a_sequence_model_at_the_chosen_position_and_says_why_static_int8_fails(seq_ws, qtbot):
    tab = seq_ws.compress
    tab.sparsity.setValue(50)
    tab.finetune.setChecked(False)
    tab.quantize.setCurrentIndex(tab.quantize.findData("dynamic"))
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    seq_ws.runner.wait()
    assert tab.table.rowCount() == 3 and tab.rows[0].accuracy > 0.9  # accuracy at the last position
    tab.quantize.setCurrentIndex(tab.quantize.findData("static"))
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    seq_ws.runner.wait()
    assert "cannot quantize this model" in seq_ws.status.text() and tab.run_button.isEnabled()
