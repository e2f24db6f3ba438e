"""The explanation panel: what a template's architecture is, why it is wired so, what to watch, what to try.

Templates keep that text in ``project.meta["explanation"]`` as plain paragraphs separated by blank
lines, most starting with a label ("What it is:", "Why it is wired this way:", "What to watch:",
"Try:"). :func:`explanation_html` turns it into headings and paragraphs (the "Try" section into a
bullet list of its alternatives) so a class can read it at a glance; the template's stages are listed
with the names the Training panel's Stage choice uses. Projects without an explanation get a short
empty state. :func:`install_explanation` docks the panel beside the Inspector and raises it whenever
a template is opened.
"""

from __future__ import annotations

import html
import re

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QTextBrowser, QVBoxLayout, QWidget

from studio.io.stages import stage_label, stages

LABEL = re.compile(r"^([A-Z][A-Za-z0-9 ,'/()-]{1,40}):\s+(.*)$", re.S)
QUOTED = re.compile(r"'([A-Za-z0-9_.\-]+)'")
EMPTY_TEXT = ("This project has no explanation.\n\nTemplates (File > Templates…) come with one: what the "
              "architecture is, why it is wired this way, what to watch while it trains and one thing to try.")


def _inline(text: str) -> str:
    """Escaped text with 'names' in a monospace font (dataset, node and graph names)."""
    return QUOTED.sub(r"<code>\1</code>", html.escape(" ".join(text.split()), quote=False))


def _try_items(body: str) -> list[str]:
    """The alternatives of a "Try" paragraph, one per bullet ("…; or …", "… . Or …")."""
    parts = re.split(r";\s+or\s+|\.\s+Or\s+", body)
    return [p.strip().rstrip(".;") for p in parts if p.strip()]


def paragraphs(text: str) -> list[tuple[str, str]]:
    """``(label, body)`` per blank-line-separated paragraph; label is "" when the paragraph has none."""
    out = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        chunk = " ".join(chunk.split())
        if not chunk:
            continue
        m = LABEL.match(chunk)
        if m:  # "Try: set ..." -> ("Try", "Set ..."): the body reads as a sentence under its heading
            body = m.group(2)
            if re.match(r"[a-z]+ (?!=)", body):  # a plain word, not an identifier or "name = value"
                body = body[:1].upper() + body[1:]
            out.append((m.group(1), body))
        else:
            out.append(("", chunk))
    return out


def explanation_html(title: str, description: str, explanation: str, stage_rows: list[tuple[str, str]],
                     dark: bool) -> str:
    """The panel's rich text: title, one-line description, labelled sections, stages."""
    accent, dim, code_bg = ("#7cb7ff", "#a8aebb", "#2b2f36") if dark else ("#1d4ed8", "#5c626e", "#eceef2")
    parts = [f"<style>h2 {{ margin: 0 0 2px 0; }} h3 {{ color: {accent}; margin: 12px 0 3px 0; }}"
             f" p {{ margin: 0 0 4px 0; }} ul {{ margin: 0 0 4px 0; }}"
             f" code {{ background: {code_bg}; font-family: monospace; }}"
             f" .dim {{ color: {dim}; }}</style>"]
    if title:
        parts.append(f"<h2>{html.escape(title)}</h2>")
    if description:
        parts.append(f"<p class='dim'><i>{_inline(description)}</i></p>")
    for label, body in paragraphs(explanation):
        if label:
            parts.append(f"<h3>{html.escape(label)}</h3>")
        items = _try_items(body) if label.lower().startswith("try") else [body]
        if len(items) > 1:
            parts.append("<ul>" + "".join(f"<li>{_inline(i)}.</li>" for i in items) + "</ul>")
        else:
            parts.append(f"<p>{_inline(body)}</p>")
    if stage_rows:
        parts.append("<h3>Stages</h3><p class='dim'>Training panel &gt; Stage trains one of these variants; "
                     "their runs overlay on the Curves tab.</p><ul>")
        for label, about in stage_rows:
            parts.append(f"<li><b>{html.escape(label)}</b>" + (f" — {_inline(about)}" if about else "") + "</li>")
        parts.append("</ul>")
    return "".join(parts)


class ExplanationPanel(QWidget):
    """Shows the open project's ``meta.title`` and ``meta.explanation``; follows project replacement."""

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(False)
        self.browser.setReadOnly(True)
        self.browser.document().setDocumentMargin(10)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.browser)
        document.project_replaced.connect(self.refresh)
        self.refresh()

    @property
    def has_explanation(self) -> bool:
        meta = self.document.project.meta
        return isinstance(meta, dict) and bool(str(meta.get("explanation") or "").strip())

    def refresh(self) -> None:
        """Render the current project's explanation (or the empty state)."""
        project = self.document.project
        meta = project.meta if isinstance(project.meta, dict) else {}
        if not self.has_explanation:
            self.browser.setPlainText(EMPTY_TEXT)
            return
        rows = [(stage_label(project, name), str(spec.get("about") or "")) for name, spec in stages(project).items()]
        dark = self.palette().color(QPalette.ColorRole.Base).lightness() < 128
        self.browser.setHtml(explanation_html(str(meta.get("title") or project.name),
                                              str(meta.get("description") or ""),
                                              str(meta.get("explanation") or ""), rows, dark))
        self.browser.verticalScrollBar().setValue(0)

    def text(self) -> str:
        """What the panel shows, as plain text (tests, accessibility)."""
        return self.browser.toPlainText()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "browser"):  # theme switch: new colours
            self.refresh()


def install_explanation(window) -> ExplanationPanel:
    """Dock an ExplanationPanel in ``window`` (tabified with the Inspector); raise it when a template opens."""
    panel = ExplanationPanel(window.document)
    anchor = next((window.docks[k] for k in ("code", "summary", "inspector") if k in window.docks), None)
    dock = window.add_panel_dock("explanation", "Explanation", panel, Qt.DockWidgetArea.RightDockWidgetArea,
                                 tabify_with=anchor)
    for action in window.menuBar().actions():  # View menu: a toggle like the other docks
        if action.menu() is not None and action.text().replace("&", "") == "View":
            action.menu().addAction(dock.toggleViewAction())

    def raise_if_template() -> None:
        if panel.has_explanation:
            dock.show()
            dock.raise_()

    window.document.project_replaced.connect(raise_if_template)
    raise_if_template()
    if not panel.has_explanation and "inspector" in window.docks:
        window.docks["inspector"].raise_()  # tabifying made the new dock current; ordinary projects keep the Inspector
    window.explanation_dock = dock
    return panel
