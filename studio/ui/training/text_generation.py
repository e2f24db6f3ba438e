"""The Generated text view: what a character model writes while it trains, with a temperature slider.

The engine samples a continuation of one held-out prompt at every temperature stop
(:mod:`studio.train.text_sampling`), so the slider switches between texts at once without asking
the running model again. The prompt is shown dimmed, the model's own characters in full colour.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QTextBrowser, QVBoxLayout, QWidget

HINT = "low: the likeliest characters (safe, repetitive) · 1.0: the model as it is · high: inventive, then garbled"


class TextGeneration(QWidget):
    """A prompt and the model's continuation at the temperature the slider picks."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.payload: dict[str, Any] | None = None
        self._chosen: float | None = None  # the user's temperature; kept across new samples
        self.title = QLabel("Text the model writes: a held-out prompt (dimmed), then its own characters")
        self.title.setWordWrap(True)
        self.text = QTextBrowser()
        self.text.setOpenLinks(False)
        mono = QFont()  # only the family is set: the size follows the UI scale (presentation mode)
        mono.setFamilies(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).families())
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.text.setFont(mono)
        self.text.setLineWrapMode(QTextBrowser.LineWrapMode.WidgetWidth)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setToolTip("Sampling temperature: the scores are divided by it before the softmax. " + HINT)
        self.slider.setAccessibleName("Temperature")
        self.value = QLabel("Temperature —")
        self.value.setMinimumWidth(self.value.fontMetrics().horizontalAdvance("Temperature 0.00 "))
        self.hint = QLabel(HINT)
        self.hint.setWordWrap(True)
        small = QFont(self.hint.font())
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.9))
        self.hint.setFont(small)
        self.status = QLabel("")
        self.status.setFont(small)
        row = QHBoxLayout()
        row.addWidget(self.value)
        row.addWidget(self.slider, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.title)
        lay.addWidget(self.text, 1)
        lay.addLayout(row)
        lay.addWidget(self.hint)
        lay.addWidget(self.status)
        self.slider.valueChanged.connect(self._moved)

    # -- feeding ---------------------------------------------------------------------------------
    def set_payload(self, d: dict[str, Any], step: int | None = None) -> None:
        """A new sample from the engine: the same prompt, one continuation per temperature stop."""
        self.payload = d
        temps = [float(t) for t in d.get("temperatures") or []]
        if not temps:
            return
        wanted = self._chosen if self._chosen is not None else float(d.get("default", 1.0))
        index = min(range(len(temps)), key=lambda i: abs(temps[i] - wanted))
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(temps) - 1)
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        written = int(d.get("written", 0))
        where = f" at step {step:,}" if step else ""
        self.status.setText(f"Sample {written} of this run{where}; a new one every epoch" if written
                            else f"Sampled{where}")
        self._render()

    def temperature(self) -> float | None:
        temps = (self.payload or {}).get("temperatures") or []
        return float(temps[self.slider.value()]) if temps else None

    def shown_text(self) -> str:
        """The continuation on screen (without the prompt)."""
        d = self.payload or {}
        texts = d.get("texts") or []
        return str(texts[self.slider.value()]) if texts else ""

    def _moved(self, _value: int) -> None:
        self._chosen = self.temperature()
        self._render()

    def _render(self) -> None:
        d = self.payload or {}
        t = self.temperature()
        self.value.setText(f"Temperature {t:.2f}" if t is not None else "Temperature —")
        pal = self.palette()
        dim, ink = pal.placeholderText().color().name(), pal.text().color().name()
        prompt, text = html.escape(str(d.get("prompt", ""))), html.escape(self.shown_text())
        self.text.setHtml(f'<pre style="white-space: pre-wrap; margin: 0"><span style="color: {dim}">{prompt}</span>'
                          f'<span style="color: {ink}; font-weight: 600">{text}</span></pre>')

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange and self.payload is not None:
            self._render()  # the theme changed: dimmed and full colours follow it
