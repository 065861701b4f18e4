"""What the stages' plots share: matplotlib on the Agg backend, a grid of panels, and writing a PNG atomically
(a failed job leaves no half-written image). matplotlib is imported inside the functions."""

from __future__ import annotations

import math
import os

#: Resolution of every stage plot.
DPI = 110
#: Size of one panel of a grid, in inches (width, height).
PANEL = (3.2, 2.6)


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def panel_grid(count: int, columns: int = 4, max_height: float | None = None, extra_height: float = 0.0):
    """A figure with ``count`` panels, at most ``columns`` per row, and the panels as a list (unused ones hidden).

    The panels' height is capped at ``max_height`` inches when given (rows shrink beyond it); ``extra_height``
    inches are added for a title or legend.
    """
    cols = min(columns, max(1, count))
    rows = math.ceil(max(1, count) / cols)
    height = PANEL[1] * rows if max_height is None else min(PANEL[1] * rows, max_height)
    fig, axes = pyplot().subplots(
        rows, cols, figsize=(PANEL[0] * cols, height + extra_height), squeeze=False, layout="constrained"
    )
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat)


def save_png(fig, path: str | os.PathLike, tight: bool = False) -> None:
    """Write ``fig`` to ``path`` as a PNG, atomically, and close it; ``tight`` trims the margins."""
    from binoval.io import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, **({"bbox_inches": "tight"} if tight else {}))
    pyplot().close(fig)
