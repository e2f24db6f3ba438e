"""The installed PySide6 must not leak references to None/True (PySide6 6.12.0 on CPython 3.11 did:
every void call and every emit lost one, and a long training session aborted the interpreter)."""

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget


class _Source(QObject):
    changed = Signal(object)


def test_void_calls_and_emits_keep_none_and_true_alive(qtbot):
    source, widget = _Source(), QWidget()
    qtbot.addWidget(widget)
    source.changed.connect(lambda _value: None)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(2_000):
        source.changed.emit(None)
        widget.update()
    assert sys.getrefcount(None) >= none_before - 50
    assert sys.getrefcount(True) >= true_before - 50
