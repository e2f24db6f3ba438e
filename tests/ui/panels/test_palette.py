from PySide6.QtCore import Qt

from studio.ui.panels.palette import NODE_MIME, PalettePanel, type_id_from_mime


def test_filter_finds_conv_entries(qtbot, document):
    panel = PalettePanel(document)
    qtbot.addWidget(panel)
    all_ids = panel.visible_type_ids()
    assert len(all_ids) == len(document.registry)
    qtbot.keyClicks(panel.filter, "conv")
    shown = panel.visible_type_ids()
    assert shown, "no conv entry listed"
    assert len(shown) < len(all_ids)
    for type_id in shown:
        spec = document.registry.get(type_id)
        hay = f"{spec.title} {spec.type_id} {spec.category} {' '.join(spec.tags)} {spec.description}".lower()
        assert "conv" in hay
    panel.filter.clear()
    assert panel.visible_type_ids() == all_ids
    qtbot.keyClicks(panel.filter, "qqzzx")
    assert panel.visible_type_ids() == [] and "qqzzx" in panel.empty.text()
    qtbot.keyClick(panel.filter, Qt.Key.Key_Escape)
    assert panel.filter.text() == "" and panel.visible_type_ids() == all_ids


def test_drag_mime_carries_type_id(qtbot, document):
    panel = PalettePanel(document)
    qtbot.addWidget(panel)
    mime = panel.mime_data("nn.linear")
    assert mime.hasFormat(NODE_MIME)
    assert bytes(mime.data(NODE_MIME).data()).decode("utf-8") == "nn.linear"
    assert type_id_from_mime(mime) == "nn.linear"


def test_double_click_and_enter_request_add(qtbot, document):
    panel = PalettePanel(document)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.add_requested) as blocker:
        panel.tree.itemActivated.emit(panel.item_for("nn.relu"), 0)
    assert blocker.args == ["nn.relu"]
    qtbot.keyClicks(panel.filter, "linear")
    with qtbot.waitSignal(panel.add_requested) as blocker:
        qtbot.keyClick(panel.filter, Qt.Key.Key_Return)
    assert blocker.args == [panel.visible_type_ids()[0]]


def test_categories_collapse_and_hide_when_empty(qtbot, document):
    panel = PalettePanel(document)
    qtbot.addWidget(panel)
    heads = [panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())]
    assert [h.text(0) for h in heads] == list(document.registry.categories())
    heads[0].setExpanded(False)
    qtbot.keyClicks(panel.filter, "relu")
    visible_heads = [h.text(0) for h in heads if not h.isHidden()]
    assert visible_heads == ["Activation"]
    panel.filter.clear()
    assert not heads[0].isExpanded()  # the user's collapse survives a search
