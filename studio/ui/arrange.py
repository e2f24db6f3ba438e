"""Auto-layout for the screen: the core's layered layout, wrapped into rows when a long chain would be too wide.

A 15-layer chain laid out in one row is 4,000 px wide; fitted into a window its text is unreadable.
Wrapping the columns into a few bands (each still left to right) keeps it legible at a glance.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from studio.core.layout import COLUMN_GAP, ROW_GAP, layered_layout
from studio.core.model import Graph

BAND_GAP = 110.0
NODE_HEIGHT = 110.0
#: wider than the core's column gap: leaves room for a B×C×H×W label between two nodes
COLUMN_SPACING = max(COLUMN_GAP, 290.0)


def wrapped_layout(graph: Graph, node_ids: Iterable[str] | None = None,
                   viewport: tuple[float, float] = (1000.0, 700.0)) -> dict[str, tuple[float, float]]:
    """Layered positions, with the columns wrapped into the number of bands that fits ``viewport`` best."""
    positions = layered_layout(graph, node_ids)
    if not positions:
        return positions
    xs = sorted({x for x, _ in positions.values()})
    column_of = {x: i for i, x in enumerate(xs)}
    x0 = xs[0]
    y_min = min(y for _, y in positions.values())
    y_max = max(y for _, y in positions.values())
    band_height = (y_max - y_min) + NODE_HEIGHT
    n_cols = len(xs)
    width, height = viewport
    best_rows, best_scale = 1, 0.0
    for rows in range(1, n_cols + 1):
        per_row = math.ceil(n_cols / rows)
        w = per_row * COLUMN_SPACING
        h = rows * band_height + (rows - 1) * BAND_GAP
        scale = min(width / w, height / h)
        if scale > best_scale * 1.05:  # prefer fewer bands unless more clearly helps
            best_rows, best_scale = rows, scale
    per_row = math.ceil(n_cols / best_rows)
    wrapped = {}
    for nid, (x, y) in positions.items():
        col = column_of[x]
        band, col_in_band = divmod(col, per_row)
        wrapped[nid] = (x0 + col_in_band * COLUMN_SPACING, y + band * (band_height + BAND_GAP))
    return wrapped


__all__ = ["wrapped_layout", "COLUMN_GAP", "ROW_GAP"]
