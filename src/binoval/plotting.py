"""What the stages' plots share: matplotlib on the Agg backend, a grid of panels, and writing a PNG atomically
(a failed job leaves no half-written image). matplotlib is imported inside the functions."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping

#: Resolution of every stage plot.
DPI = 110
#: Size of one panel of a grid, in inches (width, height).
PANEL = (3.2, 2.6)
#: Fixed margins of a grid, in inches: the y label and tick labels (left), the x label (bottom), the title (top).
GRID_MARGINS = {"left": 0.8, "right": 0.15, "bottom": 0.55, "top": 0.75}
#: Space between panels, in inches: tick labels (between columns); tick labels and the next panel's title (rows).
GRID_GAPS = (0.45, 0.6)


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def panel_grid(
    count: int,
    columns: int = 4,
    max_height: float | None = None,
    gaps: tuple[float, float] = GRID_GAPS,
    panel: tuple[float, float] = PANEL,
    margins: Mapping[str, float] = GRID_MARGINS,
):
    """A figure with ``count`` panels of ``panel`` inches (width, height), at most ``columns`` per row, and the
    panels as a list (unused ones hidden).

    The panels' height is capped at ``max_height`` inches when given (rows shrink beyond it). Margins
    (``margins`` in inches, keys as ``GRID_MARGINS``; the figure grows by what they exceed those by) and gaps
    (``gaps`` in inches; more for two-line titles or x labels) are fixed:
    matplotlib's constrained layout places the same panels but took half of an SBC summary job's time.
    """
    cols = min(columns, max(1, count))
    rows = math.ceil(max(1, count) / cols)
    m = margins
    width = panel[0] * cols + max(0.0, m["left"] + m["right"] - GRID_MARGINS["left"] - GRID_MARGINS["right"])
    height = panel[1] * rows if max_height is None else min(panel[1] * rows, max_height)
    height += max(0.0, m["bottom"] + m["top"] - GRID_MARGINS["bottom"] - GRID_MARGINS["top"])
    inner_width = width - m["left"] - m["right"]
    inner_height = height - m["bottom"] - m["top"]
    panel_width = (inner_width - (cols - 1) * gaps[0]) / cols
    panel_height = max((inner_height - (rows - 1) * gaps[1]) / rows, 0.1)
    fig, axes = pyplot().subplots(
        rows,
        cols,
        figsize=(width, height),
        squeeze=False,
        gridspec_kw={
            "left": m["left"] / width,
            "right": 1 - m["right"] / width,
            "bottom": m["bottom"] / height,
            "top": 1 - m["top"] / height,
            "wspace": gaps[0] / panel_width,
            "hspace": gaps[1] / panel_height,
        },
    )
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat)


def text_width(labels: Iterable[str], fontsize: float) -> float:
    """Width in inches of the widest of ``labels`` set at ``fontsize`` points, measured without drawing a figure
    (so margins can be sized before it is laid out, instead of trimming it with a second drawing)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    font = FontProperties(size=fontsize)
    widths = [text_to_path.get_text_width_height_descent(str(label), font, False)[0] for label in labels]
    return max(widths, default=0.0) / 72.0


def save_png(fig, path: str | os.PathLike, tight: bool = False, dpi: int = DPI) -> None:
    """Write ``fig`` to ``path`` as a PNG, atomically, and close it; ``tight`` trims the margins (one more drawing
    of the figure)."""
    from binoval.io import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, **({"bbox_inches": "tight"} if tight else {}))
    pyplot().close(fig)
