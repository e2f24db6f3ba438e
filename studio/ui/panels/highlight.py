"""Python syntax highlighting for the code view, with pygments tokens.

The whole text is lexed once when it is set (so multi-line strings are right); each block then
only looks up its precomputed spans. Colours follow the palette: a dark and a light set.
"""

from __future__ import annotations

from pygments.lexers import PythonLexer
from pygments.token import Comment, Keyword, Name, Number, Operator, String, Token, _TokenType
from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument

#: token kind -> (dark colour, light colour, bold, italic)
_STYLES: dict[_TokenType, tuple[str, str, bool, bool]] = {
    Keyword: ("#ff7b72", "#cf222e", False, False),
    Keyword.Constant: ("#79c0ff", "#0550ae", False, False),
    Name.Builtin: ("#ffa657", "#953800", False, False),
    Name.Builtin.Pseudo: ("#ffa657", "#953800", False, False),
    Name.Function: ("#d2a8ff", "#8250df", False, False),
    Name.Class: ("#d2a8ff", "#8250df", True, False),
    Name.Decorator: ("#d2a8ff", "#8250df", False, False),
    Name.Namespace: ("#ffa657", "#953800", False, False),
    String: ("#a5d6ff", "#0a3069", False, False),
    String.Doc: ("#8b949e", "#57606a", False, True),
    Number: ("#79c0ff", "#0550ae", False, False),
    Comment: ("#8b949e", "#6e7781", False, True),
    Operator.Word: ("#ff7b72", "#cf222e", False, False),
}


class PythonHighlighter(QSyntaxHighlighter):
    """Highlights the text given to :meth:`set_source` (call it instead of setPlainText)."""

    def __init__(self, document: QTextDocument, dark: bool = True) -> None:
        super().__init__(document)
        self._lexer = PythonLexer(stripnl=False, ensurenl=False)
        self._spans: list[list[tuple[int, int, QTextCharFormat]]] = []
        self._formats: dict[_TokenType, QTextCharFormat] = {}
        self.enabled = True
        self.set_dark(dark)

    def set_dark(self, dark: bool) -> None:
        self._formats = {}
        for kind, (dark_hex, light_hex, bold, italic) in _STYLES.items():
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(dark_hex if dark else light_hex))
            if bold:
                fmt.setFontWeight(QFont.Weight.Bold)
            fmt.setFontItalic(italic)
            self._formats[kind] = fmt

    def set_source(self, text: str, highlight: bool = True) -> None:
        """Lex ``text`` and put it into the document."""
        self.enabled = highlight
        self._spans = self._lex(text) if highlight else []
        self.document().setPlainText(text)  # triggers highlightBlock for every block

    def _format_for(self, kind: _TokenType) -> QTextCharFormat | None:
        while kind is not Token:
            fmt = self._formats.get(kind)
            if fmt is not None:
                return fmt
            kind = kind.parent
        return None

    def _lex(self, text: str) -> list[list[tuple[int, int, QTextCharFormat]]]:
        line_starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                line_starts.append(i + 1)
        spans: list[list[tuple[int, int, QTextCharFormat]]] = [[] for _ in line_starts]
        line = 0
        for index, kind, value in self._lexer.get_tokens_unprocessed(text):
            fmt = self._format_for(kind)
            if fmt is None or not value:
                continue
            end = index + len(value)
            while line + 1 < len(line_starts) and line_starts[line + 1] <= index:
                line += 1
            pos, row = index, line
            while pos < end:  # a token may span lines (docstrings)
                row_end = line_starts[row + 1] - 1 if row + 1 < len(line_starts) else len(text)
                stop = min(end, row_end)
                if stop > pos:
                    spans[row].append((pos - line_starts[row], stop - pos, fmt))
                pos = stop + 1
                row += 1
                if row >= len(line_starts):
                    break
        return spans

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt's name
        if not self.enabled:
            return
        number = self.currentBlock().blockNumber()
        if 0 <= number < len(self._spans):
            for start, length, fmt in self._spans[number]:
                self.setFormat(start, length, fmt)
