"""The distribution functions binoval's checks need, from ``scipy.special`` alone.

Importing ``scipy.stats`` costs a job 0.5-0.9 s (it builds every distribution it has), and the jobs that
check uniformity (the ppc, each prior SBC shard, both SBC summaries: 36 jobs of the default run) used it for
four functions: binomial tails and quantiles, the chi-square tail and the exact two-sided Kolmogorov-Smirnov
distribution. They are here, written with ``scipy.special``, which every job imports anyway; the tests check
them against ``scipy.stats`` over the ranges the checks use.

The models' forward draws imported it too: PyTensor draws a half-normal and a beta-binomial with
``scipy.stats`` outside numba (``halfnormal_draws``, ``beta_binomial_draws``: the same values from NumPy).
"""

from __future__ import annotations

import math

import numpy as np


def binomial_cdf(k, n, p) -> np.ndarray:
    """P(X <= k) for X ~ Binomial(n, p), broadcasting (``scipy.stats.binom.cdf``): 0 below 0, 1 from n on."""
    from scipy import special

    k, n, p = _binomial_arguments(k, n, p)
    inside = (k >= 0) & (k < n)
    values = special.bdtr(np.where(inside, k, 0), n, p)
    return np.where(inside, values, np.where(k < 0, 0.0, 1.0))


def binomial_sf(k, n, p) -> np.ndarray:
    """P(X > k) for X ~ Binomial(n, p), broadcasting (``scipy.stats.binom.sf``): 1 below 0, 0 from n on."""
    from scipy import special

    k, n, p = _binomial_arguments(k, n, p)
    inside = (k >= 0) & (k < n)
    values = special.bdtrc(np.where(inside, k, 0), n, p)
    return np.where(inside, values, np.where(k < 0, 1.0, 0.0))


def _binomial_arguments(k, n, p) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``k`` rounded down and ``n`` as integers (``scipy.special.bdtr`` warns, slowly, once per element given
    floats), and ``p``, broadcast together."""
    k = np.floor(np.asarray(k, dtype=float)).astype(np.int64)
    return np.broadcast_arrays(k, np.asarray(n, dtype=np.int64), np.asarray(p, dtype=float))


def binomial_ppf(q, n: int, p) -> np.ndarray:
    """The smallest k in 0..n with P(X <= k) >= q, X ~ Binomial(n, p), for ``q`` in (0, 1] (``scipy.stats.binom.ppf``).

    ``q`` and ``p`` broadcast; ``n`` is one number of trials. Counts the values 0..n whose CDF falls short of ``q``.
    """
    q, p = np.broadcast_arrays(np.asarray(q, dtype=float), np.asarray(p, dtype=float))
    cdf = binomial_cdf(np.arange(int(n) + 1), int(n), p[..., None])
    return (cdf < q[..., None]).sum(axis=-1).astype(float)


def chi2_sf(x, df) -> np.ndarray:
    """P(X > x) for X ~ chi-square with ``df`` degrees of freedom (``scipy.stats.chi2.sf``: the same function)."""
    from scipy import special

    return special.chdtrc(df, x)


#: n x^2 from which the two-sided KS tail is 2 x Smirnov's one-sided tail to double precision, as
#: ``scipy.stats.kstwo`` takes it: 4 up to 140 values, 2.2 above.
_KS_SMIRNOV_FROM = {True: 4.0, False: 2.2}


def ks_sf(d: float, n: int) -> float:
    """P(D_n >= d): the exact two-sided one-sample Kolmogorov-Smirnov tail of ``n`` values (``scipy.stats.kstwo.sf``).

    In the middle of the range the CDF P(D_n < d) is computed exactly by Marsaglia, Tsang & Wang's (2003) matrix
    power ("Evaluating Kolmogorov's distribution", J. Stat. Softw. 8(18)); at the ends by the closed forms of Ruben
    & Gambino (1982) and, in the far upper tail, as twice Smirnov's exact one-sided tail (``scipy.special.smirnov``):
    the branches of ``scipy.stats.kstwo``, which above 140 values uses Pelz & Good's approximation where this is
    exact (they agree to about 1e-5 there).
    """
    from scipy import special

    n = int(n)
    d = float(d)
    if d >= 1.0:
        return 0.0
    t = n * d
    if t <= 0.5:
        return 1.0
    if t <= 1.0:
        cdf = math.exp(special.gammaln(n + 1.0) - n * math.log(n) + n * math.log(2.0 * t - 1.0))
        return _probability(1.0 - cdf)
    if t >= n - 1:
        return _probability(2.0 * (1.0 - d) ** n)
    if d >= 0.5 or t * d >= _KS_SMIRNOV_FROM[n <= 140]:
        return _probability(2.0 * float(special.smirnov(n, d)))
    return _probability(1.0 - _mtw_cdf(n, d))


def _probability(value: float) -> float:
    return float(min(1.0, max(0.0, value)))


def _mtw_cdf(n: int, d: float) -> float:
    """P(D_n < d) by Marsaglia, Tsang & Wang's matrix: (n! / n^n) times the central entry of H^n, H of size 2k - 1
    with k = ceil(n d) (the matrix power carried as a mantissa matrix and a log scale, so nothing overflows)."""
    from scipy import special

    k = int(math.floor(n * d)) + 1
    m = 2 * k - 1
    h = k - n * d
    i = np.arange(m)
    steps = i[:, None] - i[None, :] + 1  # H[i, j] = 1 / (i - j + 1)! where i - j + 1 >= 0, else 0
    H = np.where(steps >= 0, 1.0, 0.0)
    H[:, 0] -= h ** (i + 1)
    H[m - 1, :] -= h ** (m - i)
    if 2 * h - 1 > 0:
        H[m - 1, 0] += (2 * h - 1) ** m
    H = np.where(steps >= 0, H / special.gamma(np.maximum(steps, 0) + 1.0), 0.0)
    power, log_scale = _matrix_power(H, n)
    central = power[k - 1, k - 1]
    if not central > 0:
        return 0.0
    return float(np.exp(math.log(central) + log_scale + special.gammaln(n + 1.0) - n * math.log(n)))


def _matrix_power(matrix: np.ndarray, exponent: int) -> tuple[np.ndarray, float]:
    """``matrix ** exponent`` as (M, s) with the power = M e^s and M's largest entry 1 (repeated squaring)."""
    result, result_log = np.eye(len(matrix)), 0.0
    base, base_log = matrix, 0.0
    while True:
        if exponent & 1:
            result, result_log = _rescaled(result @ base, result_log + base_log)
        exponent >>= 1
        if not exponent:
            return result, result_log
        base, base_log = _rescaled(base @ base, 2.0 * base_log)


