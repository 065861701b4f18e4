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

#: The most groups drawn one by one with labels; with more, groups are ordered by trials without labels
#: (``_group_size_axis``) and the posterior predictive plot adds coverage by group size.
LABELLED_GROUPS = 40
#: Bins of groups (by trials) of the coverage-by-group-size panel.
SIZE_BINS = 10


def labelled(groups: int) -> bool:
    """Whether ``groups`` groups are drawn one labelled tick each (at most ``LABELLED_GROUPS``)."""
    return groups <= LABELLED_GROUPS


def _interval_width(groups: int, labelled_width: float) -> float:
    """Line width of one group's interval: ``labelled_width`` when groups are labelled, else thin enough that
    ``groups`` side by side fill the fixed-width axis without overlapping much."""
    return labelled_width if labelled(groups) else max(0.5, 600 / groups)


def _legend_beside(ax) -> None:
    """The legend right of the axes, so it hides no group's interval."""
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)


def _group_figure(groups: pd.DataFrame, extra_panel: bool = False):
    """A figure for per-group intervals: wide enough for a labelled tick per group up to ``LABELLED_GROUPS``,
    else of fixed width (and with a second panel beside it when ``extra_panel``)."""
    if labelled(len(groups)):
        fig, ax = plt.subplots(figsize=(max(6, 0.45 * max(len(groups), 1) + 2), 4))
        return fig, ax, None
    if extra_panel:
        fig, (ax, side) = plt.subplots(1, 2, figsize=(13, 4.5), gridspec_kw={"width_ratios": [3, 1.3]})
        return fig, ax, side
    fig, ax = plt.subplots(figsize=(10, 4.5))
    return fig, ax, None


def _group_positions(ax, groups: pd.DataFrame) -> np.ndarray:
    """x of each group: one labelled tick per group (``_group_axis``), or with many groups their rank by trials
    (``_group_size_axis``)."""
    return _group_axis(ax, groups) if labelled(len(groups)) else _group_size_axis(ax, groups)


def _group_size_axis(ax, groups: pd.DataFrame) -> np.ndarray:
    """Groups ordered by trials n (ties by observed proportion), ticks at a few of them labelled with their n."""
    n = groups["n"].to_numpy()
    order = np.lexsort((groups["observed_proportion"].to_numpy(), n))
    x = np.empty(len(groups))
    x[order] = np.arange(len(groups))
    ticks = np.unique(np.linspace(0, len(groups) - 1, 9).round().astype(int))
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(n[order][t]) for t in ticks], fontsize=7)
    ax.set_xlabel(f"{len(groups)} groups ordered by trials (tick labels: n)")
    ax.set_xlim(-1, len(groups))
    return x


def _coverage_by_size(ax, groups: pd.DataFrame) -> None:
    """Share of groups inside their 95% predictive interval per bin of groups by trials, with Jeffreys intervals."""
    from binoval.sbc.summary import jeffreys_interval

    order = np.argsort(groups["n"].to_numpy(), kind="stable")
    inside = groups["inside_95"].to_numpy()[order]
    n = groups["n"].to_numpy()[order]
    bins = np.array_split(np.arange(len(groups)), min(SIZE_BINS, len(groups)))
    for i, members in enumerate(bins):
        covered, count = int(inside[members].sum()), len(members)
        low, high = jeffreys_interval(covered, count)
        ax.plot([i, i], [low, high], color="tab:blue", lw=2)
        ax.plot(i, covered / count, "o", color="black" if low <= 0.95 <= high else "tab:red")
    ax.axhline(0.95, color="grey", ls=":", lw=1)
    ax.set_xticks(range(len(bins)))
    ax.set_xticklabels([f"{n[m[0]]}-{n[m[-1]]}" for m in bins], rotation=90, fontsize=7)
    ax.set_xlabel("trials n of the groups in the bin")
    ax.set_ylabel("share inside 95% (95% interval)")
    ax.set_ylim(min(0.5, ax.get_ylim()[0]), 1.01)
    ax.set_title("coverage by group size", fontsize=9)


def _group_axis(ax, groups: pd.DataFrame) -> np.ndarray:
    x = np.arange(len(groups))
    ax.set_xticks(x)
    ax.set_xticklabels([f"{g}\n(n={n})" for g, n in zip(groups["group"], groups["n"])], fontsize=7, rotation=90)
    ax.set_xlabel("group")
    return x


def plot_prior_predictive_groups(groups: pd.DataFrame, summary: pd.DataFrame, path: str | os.PathLike) -> None:
    """Prior predictive proportions per group (50% and 90% intervals, median) against the observed ones."""
    model_id = groups["model_id"].iloc[0]
    fig, ax, _ = _group_figure(groups)
    x = _group_positions(ax, groups)
    few = labelled(len(groups))
    lw, ms = _interval_width(len(groups), 6), 12 if few else 3
    ax.vlines(x, groups["q05"], groups["q95"], color="tab:blue", alpha=0.35, lw=lw, label="prior predictive 90%")
    ax.vlines(x, groups["q25"], groups["q75"], color="tab:blue", alpha=0.8, lw=lw, label="prior predictive 50%")
    ax.plot(x, groups["median"], "_", color="navy", ms=ms, label="prior predictive median")
    ax.plot(x, groups["observed_proportion"], "o", color="tab:red", ms=6 if few else 1.5, label="observed r/n")
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
    """Per-group posterior predictive intervals of r/n (50/90/95%) against observed proportions; with more than
    ``LABELLED_GROUPS`` groups, ordered by trials, beside the 95% coverage by group size."""
    fig, ax, side = _group_figure(groups, extra_panel=True)
    if len(groups):
        x = _group_positions(ax, groups)
        few = labelled(len(groups))
        n = groups["n"].to_numpy(dtype=float)
        for level, alpha in ((95, 0.25), (90, 0.45), (50, 0.9)):
            ax.vlines(
                x,
                groups[f"lower_{level}"] / n,
                groups[f"upper_{level}"] / n,
                color="tab:blue",
                alpha=alpha,
                lw=_interval_width(len(groups), 7),
                label=f"predictive {level}%",
            )
        outside = ~groups["inside_95"].to_numpy()
        observed = groups["observed_proportion"].to_numpy()
        ax.plot(
            x[~outside], observed[~outside], "o", color="black", ms=6 if few else 1.5, label="observed (inside 95%)"
        )
        ax.plot(x[outside], observed[outside], "X", color="tab:red", ms=9 if few else 4, label="observed (outside 95%)")
        ax.set_ylabel("proportion r / n")
        if few:
            _legend_beside(ax)
        else:
            ax.legend(fontsize=7, loc="best")
        ax.set_title(
            f"{model_id}: posterior predictive intervals per group ({int(groups['inside_95'].sum())}/{len(groups)} inside 95%)",
            fontsize=10 if few else 9,
        )
        if side is not None:
            _coverage_by_size(side, groups)
    else:
        if side is not None:
            side.set_visible(False)
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
