"""Tail probabilities, intervals and PIT values shared by the prior and posterior predictive checks.

Prior predictive: draw datasets from the model's prior (same groups, same n),
compute the test statistics of ``binoval.predictive.statistics`` per draw and locate the
observed value among them. A prior that cannot produce data like the observed
(observed statistic far in a tail) or that mostly produces degenerate data
(every group at 0 or every group at n) is a poor prior.

Posterior predictive: from the fit's ``posterior_predictive`` draws of ``r``,
each statistic's predictive mean, 95% interval and two-sided Bayesian p-value;
per group, whether the observed count lies inside the central 50/90/95%
predictive intervals; randomised PIT values (the counts are discrete, so the
plain PIT is not uniform even under a perfect model) and a Kolmogorov-Smirnov
test of their uniformity.

Definitions used throughout (``T`` a statistic, ``S`` predictive draws):

* mid-rank quantile of the observed value: ``(#{T_rep < T_obs} + #{T_rep = T_obs} / 2) / S``;
  with discrete statistics many draws tie with the observed value, and
  the mid-rank puts it in the middle of the tie block instead of at one end.
* tail probabilities ``P(T_rep >= T_obs)`` and ``P(T_rep <= T_obs)`` as ``(1 + count) / (1 + S)``
  (``tail_probabilities``); both tails include ties, so a tie never makes the value look extreme.
* p-value by the statistic's alternative (``binoval.predictive.statistics.Statistic``): the upper
  tail for ``greater``, ``min(1, 2 min(both tails))`` for ``two-sided``.
* central interval at level c: the ``(1 - c)/2`` and ``(1 + c)/2`` quantiles of the
  draws (``inverted_cdf``, so the ends are attainable values); inside means
  ``low <= observed <= high``.
* randomised PIT of count ``y``: ``P(y_rep < y) + V P(y_rep = y)``, ``V ~ Uniform(0, 1)``,
  which is exactly Uniform(0, 1) when ``y`` is drawn from the predictive.
"""

from __future__ import annotations

import numpy as np

from binoval.predictive.statistics import GREATER, STATISTICS, TWO_SIDED


def midrank_quantile(draws: np.ndarray, observed: float) -> float:
    """Share of ``draws`` below ``observed``, counting ties as half."""
    draws = np.asarray(draws, dtype=float)
    below = np.count_nonzero(draws < observed)
    ties = np.count_nonzero(draws == observed)
    return float((below + 0.5 * ties) / draws.size)


def tail_probabilities(draws: np.ndarray, observed: float) -> tuple[float, float]:
    """``(P(T_rep >= T_obs), P(T_rep <= T_obs))`` estimated as ``(1 + count) / (1 + S)`` from ``S`` draws.

    The ``+ 1`` counts the observed value as one of the draws. When the data come from the
    same distribution as the draws (a prior predictive check of a correct prior) this makes
    ``P(p <= a) <= a`` exact for every ``a``, and it keeps an estimate from ever being 0:
    the smallest attainable value, ``1 / (1 + S)``, is the resolution of the check.
    """
    draws = np.asarray(draws, dtype=float)
    scale = 1.0 / (1.0 + draws.size)
    return (1.0 + np.count_nonzero(draws >= observed)) * scale, (1.0 + np.count_nonzero(draws <= observed)) * scale


def p_value(greater: float, less: float, alternative: str) -> float:
    """The p-value of a statistic judged in ``alternative`` (``binoval.predictive.statistics``): the upper tail
    for ``greater``, twice the smaller tail (at most 1) for ``two-sided``."""
    return float(_combined_tails(greater, less, alternative))


def _combined_tails(greater, less, alternative: str):
    """``p_value`` elementwise over arrays of tail probabilities."""
    if alternative == GREATER:
        return greater
    if alternative == TWO_SIDED:
        return np.minimum(1.0, 2.0 * np.minimum(greater, less))
    raise ValueError(f"unknown alternative {alternative!r}; expected {TWO_SIDED!r} or {GREATER!r}")


def smallest_p_value(draws: int, alternative: str) -> float:
    """The smallest p-value ``draws`` replicated datasets can give (an observed value beyond all of them)."""
    one_tail = 1.0 / (1.0 + draws)
    return one_tail if alternative == GREATER else min(1.0, 2.0 * one_tail)


