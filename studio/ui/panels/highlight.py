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


#: per line: (column, length, token type); plain data, so it can be computed off the GUI thread
Spans = list[list[tuple[int, int, _TokenType]]]


def lex_python(text: str) -> Spans:
    """Token spans of ``text`` per line (tokens that span lines are split at line ends)."""
    line_starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            line_starts.append(i + 1)
    spans: Spans = [[] for _ in line_starts]
    line = 0
    for index, kind, value in PythonLexer(stripnl=False, ensurenl=False).get_tokens_unprocessed(text):
        if not value or kind in Token.Text or kind is Token.Name or kind is Token.Punctuation or kind is Token.Operator:
            continue
        end = index + len(value)
        while line + 1 < len(line_starts) and line_starts[line + 1] <= index:
            line += 1
        pos, row = index, line
        while pos < end and row < len(line_starts):  # a token may span lines (docstrings)
            row_end = line_starts[row + 1] - 1 if row + 1 < len(line_starts) else len(text)
            stop = min(end, row_end)
            if stop > pos:
                spans[row].append((pos - line_starts[row], stop - pos, kind))
            pos = max(stop + 1, line_starts[row + 1] if row + 1 < len(line_starts) else end)
            row += 1
    return spans


class PythonHighlighter(QSyntaxHighlighter):
    """Highlights the text given to :meth:`set_source` (call it instead of setPlainText)."""

    def __init__(self, document: QTextDocument, dark: bool = True) -> None:
        super().__init__(document)
        self._spans: Spans = []
        self._formats: dict[_TokenType, QTextCharFormat] = {}
        self.enabled = True
        self.set_dark(dark)

    def set_dark(self, dark: bool) -> None:
        self._formats = {}
        self._resolved: dict[_TokenType, QTextCharFormat | None] = {}
        for kind, (dark_hex, light_hex, bold, italic) in _STYLES.items():
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(dark_hex if dark else light_hex))
            if bold:
                fmt.setFontWeight(QFont.Weight.Bold)
            fmt.setFontItalic(italic)
            self._formats[kind] = fmt

    def set_source(self, text: str, highlight: bool = True, spans: Spans | None = None) -> None:
        """Put ``text`` into the document, highlighted from ``spans`` (lexed here when not given)."""
        self.enabled = highlight
        if highlight and spans is None:
            spans = lex_python(text)
        self._spans = spans or []
        self.document().setPlainText(text)  # triggers highlightBlock for every block

    def _format_for(self, kind: _TokenType) -> QTextCharFormat | None:
        original = kind
        if kind in self._resolved:
            return self._resolved[kind]
        fmt = None
        while kind is not Token:
            fmt = self._formats.get(kind)
            if fmt is not None:
                break
            kind = kind.parent
        self._resolved[original] = fmt
        return fmt

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt's name
        if not self.enabled:
            return
        number = self.currentBlock().blockNumber()
        if 0 <= number < len(self._spans):
            for start, length, kind in self._spans[number]:
                fmt = self._format_for(kind)
                if fmt is not None:
                    self.setFormat(start, length, fmt)
