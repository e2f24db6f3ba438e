"""Presentation mode (F11, View > Presentation mode): full screen, a UI scale, the editing chrome hidden.

For a projector: the palette, inspector, summary, code, problems, explanation and goals docks, the
menu bar, the tool bar and the training settings column are hidden; the canvas and the training dock (curves, live views)
share the screen, the training dock large. The UI scale (100 / 125 / 150 / 200 %) enlarges fonts
(the application font, which the panels, live views and plot axes follow), the canvas zoom (nodes
and ports) and the plots' axis text. Leaving restores the window as it was.
``python -m studio --screenshot OUT.png --template NAME --presentation --size 1280x720`` renders it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QRectF, Qt
from PySide6.QtGui import QAction, QActionGroup, QFont, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QToolBar

SCALES = (100, 125, 150, 200)
#: the docks that are editing chrome (hidden while presenting)
CHROME = ("palette", "inspector", "summary", "code", "problems", "explanation", "goals")
#: share of the window's height the training dock (curves and live views) gets while presenting
TRAINING_SHARE = 0.55
#: the smallest canvas zoom in presentation: below it the canvas drops node text (level of detail)
READABLE_ZOOM = 0.45


class Presentation(QObject):
    """Enters and leaves presentation mode for one :class:`~studio.ui.main_window.MainWindow`."""

    def __init__(self, window: QMainWindow, scale: int = 150) -> None:
        super().__init__(window)
        self.window = window
        self.scale = scale
        self.active = False
        self._saved: dict | None = None
        self.action = QAction("Presentation mode", window)
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence("F11"))
        self.action.setStatusTip("Full screen, large text, editing panels hidden (F11 leaves)")
        self.action.toggled.connect(self._toggled)
        window.addAction(self.action)  # F11 works with the menu bar hidden
        self.scale_group = QActionGroup(self)
        self.scale_actions: dict[int, QAction] = {}
        for percent in SCALES:
            act = QAction(f"{percent} %", self.scale_group)
            act.setCheckable(True)
            act.setChecked(percent == scale)
            act.triggered.connect(lambda _c=False, p=percent: self.set_scale(p))
            self.scale_actions[percent] = act

    # -- public -------------------------------------------------------------------------------
    def set_scale(self, percent: int) -> None:
        """Choose the UI scale; applied at once while presenting."""
        if percent not in SCALES:
            raise ValueError(f"UI scale must be one of {', '.join(map(str, SCALES))} %, not {percent}")
        self.scale = percent
        self.scale_actions[percent].setChecked(True)
        if self.active:
            self._apply_scale()
            self.fit_views()

    def enter(self, full_screen: bool = True) -> None:
        if self.active:
            return
        w = self.window
        app = QApplication.instance()
        self._saved = {"state": w.saveState(), "font": QFont(app.font()), "full": w.isFullScreen(),
                       "menu": w.menuBar().isVisible(),
                       "bars": {bar: bar.isVisible() for bar in w.findChildren(QToolBar)}, "docks": {k: d.isVisible() for k, d in self._docks().items()},
                       "zoom": {gid: v.transform() for gid, v in getattr(w, "views", {}).items()}}
        self.active = True
        self.action.blockSignals(True)
        self.action.setChecked(True)
        self.action.blockSignals(False)
        for key, dock in self._docks().items():
            if key in CHROME:
                dock.hide()
        w.menuBar().hide()
        for bar in saved_bars(self._saved):
            bar.hide()
        panel = getattr(w, "training_panel", None)
        if panel is not None:
            panel.settings_scroll.hide()
            dock = w.training_dock
            dock.show()
            dock.raise_()
            dock.setTitleBarWidget(_title_bar(dock))
        if full_screen:
            w.showFullScreen()
        self._apply_scale()
        self.relayout()

    def leave(self) -> None:
        if not self.active or self._saved is None:
            return
        w, saved = self.window, self._saved
        self.active = False
        self.action.blockSignals(True)
        self.action.setChecked(False)
        self.action.blockSignals(False)
        QApplication.instance().setFont(saved["font"])
        repolish(QApplication.instance())
        self._plot_fonts(saved["font"])
        panel = getattr(w, "training_panel", None)
        if panel is not None:
            panel.settings_scroll.show()
            title = w.training_dock.titleBarWidget()
            w.training_dock.setTitleBarWidget(None)  # Qt's own title bar (float and close buttons) again
            if title is not None:
                title.deleteLater()
        w.menuBar().setVisible(saved["menu"])
        for bar, shown in saved["bars"].items():
            bar.setVisible(shown)
        if not saved["full"] and w.isFullScreen():
            w.showNormal()
        w.restoreState(saved["state"])
        for key, dock in self._docks().items():
            dock.setVisible(saved["docks"].get(key, dock.isVisible()))
        for gid, transform in saved["zoom"].items():
            view = w.views.get(gid)
            if view is not None:
                view.setTransform(transform)
        self._saved = None

    def toggle(self) -> None:
        self.leave() if self.active else self.enter()

    def relayout(self) -> None:
        """Give the training dock its share of the height and fit the canvas (call after a resize)."""
        w = self.window
        app = QApplication.instance()
        app.processEvents()
        if getattr(w, "training_dock", None) is not None:
            w.resizeDocks([w.training_dock], [int(w.height() * TRAINING_SHARE)], Qt.Orientation.Vertical)
            app.processEvents()
        self.fit_views()

    def fit_views(self) -> None:
        """Fit each canvas, magnifying up to the UI scale (nodes and ports grow with it); a graph too big to
        fit at a zoom that still draws node text shows its start at that zoom instead (pan for the rest)."""
        limit = self.scale / 100.0
        for view in getattr(self.window, "views", {}).values():
            rect = view.content_rect()
            if rect.isNull():
                continue
            rect = QRectF(rect).adjusted(-30, -30, 30, 30)
            view.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
            zoom = view.transform().m11()
            if zoom > limit or zoom < READABLE_ZOOM:
                zoom = min(limit, max(zoom, READABLE_ZOOM))
                view.resetTransform()
                view.scale(zoom, zoom)
            if view.transform().m11() > zoom_to_fit(view, rect) * 1.001:  # too big: show where data comes in
                half_w = view.viewport().width() / 2 / zoom
                half_h = view.viewport().height() / 2 / zoom
                view.centerOn(rect.left() + half_w, rect.top() + half_h)
            else:
                view.centerOn(rect.center())

    # -- internals ----------------------------------------------------------------------------
    def _toggled(self, on: bool) -> None:
        self.enter() if on else self.leave()

    def _docks(self) -> dict[str, QDockWidget]:
        return dict(getattr(self.window, "docks", {}))

    def _apply_scale(self) -> None:
        assert self._saved is not None
        font = QFont(self._saved["font"])
        size = font.pointSizeF() if font.pointSizeF() > 0 else 9.0
        font.setPointSizeF(size * self.scale / 100.0)
        QApplication.instance().setFont(font)
        repolish(QApplication.instance())
        self._plot_fonts(font)

    def _plot_fonts(self, font: QFont) -> None:
        """pyqtgraph axes keep their own tick font: give them the scaled one."""
        try:
            import pyqtgraph as pg
        except ImportError:  # pragma: no cover - a dependency; the plots need it anyway
            return
        for plot in self.window.findChildren(pg.PlotWidget):
            item = plot.getPlotItem()
            for name in ("left", "bottom", "right", "top"):
                axis = item.getAxis(name)
                if axis is not None:
                    axis.setStyle(tickFont=font)
                    axis.label.setFont(font)
            if item.titleLabel.text:  # the plot's title ("Loss") keeps its own size too
                item.titleLabel.setText(item.titleLabel.text, size=f"{font.pointSizeF():g}pt")


def _title_bar(dock: QDockWidget) -> QLabel:
    """A dock's title that follows the UI scale: Qt's own title bar keeps the platform's title font
    from when the dock was made, so at 150 % "Training" stayed small above large curves."""
    label = QLabel(dock.windowTitle(), dock)
    label.setObjectName("presentation_title")
    label.setContentsMargins(6, 3, 6, 3)
    return label


def repolish(app: QApplication) -> None:
    """Widgets polished under an application style sheet keep the font they had then: setting the sheet
    again gives every existing widget (Train, the tabs, dock titles) the new application font."""
    if app.styleSheet():
        app.sendPostedEvents()  # the font change reaches the widgets first, else they get the previous font
        app.setStyleSheet(app.styleSheet())


def zoom_to_fit(view, rect: QRectF) -> float:
    """The zoom at which ``rect`` just fits the view's viewport."""
    port = view.viewport().rect()
    return min(port.width() / max(rect.width(), 1.0), port.height() / max(rect.height(), 1.0))


def saved_bars(saved: dict) -> list[QToolBar]:
    return list(saved["bars"])


def install_presentation(window: QMainWindow, view_menu=None) -> Presentation:
    """Add presentation mode (F11) and the UI scale to ``window``'s View menu."""
    presentation = Presentation(window)
    window.presentation = presentation
    if view_menu is not None:
        view_menu.addSeparator()
        view_menu.addAction(presentation.action)
        scale_menu = view_menu.addMenu("UI scale (presentation)")
        for act in presentation.scale_actions.values():
            scale_menu.addAction(act)
    return presentation
