"""Test statistics of grouped binomial data, shared by the predictive checks.

Each statistic maps a dataset (``r`` successes out of ``n`` trials in each of
G groups) to one number. All are vectorised over datasets: ``r`` has shape
``(..., G)`` (e.g. ``(draws, G)`` or ``(chains, draws, G)``) and ``n`` has
shape ``(G,)`` or anything that broadcasts against ``r``; the result has shape
``r.shape[:-1]``. Proportions are ``r / n`` per group; spreads across groups
use the population form (``ddof = 0``: the groups are the whole population of
interest), which reproduces the reference analysis of hospital12 (variance of
hospital12's proportions 0.00135, coefficient of variation 0.499).

Statistics are defined for every dataset, including degenerate ones (all
groups at 0 or at n): where a ratio would be 0/0 it is set to 0, its value in
the limit of no spread. This keeps prior predictive draws comparable without
NaNs.

``STATISTICS`` lists them by name, in display order, each with the tail that
signals misfit and whether the checks judge it by default (``Statistic``);
``compute_statistics`` evaluates all of them at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

#: spreads below this are rounding noise of equal proportions and count as no spread
_NO_SPREAD = 1e-12


def _with_group_axis(r, dtype=None) -> np.ndarray:
    """``r`` as an array, which must have a trailing group axis."""
    r = np.asarray(r, dtype=dtype)
    if r.ndim == 0:
        raise ValueError("r must have a trailing group axis")
    return r


class Datasets:
    """Datasets ``r`` (shape ``(..., G)``) out of ``n`` trials, with what several statistics share computed once."""

    def __init__(self, r, n):
        self.r = _with_group_axis(r, dtype=float)
        self.n = np.broadcast_to(np.asarray(n, dtype=float), self.r.shape)

    @cached_property
    def proportions(self) -> np.ndarray:
        return self.r / self.n

    @cached_property
    def mean(self) -> np.ndarray:
        return self.proportions.mean(axis=-1)

    @cached_property
    def var(self) -> np.ndarray:
        return self.proportions.var(axis=-1)

    @cached_property
    def sd(self) -> np.ndarray:
        return np.sqrt(self.var)  # what ``ndarray.std`` computes


def _datasets(r, n) -> Datasets:
    return r if isinstance(r, Datasets) else Datasets(r, n)


def proportions(r, n) -> np.ndarray:
    """Per-group proportions ``r / n`` (same shape as ``r``)."""
    return _datasets(r, n).proportions


def total_successes(r, n=None) -> np.ndarray:
    """Sum of successes over groups: the overall event count."""
    return _datasets(r, n).r.sum(axis=-1)


def pooled_proportion(r, n=None) -> np.ndarray:
    """Total successes over total trials: the rate if every group shared one."""
    d = _datasets(r, n)
    return d.r.sum(axis=-1) / d.n.sum(axis=-1)


def var_proportion(r, n=None) -> np.ndarray:
    """Variance (ddof = 0) of the group proportions: between-group spread of rates."""
    return _datasets(r, n).var


def sd_proportion(r, n=None) -> np.ndarray:
    """Standard deviation (ddof = 0) of the group proportions."""
    return _datasets(r, n).sd


def chi2_overdispersion(r, n=None) -> np.ndarray:
    """Pearson chi-square against one pooled rate: sum (r - n p)^2 / (n p (1 - p)), p pooled.

    Under a single shared rate it is about chi-square with G - 1 degrees of
    freedom (mean G - 1); much larger values mean extra-binomial variation
    between groups. When the pooled rate is 0 or 1 every group sits at 0 or at
    n, the numerators are all zero and the statistic is 0.
    """
    d = _datasets(r, n)
    r, n = d.r, d.n
    p = r.sum(axis=-1, keepdims=True) / n.sum(axis=-1, keepdims=True)
    expected = n * p
    denominator = expected * (1.0 - p)
    degenerate = denominator <= 0
    terms = np.where(degenerate, 0.0, (r - expected) ** 2 / np.where(degenerate, 1.0, denominator))
    return terms.sum(axis=-1)


def min_proportion(r, n=None) -> np.ndarray:
    """Smallest group proportion."""
    return _datasets(r, n).proportions.min(axis=-1)


def max_proportion(r, n=None) -> np.ndarray:
    """Largest group proportion."""
    return _datasets(r, n).proportions.max(axis=-1)


def n_zero(r, n=None) -> np.ndarray:
    """Number of groups without any success (r = 0)."""
    return (_datasets(r, n).r == 0).sum(axis=-1).astype(float)


def n_full(r, n=None) -> np.ndarray:
    """Number of groups where every trial succeeded (r = n)."""
    d = _datasets(r, n)
    return (d.r == d.n).sum(axis=-1).astype(float)


def cv_proportion(r, n=None) -> np.ndarray:
    """Coefficient of variation of the group proportions: SD (ddof = 0) over mean.

    Relative spread of rates; 0 when all proportions are 0 (no spread).
    """
    d = _datasets(r, n)
    mean, sd = d.mean, d.sd
    spread = (mean > 0) & (sd > _NO_SPREAD)
    return np.where(spread, sd / np.where(spread, mean, 1.0), 0.0)


def max_gap(r, n=None) -> np.ndarray:
    """Largest gap between neighbouring sorted group proportions, in units of their SD.

    Sensitive to multimodality: when groups form separated clusters of rates
    the widest empty band between consecutive proportions is a large share of
    the overall spread, while for one unimodal population the proportions fill
    their range and the widest gap is a small share of it. For uniform
    spacing of G points the value is about sqrt(12) / G; separated clusters
    give values near or above 1. 0 when all proportions are equal.

    Why this one for 10-30 groups: the bimodality coefficient rests on the
    sample skewness and kurtosis, which with so few groups are very noisy and
    are raised by skewness alone; Hartigan's dip needs a unimodal fit per
    dataset, which is expensive over thousands of predictive draws and nearly
    powerless at these sizes. The scaled gap is exact, cheap, vectorised and
    its meaning is visible on a strip plot. It is also raised by a single
    outlying group (a gap at the edge), which a predictive check should see
    as well.
    """
    d = _datasets(r, n)
    if d.r.shape[-1] < 2:
        return np.zeros(d.r.shape[:-1])
    ordered = np.sort(d.proportions, axis=-1)
    gap = np.diff(ordered, axis=-1).max(axis=-1)
    sd = ordered.std(axis=-1)  # of the sorted values, as always: the same SD up to the order of summation
    spread = sd > _NO_SPREAD
    return np.where(spread, gap / np.where(spread, sd, 1.0), 0.0)


#: A statistic's tail that signals misfit (``Statistic.alternative``).
TWO_SIDED, GREATER = "two-sided", "greater"


@dataclass(frozen=True)
class Statistic:
    """One test statistic: how to compute it, what it means, and how it is judged.

    ``alternative`` is the tail that signals misfit, from the statistic's purpose:
    ``two-sided`` for location and spread (too low and too high both mean the model
    is wrong), ``greater`` for statistics built to detect one kind of misfit
    (overdispersion, excess of groups at 0 or at n, separated clusters or an outlying
    group); an unusually small value of those says nothing against the model (evenly
    spread proportions give a small ``max_gap``). ``judged`` is False for an exact
    monotone transform of a judged statistic (``pooled_proportion`` of
    ``total_successes`` when the trials are fixed, ``var_proportion`` of
    ``sd_proportion``): judging both would test the same thing twice and only cost
    power under the multiplicity correction. They stay in the tables.
    """

    function: Callable[..., np.ndarray]
    meaning: str
    alternative: str = TWO_SIDED
    judged: bool = True


#: name -> Statistic, in display order.
STATISTICS: dict[str, Statistic] = {
    "total_successes": Statistic(total_successes, "total successes over all groups"),
    "pooled_proportion": Statistic(pooled_proportion, "total successes / total trials", judged=False),
    "sd_proportion": Statistic(sd_proportion, "SD of group proportions (ddof 0)"),
    "var_proportion": Statistic(var_proportion, "variance of group proportions (ddof 0)", judged=False),
    "chi2_overdispersion": Statistic(
        chi2_overdispersion, "Pearson chi-square against the pooled rate (overdispersion)", GREATER
    ),
    "min_proportion": Statistic(min_proportion, "smallest group proportion"),
    "max_proportion": Statistic(max_proportion, "largest group proportion"),
    "n_zero": Statistic(n_zero, "number of groups with r = 0 (excess zeros)", GREATER),
    "n_full": Statistic(n_full, "number of groups with r = n (excess full groups)", GREATER),
    "cv_proportion": Statistic(cv_proportion, "coefficient of variation of group proportions"),
    "max_gap": Statistic(max_gap, "largest gap between sorted proportions / their SD (clusters, outliers)", GREATER),
}

STATISTIC_NAMES: tuple[str, ...] = tuple(STATISTICS)

#: The statistics the predictive checks judge unless ``thresholds.<stage>.statistics`` says otherwise.
JUDGED_STATISTICS: tuple[str, ...] = tuple(name for name, statistic in STATISTICS.items() if statistic.judged)


#: ``compute_statistics`` works through the datasets in blocks of about this many group values: each block's
#: intermediates (proportions, squares, sorted copies) stay in cache and reuse one allocation, where the whole of
#: 4000 replications of 1000 groups would allocate (and page in) a fresh 32 MB array per intermediate
_BLOCK_VALUES = 1 << 16


def compute_statistics(r, n, names=STATISTIC_NAMES) -> dict[str, np.ndarray]:
    """Every named statistic of every dataset in ``r`` (shape ``(..., G)``), each an array of shape ``r.shape[:-1]``."""
    unknown = [name for name in names if name not in STATISTICS]
    if unknown:
        raise KeyError(f"unknown statistics {unknown}; known: {', '.join(STATISTICS)}")
    r = _with_group_axis(r)
    groups = r.shape[-1]
    flat = r.reshape(-1, groups)
    n = np.asarray(n)
    per_dataset_n = n.ndim > 1
    if per_dataset_n:
        n = np.broadcast_to(n, r.shape).reshape(-1, groups)
    values = {name: np.empty(flat.shape[0]) for name in names}
    rows = max(1, _BLOCK_VALUES // max(groups, 1))
    for start in range(0, flat.shape[0], rows):
        block = slice(start, start + rows)
        datasets = Datasets(flat[block], n[block] if per_dataset_n else n)
        for name in names:
            values[name][block] = STATISTICS[name].function(datasets)
    return {name: value.reshape(r.shape[:-1]) for name, value in values.items()}


def is_degenerate(r, n) -> np.ndarray:
    """True for datasets whose groups are all at 0 or all at n (no information on spread)."""
    d = _datasets(r, n)
    r, n = d.r, d.n
    return (r == 0).all(axis=-1) | (r == n).all(axis=-1)
