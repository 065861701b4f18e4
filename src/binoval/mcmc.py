"""Convergence diagnostics of many scalar quantities at once: ArviZ's numbers, computed in one pass.

ArviZ (arviz-stats 1.3) computes R-hat, effective sample sizes and Monte Carlo standard errors one scalar at a
time, and its effective sample size walks Geyer's initial positive and monotone sequences in a Python loop over
lags. That is fine for a few parameters and minutes for tens of thousands of group-level ones. Here every function
takes draws shaped (chain, draw, quantity) and returns one value per quantity, the same as ArviZ's to rounding
(``tests/test_mcmc.py``); quantities are processed in blocks so memory stays bounded (``BLOCK_VALUES``).

- ``rhat_and_ess_bulk``: rank-normalised split R-hat, the larger of the bulk and the folded (tail) one (above 1.01
  the chains disagree), and the bulk ESS: how many independent draws the chains are worth for the centre of the
  distribution.
- ``ess_tail``: the same for its 11% and 89% quantiles (the smaller of the two; ``TAIL_PROBABILITY``).
- ``mcse_mean`` / ``mcse_sd``: Monte Carlo standard errors of the posterior mean and sd.
- ``hdi``: the narrowest interval of draws holding a given share of them (ArviZ's ``hdi``, method ``nearest``).
- ``bfmi``: each chain's E-BFMI from its energies (ArviZ's ``bfmi``).
"""

from __future__ import annotations

import numpy as np

#: Largest number of draw values (chain x draw x quantities) processed at once.
BLOCK_VALUES = 2_000_000
#: The tail ESS looks at the quantiles 1 - p and p of this p: ArviZ 1.x's default (its ``stats.ci_prob``, 0.89, so the
#: 11% and 89% quantiles), which binoval's tables have used since the move to ArviZ 1.x. Stan and ArviZ 0.x use the
#: 5% and 95% quantiles, which ask more of the tails.
TAIL_PROBABILITY = 0.89


