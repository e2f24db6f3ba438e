from PySide6.QtCore import QPoint, Qt

from studio.ui.panels.quick_add import QuickAddPopup


def test_type_and_enter_chooses(qtbot, panel_registry):
    popup = QuickAddPopup(panel_registry)
    qtbot.addWidget(popup)
    popup.popup_at(QPoint(100, 100))
    assert popup.isVisible()
    qtbot.keyClicks(popup.search, "lstm")
    expected = panel_registry.search("lstm")[0].type_id
    assert popup.current_type_id() == expected
    with qtbot.waitSignal(popup.chosen) as blocker:
        qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    assert blocker.args == [expected]
    assert not popup.isVisible()


def test_arrows_move_and_escape_closes(qtbot, panel_registry):
    popup = QuickAddPopup(panel_registry)
    qtbot.addWidget(popup)
    popup.popup_at(QPoint(10, 10))
    ids = popup.result_ids()
    assert len(ids) == len(panel_registry)
    qtbot.keyClick(popup.search, Qt.Key.Key_Down)
    qtbot.keyClick(popup.search, Qt.Key.Key_Down)
    qtbot.keyClick(popup.search, Qt.Key.Key_Up)
    assert popup.current_type_id() == ids[1]
    with qtbot.assertNotEmitted(popup.chosen):
        qtbot.keyClick(popup.search, Qt.Key.Key_Escape)
    assert not popup.isVisible()


def test_no_match_shows_message(qtbot, panel_registry):
    popup = QuickAddPopup(panel_registry)
    qtbot.addWidget(popup)
    popup.popup_at(QPoint(0, 0))
    qtbot.keyClicks(popup.search, "zzzqqq")
    assert popup.result_ids() == []
    assert "zzzqqq" in popup.description.text()
    with qtbot.assertNotEmitted(popup.chosen):
        qtbot.keyClick(popup.search, Qt.Key.Key_Return)


def test_parented_popup_frees_itself_after_use(qtbot, panel_registry):
    from PySide6.QtWidgets import QWidget

    host = QWidget()
    qtbot.addWidget(host)
    popup = QuickAddPopup(panel_registry, host)
    popup.popup_at(QPoint(0, 0))
    gone = []
    popup.destroyed.connect(lambda: gone.append(True))
    qtbot.keyClicks(popup.search, "relu")
    with qtbot.waitSignal(popup.chosen):
        qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(gone), timeout=2000)
