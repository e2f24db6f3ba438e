"""One editor row per :class:`~studio.core.spec.ParamSpec`, generated from its kind.

A row only parses what the user types and says what it would like to store (``edited``) or why
the text is not a value at all (``refused``); the inspector checks the value against the spec
and pushes it. Rows never touch the project themselves.
"""

from __future__ import annotations

import math
import re
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.spec import ParamSpec
from studio.ui.panels._common import debouncer, dim_color, error_color, first_sentence

_INT_MIN, _INT_MAX = -(2**31) + 1, 2**31 - 1
_FLOAT_LIMIT = 1e15
_SPLIT = re.compile(r"[,\s×xX*]+")


def format_value(kind: str, value: Any) -> str:
    """How a stored value reads in a text field."""
    if value is None:
        return ""
    if kind in ("ints", "floats") and isinstance(value, list | tuple):
        return ", ".join(format_value("float" if kind == "floats" else "int", v) for v in value)
    if kind == "float" and isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def parse_list(spec: ParamSpec, text: str) -> list[int] | list[float]:
    """Parse "1, 28, 28" (commas, spaces or × between numbers); ParamError-like ValueError says why."""
    parts = [p for p in _SPLIT.split(text.strip()) if p]
    out: list = []
    for part in parts:
        try:
            out.append(int(part) if spec.kind == "ints" else float(part))
        except ValueError:
            what = "whole numbers" if spec.kind == "ints" else "numbers"
            raise ValueError(f"'{spec.name}' must be a list of {what} like 1, 28, 28; "
                             f"'{part}' is not one") from None
    return out


class _IntSpin(QSpinBox):
    """A spin box that lets out-of-range numbers be typed, so the reason can be shown."""

    def validate(self, text: str, pos: int):  # noqa: D102 - Qt's override
        state = super().validate(text, pos)
        if _state(state) != QValidator.State.Acceptable:
            try:
                int(text.strip())
            except ValueError:
                return state
            return (QValidator.State.Intermediate, text, pos)
        return state


