"""Plots of the predictive checks (matplotlib, Agg backend), drawn from the stage tables."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from binoval.plotting import panel_grid, save_png  # noqa: E402
from binoval.predictive.statistics import STATISTIC_NAMES, STATISTICS  # noqa: E402


def _legend_beside(ax) -> None:
    """The legend right of the axes, so it hides no group's interval."""
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)


def _group_axis(ax, groups: pd.DataFrame) -> np.ndarray:
    x = np.arange(len(groups))
    ax.set_xticks(x)
    ax.set_xticklabels([f"{g}\n(n={n})" for g, n in zip(groups["group"], groups["n"])], fontsize=7, rotation=90)
    ax.set_xlabel("group")
    return x


def plot_prior_predictive_groups(groups: pd.DataFrame, summary: pd.DataFrame, path: str | os.PathLike) -> None:
    """Prior predictive proportions per group (50% and 90% intervals, median) against the observed ones."""
    model_id = groups["model_id"].iloc[0]
    fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(groups) + 2), 4))
    x = _group_axis(ax, groups)
    ax.vlines(x, groups["q05"], groups["q95"], color="tab:blue", alpha=0.35, lw=6, label="prior predictive 90%")
    ax.vlines(x, groups["q25"], groups["q75"], color="tab:blue", alpha=0.8, lw=6, label="prior predictive 50%")
    ax.plot(x, groups["median"], "_", color="navy", ms=12, label="prior predictive median")
    ax.plot(x, groups["observed_proportion"], "o", color="tab:red", label="observed r/n")
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("proportion r / n")
    share = summary["degenerate_share"].iloc[0]
    ax.set_title(f"{model_id}: prior predictive proportions ({summary['draws'].iloc[0]} draws, {share:.1%} degenerate)")
    _legend_beside(ax)
    save_png(fig, path, tight=True)


def plot_statistics(
    replicated: dict[str, np.ndarray] | pd.DataFrame | None,
    summary: pd.DataFrame,
    path: str | os.PathLike,
    title: str,
    value_column: str = "p_value",
) -> None:
    """Histogram of each statistic's predictive draws with the observed value as a red line."""
    names = list(STATISTIC_NAMES)
    fig, axes = panel_grid(len(names), columns=4, gaps=(0.45, 0.95))  # two-line titles and an x label per panel
    by_name = summary.set_index("statistic") if len(summary) else None
    for ax, name in zip(axes, names):
        if replicated is None or by_name is None:
            ax.text(0.5, 0.5, "no draws", ha="center", va="center", transform=ax.transAxes)
        else:
            values = np.asarray(replicated[name], dtype=float)
            distinct = np.unique(values)
            if distinct.size <= 30 and np.allclose(distinct, np.round(distinct)):
                bins = np.arange(distinct.min() - 0.5, distinct.max() + 1.5)
            else:
                bins = np.histogram_bin_edges(values, 40)
            ax.stairs(np.histogram(values, bins)[0], bins, fill=True, color="tab:blue", alpha=0.7)
            row = by_name.loc[name]
            ax.axvline(row["observed"], color="tab:red", lw=2)
            ax.set_title(f"{name}\n{value_column} = {row[value_column]:.3f}", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xlabel(STATISTICS[name].meaning, fontsize=6)
    fig.suptitle(title, fontsize=10)
    save_png(fig, path)


def plot_ppc_groups(groups: pd.DataFrame, path: str | os.PathLike, model_id: str) -> None:
    """Per-group posterior predictive intervals of r/n (50/90/95%) against observed proportions."""
    fig, ax = plt.subplots(figsize=(max(6, 0.45 * max(len(groups), 1) + 2), 4))
    if len(groups):
        x = _group_axis(ax, groups)
        n = groups["n"].to_numpy(dtype=float)
        for level, alpha, lw in ((95, 0.25, 7), (90, 0.45, 7), (50, 0.9, 7)):
            ax.vlines(
                x,
                groups[f"lower_{level}"] / n,
                groups[f"upper_{level}"] / n,
                color="tab:blue",
                alpha=alpha,
                lw=lw,
                label=f"predictive {level}%",
            )
        outside = ~groups["inside_95"].to_numpy()
        ax.plot(x[~outside], groups["observed_proportion"][~outside], "o", color="black", label="observed (inside 95%)")
        ax.plot(
            x[outside],
            groups["observed_proportion"][outside],
            "X",
            color="tab:red",
            ms=9,
            label="observed (outside 95%)",
        )
        ax.set_ylabel("proportion r / n")
        _legend_beside(ax)
        ax.set_title(
            f"{model_id}: posterior predictive intervals per group ({int(groups['inside_95'].sum())}/{len(groups)} inside 95%)"
        )
    else:
        ax.text(
            0.5, 0.5, "no posterior predictive draws (fit failed)", ha="center", va="center", transform=ax.transAxes
        )
    save_png(fig, path, tight=True)


def plot_pit(
    groups: pd.DataFrame, band_halfwidth: float, ks_pvalue: float, path: str | os.PathLike, model_id: str
) -> None:
    """ECDF of the randomised PIT values minus the uniform CDF, with the 95% simultaneous (KS) band."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    if len(groups):
        pit = np.sort(groups["pit"].to_numpy())
        grid = np.linspace(0.0, 1.0, 1001)
        ecdf = np.searchsorted(pit, grid, side="right") / pit.size
        ax.plot(grid, ecdf - grid, color="tab:blue", label="ECDF - uniform CDF")
        ax.axhspan(-band_halfwidth, band_halfwidth, color="grey", alpha=0.2, label="95% KS band")
        ax.axhline(0, color="black", lw=0.5)
        ax.set_xlim(0, 1)
        ax.set_xlabel("randomised PIT")
        ax.set_ylabel("ECDF difference")
        ax.legend(fontsize=7)
        ax.set_title(f"{model_id}: PIT uniformity (KS p = {ks_pvalue:.3f})", fontsize=9)
    else:
        ax.text(
            0.5, 0.5, "no posterior predictive draws (fit failed)", ha="center", va="center", transform=ax.transAxes
        )
    save_png(fig, path, tight=True)