def split_chains(x: np.ndarray) -> np.ndarray:
    """(chain, draw, q) -> (2 chain, draw // 2, q): each chain's first and last halves (the middle draw of an odd
    count dropped), as ArviZ splits them."""
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half :]], axis=0)


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of each column of ``x`` (n, q), ties given the mean of the ranks they span: what
    ``scipy.stats.rankdata(x, axis=0, method="average")`` returns (a column holding NaN is all NaN there too), in about
    half its time on an SBC fit's draws (one unstable sort per quantity, then each tie run's first and last position)."""
    columns = np.ascontiguousarray(np.asarray(x, dtype=float).T)
    q, n = columns.shape
    order = np.argsort(columns, axis=1)  # ties share one rank, so any sort order will do
    ordered = np.take_along_axis(columns, order, axis=1)
    run_starts = np.ones((q, n), dtype=bool)
    np.not_equal(ordered[:, 1:], ordered[:, :-1], out=run_starts[:, 1:])
    position = np.arange(n, dtype=float)
    first = np.maximum.accumulate(np.where(run_starts, position, 0.0), axis=1)
    run_ends = np.ones((q, n), dtype=bool)
    run_ends[:, :-1] = run_starts[:, 1:]
    last = np.minimum.accumulate(np.where(run_ends, position, n - 1.0)[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty((q, n))
    np.put_along_axis(ranks, order, (first + last) / 2 + 1, axis=1)
    ranks[np.isnan(columns).any(axis=1)] = np.nan
    return ranks.T


def z_scale(x: np.ndarray) -> np.ndarray:
    """Rank-normalise each quantity (last axis) over all its draws (average ranks, Blom's offset 3/8), as ArviZ."""
    from scipy import special

    flat = x.reshape(-1, x.shape[-1])
    ranked = average_ranks(flat)
    # the standard normal quantile: what stats.norm.ppf computes, without its argument checks (bit-identical)
    return special.ndtri((ranked - 0.375) / (flat.shape[0] + 0.25)).reshape(x.shape)


def _blocks(draws: np.ndarray):
    draws = np.asarray(draws, dtype=float)
    step = max(1, BLOCK_VALUES // max(1, draws.shape[0] * draws.shape[1]))
    for start in range(0, draws.shape[-1], step):
        yield draws[..., start : start + step]


def _by_block(function, draws: np.ndarray) -> np.ndarray:
    draws = np.asarray(draws, dtype=float)
    if draws.shape[-1] == 0:
        return np.zeros(0)
    return np.concatenate([function(block) for block in _blocks(draws)])


def _valid(x: np.ndarray, min_chains: int) -> np.ndarray:
    """Quantities ArviZ judges at all: every draw finite-or-inf (no NaN), at least 4 draws and ``min_chains``."""
    enough = x.shape[1] >= 4 and x.shape[0] >= min_chains
    return ~np.isnan(x).any(axis=(0, 1)) & enough


def rhat_of_chains(x: np.ndarray) -> np.ndarray:
    """R-hat of chains as given (already split), per quantity."""
    n = x.shape[1]
    between = n * np.var(x.mean(axis=1), axis=0, ddof=1)
    within = np.mean(np.var(x, axis=1, ddof=1), axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt((between / within + n - 1) / n)


def ess_of_chains(x: np.ndarray) -> np.ndarray:
    """ESS of chains as given (already split and transformed), per quantity: ArviZ's ``_ess`` vectorised.

    Autocorrelations from the FFT of every chain; Geyer's initial positive sequence stops at the first pair of
    autocorrelations whose sum is not positive, the initial monotone sequence is the running minimum of the pair sums
    before it, and the first autocorrelation of the stopping pair is added when ArviZ adds it.
    """
    from scipy.fft import irfft, next_fast_len, rfft

    m, n, q = x.shape
    total = m * n
    constant = (x.max(axis=(0, 1)) - x.min(axis=(0, 1))) < np.finfo(float).resolution
    centred = x - x.mean(axis=1, keepdims=True)
    size = next_fast_len(2 * n)
    spectrum = rfft(centred, n=size, axis=1)
    spectrum *= np.conjugate(spectrum)
    acov = irfft(spectrum, n=size, axis=1)[:, :n] / n  # (m, n, q)
    mean_var = np.mean(acov[:, 0], axis=0) * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if m > 1:
        var_plus = var_plus + np.var(x.mean(axis=1), axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = 1.0 - (mean_var - acov.mean(axis=0)) / var_plus  # (n, q)
    rho[0] = 1.0
    # pairs k = 0, 1, ...: rho[2k] + rho[2k + 1]; the loop may look at pairs up to k_limit
    k_limit = max(0, int(np.ceil((n - 4) / 2)))
    pairs = rho[0 : 2 * k_limit + 2 : 2] + rho[1 : 2 * k_limit + 2 : 2]  # (k_limit + 1, q)
    stops = ~(pairs[:k_limit] > 0.0)
    last = np.where(stops.any(axis=0), stops.argmax(axis=0) if k_limit else 0, k_limit)  # k': where the loop stopped
    columns = np.arange(q)
    running_min = np.minimum.accumulate(pairs, axis=0)
    before_last = np.arange(pairs.shape[0])[:, None] < last[None, :]
    kept = np.where(before_last, running_min, 0.0).sum(axis=0)
    stop_even = rho[2 * last, columns]
    stored = (last >= 1) & (pairs[last, columns] >= 0.0)
    extra = np.where(stored | (stop_even > 0.0), stop_even, 0.0)
    tau = np.maximum(-1.0 + 2.0 * kept + extra, 1.0 / np.log10(total))
    ess = total / tau
    used = np.arange(n)[:, None] < (2 * last + 2)[None, :]
    ess[np.where(used, np.isnan(rho), False).any(axis=0)] = np.nan
    ess[constant] = total
    return ess


def rhat_and_ess_bulk(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank-normalised split R-hat (ArviZ ``rhat``) and bulk ESS (ESS of the rank-normalised split chains, ArviZ
    ``ess(method="bulk")``) per quantity, the split and the rank normalisation done once for both."""
    rhats, esses = [], []
    for x in _blocks(draws):
        split = split_chains(x)
        bulk = z_scale(split)
        folded = z_scale(np.abs(split - np.median(split.reshape(-1, split.shape[-1]), axis=0)))
        rhat = np.maximum(rhat_of_chains(bulk), rhat_of_chains(folded))
        ess = ess_of_chains(bulk)
        rhat[~_valid(x, 2)] = np.nan
        ess[~_valid(x, 1)] = np.nan
        rhats.append(rhat)
        esses.append(ess)
    if not rhats:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(rhats), np.concatenate(esses)


def ess_tail(draws: np.ndarray) -> np.ndarray:
    """Tail ESS per quantity: the smaller ESS of the indicators of being at or below the 11% and the 89% quantile
    (ArviZ ``ess(method="tail")`` at its default ``prob``; ``TAIL_PROBABILITY``)."""

    def block(x):
        flat = x.reshape(-1, x.shape[-1])
        quantiles = np.quantile(flat, sorted((TAIL_PROBABILITY, 1.0 - TAIL_PROBABILITY)), axis=0)
        low, high = (ess_of_chains(split_chains((x <= qs[None, None, :]).astype(float))) for qs in quantiles)
        ess = np.minimum(low, high)
        ess[~_valid(x, 1)] = np.nan
        return ess

    return _by_block(block, draws)


def mcse_mean(draws: np.ndarray) -> np.ndarray:
    """Monte Carlo standard error of the posterior mean per quantity: sd / sqrt(ESS of the mean)."""

    def block(x):
        sd = np.std(x.reshape(-1, x.shape[-1]), axis=0, ddof=1)
        mcse = sd / np.sqrt(ess_of_chains(split_chains(x)))
        mcse[~_valid(x, 1)] = np.nan
        return mcse

    return _by_block(block, draws)


def mcse_sd(draws: np.ndarray) -> np.ndarray:
    """Monte Carlo standard error of the posterior sd per quantity (ArviZ's delta method on the squared deviations)."""

    def block(x):
        centred = x - x.reshape(-1, x.shape[-1]).mean(axis=0)
        squares = centred**2
        ess = ess_of_chains(split_chains(squares))
        expected_square = squares.reshape(-1, x.shape[-1]).mean(axis=0)
        fourth = (centred**4).reshape(-1, x.shape[-1]).mean(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):  # a constant quantity: 0 / 0, NaN as in ArviZ
            mcse = np.sqrt((fourth - expected_square**2) / ess / expected_square / 4)
        mcse[~_valid(x, 1)] = np.nan
        return mcse

    return _by_block(block, draws)


def hdi(draws: np.ndarray, prob: float) -> tuple[np.ndarray, np.ndarray]:
    """The highest-density interval of each quantity: of the intervals between two of its n draws (chains pooled)
    that hold floor(prob n) + 1 of them, the narrowest (the first if several tie), as (lower, upper) per quantity.
    ArviZ's ``hdi`` with its default ``nearest`` method, NaN draws dropped; for unimodal posteriors."""
    chains, per_chain = draws.shape[:2]
    n = chains * per_chain
    pooled = draws.reshape(n, -1)
    lower, upper = np.full(pooled.shape[1], np.nan), np.full(pooled.shape[1], np.nan)
    finite = ~np.isnan(pooled).any(axis=0)
    if finite.any():
        lower[finite], upper[finite] = _hdi_of_columns(pooled[:, finite], prob)
    for q in np.flatnonzero(~finite):  # rare: a quantity with NaN draws, as ArviZ, from its other draws
        kept = pooled[~np.isnan(pooled[:, q]), q]
        if kept.size:
            (lower[q],), (upper[q],) = _hdi_of_columns(kept[:, None], prob)
    return lower, upper


def _hdi_of_columns(columns: np.ndarray, prob: float) -> tuple[np.ndarray, np.ndarray]:
    n = columns.shape[0]
    held = min(int(np.floor(prob * n)), n - 1)
    ordered = np.sort(columns, axis=0)
    widths = np.subtract(ordered[held:], ordered[: n - held], dtype=np.float64)
    start = np.argmin(widths, axis=0)
    quantity = np.arange(columns.shape[1])
    return ordered[start, quantity], ordered[start + held, quantity]


def bfmi(energy: np.ndarray) -> np.ndarray:
    """E-BFMI of each chain of ``energy`` (chain, draw): the mean squared change of the Hamiltonian's energy from one
    draw to the next over its variance across draws (ddof 1). Below about 0.3 the momentum resampling explores the
    energy distribution poorly (heavy tails, funnels). ArviZ's ``bfmi``."""
    energy = np.atleast_2d(np.asarray(energy, dtype=float))
    return np.square(np.diff(energy, axis=1)).mean(axis=1) / np.var(energy, axis=1, ddof=1)
