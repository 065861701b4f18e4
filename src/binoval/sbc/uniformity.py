"""Are SBC ranks uniform? Two tests per quantity and the multiplicity over quantities.

Input: fractional ranks ``u`` in (0, 1), one per simulation. A rank ``r``
among ``L`` thinned posterior draws (uniform on 0..L when the model is
calibrated) becomes ``u = (r + V) / (L + 1)`` with ``V ~ Uniform(0, 1)``,
which is exactly Uniform(0, 1) under calibration whatever ``L`` is, so
simulations thinned to different lengths can be pooled.

1. **ECDF-difference test with simultaneous bands** (Säilynoja, Bürkner &
   Vehtari 2022, "Graphical test for discrete uniformity and its
   applications in goodness-of-fit evaluation and multiple sample
   comparison", Statistics and Computing 32:32). At ``K`` evaluation points
   ``z_j = j / K`` the count ``N F(z_j)`` of ranks at or below ``z_j`` is
   Binomial(N, z_j) under uniformity. The statistic is the smallest two-sided
   binomial tail probability over the points. Its null distribution is
   simulated (``NULL_SIMULATIONS`` uniform samples of size N, seeded by
   ``binoval.seeds``, so deterministic); the simultaneous band at level
   1 - alpha uses the adjusted pointwise level gamma = the alpha-quantile of
   that null distribution (the paper's simulation method), and the test's
   p-value is the share of null statistics at or below the observed one
   (so it is at least 1 / (NULL_SIMULATIONS + 1) = 5e-5: small enough to
   survive a Holm adjustment over a few hundred tests at alpha = 0.01).
2. **Chi-square on equal-width bins** of ``u`` (``B = min(20, N // 5)`` bins,
   so every expected count is at least 5; B - 1 degrees of freedom).

Multiplicity: a model has many quantities and two tests each. ``holm``
adjusts all of a model's p-values together (Holm 1979), which controls the
family-wise error rate over every quantity and both tests: "some quantity
is miscalibrated" is claimed at level alpha only if its Holm-adjusted p-value
is below alpha.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from binoval import seeds
from binoval.distributions import binomial_cdf, binomial_ppf, binomial_sf, chi2_sf

#: Uniform samples simulated for the null distribution of the ECDF statistic.
NULL_SIMULATIONS = 20000
#: Evaluation points of the ECDF are z_j = j / K with K = min(N, MAX_POINTS).
MAX_POINTS = 100
#: Seed of the null simulation (a constant: the null does not depend on the run).
NULL_SEED = 20220113


def fractional_ranks(rank: np.ndarray, n_ranks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(rank + V) / (L + 1)`` with ``V ~ U(0, 1)``: exactly uniform when ``rank`` is uniform on 0..L."""
    rank = np.asarray(rank, dtype=float)
    return (rank + rng.random(rank.shape)) / (np.asarray(n_ranks, dtype=float) + 1.0)


def evaluation_points(n: int) -> np.ndarray:
    """Interior evaluation points ``j / K``, j = 1..K-1, with K = min(n, MAX_POINTS) (at least 2)."""
    k = max(2, min(int(n), MAX_POINTS))
    return np.arange(1, k) / k


def _tail_probabilities(counts: np.ndarray, n: int, z: np.ndarray) -> np.ndarray:
    """Two-sided binomial tail probability of each ECDF count (``counts[..., j]`` at ``z[j]``)."""
    lower = binomial_cdf(counts, n, z)
    upper = binomial_sf(counts - 1, n, z)
    return np.minimum(1.0, 2.0 * np.minimum(lower, upper))


def ecdf_counts(u: np.ndarray, z: np.ndarray) -> np.ndarray:
    """How many of ``u`` lie at or below each ``z`` (last axis of ``u`` is the sample)."""
    u = np.sort(np.asarray(u, dtype=float), axis=-1)
    if u.ndim == 1:
        return np.searchsorted(u, z, side="right")
    return np.stack([np.searchsorted(row, z, side="right") for row in u])


def ecdf_statistic(u: np.ndarray) -> float:
    """The smallest pointwise two-sided binomial tail probability of the ECDF of ``u``."""
    u = np.asarray(u, dtype=float)
    z = evaluation_points(len(u))
    return float(_tail_probabilities(ecdf_counts(u, z), len(u), z).min())


