"""The layer palette: every registered node type, by category, searchable and draggable.

Dragging an entry carries its type id as ``application/x-nnstudio-node-type`` so the canvas can
drop it; double-clicking (or Enter) asks the window to add it at a sensible place. Blocks the user
saved (Graph > Save group as block) are listed first under "Saved blocks"; they drag as
``application/x-nnstudio-block`` carrying the block file's path.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.spec import NodeSpec
from studio.ui.document import Document
from studio.ui.panels._common import category_swatch, debouncer, is_dark

NODE_MIME = "application/x-nnstudio-node-type"
BLOCK_MIME = "application/x-nnstudio-block"
BLOCKS_CATEGORY = "Saved blocks"
_TYPE_ROLE = Qt.ItemDataRole.UserRole + 1
_BLOCK_ROLE = Qt.ItemDataRole.UserRole + 2  # the block file's path
_SEARCH_ROLE = Qt.ItemDataRole.UserRole + 3  # lower-case text a block entry matches on


def node_mime_data(type_id: str) -> QMimeData:
    """The payload of a palette drag: the node type id as UTF-8 under :data:`NODE_MIME`."""
    mime = QMimeData()
    mime.setData(NODE_MIME, type_id.encode("utf-8"))
    mime.setText(type_id)
    return mime


def type_id_from_mime(mime: QMimeData) -> str | None:
    """The type id a drop carries, or None when the drop is not a palette entry."""
    if not mime.hasFormat(NODE_MIME):
        return None
    return bytes(mime.data(NODE_MIME).data()).decode("utf-8", errors="replace") or None


def block_mime_data(path: str | Path) -> QMimeData:
    """The payload of a saved-block drag: the block file's path as UTF-8 under :data:`BLOCK_MIME`."""
    mime = QMimeData()
    mime.setData(BLOCK_MIME, str(path).encode("utf-8"))
    return mime


def block_path_from_mime(mime: QMimeData) -> str | None:
    """The block file a drop carries, or None when the drop is not a saved block."""
    if not mime.hasFormat(BLOCK_MIME):
        return None
    return bytes(mime.data(BLOCK_MIME).data()).decode("utf-8", errors="replace") or None


def spec_tooltip(spec: NodeSpec) -> str:
    """Rich tooltip: title, description, ports and type id."""
    ins = ", ".join(p.name + ("?" if p.optional else "") for p in spec.inputs) or "none"
    outs = ", ".join(p.name for p in spec.outputs) or "none"
    desc = spec.description or "No description."
    return (f"<b>{_esc(spec.title)}</b> <span style='opacity:0.7'>({_esc(spec.category)})</span>"
            f"<p>{_esc(desc)}</p><p>inputs: {_esc(ins)}<br>outputs: {_esc(outs)}<br>"
            f"<code>{_esc(spec.type_id)}</code></p>")


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _PaletteTree(QTreeWidget):
    """Tree whose leaf items drag as node types."""

    def mimeTypes(self) -> list[str]:  # noqa: N802 - Qt's name
        return [NODE_MIME, BLOCK_MIME]

    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:  # noqa: N802 - Qt's name
        for item in items:
            path = item.data(0, _BLOCK_ROLE)
            if path:
                return block_mime_data(path)
            type_id = item.data(0, _TYPE_ROLE)
            if type_id:
                return node_mime_data(type_id)
        return QMimeData()