def _tail_counts(reference: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``values``: how many ``reference`` draws are at or above it, and at or below it."""
    ordered = np.sort(np.asarray(reference, dtype=float))
    values = np.asarray(values, dtype=float)
    return ordered.size - np.searchsorted(ordered, values, side="left"), np.searchsorted(ordered, values, side="right")


def tail_p_values(reference: np.ndarray, observed: np.ndarray, alternative: str) -> np.ndarray:
    """``p_value`` of each of the ``observed`` values against the ``reference`` draws (vectorised
    ``tail_probabilities``)."""
    at_or_above, at_or_below = _tail_counts(reference, observed)
    draws = 1.0 + np.size(reference)
    return _combined_tails((1.0 + at_or_above) / draws, (1.0 + at_or_below) / draws, alternative)


def leave_one_out_p_values(values: np.ndarray, alternative: str) -> np.ndarray:
    """Each draw's p-value against the other ``S - 1`` draws, as ``tail_probabilities`` computes it for data:
    ``(1 + count of the others in the tail) / S``."""
    at_or_above, at_or_below = _tail_counts(values, values)  # each count includes the draw itself: 1 + the others
    size = np.size(values)
    return _combined_tails(at_or_above / size, at_or_below / size, alternative)


def min_p_null(draws, names) -> np.ndarray:
    """The smallest p-value over the statistics ``names`` of each draw in ``draws`` (a table with one column per
    statistic), each draw judged against the others: the distribution of the min-p statistic under the prior."""
    columns = [leave_one_out_p_values(np.asarray(draws[name]), STATISTICS[name].alternative) for name in names]
    return np.min(columns, axis=0)


def min_p_adjusted(p_values: np.ndarray, null_min_p: np.ndarray) -> np.ndarray:
    """Westfall-Young single-step min-p adjusted p-values: ``(1 + #{draws whose smallest p-value is at most p}) /
    (1 + S)`` for each p in ``p_values``. A family-wise test over the statistics whose level is exact under the
    draws' distribution, whatever the dependence between the statistics (Holm's bound is not: it is conservative
    when they are correlated, as spread, CV, chi-square and the extremes are)."""
    ordered = np.sort(np.asarray(null_min_p, dtype=float))
    counts = np.searchsorted(ordered, np.asarray(p_values, dtype=float), side="right")
    return (1.0 + counts) / (1.0 + ordered.size)


def predictive_p_values(replicated: dict[str, np.ndarray], observed: dict[str, np.ndarray]) -> list[dict]:
    """Per statistic of ``STATISTICS``: its alternative, both tail probabilities and its p-value."""
    rows = []
    for name, statistic in STATISTICS.items():
        greater, less = tail_probabilities(replicated[name], float(observed[name]))
        rows.append(
            {
                "statistic": name,
                "alternative": statistic.alternative,
                "p_greater_eq": greater,
                "p_less_eq": less,
                "p_value": p_value(greater, less, statistic.alternative),
            }
        )
    return rows


def _tail(level: float) -> float:
    return round((1.0 - level) / 2.0, 12)  # 0.025, not 0.025000000000000022


def central_interval(draws: np.ndarray, level: float, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Ends of the central ``level`` interval of ``draws`` along ``axis`` (attainable values)."""
    tail = _tail(level)
    low = np.quantile(draws, tail, axis=axis, method="inverted_cdf")
    high = np.quantile(draws, 1.0 - tail, axis=axis, method="inverted_cdf")
    return low, high


def central_intervals(draws: np.ndarray, levels, axis: int = 0) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """``central_interval`` of ``draws`` at each of ``levels``, from one partial sort of ``draws`` (NaN-free).

    The ends are the order statistics ``np.quantile(..., method="inverted_cdf")`` picks, whose positions are read
    from the same quantiles of the positions themselves, so the values are ``central_interval``'s exactly.
    """
    draws = np.moveaxis(np.asarray(draws), axis, 0)
    probabilities = [p for level in levels for p in (_tail(level), 1.0 - _tail(level))]
    positions = np.quantile(np.arange(draws.shape[0]), probabilities, method="inverted_cdf").astype(int)
    ordered = np.partition(draws, np.unique(positions), axis=0)
    ends = ordered[positions]
    return {level: (ends[2 * i], ends[2 * i + 1]) for i, level in enumerate(levels)}


def randomised_pit(r_rep: np.ndarray, r_obs: np.ndarray, generator: np.random.Generator) -> np.ndarray:
    """Randomised PIT per group from predictive draws ``r_rep`` (S, G) and observed ``r_obs`` (G,)."""
    r_rep = np.asarray(r_rep)
    r_obs = np.asarray(r_obs)
    below = np.mean(r_rep < r_obs, axis=0)
    equal = np.mean(r_rep == r_obs, axis=0)
    return below + generator.uniform(size=r_obs.shape) * equal


def uniformity_test(values: np.ndarray) -> tuple[float, float]:
    """Kolmogorov-Smirnov statistic and p-value of ``values`` against Uniform(0, 1).

    The KS test is the ECDF simultaneous-band check: it rejects at level a
    exactly when the ECDF leaves the band ``u +- d_a(n)`` somewhere. It uses
    the exact small-sample distribution (we have one value per group, often
    10-30).
    """
    from binoval.distributions import ks_uniform_test

    return ks_uniform_test(values)


def ks_band_halfwidth(n_values: int, alpha: float = 0.05) -> float:
    """Half-width of the simultaneous (1 - alpha) ECDF band around the uniform CDF (exact KS)."""
    from binoval.distributions import ks_isf

    return ks_isf(alpha, n_values)


def group_table(model_id: str, data, **columns):
    """One row per group of ``data``: model id, group, n, r and the observed proportion r/n, then ``columns``."""
    import pandas as pd

    return pd.DataFrame(
        {
            "model_id": model_id,
            "group": list(data.groups),
            "n": data.n,
            "r": data.r,
            "observed_proportion": data.r / data.n,
            **columns,
        }
    )
