"""Tile grids at a presentation scale: captions wrap under their tile and a tile's text shrinks to its box,
so nothing is cut at 150 % on a 1280×720 or 1920×1080 projector."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontMetricsF

from studio.ui.training.tiles import Tile, TileGrid


def _sequence_tiles(n: int = 16) -> list[Tile]:
    """What the attention template's prediction grid shows: the tokens in and wanted, the tokens got."""
    return [Tile(text="in: 4 7 0 1 7 2 8 3\nwant: 3 8 2 7 1 0 7 4", caption="got: 8 3 0 7 9 7 2 7", ok=False)
            for _ in range(n)]


def _grid(qtbot, width: int, height: int, scale: float) -> TileGrid:
    grid = TileGrid(title="Validation samples: prediction (true) — red = mistake")
    qtbot.addWidget(grid)
    font = QFont(grid.font())
    font.setPointSizeF(font.pointSizeF() * scale)
    grid.setFont(font)
    grid.resize(width, height)
    grid.set_tiles(_sequence_tiles())
    grid.grab()  # paints: the grid records what it could not show whole
    return grid


def test_sequence_captions_are_whole_at_150_percent_on_both_projector_sizes(qtbot):
    # the prediction grid's share of the live view at 1280×720 and at 1920×1080 (presentation, 150 %)
    for size in ((740, 250), (1140, 330)):
        grid = _grid(qtbot, *size, 1.5)
        assert grid.clipped == [], (size, grid.clipped)


def test_short_grids_and_first_column_labels_keep_their_captions_whole_at_150_percent(qtbot):
    import numpy as np

    from studio.ui.training.tiles import array_image

    image = array_image(np.random.default_rng(0).random((8, 8)))
    # a reconstruction row under its inputs: 8 small tiles, a number under each
    recon = TileGrid(title="Reconstructions")
    # a latent traversal: 8 × 8 small tiles, only the first column labelled
    traversal = TileGrid(title="One code dimension per row")
    for grid, tiles, columns, size in (
            (recon, [Tile(image=image, caption=f"mse 0.1{k}1") for k in range(8)], None, (760, 130)),
            (traversal, [Tile(image=image, caption=f"z{r}: 0.0" if c == 0 else "") for r in range(8) for c in range(8)],
             8, (1140, 340))):
        qtbot.addWidget(grid)
        font = QFont(grid.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        grid.setFont(font)
        grid.resize(*size)
        grid.set_tiles(tiles, columns=columns)
        grid.grab()
        assert grid.clipped == [], (grid.title, grid.clipped)


def test_a_grid_too_small_for_its_captions_says_so(qtbot):
    grid = _grid(qtbot, 170, 125, 2.0)
    assert grid.clipped  # the screenshot tool reports this instead of silently cutting text


def test_a_character_models_predictions_read_as_text_with_aligned_lines():
    import numpy as np

    from studio.ui.training.tiles import sequence_tile

    classes = list(" ',dehnostu\n")
    ids = np.array([classes.index(c) for c in "need's thou\n"])
    tile = sequence_tile(ids, ids[1:], ids[:-1], classes, ok=False, as_text=True)
    assert tile.text.splitlines() == ["in:   need's thou⏎", "want: eed's thou⏎"]
    assert tile.caption == "got:  need's thou"
    digits = sequence_tile(np.array([4, 7, 0]), np.array([0, 7, 4]), np.array([0, 7, 9]),
                           [str(k) for k in range(10)], ok=False)
    assert digits.text.splitlines()[1] == "want: 0 7 4" and digits.caption == "got:  0 7 9"


def test_text_tiles_keep_their_size_and_captions_apart_on_both_projector_sizes(qtbot):
    import numpy as np

    from studio.ui.training.tiles import sequence_tile

    classes = [chr(c) for c in range(32, 127)]
    rng = np.random.default_rng(0)
    tiles = [sequence_tile(rng.integers(0, 95, 64), rng.integers(0, 95, 64), rng.integers(0, 95, 64), classes,
                           ok=False, as_text=True) for _ in range(16)]
    for size, scale in (((740, 250), 1.5), ((1140, 330), 1.5), ((740, 250), 1.0)):
        grid = TileGrid(title="Validation samples")
        qtbot.addWidget(grid)
        font = QFont(grid.font())
        font.setPointSizeF(font.pointSizeF() * scale)
        grid.setFont(font)
        grid.resize(*size)
        grid.set_tiles(tiles)
        grid.grab()
        assert grid.clipped == [], (size, grid.clipped)
        boxes = grid.caption_boxes
        assert len(boxes) >= 4  # fewer tiles, but a readable few
        assert not any(a.intersects(b) for k, a in enumerate(boxes) for b in boxes[k + 1:]), size


def test_a_prediction_grid_shows_fewer_larger_images_with_whole_captions_at_150_percent(qtbot):
    import numpy as np

    from studio.ui.training.tiles import array_image

    image = array_image(np.random.default_rng(0).random((3, 32, 32)))
    names = ["circle (diamond)", "diamond (triangle)", "circle 18%", "circle (square)"]
    tiles = [Tile(image=image, caption=names[k % 4], ok=k % 4 == 2) for k in range(16)]
    for height in (250, 200):  # the grid's share of the live view at 1280×720, presentation at 150 %
        grid = TileGrid(title="Validation samples")
        qtbot.addWidget(grid)
        font = QFont(grid.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        grid.setFont(font)
        grid.resize(740, height)
        grid.set_tiles(tiles)
        grid.grab()
        assert grid.clipped == [], height
        boxes = grid.caption_boxes
        assert not any(a.intersects(b) for k, a in enumerate(boxes) for b in boxes[k + 1:]), height
        assert max(b.right() for b in boxes) - min(b.left() for b in boxes) > 0.8 * 740  # the width is used
        side = boxes[0].top() - grid._top()  # a tile is at least three caption lines tall
        assert side >= 3 * QFontMetricsF(font).lineSpacing() * 0.85, height
    assert 4 <= len(boxes) < 16  # in the smaller space: a readable few rather than sixteen with cut captions