class PalettePanel(QWidget):
    """Searchable, categorised list of node types (the registry as the user sees it)."""

    #: the user asked to add a node of this type (double-click / Enter)
    add_requested = Signal(str)
    #: the user asked to insert a saved block (its file path; double-click / Enter)
    block_requested = Signal(str)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.registry = document.registry
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Search layers…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.apply_filter)
        self.filter.returnPressed.connect(self._add_first_visible)
        self.filter.installEventFilter(self)

        self.tree = _PaletteTree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setIndentation(14)
        self.tree.setIconSize(QSize(12, 12))
        self.tree.setUniformRowHeights(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.itemActivated.connect(self._activated)
        self.tree.itemCollapsed.connect(self._remember_collapse)
        self.tree.itemExpanded.connect(self._remember_collapse)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree)
        self.empty = QLabel(self)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.hide()
        layout.addWidget(self.empty)
        self._collapsed: set[str] = set()
        #: where saved blocks are listed from (None: the user's blocks folder, studio.ui.blocks)
        self.blocks_folder: Path | None = None
        self._theme_timer = debouncer(self, 0, self.reload)
        #: node types an exercise hides from students (never listed, whatever the search)
        self.hidden_types: set[str] = set()
        self.reload()

    # -- building -----------------------------------------------------------------------------
    def reload(self) -> None:
        """Rebuild from the registry (call after new node types were registered)."""
        dark = is_dark(self)
        self.tree.clear()
        header_font = QFont(self.font())
        header_font.setBold(True)
        self._add_blocks(header_font, dark)
        for category, specs in self.registry.categories().items():
            head = QTreeWidgetItem([category])
            head.setFont(0, header_font)
            head.setIcon(0, category_swatch(category, dark))
            head.setFlags(Qt.ItemFlag.ItemIsEnabled)
            head.setData(0, Qt.ItemDataRole.UserRole, category)
            head.setToolTip(0, f"{category}: {len(specs)} node types")
            for spec in specs:
                entry = QTreeWidgetItem([spec.title])
                entry.setData(0, _TYPE_ROLE, spec.type_id)
                entry.setToolTip(0, spec_tooltip(spec))
                entry.setIcon(0, category_swatch(spec.category, dark, 10))
                entry.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                               | Qt.ItemFlag.ItemIsDragEnabled)
                head.addChild(entry)
            self.tree.addTopLevelItem(head)
            head.setExpanded(category not in self._collapsed)
        self.apply_filter(self.filter.text())

    def reload_blocks(self) -> None:
        """Re-read the saved blocks (after one was saved); the node types do not change."""
        self.reload()

    def _add_blocks(self, header_font: QFont, dark: bool) -> None:
        """The "Saved blocks" category (only when there are any): name and node count per block."""
        from studio.ui.blocks import list_blocks, load_block
        from studio.ui.clipboard import FragmentError

        try:
            paths = list_blocks(self.blocks_folder)
        except OSError:
            return
        if not paths:
            return
        head = QTreeWidgetItem([BLOCKS_CATEGORY])
        head.setFont(0, header_font)
        head.setIcon(0, category_swatch(BLOCKS_CATEGORY, dark))
        head.setFlags(Qt.ItemFlag.ItemIsEnabled)
        head.setData(0, Qt.ItemDataRole.UserRole, BLOCKS_CATEGORY)
        head.setToolTip(0, f"{len(paths)} block(s) saved with Graph > Save group as block")
        for path in paths:
            try:
                data = load_block(path)
            except FragmentError as exc:
                entry = QTreeWidgetItem([f"{path.stem} (unreadable)"])
                entry.setToolTip(0, _esc(str(exc)))
                entry.setFlags(Qt.ItemFlag.NoItemFlags)
                entry.setData(0, _SEARCH_ROLE, f"{path.stem} saved block".lower())
                head.addChild(entry)
                continue
            block = data.get("block") if isinstance(data.get("block"), dict) else {}
            name = str(block.get("name") or path.stem)
            nodes = [r for r in data.get("nodes", []) if isinstance(r, dict)]
            titles = []
            for record in nodes:
                spec = self.registry.find(str(record.get("type_id", "")))
                titles.append(spec.title if spec is not None else str(record.get("type_id", "?")))
            count = f"{len(nodes)} node{'s' if len(nodes) != 1 else ''}"
            entry = QTreeWidgetItem([f"{name}  ·  {count}"])
            entry.setData(0, _BLOCK_ROLE, str(path))
            entry.setData(0, _SEARCH_ROLE, f"{name} saved block {' '.join(titles)}".lower())
            entry.setToolTip(0, f"<b>{_esc(name)}</b> <span style='opacity:0.7'>(saved block, {count})</span>"
                             f"<p>{_esc(' → '.join(titles[:12]))}{' …' if len(titles) > 12 else ''}</p>"
                             "<p>Drag onto the canvas or double-click to insert it.</p>")
            entry.setIcon(0, category_swatch(BLOCKS_CATEGORY, dark, 10))
            entry.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
            head.addChild(entry)
        self.tree.addTopLevelItem(head)
        head.setExpanded(BLOCKS_CATEGORY not in self._collapsed)

    def _remember_collapse(self, item: QTreeWidgetItem) -> None:
        if self.filter.text().strip():
            return  # expansion while filtering is automatic, not the user's choice
        category = item.data(0, Qt.ItemDataRole.UserRole)
        if item.isExpanded():
            self._collapsed.discard(category)
        else:
            self._collapsed.add(category)

    # -- filtering ----------------------------------------------------------------------------
    def apply_filter(self, text: str) -> None:
        """Show only entries matching every word of ``text`` (title, id, category, tags, description)."""
        words = text.lower().split()
        hits = {s.type_id for s in self.registry.search(text)} if words else None
        for i in range(self.tree.topLevelItemCount()):
            head = self.tree.topLevelItem(i)
            shown = 0
            for j in range(head.childCount()):
                entry = head.child(j)
                type_id = entry.data(0, _TYPE_ROLE)
                block_text = entry.data(0, _SEARCH_ROLE)
                if block_text is not None:
                    match = all(w in block_text for w in words)
                else:
                    match = hits is None or type_id in hits or self._description_matches(type_id, words)
                    match = match and type_id not in self.hidden_types
                entry.setHidden(not match)
                shown += match
            head.setHidden(shown == 0)
            category = head.data(0, Qt.ItemDataRole.UserRole)
            self.tree.blockSignals(True)
            head.setExpanded(bool(words) or category not in self._collapsed)
            self.tree.blockSignals(False)
        nothing = bool(words) and not self.visible_type_ids() and not self.visible_blocks()
        self.empty.setText(f"No layer matches “{text.strip()}”." if nothing else "")
        self.empty.setVisible(nothing)

    def _description_matches(self, type_id: str, words: list[str]) -> bool:
        spec = self.registry.find(type_id)
        if spec is None:
            return False
        hay = f"{spec.title} {spec.type_id} {spec.category} {' '.join(spec.tags)} {spec.description}".lower()
        return all(w in hay for w in words)

    def visible_type_ids(self) -> list[str]:
        """Type ids currently listed (in display order)."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            head = self.tree.topLevelItem(i)
            if head.isHidden():
                continue
            for j in range(head.childCount()):
                entry = head.child(j)
                if not entry.isHidden() and entry.data(0, _TYPE_ROLE):
                    out.append(entry.data(0, _TYPE_ROLE))
        return out

    def visible_blocks(self) -> list[str]:
        """File paths of the saved blocks currently listed (in display order)."""
        return [entry.data(0, _BLOCK_ROLE) for entry in self._block_entries()
                if not entry.isHidden() and not entry.parent().isHidden()]

    def _block_entries(self) -> list[QTreeWidgetItem]:
        for i in range(self.tree.topLevelItemCount()):
            head = self.tree.topLevelItem(i)
            if head.data(0, Qt.ItemDataRole.UserRole) == BLOCKS_CATEGORY:
                return [head.child(j) for j in range(head.childCount()) if head.child(j).data(0, _BLOCK_ROLE)]
        return []

    def block_item(self, name_or_path: str) -> QTreeWidgetItem | None:
        """The palette entry of a saved block, by its file path, file stem or shown name."""
        for entry in self._block_entries():
            path = entry.data(0, _BLOCK_ROLE)
            if name_or_path in (path, Path(path).stem) or entry.text(0).split("  ·  ")[0] == name_or_path:
                return entry
        return None

    def item_for(self, type_id: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            head = self.tree.topLevelItem(i)
            for j in range(head.childCount()):
                if head.child(j).data(0, _TYPE_ROLE) == type_id:
                    return head.child(j)
        return None

    def mime_data(self, type_id: str) -> QMimeData:
        """The QMimeData a drag of ``type_id`` carries (what the tree hands to QDrag)."""
        item = self.item_for(type_id)
        if item is None:
            raise KeyError(f"palette has no entry for node type {type_id!r}")
        return self.tree.mimeData([item])

    # -- activation ---------------------------------------------------------------------------
    def _activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        type_id = item.data(0, _TYPE_ROLE)
        if type_id:
            self.add_requested.emit(type_id)
        elif item.data(0, _BLOCK_ROLE):
            self.block_requested.emit(item.data(0, _BLOCK_ROLE))

    def _add_first_visible(self) -> None:
        visible = self.visible_type_ids()
        if visible:
            self.add_requested.emit(visible[0])
        elif self.visible_blocks():
            self.block_requested.emit(self.visible_blocks()[0])

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            # swatches differ between dark and light; rebuilding inside the app-wide palette
            # propagation would delete items Qt is still visiting, so do it right after
            self._theme_timer.start()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        """Down arrow in the search box moves into the list; Esc clears the search."""
        if watched is self.filter and isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress:
            if event.key() == Qt.Key.Key_Escape and self.filter.text():
                self.filter.clear()
                return True
            if event.key() == Qt.Key.Key_Down:
                visible = self.visible_type_ids()
                first = self.item_for(visible[0]) if visible else None
                if first is None and self.visible_blocks():  # only saved blocks match
                    first = self.block_item(self.visible_blocks()[0])
                if first is not None:
                    self.tree.setCurrentItem(first)
                    self.tree.setFocus()
                return True
        return super().eventFilter(watched, event)
