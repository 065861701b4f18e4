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
* two-sided p-value: ``min(1, 2 min(P(T_rep >= T_obs), P(T_rep <= T_obs)))``;
  both tails include ties, so a tie never makes the value look extreme.
* central interval at level c: the ``(1 - c)/2`` and ``(1 + c)/2`` quantiles of the
  draws (``inverted_cdf``, so the ends are attainable values); inside means
  ``low <= observed <= high``.
* randomised PIT of count ``y``: ``P(y_rep < y) + V P(y_rep = y)``, ``V ~ Uniform(0, 1)``,
  which is exactly Uniform(0, 1) when ``y`` is drawn from the predictive.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as scipy_stats


def midrank_quantile(draws: np.ndarray, observed: float) -> float:
    """Share of ``draws`` below ``observed``, counting ties as half."""
    draws = np.asarray(draws, dtype=float)
    below = np.count_nonzero(draws < observed)
    ties = np.count_nonzero(draws == observed)
    return float((below + 0.5 * ties) / draws.size)


def two_sided_p_value(draws: np.ndarray, observed: float) -> tuple[float, float, float]:
    """``(P(T_rep >= T_obs), P(T_rep <= T_obs), min(1, 2 min of the two))``."""
    draws = np.asarray(draws, dtype=float)
    greater = float(np.mean(draws >= observed))
    less = float(np.mean(draws <= observed))
    return greater, less, float(min(1.0, 2.0 * min(greater, less)))


def central_interval(draws: np.ndarray, level: float, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Ends of the central ``level`` interval of ``draws`` along ``axis`` (attainable values)."""
    tail = round((1.0 - level) / 2.0, 12)  # 0.025, not 0.025000000000000022
    low = np.quantile(draws, tail, axis=axis, method="inverted_cdf")
    high = np.quantile(draws, 1.0 - tail, axis=axis, method="inverted_cdf")
    return low, high


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
    result = scipy_stats.kstest(np.asarray(values, dtype=float), "uniform", method="exact")
    return float(result.statistic), float(result.pvalue)


def ks_band_halfwidth(n_values: int, alpha: float = 0.05) -> float:
    """Half-width of the simultaneous (1 - alpha) ECDF band around the uniform CDF (exact KS)."""
    return float(scipy_stats.kstwo.ppf(1.0 - alpha, n_values))


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