def _tail_table(n: int, z: np.ndarray) -> np.ndarray:
    """``_tail_probabilities`` of every possible count 0..n at each ``z``: array (len(z), n + 1)."""
    return _tail_probabilities(np.arange(n + 1)[None, :], n, z[:, None])


@lru_cache(maxsize=64)
def null_statistics(n: int) -> np.ndarray:
    """Null distribution of ``ecdf_statistic`` for ``n`` uniform values (sorted, deterministic).

    The tail probabilities are looked up in ``_tail_table`` (n + 1 counts per evaluation point) instead of
    evaluated per simulated ECDF: the same numbers, a hundredth of the binomial evaluations.
    """
    generator = seeds.rng(NULL_SEED, "sbc", "ecdf-null", int(n))
    z = evaluation_points(n)
    table = _tail_table(n, z)
    points = np.arange(len(z))[None, :]
    out = np.empty(NULL_SIMULATIONS)
    batch = max(1, 200_000 // max(n, 1))
    for start in range(0, NULL_SIMULATIONS, batch):
        stop = min(start + batch, NULL_SIMULATIONS)
        u = generator.random((stop - start, n))
        out[start:stop] = table[points, ecdf_counts(u, z)].min(axis=1)
    out.sort()
    return out


def adjusted_gamma(n: int, alpha: float = 0.05) -> float:
    """Pointwise level whose bands cover a uniform ECDF everywhere with probability 1 - alpha."""
    null = null_statistics(n)
    return float(np.quantile(null, alpha, method="lower"))


@dataclass
class EcdfBand:
    """Simultaneous band of the ECDF difference F(z) - z at ``z`` (level ``1 - alpha``)."""

    z: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    gamma: float
    alpha: float


def ecdf_band(n: int, alpha: float = 0.05) -> EcdfBand:
    """The simultaneous 1 - alpha band for the ECDF difference of ``n`` uniform values."""
    z = evaluation_points(n)
    gamma = adjusted_gamma(n, alpha)
    lower = binomial_ppf(gamma / 2, n, z) / n - z
    upper = binomial_ppf(1 - gamma / 2, n, z) / n - z
    return EcdfBand(z, lower, upper, gamma, alpha)


@dataclass
class TestResult:
    statistic: float
    p_value: float


#: Null statistics within this relative distance of the observed one count as ties (at or below it). The
#: statistic takes the discrete values of binomial tails, and values equal in exact arithmetic come out a few ulps
#: apart by different routes (the lower tail of k at z and the upper tail of n - k at 1 - z; another library's
#: incomplete beta function): without it, a sample and its mirror image 1 - u, whose statistics are equal, got
#: different p-values in 144 of 300 draws.
TIE_RTOL = 1e-9


def ecdf_test(u: np.ndarray) -> TestResult:
    """ECDF-difference test: statistic and p-value from the simulated null distribution, ``(1 + #{null statistics
    at or below the observed}) / (1 + NULL_SIMULATIONS)``, ties within ``TIE_RTOL``."""
    u = np.asarray(u, dtype=float)
    if len(u) < 2:
        return TestResult(np.nan, np.nan)
    observed = ecdf_statistic(u)
    null = null_statistics(len(u))
    at_or_below = np.searchsorted(null, observed * (1.0 + TIE_RTOL), side="right")
    return TestResult(observed, float((1 + at_or_below) / (len(null) + 1)))


def chi_square_bins(n: int) -> int:
    """Number of equal-width bins for ``n`` ranks: expected count >= 5, at most 20, at least 2."""
    return int(max(2, min(20, n // 5)))


def chi_square_test(u: np.ndarray) -> tuple[TestResult, int]:
    """Pearson chi-square test of equal counts in equal-width bins of ``u``; returns (result, bins)."""
    u = np.asarray(u, dtype=float)
    if len(u) < 2:
        return TestResult(np.nan, np.nan), 0
    bins = chi_square_bins(len(u))
    counts = np.histogram(u, bins=bins, range=(0.0, 1.0))[0]
    expected = len(u) / bins
    statistic = float(((counts - expected) ** 2 / expected).sum())
    return TestResult(statistic, float(chi2_sf(statistic, bins - 1))), bins


def holm(p_values) -> np.ndarray:
    """Holm-adjusted p-values (NaN entries are ignored and stay NaN)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    m = len(valid)
    if m == 0:
        return out
    order = valid[np.argsort(p[valid], kind="stable")]
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(1.0, adjusted)
    return out
