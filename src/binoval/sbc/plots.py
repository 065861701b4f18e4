"""SBC plots: ECDF difference with simultaneous 95% bands, and rank histograms, one panel per quantity."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from binoval.plotting import panel_grid, save_png
from binoval.sbc.uniformity import chi_square_bins, ecdf_band, ecdf_counts


def _ok(table: pd.DataFrame):
    ok = table[table["status"] == "ok"]
    return [(q, ok.loc[ok["quantity"] == q, "u"].to_numpy(dtype=float)) for q in dict.fromkeys(table["quantity"])]


def plot_ecdf_difference(table: pd.DataFrame, path, title: str = "", alpha: float = 0.05) -> None:
    """ECDF of the fractional ranks minus the uniform CDF, inside the simultaneous 1 - alpha band."""
    panels = _ok(table)
    fig, axes = panel_grid(len(panels))
    for ax, (quantity, u) in zip(axes, panels):
        ax.set_title(quantity, fontsize=9)
        ax.axhline(0, color="grey", lw=0.5)
        if len(u) >= 2:
            band = ecdf_band(len(u), alpha)
            ax.fill_between(band.z, band.lower, band.upper, color="tab:blue", alpha=0.2, step="mid", lw=0)
            diff = ecdf_counts(u, band.z) / len(u) - band.z
            outside = (diff < band.lower) | (diff > band.upper)
            ax.plot(band.z, diff, color="tab:red" if outside.any() else "black", lw=1)
        else:
            _no_ranks(ax, len(u))
        ax.set_xlim(0, 1)
        ax.tick_params(labelsize=7)
    fig.suptitle(f"{title} ECDF difference of SBC ranks, {1 - alpha:.0%} simultaneous bands".strip(), fontsize=10)
    _axis_labels(fig, "ECDF of ranks minus uniform CDF")
    save_png(fig, path)


def plot_rank_histograms(table: pd.DataFrame, path, title: str = "") -> None:
    """Histograms of the fractional ranks with the central 99% range of each bin's count under uniformity."""
    panels = _ok(table)
    fig, axes = panel_grid(len(panels))
    for ax, (quantity, u) in zip(axes, panels):
        ax.set_title(quantity, fontsize=9)
        if len(u):
            bins = chi_square_bins(len(u))
            low, high = stats.binom.ppf([0.005, 0.995], len(u), 1 / bins)
            ax.axhspan(low, high, color="grey", alpha=0.25, lw=0)
            edges = np.linspace(0, 1, bins + 1)
            counts = np.histogram(u, edges)[0]
            ax.stairs(counts, edges, fill=True, color="tab:blue")  # one artist, not a patch per bin
            ax.vlines(edges[1:-1], 0, np.minimum(counts[:-1], counts[1:]), color="white", lw=0.8)
        else:
            _no_ranks(ax, 0)
        ax.set_xlim(0, 1)
        ax.tick_params(labelsize=7)
    fig.suptitle(f"{title} SBC rank histograms (grey: 99% range per bin if uniform)".strip(), fontsize=10)
    _axis_labels(fig, "simulations per bin")
    save_png(fig, path)


def _axis_labels(fig, ylabel: str) -> None:
    """Label the grid once: fractional rank (0: true value below every posterior draw, 1: above all) on x."""
    fig.supxlabel("fractional rank of the true value among the posterior draws", fontsize=8)
    fig.supylabel(ylabel, fontsize=8)


def _no_ranks(ax, count: int) -> None:
    """Say in an empty panel why it is empty: ``count`` ranks (one per successful SBC fit) are too few to draw."""
    text = "no successful SBC fit" if count == 0 else f"{count} successful SBC fit: too few ranks to draw"
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=8, color="grey", transform=ax.transAxes)
