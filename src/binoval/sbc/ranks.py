"""Ranks of true values among thinned posterior draws.

Thinning: SBC ranks are uniform for independent posterior draws; MCMC draws
are autocorrelated, which piles ranks up in the middle or at the ends. With
``thin: auto`` each fit keeps every k-th draw of each chain with
k = floor(total draws / smallest bulk ESS of the test quantities), i.e.
about ESS draws, but never fewer than ``min_ranks`` draws
(k <= floor(total / min_ranks)). An integer ``thin`` fixes k.
Ties (possible with discrete or saturated quantities) are broken at random.
"""

from __future__ import annotations

import math

import numpy as np

from binoval.defaults import SBC


def thin_factor(
    total_draws: int, ess_min: float, thin: str | int = SBC["thin"], min_ranks: int = SBC["min_ranks"]
) -> int:
    """The thinning factor k for a fit with ``total_draws`` draws (all chains) and smallest ESS ``ess_min``."""
    if thin != "auto":
        k = int(thin)
        if k < 1:
            raise ValueError(f"sbc.thin must be 'auto' or an integer >= 1, got {thin!r}")
        return k
    ceiling = max(1, total_draws // max(int(min_ranks), 1))
    if not np.isfinite(ess_min) or ess_min <= 0:
        return ceiling
    return int(max(1, min(math.floor(total_draws / ess_min), ceiling)))


def thin_draws(values: np.ndarray, k: int) -> np.ndarray:
    """Every k-th draw of each chain of ``values`` (chain, draw, ...), flattened to (kept draws, ...)."""
    kept = values[:, ::k]
    return kept.reshape(kept.shape[0] * kept.shape[1], *kept.shape[2:])


def ranks(draws: np.ndarray, truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rank of each ``truth[q]`` among ``draws[:, q]``: draws below it plus a uniform share of ties."""
    draws = np.asarray(draws, dtype=float)
    truth = np.asarray(truth, dtype=float)
    below = (draws < truth[None, :]).sum(axis=0)
    ties = (draws == truth[None, :]).sum(axis=0)
    return below + rng.integers(0, ties + 1)
