"""Live views matched to the paradigm, fed by the engine's ``Update.views`` payloads (see studio.train.views).

:class:`LiveViews` keeps one tab per kind of view and creates it the first time its payload
arrives, so a classifier shows predictions and a confusion matrix, an autoencoder its
reconstructions and latent space, a GAN its fixed-noise samples and D/G losses, an attention
model its weights, and Q-learning the gridworld with values, greedy arrows and the agent walking.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSlider, QTabWidget, QVBoxLayout, QWidget

from studio.ui.training.gridworld import GridPage, GridworldView, MoveBar
from studio.ui.training.tiles import Tile, TileGrid, array_image, is_image, sequence_tile, tile_for
from studio.ui.training.view_widgets import (
    CLASS_COLORS,
    MatrixView,
    ScatterView,
    _by_class,
    _plot,
    class_name,
    legend_text,
    with_legend,
)


class LiveViews(QTabWidget):
    """One tab per view kind, created when its first payload arrives."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pages: dict[str, QWidget] = {}  # shown now
        self._built: dict[str, QWidget] = {}  # every page built so far (reused across runs)
        self.parts: dict[str, Any] = {}
        self.received: set[str] = set()
        self.last_step = 0  # training step of the latest views payload shown
        self._gan_loss: dict[str, list[tuple[float, float]]] = {}
        self._wanted: str | None = None  # the page to bring back after a new run rebuilds the tabs
        self._empty = QLabel("Live views appear here once training starts.")
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.addTab(self._empty, "Live view")

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:  # the theme changed: no black plots in a light theme
            self.apply_theme()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self.apply_theme()

    def apply_theme(self) -> None:
        from studio.ui.training.plots import theme_plot

        for page in self._built.values():
            for plot in page.findChildren(pg.PlotWidget):
                theme_plot(plot, self.palette())

    def clear_views(self) -> None:
        """A new run: take the pages off (they are kept and reused; building plots is the slow part).
        The page the user was looking at is shown again as soon as it comes back."""
        current = self.currentWidget()
        keep = next((k for k, page in self.pages.items() if page is current), None)
        if keep is not None:
            self._wanted = keep
        self.received.clear()
        self.last_step = 0
        self._gan_loss.clear()
        for key in list(self.pages):
            page = self.pages.pop(key)
            self.removeTab(self.indexOf(page))
        for name, part in self.parts.items():
            if name.startswith("gan_curve_"):
                part.setData([], [])
        if self.indexOf(self._empty) < 0:
            self.addTab(self._empty, "Live view")

    BUILDERS = {"classify": "_build_classify", "recon": "_build_recon", "gan": "_build_gan", "grid": "_build_grid",
                "decision": "_build_decision", "latent": "_build_latent", "forecast": "_build_forecast",
                "attention": "_build_attention", "control": "_build_control", "traversal": "_build_traversal",
                "diffusion": "_build_diffusion", "pairs": "_build_pairs", "text": "_build_text",
                "projector": "_build_projector"}
    #: the page each kind of view payload is shown on (a paradigm declares its views by these names)
    PAGES = {"predictions": "classify", "confusion": "classify", "decision": "decision", "forecast": "forecast",
             "reconstruction": "recon", "latent": "latent", "attention": "attention", "gan_samples": "gan",
             "gridworld": "grid", "returns": "grid", "control": "control", "traversal": "traversal",
             "diffusion": "diffusion", "pairs": "pairs", "text_generation": "text", "projector": "projector"}

    def prepare(self, views: tuple[str, ...]) -> None:
        """Build the pages of a paradigm's declared views before its run starts, so no update pays for it."""
        for key in dict.fromkeys(self.PAGES[v] for v in views if v in self.PAGES):
            if key not in self._built:
                page = QWidget()
                getattr(self, self.BUILDERS[key])(page)
                self._built[key] = page

    def _page(self, key: str, title: str, build) -> None:
        if key in self.pages:
            return
        if self.indexOf(self._empty) >= 0:
            self.removeTab(self.indexOf(self._empty))
        page = self._built.get(key)
        if page is None:
            page = QWidget()
            build(page)
            self._built[key] = page
        self.pages[key] = page
        self.addTab(page, title)
        if key == self._wanted:
            self.setCurrentWidget(page)

    # -- feeding ---------------------------------------------------------------------------
    def add_points(self, points: list[tuple[int, dict[str, float]]]) -> None:
        """Step metrics, for the GAN's D/G loss curves."""
        if "gan" not in self.pages:
            return
        for step, metrics in points:
            for name, value in metrics.items():
                low = name.lower()
                if "loss" in low and (low.startswith(("d_", "g_", "d ", "g ")) or "disc" in low or "gen" in low):
                    self._gan_loss.setdefault(name, []).append((step, value))
        plot = self.parts["gan_losses"]
        for k, (name, pts) in enumerate(self._gan_loss.items()):
            key = f"gan_curve_{name}"
            if key not in self.parts:
                self.parts[key] = plot.plot(pen=pg.mkPen(CLASS_COLORS[k], width=1.3))
                self.parts["gan_legend"].setText(legend_text([("━", CLASS_COLORS[i], n)
                                                              for i, n in enumerate(self._gan_loss)]))
            curve = self.parts[key]
            arr = np.asarray(pts[-5000:], dtype=np.float64)
            curve.setData(arr[:, 0], arr[:, 1])

    def show_views(self, views: dict[str, Any]) -> None:
        for key, payload in views.items():
            handler = getattr(self, f"_show_{key}", None)
            if handler is not None and payload is not None:
                handler(payload)
                self.received.add(key)

    # -- classification ----------------------------------------------------------------------
    def _build_classify(self, page: QWidget) -> None:
        lay = QHBoxLayout(page)
        grid = TileGrid(title="Validation samples: prediction (true) — red = mistake")
        matrix = MatrixView("Confusion matrix (validation)", "true class", "predicted class", counts=True)
        lay.addWidget(grid, 3)
        lay.addWidget(matrix, 2)
        self.parts.update(pred_grid=grid, confusion=matrix)

    def _show_predictions(self, d: dict[str, Any]) -> None:
        self._page("classify", "Predictions", self._build_classify)
        classes = list(d.get("classes") or [])
        tiles = []
        inputs, labels, pred = d["inputs"], np.asarray(d["labels"]), np.asarray(d["predicted"])
        conf = d.get("confidence")
        correct = np.asarray(d["correct"]).reshape(-1)
        for i in range(min(len(inputs), 16)):
            if pred.ndim > 1:  # sequences: per-token predictions
                caption = "".join(class_name(classes, int(k)) for k in pred[i][:12])
                sample = np.asarray(inputs[i])
                tile = tile_for(sample, caption, bool(correct[i]))
                if sample.ndim >= 1 and not is_image(sample):  # a text's characters read as the text
                    tile = sequence_tile(sample, labels[i], pred[i], classes, bool(correct[i]), bool(d.get("text")))
            else:
                p_name, t_name = class_name(classes, int(pred[i])), class_name(classes, int(labels[i]))
                c = f" {100 * float(conf[i]):.0f}%" if conf is not None and len(conf) > i else ""
                caption = f"{p_name}{c}" if correct[i] else f"{p_name} ({t_name})"
                tile = tile_for(np.asarray(inputs[i]), caption, bool(correct[i]))
            tiles.append(tile)
        self.parts["pred_grid"].set_tiles(tiles)

    def _show_confusion(self, d: dict[str, Any]) -> None:
        self._page("classify", "Predictions", self._build_classify)
        m = np.asarray(d["matrix"])
        names = [class_name(list(d.get("classes") or []), k) for k in range(m.shape[0])]
        self.parts["confusion"].set_matrix(m, names, names)

    def _show_decision(self, d: dict[str, Any]) -> None:
        self._page("decision", "Decision regions", self._build_decision)
        self.parts["decision"].set_points(_by_class(np.asarray(d["points"]), d.get("labels"),
                                                    self._classes_hint(), 5), region=d)

    def _classes_hint(self) -> list[str]:
        return list(getattr(self, "classes", []) or [])

    def _single(self, page: QWidget, key: str, widget: QWidget) -> None:
        lay = QVBoxLayout(page)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(widget)
        self.parts[key] = widget

    # -- reconstruction / latent -------------------------------------------------------------
    def _build_recon(self, page: QWidget) -> None:
        lay = QVBoxLayout(page)
        top = TileGrid(title="Inputs (validation)")
        bottom = TileGrid(title="Reconstructions")
        lay.addWidget(top)
        lay.addWidget(bottom)
        self.parts.update(recon_in=top, recon_out=bottom)

    def _show_reconstruction(self, d: dict[str, Any]) -> None:
        self._page("recon", "Reconstruction", self._build_recon)
        inputs = np.asarray(d["inputs"])
        shown = d.get("noisy") if d.get("noisy") is not None else inputs
        self.parts["recon_in"].title = "Noisy inputs (validation)" if d.get("noisy") is not None else "Inputs (validation)"
        n = min(8, len(inputs))
        self.parts["recon_in"].set_tiles([tile_for(np.asarray(shown[i])) for i in range(n)], columns=n)
        outs = np.asarray(d["outputs"])
        tiles = []
        for i in range(n):
            err = float(np.mean((outs[i].astype(np.float64) - inputs[i]) ** 2))
            tiles.append(tile_for(outs[i], f"mse {err:.3f}"))
        self.parts["recon_out"].set_tiles(tiles, columns=n)

    def _show_latent(self, d: dict[str, Any]) -> None:
        self._page("latent", "Latent space", self._build_latent)
        item = self.parts["latent"].plot.getPlotItem()
        pca = bool(d.get("pca"))
        if item.getAxis("bottom").labelText != ("PC 1" if pca else "z₁"):
            item.setLabel("bottom", "PC 1" if pca else "z₁")
            item.setLabel("left", "PC 2" if pca else "z₂")
        self.parts["latent"].set_points(_by_class(np.asarray(d["points"]), d.get("labels"), list(d.get("classes") or []), 5))

    def _build_traversal(self, page: QWidget) -> None:
        self._single(page, "traversal", TileGrid(title="Latent traversal"))

    def _show_traversal(self, d: dict[str, Any]) -> None:
        """A VAE's decoder along each code axis: row d decodes z_d = values[j] (columns), other dims 0."""
        self._page("traversal", "Latent traversal", self._build_traversal)
        grid, values = np.asarray(d["images"]), list(d.get("values") or [0.0])
        view = self.parts["traversal"]
        dims, kl = list(d.get("dims") or range(1, len(grid) + 1)), list(d.get("kl") or [])
        view.title = (f"One code dimension per row, {values[0]:+.1f} → {values[-1]:+.1f}, others 0; "
                      "largest KL (z: KL) first")
        view.set_tiles([Tile(image=array_image(grid[r, c]),
                             caption=(f"z{dims[r]}" + (f": {kl[r]:.1f}" if r < len(kl) else "")) if c == 0 else "")
                        for r in range(grid.shape[0]) for c in range(grid.shape[1])], columns=grid.shape[1])

    def _build_pairs(self, page: QWidget) -> None:
        self._single(page, "pairs", TileGrid(title="Two augmented views of each image"))

    def _show_pairs(self, d: dict[str, Any]) -> None:
        """Contrastive learning's input: each column is one image, its two random views one above the other."""
        self._page("pairs", "Augmented views", self._build_pairs)
        first, second = np.asarray(d["first"]), np.asarray(d["second"])
        self.parts["pairs"].title = d.get("title", "Two augmented views of each image")
        self.parts["pairs"].set_tiles([tile_for(v, "view 1" if i == 0 else "") for i, v in enumerate(first)]
                                      + [tile_for(v, "view 2" if i == 0 else "") for i, v in enumerate(second)],
                                      columns=len(first))

    def _build_diffusion(self, page: QWidget) -> None:
        from studio.ui.training.reverse_view import ReverseProcess

        view = ReverseProcess(ScatterView("Reverse process", "x₁", "x₂", equal_axes=True))
        self._single(page, "diffusion_page", view)
        self.parts.update(diffusion=view.scatter, diffusion_grid=view.grid, diffusion_slider=view.slider)

    def _show_diffusion(self, d: dict[str, Any]) -> None:
        """A diffusion model's reverse process: one frame per slider position (2-D points, or images as tiles)."""
        self._page("diffusion", "Reverse process", self._build_diffusion)
        self.parts["diffusion_page"].set_frames(d)

    def _build_text(self, page: QWidget) -> None:
        from studio.ui.training.text_generation import TextGeneration

        self._single(page, "text_generation", TextGeneration())

    def _show_text_generation(self, d: dict[str, Any]) -> None:
        """What a character model writes (a held-out prompt, then its own text) at the slider's temperature."""
        self._page("text", "Generated text", self._build_text)
        self.parts["text_generation"].set_payload(d, self.last_step)

    def _build_projector(self, page: QWidget) -> None:
        from studio.ui.analysis.projector_tab import ProjectorView
        from studio.ui.tasks import shared_runner

        self._single(page, "projector", ProjectorView(shared_runner()))

    def _show_projector(self, d: dict[str, Any]) -> None:
        """Vectors of the running model (a skip-gram's word table): PCA at once, t-SNE when switched to."""
        from studio.analysis.projector import Source

        self._page("projector", "Word vectors", self._build_projector)
        source = Source("vectors", "embedding", np.asarray(d["vectors"]), d.get("tokens"))
        self.parts["projector"].set_source(source, d.get("title", ""), keep=True)

    # -- regression / sequences -------------------------------------------------------------
    def _build_decision(self, page: QWidget) -> None:
        self._single(page, "decision", ScatterView("Decision regions with validation points", "x₁", "x₂",
                                                   equal_axes=True))

    def _build_latent(self, page: QWidget) -> None:
        self._single(page, "latent", ScatterView("Latent codes of validation samples", "z₁", "z₂"))

    def _build_forecast(self, page: QWidget) -> None:
        plot = _plot("Forecast of the first validation sequence", "time step", "value")
        box, _label = with_legend(plot, legend_text([("━", "#94a3b8", "input"), ("━", "#22c55e", "target"),
                                                      ("━", "#3b82f6", "prediction"),
                                                      ("┅", "#f97316", "baseline (repeat last value)")]))
        self._single(page, "forecast_box", box)
        self.parts["forecast"] = plot

    def _build_attention(self, page: QWidget) -> None:
        self._single(page, "attention", MatrixView("Attention weights (first validation sample, heads averaged)",
                                                   "query position (output)", "key position (input)", counts=False))

    def _show_forecast(self, d: dict[str, Any]) -> None:
        self._page("forecast", "Forecast", self._build_forecast)
        plot = self.parts["forecast"].getPlotItem()
        curves = self.parts.setdefault("forecast_curves", {})
        styles = {"input": pg.mkPen("#94a3b8", width=1.5), "target": pg.mkPen("#22c55e", width=2),
                  "prediction": pg.mkPen("#3b82f6", width=2),
                  "baseline": pg.mkPen("#f97316", width=1.5, style=Qt.PenStyle.DashLine)}
        for name, pen in styles.items():
            if name not in curves:
                curves[name] = plot.plot(pen=pen, name=name)
        x = np.asarray(d["inputs"])[0]
        t = np.asarray(d["targets"])[0]
        n = len(x)
        horizon = np.arange(n, n + len(t))
        curves["input"].setData(np.arange(n), x)
        curves["target"].setData(horizon, t)
        curves["prediction"].setData(horizon, np.asarray(d["predicted"])[0])
        if d.get("baseline") is not None:
            curves["baseline"].setData(horizon, np.asarray(d["baseline"])[0])
        else:
            curves["baseline"].setData([], [])

    # -- attention -------------------------------------------------------------------------
    def _show_attention(self, d: dict[str, Any]) -> None:
        self._page("attention", "Attention", self._build_attention)
        w = np.asarray(d["weights"])
        tokens = d.get("tokens")
        cols = [f"{j}:{tokens[j]}" if tokens is not None and j < len(tokens) and not isinstance(tokens[j], list)
                else str(j) for j in range(w.shape[1])]
        self.parts["attention"].set_matrix(w, [str(i) for i in range(w.shape[0])], cols)

    # -- GAN -------------------------------------------------------------------------------
    def _build_gan(self, page: QWidget) -> None:
        lay = QHBoxLayout(page)
        scatter = ScatterView("Generated from the fixed noise batch", "x₁", "x₂", equal_axes=True)
        grid = TileGrid(title="Generated from the fixed noise batch")
        losses = _plot("Discriminator and generator losses", "step", "loss")
        losses_box, losses_legend = with_legend(losses)
        lay.addWidget(scatter, 3)
        lay.addWidget(grid, 3)
        lay.addWidget(losses_box, 2)
        grid.hide()
        self.parts.update(gan_scatter=scatter, gan_grid=grid, gan_losses=losses, gan_legend=losses_legend)

    def _show_gan_samples(self, d: dict[str, Any]) -> None:
        self._page("gan", "Generated samples", self._build_gan)
        samples = np.asarray(d["samples"])
        self.parts["gan_losses"].parentWidget().setVisible(d.get("losses", True))  # a VAE has no D/G losses
        self.parts["gan_grid"].title = d.get("title", "Generated from the fixed noise batch")
        self.parts["gan_scatter"].plot.getPlotItem().setTitle(d.get("title", "Generated from the fixed noise batch"))
        if samples.ndim == 2 and samples.shape[1] == 2:
            self.parts["gan_grid"].hide()
            self.parts["gan_scatter"].show()
            groups = []
            if d.get("real") is not None:
                groups.append(("real", np.asarray(d["real"]), "#94a3b880", 4))
            groups.append(("generated", samples, "#f97316", 5))
            if d.get("centres") is not None:
                groups.append(("mode centres", np.asarray(d["centres"]), "#22c55e", 16, True))
            self.parts["gan_scatter"].set_points(groups)
        else:
            self.parts["gan_scatter"].hide()
            self.parts["gan_grid"].show()
            self.parts["gan_grid"].set_tiles([Tile(image=array_image(s)) for s in samples[:64]])

    # -- Q-learning ------------------------------------------------------------------------
    def _build_grid(self, page: QWidget) -> None:
        lay = QHBoxLayout(page)
        lay.setContentsMargins(2, 2, 2, 2)  # the grid's cells, not the margins, get a short page's height
        world = GridworldView()
        speed = QSlider(Qt.Orientation.Horizontal)
        speed.setRange(1, 60)
        speed.setValue(8)
        speed.setToolTip("How fast the agent replays its last episode (moves per second)")
        speed_label = QLabel("Agent speed: 8 moves/s")

        def set_speed(v):
            world.set_speed(v)
            speed_label.setText(f"Agent speed: {v} moves/s")

        speed.valueChanged.connect(set_speed)
        set_speed(8)
        row = QHBoxLayout()
        row.addWidget(speed_label)
        row.addWidget(speed, 1)
        caption = QLabel("Colour and number: value · arrows: greedy actions")
        caption.setWordWrap(True)
        caption.setToolTip("Cell colour and number = value (max Q) · arrows = greedy actions (all ties shown) · "
                           "S start · G goal · X pit · C cliff · orange arrow = teleport with its reward")
        numbers = QCheckBox("Numbers")
        numbers.setChecked(True)
        numbers.setToolTip("Write each cell's value (or its four action values) in the cell")
        numbers.toggled.connect(world.set_numbers)
        q_values = QCheckBox("Q values")
        q_values.setToolTip("Show the four action values at the cell's edges instead of its value")
        q_values.toggled.connect(world.set_q_values)
        toggles = QHBoxLayout()
        toggles.addWidget(numbers)
        toggles.addWidget(q_values)
        toggles.addStretch(1)
        move = MoveBar(world)
        speed_row, toggle_row = QWidget(), QWidget()
        speed_row.setLayout(row)
        toggle_row.setLayout(toggles)
        for r in (row, toggles):
            r.setContentsMargins(0, 0, 0, 0)
        returns = _plot("Episode return", "episode", "return")
        lay.addWidget(GridPage(world, [caption, speed_row, toggle_row], move), 3)
        lay.addWidget(returns, 2)
        self.parts.update(grid_world=world, grid_speed=speed, grid_move=move, returns=returns)
        self.parts["returns_curve"] = returns.plot(pen=pg.mkPen("#94a3b8", width=1))
        self.parts["returns_mean"] = returns.plot(pen=pg.mkPen("#3b82f6", width=2))

    def _show_gridworld(self, d: dict[str, Any]) -> None:
        self._page("grid", "Gridworld", self._build_grid)
        self.parts["grid_world"].set_world(d)

    def _show_returns(self, d: dict[str, Any]) -> None:
        self._page("grid", "Gridworld", self._build_grid)
        self._returns_curve(d)

    def _returns_curve(self, d: dict[str, Any]) -> None:
        """Episode returns and their running mean, on whichever page holds the returns plot."""
        ep = np.asarray(d["episodes"], dtype=np.float64)
        ret = np.asarray(d["returns"], dtype=np.float64)
        if len(ep) == 0:
            return
        self.parts["returns_curve"].setData(ep, ret)
        k = max(1, len(ret) // 30)
        mean = np.convolve(ret, np.ones(k) / k, mode="valid")
        self.parts["returns_mean"].setData(ep[k - 1:], mean)

    # -- classic control ---------------------------------------------------------------------
    def _build_control(self, page: QWidget) -> None:
        from studio.ui.training.control_view import ControlView

        lay = QHBoxLayout(page)
        view = ControlView()
        returns = _plot("Episode return", "episode", "return")
        lay.addWidget(view, 3)
        lay.addWidget(returns, 2)
        self.parts.update(control_view=view, returns=returns)
        self.parts["returns_curve"] = returns.plot(pen=pg.mkPen("#94a3b8", width=1))
        self.parts["returns_mean"] = returns.plot(pen=pg.mkPen("#3b82f6", width=2))

    def _show_control(self, d: dict[str, Any]) -> None:
        self._page("control", "Environment", self._build_control)
        self.parts["control_view"].set_episode(str(d.get("env", "")), np.asarray(d["states"]))
        if d.get("returns") is not None:
            self._returns_curve(d["returns"])
