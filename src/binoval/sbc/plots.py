"""SBC plots: ECDF difference with simultaneous 95% bands, and rank histograms, one panel per quantity.

Group rates get a panel each up to ``GROUP_PANELS`` of them; with more (many groups, or a subset of
``sbc.max_group_quantities``) they are drawn as one panel of all their ranks pooled and the ``WORST_GROUPS``
groups whose ranks are furthest from uniform, so the figure's size does not grow with the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from binoval.distributions import binomial_ppf
from binoval.plotting import panel_grid, save_png
from binoval.sbc.simulate import GROUP_RATE
from binoval.sbc.uniformity import chi_square_bins, ecdf_band, ecdf_counts, ecdf_statistic

#: The most group-rate panels drawn one by one; beyond, a pooled panel and the ``WORST_GROUPS`` worst groups.
GROUP_PANELS = 16
WORST_GROUPS = 6
#: Roles (``binoval.sbc.simulate.ROLES``) of per-group (per-level) quantities.
GROUP_ROLES = ("group", "group_subset")


@dataclass
class Panel:
    """One panel: its title, the fractional ranks it shows, and how many independent simulations they come from
    (the ranks of a pooled panel are several per simulation)."""

    title: str
    u: np.ndarray
    simulations: int


def panels(table: pd.DataFrame) -> list[Panel]:
    """The panels of ``table``'s successful fits, in quantity order; per variable, group-level quantities (group
    rates, or the levels of a GLMM's varying effect) beyond ``GROUP_PANELS`` pooled into one panel followed by
    the ``WORST_GROUPS`` worst."""
    ok = table[table["status"] == "ok"]
    u_of = {q: part["u"].to_numpy(dtype=float) for q, part in ok.groupby("quantity", sort=False)}
    first = table.drop_duplicates("quantity")
    order = list(first["quantity"])
    roles, variable_of = dict(zip(order, first["role"])), dict(zip(order, first["variable"]))
    u = {q: u_of.get(q, np.empty(0)) for q in order}
    levels: dict[str, list[str]] = {}
    for q in order:
        if roles[q] in GROUP_ROLES:
            levels.setdefault(variable_of[q], []).append(q)
    out: list[Panel] = []
    for q in order:
        variable = variable_of[q]
        if roles[q] not in GROUP_ROLES or len(levels[variable]) <= GROUP_PANELS:
            out.append(Panel(q, u[q], len(u[q])))
        elif q == levels[variable][0]:
            out.extend(_pooled_panels(variable, levels[variable], u))
    return out


def _pooled_panels(variable: str, quantities: list[str], u: dict[str, np.ndarray]) -> list[Panel]:
    """One panel of all ``quantities``' ranks pooled, then the ``WORST_GROUPS`` furthest from uniform."""
    what = "group rates" if variable == GROUP_RATE else f"{variable} levels"
    simulations = max(len(u[q]) for q in quantities)
    pooled = Panel(f"{len(quantities)} {what} pooled", np.concatenate([u[q] for q in quantities]), simulations)
    worst = sorted((q for q in quantities if len(u[q]) >= 2), key=lambda q: ecdf_statistic(u[q]))[:WORST_GROUPS]
    return [pooled] + [Panel(f"{q} (worst {i + 1})", u[q], len(u[q])) for i, q in enumerate(worst)]


def plot_ecdf_difference(table: pd.DataFrame, path, title: str = "", alpha: float = 0.05) -> None:
    """ECDF of the fractional ranks minus the uniform CDF, inside the simultaneous 1 - alpha band."""
    shown = panels(table)
    fig, axes = panel_grid(len(shown))
    for ax, panel in zip(axes, shown):
        u = panel.u
        ax.set_title(panel.title, fontsize=9)
        ax.axhline(0, color="grey", lw=0.5)
        if len(u) >= 2:
            # a pooled panel's band is that of one rank per simulation: its ranks of one simulation are dependent,
            # and the mean of dependent indicators varies no more than one of them, so the band is conservative
            band = ecdf_band(panel.simulations, alpha)
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
    shown = panels(table)
    fig, axes = panel_grid(len(shown))
    for ax, panel in zip(axes, shown):
        u = panel.u
        ax.set_title(panel.title, fontsize=9)
        if len(u):
            # a pooled panel shows its counts per simulation (divided by the ranks per simulation), against the
            # range of one rank per simulation (conservative, as its ECDF band)
            bins = chi_square_bins(panel.simulations)
            low, high = binomial_ppf([0.005, 0.995], panel.simulations, 1 / bins)
            ax.axhspan(low, high, color="grey", alpha=0.25, lw=0)
            edges = np.linspace(0, 1, bins + 1)
            counts = np.histogram(u, edges)[0] * (panel.simulations / len(u))
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
