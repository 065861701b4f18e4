"""The power-scaling sequence plot: how each quantity's posterior moves as the prior or the likelihood is
raised to a power alpha (``binoval.sensitivity.powerscale.powerscale_sequence``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from binoval.plotting import panel_grid, save_png
from binoval.sensitivity.check import PARETO_K_MAX

#: Colour of each scaled component.
COLOURS = {"prior": "tab:blue", "likelihood": "tab:orange"}
#: Panels per row, and the figure's height cap in inches (rows shrink beyond it).
COLUMNS, MAX_HEIGHT = 4, 12.0


def plot_powerscale_sequence(sequence_table: pd.DataFrame, path, title: str = "") -> None:
    """One panel per quantity: posterior mean (line) and 5-95% interval (band) against alpha on a log2 axis, one
    colour per scaled component; points whose importance weights have Pareto k above 0.7 are circled in red
    (unreliable). Alpha = 1 (dotted) is the fitted posterior. ``title`` is the figure's whole title (e.g.
    "hier_logit: posterior under power-scaling"); "(mean, 5-95%)" is appended."""
    quantities = list(dict.fromkeys(sequence_table["quantity"]))
    ticks = _power_ticks(sequence_table["alpha"].to_numpy(dtype=float))
    fig, axes = panel_grid(len(quantities), COLUMNS, MAX_HEIGHT)
    if not quantities:
        axes[0].set_visible(True)
        axes[0].text(0.5, 0.5, "no quantities (the fit failed?)", ha="center", va="center", color="grey")
        axes[0].set_axis_off()
    for ax, quantity in zip(axes, quantities):
        rows = sequence_table[sequence_table["quantity"] == quantity]
        for component, colour in COLOURS.items():
            part = rows[rows["component"] == component].sort_values("alpha")
            if part.empty:
                continue
            alpha = part["alpha"].to_numpy(dtype=float)
            ax.fill_between(alpha, part["q05"], part["q95"], color=colour, alpha=0.2, lw=0)
            ax.plot(alpha, part["mean"], color=colour, lw=1.2, marker="o", ms=2.5)
            bad = part["pareto_k"].to_numpy(dtype=float) > PARETO_K_MAX
            if bad.any():
                ax.plot(alpha[bad], part["mean"].to_numpy()[bad], "o", mfc="none", mec="tab:red", ms=7, mew=1.2)
        ax.axvline(1.0, color="grey", lw=0.6, ls=":")
        ax.set_xscale("log", base=2)
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.set_title(quantity, fontsize=9)
        ax.tick_params(labelsize=7)
    _legend(axes, len(quantities))
    fig.suptitle(f"{title or 'posterior under power-scaling'} (mean, 5-95%)", fontsize=10)
    fig.supxlabel("power alpha of the scaled component (log2 axis)", fontsize=8)
    fig.supylabel("posterior of the quantity", fontsize=8)
    save_png(fig, path)


def _power_ticks(alphas: np.ndarray) -> np.ndarray:
    """Powers of 2 spanning the alphas (1/2, 1, 2 for the default sequence)."""
    if not len(alphas):
        return np.array([0.5, 1.0, 2.0])
    low, high = np.floor(np.log2(alphas.min())), np.ceil(np.log2(alphas.max()))
    return 2.0 ** np.arange(min(low, 0), max(high, 0) + 1)


def _legend(axes: list, used: int) -> None:
    """The legend in the first unused panel of the grid, else inside the first panel."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=c, lw=1.2, marker="o", ms=2.5, label=f"{k} scaled") for k, c in COLOURS.items()]
    handles.append(
        Line2D([], [], ls="", marker="o", mfc="none", mec="tab:red", ms=7, label=f"Pareto k > {PARETO_K_MAX}")
    )
    if 0 < used < len(axes):
        spare = axes[used]
        spare.set_visible(True)
        spare.set_axis_off()
        spare.legend(handles=handles, loc="center", fontsize=8, frameon=False)
    elif used:
        axes[0].legend(handles=handles, loc="best", fontsize=6, framealpha=0.8)
