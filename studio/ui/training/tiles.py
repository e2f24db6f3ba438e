"""Painting small arrays: images, feature maps, sparklines and token rows as a grid of captioned tiles.

Used by the dataset preview, the prediction grid (mistakes outlined red), reconstructions,
generated samples and activation maps. Arrays become ``QImage`` once per update; painting is
plain ``QPainter`` work, cheap enough for the GUI thread at the live views' ~1 Hz.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetricsF, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

GOOD = QColor(60, 170, 90)
BAD = QColor(220, 50, 50)


def to_uint8(a: np.ndarray, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """Scale to 0..255: data already in [0, 1] keeps its meaning, anything else is min-max scaled."""
    a = np.asarray(a, dtype=np.float32)
    if lo is None or hi is None:
        finite = a[np.isfinite(a)]
        lo_, hi_ = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if lo_ >= 0.0 and hi_ <= 1.0:
            lo_, hi_ = 0.0, 1.0
        lo = lo_ if lo is None else lo
        hi = hi_ if hi is None else hi
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    return np.clip((np.nan_to_num(a) - lo) * scale, 0, 255).astype(np.uint8)


def is_image(sample: np.ndarray) -> bool:
    s = np.shape(sample)
    return (len(s) == 3 and s[0] in (1, 3) and s[1] >= 4 and s[2] >= 4) or (len(s) == 2 and min(s) >= 4
                                                                             and s[0] * s[1] >= 64)


def array_image(sample: np.ndarray, lo: float | None = None, hi: float | None = None) -> QImage:
    """(1|3, H, W) or (H, W) array -> QImage (grayscale or RGB), copied so it owns its pixels."""
    a = np.asarray(sample)
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 2:
        g = np.ascontiguousarray(to_uint8(a, lo, hi))
        img = QImage(g.data, g.shape[1], g.shape[0], g.strides[0], QImage.Format.Format_Grayscale8)
        return img.copy()
    rgb = np.ascontiguousarray(to_uint8(np.moveaxis(a[:3], 0, -1), lo, hi))
    img = QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0], QImage.Format.Format_RGB888)
    return img.copy()


def rgb_image(a: np.ndarray) -> QImage:
    """An H×W×3 uint8 array -> QImage."""
    rgb = np.ascontiguousarray(np.asarray(a, dtype=np.uint8)[..., :3])
    return QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0], QImage.Format.Format_RGB888).copy()


@dataclass
class Tile:
    """One cell of a grid: an image, a 1-D series, or a line of text, with a caption under it."""

    image: QImage | None = None
    series: tuple[np.ndarray, ...] | None = None
    text: str = ""
    caption: str = ""
    ok: bool | None = None  # True: green outline, False: red outline (a mistake), None: none


def tile_for(sample: np.ndarray, caption: str = "", ok: bool | None = None) -> Tile:
    """The natural tile for one sample: image, series (1-D / T×1), tokens (ints) or numbers."""
    a = np.asarray(sample)
    if is_image(a):
        return Tile(image=array_image(a), caption=caption, ok=ok)
    if a.dtype.kind in "iu" and a.ndim == 1:
        return Tile(text=" ".join(str(int(v)) for v in a[:16]), caption=caption, ok=ok)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim == 1 and a.size > 3:
        return Tile(series=(a.astype(np.float32),), caption=caption, ok=ok)
    flat = a.reshape(-1)[:4]
    return Tile(text=", ".join(f"{v:.2f}" for v in flat), caption=caption, ok=ok)


#: how many tokens of a sequence a prediction tile shows
SEQUENCE_TOKENS = 12
#: characters of a text that would not show in a tile, drawn as a visible sign
VISIBLE = {"\n": "⏎", "\t": "⇥", "\r": "␍"}


def token_string(ids: np.ndarray, classes: list[str], as_text: bool, limit: int = SEQUENCE_TOKENS) -> str:
    """Token ids as their names: a text's characters run together as the text reads ("eed's thou"), other
    tokens (digits, words) are separated by spaces; an id outside ``classes`` shows as its number."""
    names = [classes[k] if 0 <= k < len(classes) else str(k) for k in (int(v) for v in np.asarray(ids).reshape(-1)[:limit])]
    if as_text:
        return "".join(VISIBLE.get(c, c) for c in names)
    return " ".join(names)


def sequence_tile(sample: np.ndarray, wanted: np.ndarray, got: np.ndarray, classes: list[str], ok: bool,
                  as_text: bool = False) -> Tile:
    """A per-token prediction as three aligned lines: the tokens in, the tokens wanted (in the box) and the
    tokens got (the caption). ``as_text``: the input ids index ``classes`` too (a character model's text)."""
    a = np.asarray(sample)
    shown = a.argmax(-1) if a.ndim == 2 and a.dtype.kind == "f" else a
    if as_text:
        inputs = token_string(shown, classes, True)
    else:
        inputs = " ".join(str(int(v)) for v in np.asarray(shown).reshape(-1)[:SEQUENCE_TOKENS])
    return Tile(text=f"in:   {inputs}\nwant: {token_string(wanted, classes, as_text)}",
                caption=f"got:  {token_string(got, classes, as_text)}", ok=ok)


#: a caption wraps onto at most this many lines (a sequence's tokens need two or three at a large scale)
CAPTION_LINES = 3
#: the smallest font a tile's own text shrinks to before it is elided
MIN_TEXT_PT = 6.0


class TileGrid(QWidget):
    """A wrapping grid of tiles that scales them to the space it has.

    Heights follow the font (the title's line, each caption's wrapped lines), so at a large UI scale
    nothing is cut: captions wrap under their tile, and a tile's own text shrinks to fit its box.
    ``clipped`` lists what still could not be shown whole at the last paint (the screenshot tools report it).
    """

    def __init__(self, parent: QWidget | None = None, tile: int = 72, title: str = "") -> None:
        super().__init__(parent)
        self.tiles: list[Tile] = []
        self.tile = tile
        self.title = title
        self.columns: int | None = None
        self.clipped: list[str] = []
        self.caption_boxes: list[QRectF] = []  # where the last paint drew each caption (they never overlap)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)

    def set_tiles(self, tiles: list[Tile], columns: int | None = None) -> None:
        self.tiles = list(tiles)
        self.columns = columns
        self._text_fit = (None, 0.0)  # new texts: find their font size again
        self._layout_cache = (None, None)
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(8 * (self.tile + 8), 2 * (self.tile + 30) + 24)

    # -- fonts and geometry ------------------------------------------------------------------------
    def _fonts(self) -> tuple[QFont, QFont, QFont]:
        """(title, caption, tile text) fonts, all derived from the widget's font (the UI scale)."""
        title = QFont(self.font())
        title.setBold(True)
        small = QFont(self.font())
        small.setPointSizeF(max(6.5, self.font().pointSizeF() * 0.85))
        return title, small, QFont(small)

    def _top(self) -> float:
        return QFontMetricsF(self._fonts()[0]).height() + 6 if self.title else 4.0

    def _spans(self, cols: int) -> list[int]:
        """For each tile, how many tiles wide its caption may be: itself plus the following tiles of its
        row that have no caption (a latent traversal labels only its first column, whose tiles are small)."""
        spans = [1] * len(self.tiles)
        run = 0
        for i in range(len(self.tiles) - 1, -1, -1):  # right to left: count the caption-less tiles after i
            spans[i] = 1 + run
            run = 0 if (self.tiles[i].caption or i % cols == 0) else run + 1
        return spans

    def _caption_lines(self, room: float, caption: str, fm: QFontMetricsF) -> int:
        """Lines ``caption`` needs when word-wrapped in ``room`` pixels (not capped: compare with CAPTION_LINES)."""
        if not caption:
            return 0
        flags = int(Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap)
        height = fm.boundingRect(QRectF(0, 0, max(1.0, room), 1e4), flags, caption).height()
        return max(1, round(height / fm.lineSpacing()))

    def _counts(self) -> list[int]:
        """How many tiles a layout may show: all, or for a grid of judged samples (a prediction grid) a
        first few, which may then be larger; never fewer than four."""
        n = max(1, len(self.tiles))
        if self.columns or n <= 4 or all(t.ok is None for t in self.tiles):
            return [n]
        return sorted({n, (3 * n) // 4, n // 2, 4}, reverse=True)

    def _layout(self) -> tuple[int, int, float, float, list[int], float, float, int]:
        """(columns, rows, tile side, caption height, caption spans, row-label width, column pitch, tiles
        shown) that make the tiles as large as the space allows with every caption whole. A column is as
        wide as its captions need (its tile centred in it). A grid whose only captions are on its first
        column (a latent traversal) labels its rows at the left instead: short rows get no caption line. A
        prediction grid too small for all its tiles at a readable size (three caption lines) shows fewer."""
        key = (self.width(), self.height(), self.font().pointSizeF(), self.title)
        if getattr(self, "_layout_cache", (None,))[0] == key:
            return self._layout_cache[1]
        n = max(1, len(self.tiles))
        fm = QFontMetricsF(self._fonts()[1])
        top = self._top()
        w, h = max(1, self.width() - 8), max(1, self.height() - top - 4)
        widths = {i: fm.horizontalAdvance(t.caption) for i, t in enumerate(self.tiles) if t.caption}
        cols = self.columns
        if cols and widths and all(i % cols == 0 for i in widths):
            label = max(widths.values()) + 10
            rows = -(-n // cols)
            side = max(8.0, min((w - label) / cols - 6, h / rows - 6, 160.0))
            result = (cols, rows, side, 6.0, [1] * len(self.tiles), label, side + 6, n)
            self._layout_cache = (key, result)
            return result
        words = {i: max(fm.horizontalAdvance(x) for x in self.tiles[i].caption.split()) for i in widths}
        readable = 3 * fm.lineSpacing()
        best: tuple | None = None  # (score, layout)
        for shown in self._counts():
            for cols in [self.columns] if self.columns else range(1, shown + 1):
                pitch = w / cols
                if pitch - 6 < 8:
                    break
                rows = -(-shown // cols)
                spans = self._spans(cols)
                mine = [i for i in widths if i < shown]
                # the most crowded captions (text width per tile they may span) set the caption height
                crowded = sorted(mine, key=lambda i: widths[i] / spans[i], reverse=True)[:3]
                lines = max((self._caption_lines(pitch * spans[i] - 2, self.tiles[i].caption, fm)
                             for i in crowded), default=0)
                whole = lines <= CAPTION_LINES and all(words[i] <= pitch * spans[i] - 2 for i in mine)
                cap = min(lines, CAPTION_LINES) * fm.lineSpacing() + 4
                side = min(pitch - 6, h / rows - cap, 160.0)
                if side < 8:
                    continue
                if mine:  # a column as wide as its captions need (one line each), no wider than the space
                    pitch = min(pitch, max(side + 6, max(widths[i] / spans[i] for i in mine) + 8))
                else:
                    pitch = side + 6
                big = side >= readable
                score = (whole, big, shown + side / 1e3 if big else side * shown ** 0.5)
                if best is None or score > best[0]:
                    best = (score, (cols, rows, side, cap, spans, 0.0, pitch, shown))
        result = best[1] if best else (1, n, 8.0, fm.lineSpacing() + 4, [1] * len(self.tiles), 0.0, 14.0, n)
        self._layout_cache = (key, result)
        return result

    # -- painting ------------------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fg = self.palette().windowText().color()
        title_font, small, _text = self._fonts()
        clipped: list[str] = []
        if self.title:
            p.setFont(title_font)
            p.setPen(fg)
            fm = QFontMetricsF(title_font)
            shown = fm.elidedText(self.title, Qt.TextElideMode.ElideRight, self.width() - 8)
            if shown != self.title:
                clipped.append(f"title '{self.title}'")
            p.drawText(QRectF(4, 2, self.width() - 8, fm.height() + 2), Qt.AlignmentFlag.AlignLeft, shown)
        if not self.tiles:
            p.setFont(self.font())
            p.setPen(fg)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "nothing to show yet")
            self.clipped = clipped
            return
        if all(t.text and t.image is None and t.series is None for t in self.tiles):
            self._paint_text_grid(p, fg, clipped)
            self.clipped = clipped
            p.end()
            return
        cols, _rows, side, cap, spans, label, pitch, shown = self._layout()
        top = self._top()
        fm = QFontMetricsF(small)
        wrap = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap  # spans empty neighbours
        self.caption_boxes = []
        for i, t in enumerate(self.tiles[:shown]):
            r, c = divmod(i, cols)
            x0, y = 4 + label + c * pitch, top + r * (side + cap)
            box = QRectF(x0 + (pitch - side) / 2, y, side, side)  # centred in its column
            if not self._paint_tile(p, t, box, fg, small):
                clipped.append(f"tile text '{t.text}'")
            if t.ok is not None:
                p.setPen(QPen(GOOD if t.ok else BAD, 3 if not t.ok else 1.5))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(box.adjusted(-1, -1, 1, 1))
            if t.caption and label:  # a row label, left of its row
                p.setFont(small)
                p.setPen(BAD if t.ok is False else fg)
                p.drawText(QRectF(4, y, label - 8, side), int(Qt.AlignmentFlag.AlignRight
                                                              | Qt.AlignmentFlag.AlignVCenter), t.caption)
            elif t.caption:
                p.setFont(small)
                p.setPen(BAD if t.ok is False else fg)
                width = pitch * spans[i] - 2
                flags = wrap if spans[i] == 1 else left
                area = QRectF(x0 + 1, y + side + 2, width, cap - 2)
                self.caption_boxes.append(area)
                text = t.caption
                if fm.horizontalAdvance(text) <= width:  # one line: the cheap path (most captions)
                    p.drawText(area, int(flags & ~Qt.TextFlag.TextWordWrap), text)
                    continue
                need = fm.boundingRect(area, int(flags), text)
                if need.height() > area.height() + 0.5 or need.width() > area.width() + 0.5:
                    clipped.append(f"caption '{t.caption}'")  # longer than the lines allowed: elide the end
                    text = fm.elidedText(text, Qt.TextElideMode.ElideRight, width * max(1, cap // fm.lineSpacing()))
                p.save()
                p.setClipRect(area)  # never into the neighbouring caption
                p.drawText(area, int(flags), text)
                p.restore()
        self.clipped = clipped
        p.end()

    # -- text tiles (a sequence's tokens) -------------------------------------------------------------
    def _mono(self) -> QFont:
        """The caption's size in a fixed-width face: "in:", "want:" and "got:" line up token under token."""
        f = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        f.setPointSizeF(self._fonts()[1].pointSizeF())
        return f

    def _text_layout(self) -> tuple[int, int, float, float, float]:
        """(columns, tiles shown, cell width, box height, caption height) of an all-text grid. Cells are as
        wide as the widest text or caption at the caption's size (text is never shrunk to unreadable), and
        only as many tiles as fit whole are shown: a few readable samples beat sixteen cut ones."""
        fm = QFontMetricsF(self._mono())
        w, h = max(1.0, self.width() - 8.0), max(1.0, self.height() - self._top() - 4)
        widest_text = max((t.text for t in self.tiles), key=lambda s: max(fm.horizontalAdvance(x) for x in s.split("\n")))
        text_w = max(fm.horizontalAdvance(x) for x in widest_text.split("\n"))
        captions = [t.caption for t in self.tiles if t.caption]
        widest_cap = max(captions, key=fm.horizontalAdvance, default="")
        cell = min(w, max(text_w + 12, fm.horizontalAdvance(widest_cap) + 8))
        box = max(fm.boundingRect(QRectF(0, 0, cell - 12, 1e4), self._text_flags(t.text, cell - 12, fm),
                                  t.text).height() for t in self.tiles) + 10
        cap = max((fm.boundingRect(QRectF(0, 0, cell - 8, 1e4), self._text_flags(c, cell - 8, fm), c).height() + 6
                   for c in captions), default=0.0)
        cols = max(1, int((w + 6) // (cell + 6)))
        rows = max(1, int((h + 6) // (box + cap + 6)))
        return cols, min(len(self.tiles), cols * rows), cell, box, cap

    @staticmethod
    def _text_flags(text: str, width: float, fm: QFontMetricsF) -> int:
        """Left and top aligned; wrapped only where a line is wider than ``width`` (a text's spaces are kept)."""
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        if max(fm.horizontalAdvance(x) for x in text.split("\n")) > width:
            flags |= Qt.TextFlag.TextWordWrap
        return int(flags)

    def _paint_text_grid(self, p: QPainter, fg: QColor, clipped: list[str]) -> None:
        cols, shown, cell, box_h, cap = self._text_layout()
        mono, top = self._mono(), self._top()
        fm = QFontMetricsF(mono)
        if top + box_h + cap > self.height():
            clipped.append(f"tile text '{self.tiles[0].text}'")
        p.setFont(mono)
        self.caption_boxes = []
        for i, t in enumerate(self.tiles[:shown]):
            r, c = divmod(i, cols)
            box = QRectF(4 + c * (cell + 6), top + r * (box_h + cap + 6), cell, box_h)
            p.setPen(QPen(QColor(128, 128, 128, 90), 1))
            p.setBrush(QColor(128, 128, 128, 30))
            p.drawRect(box)
            if t.ok is not None:
                p.setPen(QPen(GOOD if t.ok else BAD, 3 if not t.ok else 1.5))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(box.adjusted(-1, -1, 1, 1))
            area = box.adjusted(6, 5, -6, -5)
            flags = self._text_flags(t.text, area.width(), fm)
            if fm.boundingRect(area, flags, t.text).height() > area.height() + 0.5:
                clipped.append(f"tile text '{t.text}'")
            p.setPen(fg)
            p.drawText(area, flags, t.text)
            if t.caption:
                under = QRectF(box.left() + 6, box.bottom() + 3, cell - 8, cap - 3)
                flags = self._text_flags(t.caption, under.width(), fm)
                self.caption_boxes.append(under)
                if fm.boundingRect(under, flags, t.caption).height() > under.height() + 0.5:
                    clipped.append(f"caption '{t.caption}'")
                p.setPen(BAD if t.ok is False else fg)
                p.save()
                p.setClipRect(under)  # never into the row below
                p.drawText(under, flags, t.caption)
                p.restore()

    def _paint_tile(self, p: QPainter, t: Tile, box: QRectF, fg: QColor, font: QFont) -> bool:
        """Paint one tile's content; False when its text could not be shown whole."""
        p.setPen(QPen(QColor(128, 128, 128, 90), 1))
        p.setBrush(QColor(128, 128, 128, 30))
        p.drawRect(box)
        if t.image is not None:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            p.drawImage(box, t.image)
        elif t.series is not None:
            colors = [QColor(70, 130, 220), QColor(230, 120, 40), QColor(60, 170, 90), QColor(150, 150, 150)]
            values = np.concatenate([np.asarray(s, np.float32).ravel() for s in t.series if s is not None])
            lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
            span = hi - lo or 1.0
            n_max = max(len(s) for s in t.series if s is not None)
            for k, s in enumerate(t.series):
                if s is None or len(s) < 2:
                    continue
                path = QPainterPath()
                for j, v in enumerate(np.asarray(s, np.float32)):
                    pt = QPointF(box.left() + 2 + (box.width() - 4) * j / max(1, n_max - 1),
                                 box.bottom() - 2 - (box.height() - 4) * (float(v) - lo) / span)
                    path.moveTo(pt) if j == 0 else path.lineTo(pt)
                p.setPen(QPen(colors[k % len(colors)], 1.4))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawPath(path)
        elif t.text:
            return self._paint_text(p, t.text, box.adjusted(3, 3, -3, -3), fg, font)
        return True

    @staticmethod
    def _fit_size(text: str, area: QRectF, font: QFont) -> float:
        """The largest point size (down to MIN_TEXT_PT) at which ``text`` word-wraps inside ``area``."""
        flags = int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap)
        f = QFont(font)
        size = f.pointSizeF() if f.pointSizeF() > 0 else 8.0
        while size > MIN_TEXT_PT:
            f.setPointSizeF(size)
            rect = QFontMetricsF(f).boundingRect(area, flags, text)
            if rect.height() <= area.height() + 0.5 and rect.width() <= area.width() + 0.5:
                break
            size = max(MIN_TEXT_PT, size - 0.5)
        return size

    def _paint_text(self, p: QPainter, text: str, area: QRectF, fg: QColor, font: QFont) -> bool:
        """Word-wrapped text in ``area``, its font shrunk until it fits; one size for the whole grid (found
        for its longest text once per paint), so the tiles read alike and painting stays cheap."""
        flags = int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap)
        key = (round(area.width()), round(area.height()), font.pointSizeF())
        if getattr(self, "_text_fit", (None,))[0] != key:
            longest = max((t.text for t in self.tiles if t.text), key=len, default=text)
            self._text_fit = (key, self._fit_size(longest, area, font))
        f = QFont(font)
        f.setPointSizeF(self._text_fit[1])
        rect = QFontMetricsF(f).boundingRect(area, flags, text)
        fits = rect.height() <= area.height() + 0.5 and rect.width() <= area.width() + 0.5
        p.setFont(f)
        p.setPen(fg)
        p.save()
        p.setClipRect(area)  # never over the neighbouring tiles or the caption
        p.drawText(area, flags, text)
        p.restore()
        return fits