def _rescaled(matrix: np.ndarray, log_scale: float) -> tuple[np.ndarray, float]:
    largest = float(np.abs(matrix).max())
    if not largest > 0:
        return matrix, log_scale
    return matrix / largest, log_scale + math.log(largest)


def ks_isf(alpha: float, n: int) -> float:
    """The d with P(D_n >= d) = ``alpha`` (``scipy.stats.kstwo.isf``): the half-width of the simultaneous
    1 - alpha band of the ECDF of ``n`` values, by bisection of ``ks_sf`` (which decreases in d)."""
    low, high = 0.5 / n, 1.0
    for _ in range(100):
        middle = 0.5 * (low + high)
        if ks_sf(middle, n) > alpha:
            low = middle
        else:
            high = middle
        if high - low <= 1e-15 * high:
            break
    return 0.5 * (low + high)


def ks_uniform_test(values) -> tuple[float, float]:
    """Two-sided Kolmogorov-Smirnov statistic of ``values`` against Uniform(0, 1) and its exact p-value
    (``scipy.stats.kstest(values, "uniform", method="exact")``)."""
    u = np.sort(np.asarray(values, dtype=float))
    n = len(u)
    ecdf_above = np.arange(1, n + 1) / n - u  # D+ at each value
    ecdf_below = u - np.arange(n) / n  # D-
    statistic = float(max(ecdf_above.max(), ecdf_below.max()))
    return statistic, ks_sf(statistic, n)


def halfnormal_draws(rng: np.random.Generator, loc, scale, size=None) -> np.ndarray:
    """``scipy.stats.halfnorm.rvs(loc, scale, size=size, random_state=rng)``, value for value: loc + scale |Z| with
    Z standard normal, drawn as SciPy draws it (the same calls on ``rng``, the same shapes and arithmetic)."""
    (loc, scale), size = _scipy_rvs_layout(loc, scale, size=size)
    if not np.all(scale >= 0):
        raise ValueError("halfnormal_draws: scale must be non-negative")
    if np.all(scale == 0):
        return loc * np.ones(size, "d")
    return abs(rng.standard_normal(size=size)) * scale + loc


def beta_binomial_draws(rng: np.random.Generator, n, a, b, size=None) -> np.ndarray | int:
    """``scipy.stats.betabinom.rvs(n, a, b, size=size, random_state=rng)``, value for value: p ~ Beta(a, b), then
    Binomial(n, p), drawn as SciPy draws them (the same calls on ``rng``, the same shapes, int64 counts)."""
    (n, a, b, loc, scale), size = _scipy_rvs_layout(n, a, b, 0, 1, size=size)
    if not np.all((n >= 0) & (n == np.round(n)) & (a > 0) & (b > 0) & (scale >= 0)):
        raise ValueError("beta_binomial_draws: n must be a non-negative integer and a, b positive")
    p = rng.beta(a, b, size)
    values = rng.binomial(np.asarray(n, dtype=int), p, size) * scale + loc
    return int(values) if size == () else values.astype(np.int64)


def _scipy_rvs_layout(*params, size) -> tuple[list[np.ndarray], tuple]:
    """The parameters and sample shape a ``scipy.stats`` distribution's ``rvs`` draws with
    (``rv_generic._argcheck_rvs``): the parameters broadcast together, leading length-1 axes dropped, and ``size``
    (their shape when None) padded on the left to their dimensions."""
    arrays = [_squeeze_left(a) for a in np.broadcast_arrays(*params)]
    shape = arrays[0].shape
    size = shape if size is None else tuple(np.atleast_1d(size))
    if len(size) < len(shape):
        size = (1,) * (len(shape) - len(size)) + size
    padded = (1,) * (len(size) - len(shape)) + shape
    if not all(dim == 1 or dim == wanted for dim, wanted in zip(padded, size, strict=True)):
        raise ValueError(f"size {size} does not match the broadcast shape {shape} of the parameters")
    return arrays, size


def _squeeze_left(a: np.ndarray) -> np.ndarray:
    while a.ndim > 0 and a.shape[0] == 1:
        a = a[0]
    return a