class _FloatSpin(QDoubleSpinBox):
    """Shows floats compactly (1e-05, 0.001, 3.5) instead of a fixed number of decimals."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(12)
        self.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt's name
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt's name
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):  # noqa: D102 - Qt's override
        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            if stripped in ("", "-", "+", ".", "-.") or re.fullmatch(r"[-+]?\d*\.?\d*[eE][-+]?", stripped):
                return (QValidator.State.Intermediate, text, pos)
            return (QValidator.State.Invalid, text, pos)
        if math.isfinite(value) and self.minimum() <= value <= self.maximum():
            return (QValidator.State.Acceptable, text, pos)
        return (QValidator.State.Intermediate, text, pos)

    def fixup(self, text: str) -> str:
        return self.textFromValue(self.value())


def _state(result) -> QValidator.State:
    return result[0] if isinstance(result, tuple) else result


class ParamEditor(QWidget):
    """Field (+ auto/none toggle), a caption from the help text and an inline problem line."""

    #: a parsed value the user wants stored (None: back to auto / unset), and whether it comes
    #: from typing/stepping (merges with the previous edit of this field) or is a discrete choice
    edited = Signal(object, bool)
    #: the text is not a value of this kind; the message says why
    refused = Signal(str)
    #: editing ended (focus left / Enter)
    finished = Signal()

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self._setting = False
        self._stored: Any = None
        self._resolved: Any = None
        self.field = self._make_field()
        self.field.setToolTip(spec.help)
        self.field.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.toggle: QCheckBox | None = None
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(4)
        top.addWidget(self.field, 1)
        if spec.inferable or spec.optional:
            self.toggle = QCheckBox("auto" if spec.inferable else "none", self)
            self.toggle.setToolTip("Inferred from the incoming shape; click to type your own value."
                                   if spec.inferable else "Not set (None); click to give a value.")
            self.toggle.toggled.connect(self._toggled)
            top.addWidget(self.toggle)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        layout.addLayout(top)
        self.caption = QLabel(first_sentence(spec.help), self)
        self.caption.setToolTip(spec.help)
        self.caption.setWordWrap(True)
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.85))
        self.caption.setFont(small)
        self.caption.setVisible(bool(spec.help))
        self.problem = QLabel(self)
        self.problem.setWordWrap(True)
        self.problem.setFont(small)
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem.hide()
        layout.addWidget(self.caption)
        layout.addWidget(self.problem)
        self._theme_timer = debouncer(self, 0, self._recolour)
        self._recolour()

    # -- construction -------------------------------------------------------------------------
    def _make_field(self) -> QWidget:
        spec, kind = self.spec, self.spec.kind
        if kind == "int":
            box = _IntSpin(self)
            lo = _INT_MIN if spec.minimum is None else max(_INT_MIN, int(math.ceil(spec.minimum)))
            hi = _INT_MAX if spec.maximum is None else min(_INT_MAX, int(math.floor(spec.maximum)))
            box.setRange(lo, hi)
            box.setKeyboardTracking(True)
            box.valueChanged.connect(self._spin_changed)
            box.lineEdit().textEdited.connect(self._spin_text)
            box.editingFinished.connect(self.finished)
            return box
        if kind == "float":
            box = _FloatSpin(self)
            lo = -_FLOAT_LIMIT if spec.minimum is None else float(spec.minimum)
            hi = _FLOAT_LIMIT if spec.maximum is None else float(spec.maximum)
            box.setRange(lo, hi)
            box.valueChanged.connect(self._spin_changed)
            box.lineEdit().textEdited.connect(self._spin_text)
            box.editingFinished.connect(self.finished)
            return box
        if kind == "bool":
            check = QCheckBox(self)
            check.toggled.connect(lambda on: None if self._setting else self.edited.emit(bool(on), False))
            return check
        if kind == "choice":
            combo = QComboBox(self)
            for choice in spec.choices:
                combo.addItem(str(choice), choice)
            combo.currentIndexChanged.connect(self._combo_changed)
            return combo
        line = QLineEdit(self)
        if kind in ("ints", "floats"):
            line.setPlaceholderText("e.g. 1, 28, 28" if kind == "ints" else "e.g. 0.5, 0.5")
        line.textEdited.connect(self._line_edited)
        line.editingFinished.connect(self.finished)
        return line

    # -- user input ---------------------------------------------------------------------------
    def _spin_changed(self, value: float) -> None:
        if not self._setting and not self._is_auto():
            self.edited.emit(int(value) if self.spec.kind == "int" else float(value), True)

    def _spin_text(self, text: str) -> None:
        """Out-of-range numbers never reach valueChanged; hand them on so the reason shows."""
        if self._setting:
            return
        box = self.field
        stripped = text.strip()
        if not stripped:
            return
        try:
            value: float = int(stripped) if self.spec.kind == "int" else float(stripped)
        except ValueError:
            if self.spec.kind == "float" and _state(box.validate(text, 0)) == QValidator.State.Intermediate:
                return  # "1e" on the way to "1e-3"
            self.refused.emit(f"'{self.spec.name}' must be a {'whole ' if self.spec.kind == 'int' else ''}"
                              f"number, got '{stripped}'")
            return
        if not box.minimum() <= value <= box.maximum():
            self.edited.emit(value, True)

    def _combo_changed(self, index: int) -> None:
        if not self._setting and index >= 0:
            self.edited.emit(self.field.itemData(index), False)

    def _line_edited(self, text: str) -> None:
        if self._setting:
            return
        if self.spec.kind in ("ints", "floats"):
            if not text.strip() and (self.spec.optional or self.spec.inferable):
                self.edited.emit(None, True)
                return
            try:
                self.edited.emit(parse_list(self.spec, text), True)
            except ValueError as exc:
                self.refused.emit(str(exc))
            return
        self.edited.emit(text, True)

    def _toggled(self, on: bool) -> None:
        self._apply_toggle_look(on)
        if self._setting:
            return
        self.edited.emit(None if on else self._override_start(), False)

    def _override_start(self) -> Any:
        """The value a user starts from when leaving auto/none: the inferred one if known."""
        if self._resolved is not None:
            return list(self._resolved) if isinstance(self._resolved, tuple) else self._resolved
        if self.spec.default is not None:
            return self.spec.default
        if self.spec.kind in ("int", "float"):
            return type(0 if self.spec.kind == "int" else 0.0)(self.spec.minimum or 1)
        return {"bool": False, "choice": self.spec.choices[0] if self.spec.choices else "", "str": ""}.get(
            self.spec.kind, [])

    def _is_auto(self) -> bool:
        return self.toggle is not None and self.toggle.isChecked()

    # -- showing the model --------------------------------------------------------------------
    def set_state(self, stored: Any, resolved: Any = None, force: bool = False) -> None:
        """Show the stored value (None: auto/unset, showing ``resolved`` when known).

        While the user is typing in the field and a problem is shown, the text is left alone
        unless ``force`` is given (the typed text is what the problem is about).
        """
        self._stored, self._resolved = stored, resolved
        if not force and self.field.hasFocus() and not self.problem.isHidden():
            return
        self._setting = True
        try:
            auto = stored is None and self.toggle is not None
            if self.toggle is not None:
                self.toggle.setChecked(auto)
                self._apply_toggle_look(auto)
            shown = resolved if auto else stored
            self._show(shown, auto)
        finally:
            self._setting = False

    def _apply_toggle_look(self, auto: bool) -> None:
        self.field.setEnabled(not auto)

    def _show(self, value: Any, auto: bool) -> None:
        kind, field = self.spec.kind, self.field
        if kind in ("int", "float"):
            if auto and value is None:
                field.setSpecialValueText("auto" if self.spec.inferable else "none")
                field.setValue(field.minimum())
                return
            field.setSpecialValueText("")
            if value is None or (isinstance(value, float) and not math.isfinite(value)):
                return
            if field.value() != value or field.text().strip() != field.textFromValue(value):
                field.setValue(value)
        elif kind == "bool":
            field.setChecked(bool(value))
        elif kind == "choice":
            index = field.findData(value)
            if index >= 0:
                field.setCurrentIndex(index)
        else:
            text = format_value(kind, value)
            if auto:
                field.setPlaceholderText("auto" if self.spec.inferable else "none")
            if field.text() != text and not (field.hasFocus() and self._same_as_text(value)):
                field.setText(text)

    def _same_as_text(self, value: Any) -> bool:
        """True when the field's text already means ``value`` (keeps the cursor while typing)."""
        try:
            parsed = parse_list(self.spec, self.field.text()) if self.spec.kind in ("ints", "floats") \
                else self.field.text()
        except ValueError:
            return False
        return list(parsed) == list(value) if isinstance(value, list | tuple) else parsed == value

    def shown_text(self) -> str:
        field = self.field
        if isinstance(field, QSpinBox | QDoubleSpinBox | QLineEdit):
            return field.text()
        if isinstance(field, QCheckBox):
            return str(field.isChecked())
        if isinstance(field, QComboBox):
            return field.currentText()
        return ""  # pragma: no cover

    def show_problem(self, message: str | None) -> None:
        self.problem.setText(message or "")
        self.problem.setVisible(bool(message))

    def problem_text(self) -> str:
        return self.problem.text() if not self.problem.isHidden() else ""

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self._theme_timer.start()  # not while Qt is still propagating the change

    def _recolour(self) -> None:
        self.caption.setStyleSheet(f"color: {dim_color(self).name()};")
        self.problem.setStyleSheet(f"color: {error_color(self).name()};")
