"""Editing actions on the current canvas: each user action is one undo step (one op or one Batch).

The QActions carry the shortcuts; the methods are plain and are what the tests call.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from studio.core.layout import layered_layout
from studio.core.ops import Batch, MoveNodes, Operation, RemoveEdge, SetGroup, SetGroupState, remove_nodes
from studio.ui import clipboard
from studio.ui.arrange import wrapped_layout
from studio.ui.canvas.items import CollapsedGroupItem
from studio.ui.canvas.view import GraphView
from studio.ui.document import Document

PASTE_OFFSET = 40.0


class EditActions(QObject):
    """Delete, duplicate, copy/paste, group/ungroup/collapse, auto-layout, select all, fit and zoom."""

    message = Signal(str)
    #: a block was saved (the Insert saved block menu refreshes)
    blocks_changed = Signal()

    def __init__(self, document: Document, current_view: Callable[[], GraphView | None], parent: QWidget) -> None:
        super().__init__(parent)
        self.document = document
        self.current_view = current_view
        self.actions: dict[str, QAction] = {}
        # a refused edit (from any panel) says why in the status bar this object feeds
        document.refused.connect(self.message)
        S = QKeySequence.StandardKey  # noqa: N806 - short alias
        self._make("delete", "Delete", self.delete_selection, [QKeySequence("Delete"), QKeySequence("Backspace")],
                   "Delete the selected nodes and wires")
        self._make("duplicate", "Duplicate", self.duplicate, [QKeySequence("Ctrl+D")], "Duplicate the selection")
        self._make("copy", "Copy", self.copy, [QKeySequence(S.Copy)], "Copy the selection (pastes into any project)")
        self._make("cut", "Cut", self.cut, [QKeySequence(S.Cut)], "Cut the selection")
        self._make("paste", "Paste", self.paste, [QKeySequence(S.Paste)], "Paste nodes at the cursor")
        self._make("select_all", "Select all", self.select_all, [QKeySequence(S.SelectAll)], "Select every node")
        self._make("group", "Group", self.group, [QKeySequence("Ctrl+G")],
                   "Collapse the selection into one block (compiles to a submodule)")
        self._make("ungroup", "Ungroup", self.ungroup, [QKeySequence("Ctrl+Shift+G")], "Dissolve the selected groups")
        self._make("toggle_group", "Collapse / expand group", self.toggle_collapse, [QKeySequence("Ctrl+E")],
                   "Collapse or expand the selected group")
        self._make("save_block", "Save group as block", self.save_block, [],
                   "Keep the selected group for reuse in any project (Graph > Insert saved block)")
        self._make("layout", "Auto-layout", self.auto_layout, [QKeySequence("Ctrl+L")],
                   "Lay out the selection (or the whole graph) left to right")
        self._make("fit", "Fit to view", self.fit, [QKeySequence("F")], "Fit the graph (or selection) in the view")
        self._make("zoom_in", "Zoom in", lambda: self._zoom(1.25), [QKeySequence(S.ZoomIn), QKeySequence("Ctrl+=")],
                   "Zoom in")
        self._make("zoom_out", "Zoom out", lambda: self._zoom(0.8), [QKeySequence(S.ZoomOut)], "Zoom out")
        self._make("zoom_reset", "Actual size", self.zoom_reset, [QKeySequence("Ctrl+0")], "Zoom to 100 %")
        snap = self._make("snap", "Snap to grid", self.toggle_snap, [QKeySequence("Ctrl+Shift+S")][:0],
                          "Snap moved nodes to the grid")
        snap.setCheckable(True)
        snap.setChecked(True)

    def _make(self, key: str, text: str, slot: Callable[[], object], shortcuts: list[QKeySequence],
              tip: str) -> QAction:
        action = QAction(text, self.parent())
        action.setShortcuts(shortcuts)
        action.setStatusTip(tip)
        action.setToolTip(f"{text} ({shortcuts[0].toString(QKeySequence.SequenceFormat.NativeText)})"
                          if shortcuts else text)
        action.triggered.connect(lambda _checked=False: self._run(text, slot))
        self.actions[key] = action
        return action

    # -- helpers ---------------------------------------------------------------------------
    def _run(self, text: str, slot: Callable[[], object]) -> None:
        """Run an action from a menu or shortcut: an error is a status message, never a crash in Qt."""
        try:
            slot()
        except Exception as exc:  # noqa: BLE001 - a slot must not raise into Qt's C++
            self.message.emit(f"{text} failed: {' '.join(str(exc).split()) or type(exc).__name__}")

    def _scene(self):
        view = self.current_view()
        return None if view is None else view.graph_scene

    def _push(self, op: Operation | None) -> bool:
        """Push through the document (which checks the edit first); False when it was refused."""
        return op is not None and self.document.push(op)

    # -- actions ---------------------------------------------------------------------------
    def delete_selection(self) -> None:
        scene = self._scene()
        if scene is None:
            return
        graph = scene.graph
        nodes = scene.selected_node_ids()
        gone = set(nodes)
        edges = [e for e in scene.selected_edge_ids()
                 if e in graph.edges and graph.edges[e].src not in gone and graph.edges[e].dst not in gone]
        if not nodes and not edges:
            return
        ops: list[Operation] = [RemoveEdge(graph.id, e) for e in edges]
        if nodes:
            ops.extend(remove_nodes(graph, nodes).ops)
        self._push(Batch(ops, label=f"Delete {len(nodes)} node(s)" if nodes else "Delete wire"))
        self.message.emit(f"Deleted {len(nodes)} node(s), {len(edges)} wire(s)")

    def copy(self) -> bool:
        scene = self._scene()
        if scene is None or not scene.selected_node_ids():
            self.message.emit("Nothing selected to copy")
            return False
        clipboard.copy_to_clipboard(clipboard.fragment(scene.graph, scene.selected_node_ids()))
        self.message.emit(f"Copied {len(scene.selected_node_ids())} node(s)")
        return True

    def cut(self) -> None:
        if self.copy():
            self.delete_selection()

    def paste(self) -> list[str]:
        view = self.current_view()
        if view is None:
            return []
        try:
            data = clipboard.read_clipboard()
        except clipboard.FragmentError as exc:
            self.message.emit(f"Cannot paste: {exc}")
            return []
        return self._paste(view, data, top_left=None)

    def duplicate(self) -> list[str]:
        view = self.current_view()
        if view is None or not view.graph_scene.selected_node_ids():
            return []
        scene = view.graph_scene
        return self._paste(view, clipboard.fragment(scene.graph, scene.selected_node_ids()), top_left=None)

    def _paste(self, view: GraphView, data: dict, top_left) -> list[str]:
        scene = view.graph_scene
        op, ids, warnings = clipboard.paste_ops(scene.graph, self.document.registry, data,
                                                offset=(PASTE_OFFSET, PASTE_OFFSET), top_left=top_left)
        if op is not None and not self._push(op):
            return []
        if ids:
            scene.select_nodes(ids)
        note = f" ({'; '.join(warnings[:3])})" if warnings else ""
        self.message.emit(f"Pasted {len(ids)} node(s){note}")
        return ids

    def select_all(self) -> None:
        scene = self._scene()
        if scene is not None:
            scene.select_nodes(list(scene.graph.nodes))

    def group(self) -> str | None:
        """Put the selection into a new group, collapsed to one block; returns the group id."""
        scene = self._scene()
        if scene is None:
            return None
        ids = scene.selected_node_ids()
        if not ids:
            self.message.emit("Select the nodes to group first")
            return None
        group = clipboard.new_group(scene.graph)
        self._push(Batch([SetGroup(scene.graph_id, ids, group),
                          SetGroupState(scene.graph_id, group.id, collapsed=True, label="Collapse group")],
                         label="Group"))
        scene.select_nodes(ids)
        self.message.emit(f"Grouped {len(ids)} node(s) as '{group.name}' (double-click to expand)")
        return group.id

    def _selected_groups(self) -> list[str]:
        scene = self._scene()
        if scene is None:
            return []
        graph = scene.graph
        groups: list[str] = []
        for item in scene.selectedItems():
            gid = item.group_id if isinstance(item, CollapsedGroupItem) else None
            if gid is None and hasattr(item, "node_id") and item.node_id in graph.nodes:
                gid = graph.nodes[item.node_id].group
            if gid is not None and gid in graph.groups and gid not in groups:
                groups.append(gid)
        return groups

    def ungroup(self) -> None:
        scene = self._scene()
        groups = self._selected_groups()
        if scene is None or not groups:
            self.message.emit("Select a group to ungroup")
            return
        graph = scene.graph
        members = [n.id for n in graph.nodes.values() if n.group in groups]
        ops: list[Operation] = [SetGroupState(graph.id, g, collapsed=False, label="Expand group") for g in groups
                                if graph.groups[g].collapsed]
        ops.append(SetGroup(graph.id, members, None, label="Ungroup"))
        self._push(Batch(ops, label="Ungroup"))
        scene.select_nodes(members)

    def toggle_collapse(self) -> None:
        scene = self._scene()
        groups = self._selected_groups()
        if scene is None or not groups:
            self.message.emit("Select a group to collapse or expand")
            return
        graph = scene.graph
        collapse = not graph.groups[groups[0]].collapsed
        label = "Collapse group" if collapse else "Expand group"
        ops: list[Operation] = [SetGroupState(graph.id, g, collapsed=collapse, label=label) for g in groups]
        self._push(ops[0] if len(ops) == 1 else Batch(ops, label="Collapse groups" if collapse else "Expand groups"))

    def save_block(self) -> str | None:
        """Save the selected group as a reusable block (Graph > Insert saved block); returns its file path."""
        from studio.ui.blocks import save_block

        scene = self._scene()
        groups = self._selected_groups()
        if scene is None or not groups:
            self.message.emit("Select a group to save it as a block")
            return None
        path = save_block(scene.graph, groups[0])
        self.message.emit(f"Saved block '{scene.graph.groups[groups[0]].name}'")
        self.blocks_changed.emit()
        return str(path)

    def insert_block(self, path, at=None) -> list[str]:
        """Insert a saved block (one undo step): its top-left at scene point ``at`` (a drop), else mid-view."""
        from studio.ui.blocks import load_block

        view = self.current_view()
        if view is None:
            return []
        try:
            data = load_block(path)
        except clipboard.FragmentError as exc:
            self.message.emit(f"Cannot insert block: {exc}")
            return []
        if at is not None:
            return self._paste(view, data, top_left=(at.x(), at.y()))
        centre = view.mapToScene(view.viewport().rect().center())
        return self._paste(view, data, top_left=(centre.x() - 100, centre.y() - 50))

    def auto_layout(self) -> None:
        """Layered left-to-right layout of the selection (two or more nodes) or the whole graph."""
        view = self.current_view()
        if view is None:
            return
        scene = view.graph_scene
        graph = scene.graph
        selected = scene.selected_node_ids()
        ids = selected if len(selected) > 1 else None
        if ids is None:
            size = view.viewport().size()
            positions = wrapped_layout(graph, viewport=(float(size.width()), float(size.height())))
        else:
            positions = layered_layout(graph, ids)
        moves = {nid: (graph.nodes[nid].position, pos) for nid, pos in positions.items()
                 if tuple(graph.nodes[nid].position) != tuple(pos)}
        if not moves:
            self.message.emit("Already laid out")
            return
        self._push(MoveNodes(graph.id, moves, label="Auto-layout"))
        scene.refresh_groups()
        if ids is None:
            view.fit()

    def fit(self) -> None:
        view = self.current_view()
        if view is not None:
            view.fit(only_selected=bool(view.graph_scene.selectedItems()))

    def _zoom(self, factor: float) -> None:
        view = self.current_view()
        if view is not None:
            view.zoom(factor)

    def zoom_reset(self) -> None:
        view = self.current_view()
        if view is not None:
            center = view.mapToScene(view.viewport().rect().center())
            view.resetTransform()
            view.centerOn(center)

    def toggle_snap(self) -> None:
        on = self.actions["snap"].isChecked()
        view = self.current_view()
        if view is not None:
            view.graph_scene.snap_to_grid = on
