"""The editor window: graph tabs with canvases in the middle, docked panels around, menus and shortcuts.

The window can exist before the heavy part of the app (torch, the node registry) is loaded:
``MainWindow()`` shows a light shell at once and :meth:`MainWindow.attach` fills it in.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QTabWidget,
    QToolButton,
    QWidget,
)

from studio.ui import theme

APP_NAME = "NN Studio"



def _panels() -> tuple:
    """(attribute, panel class, dock title, area) of the docked panels; imported on attach, after torch."""
    from studio.ui.panels.code_view import CodePanel
    from studio.ui.panels.inspector import InspectorPanel
    from studio.ui.panels.palette import PalettePanel
    from studio.ui.panels.problems import ProblemsPanel
    from studio.ui.panels.summary import SummaryPanel

    return (("palette", PalettePanel, "Layers", Qt.DockWidgetArea.LeftDockWidgetArea),
            ("inspector", InspectorPanel, "Inspector", Qt.DockWidgetArea.RightDockWidgetArea),
            ("summary", SummaryPanel, "Summary", Qt.DockWidgetArea.RightDockWidgetArea),
            ("code", CodePanel, "Code", Qt.DockWidgetArea.RightDockWidgetArea),
            ("problems", ProblemsPanel, "Problems", Qt.DockWidgetArea.BottomDockWidgetArea))


def lay_out_if_stacked(graph, viewport: tuple[float, float] = (1000.0, 700.0)) -> bool:
    """A loaded graph whose nodes sit on top of each other (generated files, imports) gets a layered layout.

    Part of loading, like a migration: it happens before any view exists and is not an undo step.
    """
    from studio.ui.arrange import wrapped_layout

    positions = {tuple(n.position) for n in graph.nodes.values()}
    if len(graph.nodes) < 2 or len(positions) * 2 > len(graph.nodes):
        return False
    for node_id, pos in wrapped_layout(graph, viewport=viewport).items():
        graph.nodes[node_id].position = pos
    return True


class MainWindow(QMainWindow):
    """One window, one document."""

    def __init__(self, document=None, restore_state: bool = True, training: bool = True) -> None:
        super().__init__()
        self.with_training = training
        self.document = None
        self.views: dict[str, object] = {}
        self.panels: dict[str, QWidget] = {}
        self.docks: dict[str, QDockWidget] = {}
        self.edit = None
        self.files = None
        self.restore_state = restore_state
        self.setWindowTitle(APP_NAME)
        self.resize(1440, 900)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.setMovable(False)
        self._loading = QLabel("Loading layers…", self)
        self._loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCentralWidget(self._loading)
        self.status_message = QLabel("", self)
        self.size_label = QLabel("", self)
        self.device_label = QLabel("", self)
        self.statusBar().addWidget(self.status_message, 1)
        self.statusBar().addPermanentWidget(self.size_label)
        self.statusBar().addPermanentWidget(self.device_label)
        self._size_timer = QTimer(self)  # the status bar's size readout, after shapes settle
        self._size_timer.setSingleShot(True)
        self._size_timer.setInterval(50)
        self._size_timer.timeout.connect(self._update_size)
        if document is not None:
            self.attach(document)

    # -- setup -----------------------------------------------------------------------------
    def add_panel_dock(self, key: str, title: str, panel: QWidget, area: Qt.DockWidgetArea,
                       tabify_with: QDockWidget | None = None) -> QDockWidget:
        """Dock ``panel`` (movable, closable, floatable; state saved under ``dock_<key>``) and register it."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(panel)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        if tabify_with is not None:
            self.tabifyDockWidget(tabify_with, dock)
        self.panels[key] = panel
        self.docks[key] = dock
        return dock

    def attach(self, document) -> None:
        """Build canvases, panels, menus for ``document`` (needs the registry, i.e. torch)."""
        from studio.ui.actions import EditActions
        from studio.ui.files import FileController

        self.document = document
        self.edit = EditActions(document, self.current_view, self)
        self.edit.message.connect(self.show_message)
        self.edit.actions["snap"].toggled.connect(self._set_snap)
        self.files = FileController(document, self)
        self.files.message.connect(self.show_message)
        self._loading.hide()
        self.setCentralWidget(self.tabs)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.tabs.tabBarDoubleClicked.connect(self._rename_tab)
        plus = QToolButton(self.tabs)
        plus.setText("+")
        plus.setToolTip("Add a graph to the project")
        plus.clicked.connect(self.add_graph)
        self.tabs.setCornerWidget(plus, Qt.Corner.TopRightCorner)
        self._build_panels()
        self._build_menus()
        self.files.recent_changed.connect(lambda _items: self._fill_recent())
        document.changed.connect(self._on_event)
        document.project_replaced.connect(self._rebuild_tabs)
        document.current_graph_changed.connect(self._show_graph)
        document.shapes_changed.connect(self._schedule_size)
        document.dirty_changed.connect(lambda _d: self._update_title())
        document.path_changed.connect(lambda _p: self._update_title())
        self._rebuild_tabs()
        self._update_device()
        if self.with_training:  # the training dock and Train menu
            from studio.ui.training import install_training

            self.training_panel = install_training(self)
        from studio.ui.panels.explanation import install_explanation

        install_explanation(self)  # the template explanation dock, raised when a template opens
        if self.with_training:  # quitting asks in closeEvent, after the unsaved-changes question
            from studio.ui.training import _CloseGuard

            for guard in self.findChildren(_CloseGuard):
                self.removeEventFilter(guard)
        from studio.ui.exercise import install_exercise
        from studio.ui.presentation import install_presentation

        install_exercise(self)  # Goals dock and Exercise menu (locks, hidden palette entries)
        install_presentation(self, self.view_menu)  # F11 and the UI scale
        document.selection_changed.connect(self._raise_inspector)
        self.default_dock_sizes()
        if self.restore_state:
            self._restore_window_state()

    def _build_panels(self) -> None:
        # (no setCorner: with two tabified groups Qt 6 keeps a stale second tab bar, which a
        # corner change moves into view as a ghost copy of the bottom tabs)
        for attr, cls, title, area in _panels():
            self.add_panel_dock(attr, title, cls(self.document), area)
        right = [self.docks[k] for k in ("inspector", "summary", "code")]
        for dock in right[1:]:
            self.tabifyDockWidget(right[0], dock)
        right[0].raise_()
        palette = self.panels["palette"]
        palette.add_requested.connect(self._add_from_palette)
        palette.block_requested.connect(lambda path: self.edit.insert_block(path))  # saved blocks
        self.edit.blocks_changed.connect(palette.reload_blocks)
        self.panels["problems"].node_activated.connect(self.reveal_node)

    def default_dock_sizes(self) -> None:
        """Palette narrow, inspector readable, the bottom strip short: the canvas gets the room."""
        self.resizeDocks([self.docks["palette"]], [220], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["inspector"]], [330], Qt.Orientation.Horizontal)
        self.docks["problems"].raise_()
        self.resizeDocks([self.docks["problems"]], [150], Qt.Orientation.Vertical)

    def _build_menus(self) -> None:
        a = self.edit.actions
        stack = self.document.undo_stack
        undo = stack.createUndoAction(self, "Undo")
        undo.setShortcuts([QKeySequence(QKeySequence.StandardKey.Undo)])
        redo = stack.createRedoAction(self, "Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.undo_action, self.redo_action = undo, redo

        def act(text: str, slot, shortcut: str | QKeySequence.StandardKey | None = None, tip: str = "") -> QAction:
            action = QAction(text, self)
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
            action.setStatusTip(tip or text)
            action.triggered.connect(lambda _c=False: slot())
            return action

        S = QKeySequence.StandardKey  # noqa: N806
        self.file_actions = {
            "new": act("New", self.files.new, S.New, "Start an empty project"),
            "open": act("Open…", self.files.open, S.Open, "Open a project file"),
            "templates": act("Templates…", self.show_gallery, "Ctrl+Shift+N", "Start from a template"),
            "save": act("Save", self.files.save, S.Save, "Save the project"),
            "save_as": act("Save as…", self.files.save_as, "Ctrl+Shift+S", "Save under a new name"),
            "export": act("Export PyTorch code…", self.export_code, "Ctrl+Shift+E", "Write a standalone .py file"),
            "export_onnx": act("Export ONNX…", self.export_onnx, None,
                               "Write each graph as an .onnx file, checked against PyTorch by onnxruntime"),
            "import": act("Import model…", self.import_model, "Ctrl+I",
                          "Bring a torchvision model or a PyTorch class from a .py file in as a new graph"),
            "quit": act("Quit", self.close, S.Quit, "Close NN Studio"),
        }
        menu = self.menuBar().addMenu("&File")
        for key in ("new", "open", "templates", "import"):
            menu.addAction(self.file_actions[key])
        self.recent_menu = menu.addMenu("Open recent")
        self._fill_recent()
        menu.addSeparator()
        for key in ("save", "save_as", "export", "export_onnx"):
            menu.addAction(self.file_actions[key])
        menu.addSeparator()
        menu.addAction(self.file_actions["quit"])

        menu = self.menuBar().addMenu("&Edit")
        menu.addAction(undo)
        menu.addAction(redo)
        menu.addSeparator()
        for key in ("cut", "copy", "paste", "duplicate", "delete", "select_all"):
            menu.addAction(a[key])

        self.quick_add_action = act("Quick add…", lambda: self.current_view() and self.current_view().open_quick_add(),
                                    None, "Search for a layer and add it at the cursor (Space, Tab or double-click)")
        menu = self.menuBar().addMenu("&Graph")
        menu.addAction(self.quick_add_action)
        for key in ("group", "ungroup", "toggle_group", "save_block"):
            menu.addAction(a[key])
        self.blocks_menu = menu.addMenu("Insert saved block")
        self.blocks_menu.aboutToShow.connect(self._fill_blocks)
        self._fill_blocks()
        menu.addAction(a["layout"])
        menu.addSeparator()
        menu.addAction(act("Add graph", self.add_graph, None, "Add another model graph (e.g. a discriminator)"))
        menu.addAction(act("Rename graph…", lambda: self._rename_tab(self.tabs.currentIndex())))
        menu.addAction(act("Remove graph", self.remove_graph))

        menu = self.view_menu = self.menuBar().addMenu("&View")
        for key in ("fit", "zoom_in", "zoom_out", "zoom_reset", "snap"):
            menu.addAction(a[key])
        menu.addSeparator()
        theme_menu = menu.addMenu("Theme")
        group = QActionGroup(self)
        for name in ("dark", "light"):
            action = QAction(name.title(), self, checkable=True)
            action.setChecked(theme.current().name == name)
            action.triggered.connect(lambda _c=False, n=name: self.set_theme(n))
            group.addAction(action)
            theme_menu.addAction(action)
        menu.addSeparator()
        for dock in self.docks.values():
            menu.addAction(dock.toggleViewAction())

        menu = self.menuBar().addMenu("&Help")
        self.help_action = act("Keyboard shortcuts", self.show_shortcuts, "F1", "List every shortcut")
        menu.addAction(self.help_action)

        bar = self.addToolBar("Main")
        bar.setObjectName("toolbar_main")
        bar.setMovable(False)
        for action in (self.file_actions["new"], self.file_actions["open"], self.file_actions["save"], None,
                       undo, redo, None, a["fit"], a["layout"], a["group"], a["ungroup"]):
            if action is None:
                bar.addSeparator()
            else:
                bar.addAction(action)
        for action in [*a.values(), *self.file_actions.values(), undo, redo, self.help_action, self.quick_add_action]:
            if action not in self.actions():
                self.addAction(action)

    # -- graph tabs ------------------------------------------------------------------------
    def current_view(self):
        widget = self.tabs.currentWidget()
        return widget if widget is not None and widget in self.views.values() else None

    def view_for(self, graph_id: str):
        return self.views.get(graph_id)

    def _make_view(self, graph_id: str):
        from studio.ui.canvas.scene import GraphScene
        from studio.ui.canvas.view import GraphView

        scene = GraphScene(self.document, graph_id)
        scene.snap_to_grid = self.edit.actions["snap"].isChecked()
        from studio.ui.panels.quick_add import QuickAddPopup

        registry = self.document.registry
        view = GraphView(scene, lambda parent: QuickAddPopup(registry, parent))
        view.message.connect(self.show_message)
        scene.message.connect(self.show_message)
        view.block_dropped.connect(lambda path, at: self.edit.insert_block(path, at))  # a saved block dropped
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(lambda pos, v=view: self._canvas_menu(v, pos))
        return view

    def canvas_menu(self, view, pos) -> QMenu:
        """The right-click menu: what applies to the item under the cursor (selected first) or the canvas."""
        scene_pos = view.mapToScene(pos)
        block = view.graph_scene.block_at(scene_pos)
        if block is not None and not block.isSelected():
            view.graph_scene.clearSelection()
            block.setSelected(True)
        menu = QMenu(view)
        quick = menu.addAction("Add layer here…")
        quick.triggered.connect(lambda _c=False: view.open_quick_add(scene_pos, view.viewport().mapToGlobal(pos)))
        menu.addSeparator()
        a = self.edit.actions
        for key in ("cut", "copy", "paste", "duplicate", "delete", None, "group", "ungroup", "toggle_group",
                    "save_block", None, "layout", "fit"):
            if key is None:
                menu.addSeparator()
            else:
                menu.addAction(a[key])
        return menu

    def _canvas_menu(self, view, pos) -> None:
        self.canvas_menu(view, pos).exec(view.viewport().mapToGlobal(pos))

    def _rebuild_tabs(self) -> None:
        if self.tabs.isVisible():
            viewport = (float(self.tabs.width()), float(self.tabs.height()))
        else:  # not shown yet: the window less the docks around the canvas
            viewport = (max(600.0, self.width() - 580.0), max(400.0, self.height() - 400.0))
        for graph in self.document.project.graphs:
            lay_out_if_stacked(graph, viewport)
        from studio.ui.canvas.progress import open_progress

        nodes = sum(len(g.nodes) for g in self.document.project.graphs)
        self.tabs.blockSignals(True)
        try:
            for view in self.views.values():
                view.graph_scene.detach()
                view.deleteLater()
            self.views.clear()
            self.tabs.clear()
            with open_progress(self, nodes):  # a big file: a progress dialog while its items are built
                for graph in self.document.project.graphs:
                    view = self._make_view(graph.id)
                    self.views[graph.id] = view
                    self.tabs.addTab(view, graph.name)
        finally:
            self.tabs.blockSignals(False)
        self.tabs.tabBar().setVisible(len(self.views) > 1)
        self._show_graph(self.document.current_graph_id)
        self._update_title()
        self._schedule_size()
        QTimer.singleShot(0, self, self.fit_all)

    def fit_all(self) -> None:
        for view in self.views.values():
            view.graph_scene.flush()
            view.fit()

    def _show_graph(self, graph_id: str) -> None:
        view = self.views.get(graph_id)
        if view is not None and self.tabs.currentWidget() is not view:
            self.tabs.setCurrentWidget(view)

    def _tab_changed(self, index: int) -> None:
        view = self.tabs.widget(index)
        for graph_id, v in self.views.items():
            if v is view:
                self.document.set_current_graph(graph_id)
                self._schedule_size()

    def _on_event(self, event) -> None:
        if event.kind == "graph_added":
            graph = self.document.project.graph(event.graph_id)
            view = self._make_view(graph.id)
            self.views[graph.id] = view
            self.tabs.insertTab(self.document.project.graphs.index(graph), view, graph.name)
            self.tabs.tabBar().setVisible(True)
        elif event.kind == "graph_removed":
            view = self.views.pop(event.graph_id, None)
            if view is not None:
                self.tabs.removeTab(self.tabs.indexOf(view))
                view.graph_scene.detach()
                view.deleteLater()
            self.tabs.tabBar().setVisible(len(self.views) > 1)
        elif event.kind == "graph_renamed":
            view = self.views.get(event.graph_id)
            if view is not None:
                self.tabs.setTabText(self.tabs.indexOf(view), self.document.project.graph(event.graph_id).name)

    def add_graph(self) -> None:
        from studio.core.model import Graph
        from studio.core.ops import AddGraph

        names = {g.name for g in self.document.project.graphs}
        name, i = "graph", 2
        while f"{name}_{i}" in names:
            i += 1
        graph = Graph(f"{name}_{i}")
        self.document.push(AddGraph(graph))
        self.document.set_current_graph(graph.id)

    def remove_graph(self) -> None:
        from studio.core.ops import RemoveGraph

        if len(self.document.project.graphs) < 2:
            self.show_message("A project keeps at least one graph")
            return
        self.document.push(RemoveGraph(self.document.current_graph_id))
        self.document.set_current_graph(self.document.project.graphs[0].id)

    def _rename_tab(self, index: int) -> None:
        from studio.core.ops import RenameGraph

        view = self.tabs.widget(index)
        graph_id = next((g for g, v in self.views.items() if v is view), None)
        if graph_id is None:
            return
        old = self.document.project.graph(graph_id).name
        name, ok = QInputDialog.getText(self, "Rename graph", "Graph name:", text=old)
        if ok and name.strip() and name.strip() != old:
            self.document.push(RenameGraph(graph_id, name.strip()))

    # -- panels wiring ---------------------------------------------------------------------
    def reveal_node(self, graph_id: str, node_id: str) -> None:
        """Problems click: show the node's graph, select the node and centre it."""
        self.document.set_current_graph(graph_id)
        view = self.views.get(graph_id)
        if view is not None:
            view.center_on_node(node_id)
            view.setFocus()

    def _add_from_palette(self, type_id: str) -> None:
        view = self.current_view()
        if view is not None:
            center = view.mapToScene(view.viewport().rect().center())
            view.add_node_at(type_id, center)

    def _set_snap(self, on: bool) -> None:
        for view in self.views.values():
            view.graph_scene.snap_to_grid = on

    # -- status ----------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        self.status_message.setText(text)
        self.status_message.setToolTip(text)

    def _schedule_size(self, *_args) -> None:
        self._size_timer.start()

    def _update_size(self) -> None:
        from studio.ui.canvas.items import format_count

        if self.document is None:
            return
        try:
            shapes = self.document.shapes(self.document.current_graph_id)
        except KeyError:
            return
        total = shapes.total_params
        errors = len(shapes.errors())
        text = f"{format_count(total)} params · {total * 4 / 1_048_576:.1f} MiB"
        if errors:
            text += f" · {errors} error{'s' if errors > 1 else ''}"
        self.size_label.setText(text)
        bar = self.statusBar().layout()  # QStatusBar does not lay out again when a label's text grows
        bar.invalidate()
        bar.activate()

    def _update_device(self) -> None:
        try:
            import torch

            if torch.cuda.is_available():
                name = f"GPU: {torch.cuda.get_device_name(0)}"
            elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
                name = "GPU: Apple MPS"
            else:
                name = "CPU"
        except Exception:  # pragma: no cover - a broken CUDA install must not stop the editor
            name = "CPU"
        self.device_label.setText(name)

    def _update_title(self) -> None:
        if self.document is None:
            return
        path = self.document.path
        name = Path(path).name if path else self.document.project.name
        star = "*" if self.document.dirty else ""
        self.setWindowTitle(f"{name}{star} — {APP_NAME}")

    def _fill_blocks(self) -> None:
        from studio.ui.blocks import list_blocks

        self.blocks_menu.clear()
        paths = list_blocks()
        for path in paths:
            action = self.blocks_menu.addAction(path.stem)
            action.triggered.connect(lambda _c=False, p=path: self.edit.insert_block(p))
        self.blocks_menu.setEnabled(bool(paths))

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        items = self.files.recent()
        for path in items:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda _c=False, p=path: self.files.open(p))
        self.recent_menu.setEnabled(bool(items))

    # -- dialogs ---------------------------------------------------------------------------
    def show_gallery(self) -> None:
        from studio.ui.gallery import GalleryDialog

        dialog = GalleryDialog(self.document.registry, self)
        if dialog.exec() and dialog.chosen is not None:
            self.files.open_template(dialog.chosen)

    def show_shortcuts(self) -> None:
        from studio.ui.help import ShortcutsDialog

        ShortcutsDialog(self).exec()

    def export_code(self) -> None:
        from studio.ui.exporting import export_code_dialog

        export_code_dialog(self)

    def export_onnx(self) -> None:
        from studio.ui.exporting import export_onnx_dialog

        self.onnx_task = export_onnx_dialog(self)

    def import_model(self):
        """File > Import model…: the dialog (studio/ui/importing.py) adds the model as a new graph tab."""
        from studio.ui.importing import import_model_dialog

        self.import_dialog = import_model_dialog(self)
        return self.import_dialog

    def set_theme(self, name: str) -> None:
        app = QApplication.instance()
        theme.apply_theme(app, name)
        from studio.ui.files import settings

        settings().setValue("theme", name)
        for view in self.views.values():
            for item in view.graph_scene.items():
                item.update()
            view.resetCachedContent()
            view.viewport().update()

    # -- state -----------------------------------------------------------------------------
    def _restore_window_state(self) -> None:
        from studio.ui.files import settings

        s = settings()
        geometry, state = s.value("window/geometry"), s.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def save_window_state(self) -> None:
        from studio.ui.files import settings

        s = settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.sync()

    def _raise_inspector(self, _graph_id: str, node_ids: list) -> None:
        """Selecting a node brings the Inspector to the front of its dock tabs (it shows that node)."""
        dock = self.docks.get("inspector")
        if node_ids and dock is not None and dock.toggleViewAction().isChecked():  # open, maybe behind a tab
            dock.raise_()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if self.files is not None and not self.files.maybe_save():
            event.ignore()
            return
        panel = getattr(self, "training_panel", None)
        if panel is not None and not panel.confirm_stop():  # Cancel: the window and the run go on
            event.ignore()
            return
        if self.files is not None:
            self.files.discard_recovery()
            self.files.autosave_enabled = False
        if self.restore_state and self.document is not None:
            self.save_window_state()
        for view in self.views.values():  # the scenes stop observing before anything is destroyed
            view.graph_scene.detach()
        event.accept()
