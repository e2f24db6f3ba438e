"""The scene of one graph: observes the Document and keeps one item per node, wire and group.

It never changes the model itself except by pushing operations (a finished drag becomes one
``MoveNodes``). Shape results are applied lazily (coalesced with a zero-delay timer) and only to
items whose result object changed: the inferencer memoises per node, so an untouched node gets
the very same ``NodeShapes`` back and is not repainted.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QPainterPath, QPixmapCache
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSceneHelpEvent, QGraphicsSceneMouseEvent

from studio.core.events import Event
from studio.core.model import Graph
from studio.core.ops import MoveNodes
from studio.core.shapes import GraphShapes
from studio.ui.canvas.items import BlockItem, CollapsedGroupItem, NodeItem
from studio.ui.canvas.progress import BUILD_CHUNK, report
from studio.ui.canvas.wires import GroupFrameItem, WireItem
from studio.ui.document import Document

PIXMAP_CACHE_KB = 256 * 1024


class GraphScene(QGraphicsScene):
    """Items for ``document.project.graph(graph_id)``, kept in step with core events."""

    #: a short message for the status bar
    message = Signal(str)

    def __init__(self, document: Document, graph_id: str) -> None:
        super().__init__()
        self.document = document
        self.graph_id = graph_id
        self.snap_to_grid = True
        self.user_dragging = False
        self.nodes: dict[str, NodeItem] = {}
        self.wires: dict[str, WireItem] = {}
        self.frames: dict[str, GroupFrameItem] = {}
        self.collapsed: dict[str, CollapsedGroupItem] = {}
        self._hidden: dict[str, str] = {}  # node id -> collapsed group id
        self._node_wires: dict[str, set[str]] = {}
        self._syncing = False
        self._building = False  # rebuild(): wires are routed once after all nodes exist
        self._graph_ref: tuple[object, Graph] | None = None
        self._applied_shapes: GraphShapes | None = None  # the result refresh_shapes last pushed
        self._drag_start: dict[BlockItem, QPointF] = {}
        self.low_detail = False
        self._wires_path: QPainterPath | None = None
        self._shapes_timer = QTimer(self)
        self._shapes_timer.setSingleShot(True)
        self._shapes_timer.setInterval(0)
        self._shapes_timer.timeout.connect(self.refresh_shapes)
        self._frames_timer = QTimer(self)
        self._frames_timer.setSingleShot(True)
        self._frames_timer.setInterval(0)
        self._frames_timer.timeout.connect(self.refresh_groups)
        # removing selected items changes the selection once per item; tell the document once
        self._selection_timer = QTimer(self)
        self._selection_timer.setSingleShot(True)
        self._selection_timer.setInterval(0)
        self._selection_timer.timeout.connect(self._on_selection)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        if QPixmapCache.cacheLimit() < PIXMAP_CACHE_KB:  # item caches for ~1,000 nodes and wires
            QPixmapCache.setCacheLimit(PIXMAP_CACHE_KB)
        self.setSceneRect(QRectF(-50_000, -50_000, 100_000, 100_000))
        document.changed.connect(self._on_event)
        document.shapes_changed.connect(self._on_shapes_changed)
        document.selection_changed.connect(self._on_document_selection)
        self.selectionChanged.connect(self._on_selection)
        self.rebuild()

    @property
    def graph(self) -> Graph:
        # asked for per item while building 60k items: keep the lookup off the project's graph list
        project = self.document.project
        ref = self._graph_ref
        if ref is None or ref[0] is not project or ref[1].id != self.graph_id:
            ref = self._graph_ref = (project, project.graph(self.graph_id))
        return ref[1]

    def detach(self) -> None:
        """Stop observing the document (the scene is about to be dropped)."""
        for signal, slot in ((self.document.changed, self._on_event),
                             (self.document.shapes_changed, self._on_shapes_changed),
                             (self.document.selection_changed, self._on_document_selection)):
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        self._shapes_timer.stop()
        self._frames_timer.stop()
        self._selection_timer.stop()
        # destroying a scene clears its items, which emits selectionChanged into this (dying) object
        self.blockSignals(True)

    # -- building ---------------------------------------------------------------------------
    def rebuild(self) -> None:
        """One item per node and wire, built in one pass: each node is synced once with its shapes
        and each wire routed once (opening a 60k-node file builds 120k items)."""
        self._syncing = True
        self._building = True
        self._graph_ref = None
        # everything made here stays alive: a cyclic collection pass would only walk the growing heap
        # (a third of the build time at 60k nodes where automatic collection is on)
        collecting = gc.isenabled()
        gc.disable()
        try:
            self.clear()
            self.nodes.clear()
            self.wires.clear()
            self.frames.clear()
            self.collapsed.clear()
            self._hidden.clear()
            self._node_wires.clear()
            self._wires_path = None
            self._applied_shapes = None
            graph = self.graph
            try:
                shapes = self.document.shapes(self.graph_id)
            except KeyError:
                shapes = None
            total = len(graph.nodes) + len(graph.edges)
            done = 0
            for node_id in graph.nodes:
                self._add_node(node_id, shapes)
                done += 1
                if not done % BUILD_CHUNK:
                    report(done, total)
            self._building = False
            for edge_id in graph.edges:
                self._add_wire(edge_id, shapes)
                done += 1
                if not done % BUILD_CHUNK:
                    report(done, total)
            if graph.groups or self.frames or self.collapsed:
                self.refresh_groups()
            if shapes is not None and not self.collapsed:
                self._applied_shapes = shapes  # every item was built with it
            self.refresh_shapes()
        finally:
            if collecting:
                gc.enable()
            self._building = False
            self._syncing = False

    def _add_node(self, node_id: str, shapes: GraphShapes | None = None) -> NodeItem:
        node = self.graph.nodes[node_id]
        spec = self.document.registry.find(node.type_id) if node.placeholder is None else None
        item = NodeItem(self, node, spec, shapes.nodes.get(node_id) if shapes is not None else None)
        self.nodes[node_id] = item
        self.addItem(item)
        return item

    def _add_wire(self, edge_id: str, shapes: GraphShapes | None = None) -> None:
        edge = self.graph.edges[edge_id]
        wire = WireItem(edge_id)
        if shapes is not None:  # labelled before it is routed: the label is placed once
            info = shapes.edge_info(edge)
            wire.label = info.text if info is not None else ""
            wire.error = self._wire_error(shapes, edge, info)
        self.wires[edge_id] = wire
        self._node_wires.setdefault(edge.src, set()).add(edge_id)
        self._node_wires.setdefault(edge.dst, set()).add(edge_id)
        self.update_wire(edge_id)  # routed before it joins the scene: indexed once, where it lies
        self.addItem(wire)

    def _remove_quietly(self, item) -> None:
        """Remove an item without a selection round trip per item (deleting 1,000 nodes stays fast)."""
        was_selected = item.isSelected()
        syncing, self._syncing = self._syncing, True
        try:
            self.removeItem(item)
        finally:
            self._syncing = syncing
        if was_selected:
            self._selection_timer.start()

    def _remove_wire(self, edge_id: str, src: str | None, dst: str | None) -> None:
        self._wires_path = None
        wire = self.wires.pop(edge_id, None)
        if wire is not None:
            self._remove_quietly(wire)
        for end in (src, dst):
            if end is not None:
                self._node_wires.get(end, set()).discard(edge_id)

    # -- core events ------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        self._applied_shapes = None
        if event.kind == "project_reset":
            self.rebuild()
            return
        if event.graph_id != self.graph_id:
            return
        data = event.data
        graph = self.graph
        kind = event.kind
        if kind == "node_added":
            self._add_node(data["node_id"])
            if graph.nodes[data["node_id"]].group:
                self._frames_timer.start()
        elif kind == "node_removed":
            item = self.nodes.pop(data["node_id"], None)
            if item is not None:
                self._remove_quietly(item)
            self._node_wires.pop(data["node_id"], None)
            self._hidden.pop(data["node_id"], None)
            self._frames_timer.start()
        elif kind == "edge_added":
            self._add_wire(data["edge_id"])
            edge = graph.edges[data["edge_id"]]
            self._sync_placeholders(edge.src, edge.dst)
            if edge.src in self._hidden or edge.dst in self._hidden:
                self._frames_timer.start()
        elif kind == "edge_removed":
            edge = data.get("edge")
            self._remove_wire(data["edge_id"], edge.src if edge else None, edge.dst if edge else None)
            if edge is not None:
                self._sync_placeholders(edge.src, edge.dst)
                if edge.src in self._hidden or edge.dst in self._hidden:
                    self._frames_timer.start()
        elif kind in ("param_changed", "node_renamed"):
            item = self.nodes.get(data["node_id"])
            if item is not None:
                item.sync(graph.nodes[data["node_id"]])
        elif kind == "node_moved":
            item = self.nodes.get(data["node_id"])
            if item is not None:
                x, y = graph.nodes[data["node_id"]].position
                if item.pos() != QPointF(x, y):
                    item.setPos(x, y)
            if graph.nodes[data["node_id"]].group:
                self._frames_timer.start()
        elif kind == "group_changed":
            self.refresh_groups()

    def _sync_placeholders(self, *node_ids: str) -> None:
        for nid in node_ids:
            item = self.nodes.get(nid)
            if item is not None and item.spec is None and nid in self.graph.nodes:
                item.sync(self.graph.nodes[nid])
                self.block_moved(item)

    def _on_shapes_changed(self, graph_id: str) -> None:
        if graph_id == self.graph_id:
            self._shapes_timer.start()

    def flush(self) -> None:
        """Apply pending shape and group updates now (tests, screenshots, benchmarks)."""
        if self._frames_timer.isActive():
            self._frames_timer.stop()
            self.refresh_groups()
        self._shapes_timer.stop()
        self.refresh_shapes()

    def refresh_shapes(self) -> None:
        """Push the latest inference result into the items whose result changed."""
        try:
            shapes = self.document.shapes(self.graph_id)
        except KeyError:  # the graph was removed in the meantime
            return
        if shapes is self._applied_shapes:
            return  # nothing changed since (every edit drops the document's cached result)
        graph = self.graph
        for node_id, item in self.nodes.items():
            item.set_shapes(shapes.nodes.get(node_id))
        for edge_id, wire in self.wires.items():
            edge = graph.edges.get(edge_id)
            if edge is None:
                continue
            info = shapes.edge_info(edge)
            wire.set_label(info.text if info is not None else "")
            error = self._wire_error(shapes, edge, info)
            if error != wire.error:
                wire.error = error
                wire.update()
        if self.collapsed:
            self.refresh_groups()
        self._applied_shapes = shapes

    @staticmethod
    def _wire_error(shapes: GraphShapes, edge, info) -> bool:
        """A wire is drawn red when its source failed or its port has no result."""
        src = shapes.nodes.get(edge.src)
        return src is None or bool(src.error) or (info is None and not src.blocked)

    # -- geometry of wires ----------------------------------------------------------------
    def endpoint(self, node_id: str, port: str, output: bool) -> QPointF | None:
        group_id = self._hidden.get(node_id)
        if group_id is not None:
            block = self.collapsed.get(group_id)
            if block is not None:
                return block.port_scene_pos(f"{node_id}:{port}", output)
        item = self.nodes.get(node_id)
        return None if item is None else item.port_scene_pos(port, output)

    def update_wire(self, edge_id: str) -> None:
        wire = self.wires.get(edge_id)
        edge = self.graph.edges.get(edge_id)
        if wire is None or edge is None:
            return
        inner = self._hidden.get(edge.src) is not None and self._hidden.get(edge.src) == self._hidden.get(edge.dst)
        wire.inner = inner
        visible = not inner and not self.low_detail
        if wire.isVisible() != visible:
            wire.setVisible(visible)
        self._wires_path = None
        if inner:
            return
        p1 = self.endpoint(edge.src, edge.src_port, True)
        p2 = self.endpoint(edge.dst, edge.dst_port, False)
        if p1 is not None and p2 is not None:
            wire.set_ends(p1, p2)

    # -- far zoom: all wires as one path ----------------------------------------------------
    def set_low_detail(self, on: bool) -> None:
        """Far out, wires are drawn by the view in one stroke instead of ~1,000 items (see GraphView)."""
        if on == self.low_detail:
            return
        self.low_detail = on
        for wire in self.wires.values():
            wire.setVisible(not wire.inner and not on)

    def wires_path(self) -> QPainterPath:
        """Every visible wire as one path (cached until a wire changes)."""
        if self._wires_path is None:
            path = QPainterPath()
            for wire in self.wires.values():
                if not wire.inner:
                    path.addPath(wire.path())
            self._wires_path = path
        return self._wires_path

    def block_moved(self, block: BlockItem) -> None:
        """A block moved or resized: re-route its wires (and, for a member, its group frame)."""
        if self._building:
            return
        if isinstance(block, NodeItem):
            for edge_id in list(self._node_wires.get(block.node_id, ())):
                self.update_wire(edge_id)
            node = self.graph.nodes.get(block.node_id)
            if node is not None and node.group in self.frames and self.user_dragging:
                self._frames_timer.start()
        elif isinstance(block, CollapsedGroupItem):
            for member in block.member_ids:
                for edge_id in list(self._node_wires.get(member, ())):
                    self.update_wire(edge_id)

    # -- groups -----------------------------------------------------------------------------
    def refresh_groups(self) -> None:
        """Show each group as a frame (expanded) or one block standing for its members (collapsed)."""
        graph = self.graph
        members: dict[str, list[str]] = {}
        for node in graph.nodes.values():
            if node.group is not None and node.group in graph.groups:
                members.setdefault(node.group, []).append(node.id)
        shapes = self.document.shapes(self.graph_id) if any(graph.groups[g].collapsed for g in members) else None
        hidden: dict[str, str] = {}
        for group_id, ids in members.items():
            group = graph.groups[group_id]
            if group.collapsed:
                for nid in ids:
                    hidden[nid] = group_id
        changed = set(hidden) ^ set(self._hidden)
        self._hidden = hidden
        syncing, self._syncing = self._syncing, True
        try:
            for nid, item in self.nodes.items():
                if item.isVisible() == (nid in hidden):  # only the ones that change
                    item.setVisible(nid not in hidden)
                if nid in hidden and item.isSelected():
                    item.setSelected(False)
                    self._selection_timer.start()
        finally:
            self._syncing = syncing
        for group_id in list(self.collapsed):
            if group_id not in members or not graph.groups[group_id].collapsed:
                self._remove_quietly(self.collapsed.pop(group_id))
        for group_id in list(self.frames):
            if group_id not in members or graph.groups[group_id].collapsed:
                self._remove_quietly(self.frames.pop(group_id))
        for group_id, ids in members.items():
            group = graph.groups[group_id]
            if group.collapsed:
                block = self.collapsed.get(group_id)
                if block is None:
                    block = CollapsedGroupItem(self, group_id)
                    self.collapsed[group_id] = block
                    self.addItem(block)
                self._sync_collapsed(block, group.name, ids, shapes)
            else:
                frame = self.frames.get(group_id)
                if frame is None:
                    frame = GroupFrameItem(group_id)
                    self.frames[group_id] = frame
                    self.addItem(frame)
                rect = QRectF()
                for nid in ids:
                    rect = rect.united(self.nodes[nid].sceneBoundingRect())
                frame.sync(group.name, rect)
        touched = set(changed)
        for ids in members.values():
            touched.update(ids)
        for nid in touched:
            for edge_id in list(self._node_wires.get(nid, ())):
                self.update_wire(edge_id)

    def _sync_collapsed(self, block: CollapsedGroupItem, name: str, ids: list[str], shapes) -> None:
        graph = self.graph
        inside = set(ids)
        inputs: dict[str, str] = {}
        outputs: dict[str, str] = {}
        for edge in graph.edges.values():
            if edge.dst in inside and edge.src not in inside:
                inputs.setdefault(f"{edge.dst}:{edge.dst_port}", f"{graph.nodes[edge.dst].name}")
            elif edge.src in inside and edge.dst not in inside:
                outputs.setdefault(f"{edge.src}:{edge.src_port}", f"{graph.nodes[edge.src].name}")
        params = 0
        error = None
        if shapes is not None:
            for nid in ids:
                ns = shapes.nodes.get(nid)
                if ns is not None:
                    params += ns.params
                    if ns.error and error is None:
                        error = f"{graph.nodes[nid].name}: {ns.error}"
        block.sync(name, ids, list(inputs.items()), list(outputs.items()), params, error)
        xs = [graph.nodes[n].position[0] for n in ids]
        ys = [graph.nodes[n].position[1] for n in ids]
        pos = QPointF(min(xs), min(ys))
        if block.pos() != pos:
            self._syncing = True
            block.setPos(pos)
            self._syncing = False

    # -- selection --------------------------------------------------------------------------
    def selected_node_ids(self) -> list[str]:
        """Selected nodes, a selected collapsed group counting as all its members."""
        ids: list[str] = []
        for item in self.selectedItems():
            if isinstance(item, NodeItem):
                ids.append(item.node_id)
            elif isinstance(item, CollapsedGroupItem):
                ids.extend(item.member_ids)
        return ids

    def selected_edge_ids(self) -> list[str]:
        return [item.edge_id for item in self.selectedItems() if isinstance(item, WireItem)]

    def _on_selection(self) -> None:
        if self._syncing:
            return
        self.document.set_selection(self.graph_id, self.selected_node_ids())

    def _on_document_selection(self, graph_id: str, ids: list) -> None:
        if graph_id != self.graph_id or set(ids) == set(self.selected_node_ids()):
            return
        self.select_nodes(ids)

    def select_nodes(self, ids: list[str]) -> None:
        wanted = set(ids)
        self._syncing = True
        try:
            self.clearSelection()
            for nid in wanted:
                group_id = self._hidden.get(nid)
                item = self.collapsed.get(group_id) if group_id else self.nodes.get(nid)
                if item is not None:
                    item.setSelected(True)
        finally:
            self._syncing = False
        self.document.set_selection(self.graph_id, self.selected_node_ids())

    def item_for_node(self, node_id: str) -> BlockItem | None:
        group_id = self._hidden.get(node_id)
        return self.collapsed.get(group_id) if group_id else self.nodes.get(node_id)

    def helpEvent(self, event: QGraphicsSceneHelpEvent) -> None:  # noqa: N802 - Qt's name
        """Tooltips are written when asked for, not for each of 60k items while a file opens."""
        for item in self.items(event.scenePos()):
            tooltip = getattr(item, "tooltip_text", None)
            if tooltip is not None:
                item.setToolTip(tooltip())
                break
        super().helpEvent(event)

    def block_at(self, pos: QPointF) -> BlockItem | None:
        for item in self.items(pos, Qt.ItemSelectionMode.IntersectsItemShape):
            if isinstance(item, BlockItem) and item.isVisible():
                return item
        return None

    def port_at(self, pos: QPointF) -> tuple[BlockItem, str, bool] | None:
        """(block, port key, is_output) of a node port near ``pos``; group blocks have no draggable ports."""
        rect = QRectF(pos.x() - 10, pos.y() - 10, 20, 20)
        for item in self.items(rect):
            if isinstance(item, NodeItem) and item.isVisible():
                hit = item.port_at(pos)
                if hit is not None:
                    return item, hit[0], hit[1]
        return None

    # -- dragging = one MoveNodes -----------------------------------------------------------
    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802 - Qt's name
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag_start = {it: it.pos() for it in self.selectedItems() if isinstance(it, BlockItem)}
            self.user_dragging = bool(self._drag_start)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802 - Qt's name
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and self._drag_start:
            starts, self._drag_start = self._drag_start, {}
            self.user_dragging = False
            self.commit_moves(starts)

    def commit_moves(self, starts: dict[BlockItem, QPointF]) -> None:
        """Turn items moved on screen into one undoable MoveNodes."""
        graph = self.graph
        moves: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {}
        for item, start in starts.items():
            delta = item.pos() - start
            if delta.isNull():
                continue
            if isinstance(item, NodeItem):
                old = graph.nodes[item.node_id].position
                moves[item.node_id] = (old, (item.pos().x(), item.pos().y()))
            elif isinstance(item, CollapsedGroupItem):
                for nid in item.member_ids:
                    old = graph.nodes[nid].position
                    moves[nid] = (old, (old[0] + delta.x(), old[1] + delta.y()))
        if moves:
            self.document.push(MoveNodes(self.graph_id, moves, label="Move" if len(moves) == 1 else "Move nodes"))
