"""Work around a reference-count bug of PySide6 6.12 on CPython 3.11.

Measured here: every call of a ``void`` Qt method from Python (``item.update()``,
``widget.update()``, ``setPen``, ``prepareGeometryChange`` … — pyqtgraph makes dozens per
redraw) takes one reference from ``None``, and every ``Signal.emit()`` takes one from ``True``.
CPython 3.12+ makes these objects immortal, but on 3.11 a long training session (a 30 Hz plot
redraw, thousands of signals) drives the count to zero and the interpreter aborts with
"deallocating None" / "deallocating True or False".

:func:`apply` probes once whether this PySide has the bug and, only then (CPython < 3.12, where
the count is a plain ``Py_ssize_t``), gives ``None``, ``True`` and ``False`` a large reserve of
references (2**40, about 10**12 — years of calls). These objects are never freed anyway, so the
extra references change nothing else. Nothing happens where PySide is fixed or CPython immortalises them.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

RESERVE = 2**40
_applied = False


class _Probe(QObject):
    ping = Signal()


def leaks() -> dict[str, int]:
    """References lost from None (one void call) and True (one emit); repaid before returning."""
    probe = _Probe()
    n0, t0 = sys.getrefcount(None), sys.getrefcount(True)
    probe.blockSignals(False)  # returns a bool: no None involved
    probe.deleteLater()  # void
    n1 = sys.getrefcount(None)
    probe.ping.emit()
    t1 = sys.getrefcount(True)
    lost = {"None": max(0, n0 - n1), "True": max(0, t0 - t1)}
    _add(None, lost["None"])
    _add(True, lost["True"])
    return lost


def _add(obj: object, count: int) -> None:
    if count:
        cell = ctypes.c_ssize_t.from_address(id(obj))
        cell.value += count


def apply() -> bool:
    """Give None/True/False a reserve of references if (and only if) this PySide leaks them."""
    global _applied
    if _applied:
        return True
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12) or hasattr(sys, "gettotalrefcount"):
        return False
    lost = leaks()
    if not any(lost.values()):
        return False
    for obj in (None, True, False):
        before = sys.getrefcount(obj)
        _add(obj, RESERVE)
        if sys.getrefcount(obj) != before + RESERVE:  # not the layout we expect: undo, do nothing
            _add(obj, -(sys.getrefcount(obj) - before))
            return False
    _applied = True
    return True
