"""WAIC from a pointwise log-likelihood array, without ArviZ.

ArviZ 1.x dropped ``waic``; this module reproduces what ``arviz.waic`` of
ArviZ 0.23.4 returned on the log scale (``scale="log"``), to rounding error,
except for the standard error (below).

For observation i with S posterior draws of its log-likelihood
``log p(y_i | theta_s)``:

- ``lppd_i = log( (1/S) sum_s p(y_i | theta_s) )``, the log pointwise
  predictive density (a numerically stable log-mean-exp);
- ``p_i = Var_s log p(y_i | theta_s)``, the posterior variance of the
  log-likelihood, with ddof 0 as ArviZ 0.23.4 (``DataArray.var``), is that
  observation's contribution to the effective number of parameters;
- ``elpd_i = lppd_i - p_i``, its expected log pointwise predictive density.

The totals are the sums over observations, and the standard error of the
total elpd is ``sqrt(N * var(elpd_i))`` with ddof 1, as ``arviz.loo`` of
ArviZ 1.x and R's ``loo`` compute it for PSIS-LOO, so the two criteria's
standard errors are comparable; ArviZ 0.23.4 used ddof 0, which is
``sqrt((N - 1) / N)`` times smaller.

References: S. Watanabe (2010), Asymptotic equivalence of Bayes cross
validation and widely applicable information criterion in singular learning
theory, JMLR 11, 3571-3594; A. Vehtari, A. Gelman and J. Gabry (2017),
Practical Bayesian model evaluation using leave-one-out cross-validation and
WAIC, Statistics and Computing 27, 1413-1432 (arXiv:1507.04544).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from binoval.defaults import THRESHOLDS

#: WAIC is unreliable when the posterior variance of an observation's
#: log-likelihood (its ``p_i``) exceeds this (Vehtari, Gelman & Gabry 2017);
#: the default of ``thresholds.loo.waic_variance_max``.
WAIC_VARIANCE_MAX = THRESHOLDS["loo"]["waic_variance_max"]

__all__ = ["WAIC", "WAIC_VARIANCE_MAX", "waic"]


@dataclass(frozen=True)
class WAIC:
    """WAIC of one model on the log scale (higher is better).

    elpd : float
        elpd_waic, the estimated expected log pointwise predictive density of
        new data, summed over observations (``elpd_i.sum()``).
    se : float
        Standard error of ``elpd``: ``sqrt(n_observations * var(elpd_i))``, ddof 1.
    p : float
        p_waic, the effective number of parameters (``p_i.sum()``).
    elpd_i : np.ndarray
        Pointwise elpd_waic, one value per observation.
    p_i : np.ndarray
        Pointwise p_waic: the posterior variance (ddof 0) of each
        observation's log-likelihood.
    n_samples : int
        Posterior draws used (all chains).
    n_observations : int
        Observations (columns of the log-likelihood array).
    warning : bool
        True when some ``p_i`` exceeds ``WAIC_VARIANCE_MAX``: WAIC may then
        be unreliable and PSIS-LOO is preferable.
    """

    elpd: float
    se: float
    p: float
    elpd_i: np.ndarray
    p_i: np.ndarray
    n_samples: int
    n_observations: int
    warning: bool


def waic(log_likelihood: np.ndarray) -> WAIC:
    """WAIC (Watanabe 2010) as ``arviz.waic`` 0.23.4 computed it, se with ddof 1 (Vehtari, Gelman & Gabry 2017).

    ``log_likelihood`` is the pointwise log-likelihood, shape (draws,
    observations), with chains already stacked into draws. See ``WAIC`` for
    what each returned number means.
    """
    ll = np.asarray(log_likelihood, dtype=float)
    if ll.ndim != 2:
        raise ValueError(f"log_likelihood must be 2-D (draws, observations), got shape {ll.shape}")
    n_samples, n_observations = ll.shape
    if n_samples < 2 or n_observations < 1:
        raise ValueError(f"log_likelihood needs at least 2 draws and 1 observation, got shape {ll.shape}")
    lppd_i = logsumexp(ll, axis=0) - np.log(n_samples)
    p_i = np.var(ll, axis=0)
    elpd_i = lppd_i - p_i
    return WAIC(
        elpd=float(elpd_i.sum()),
        se=float(np.sqrt(n_observations * np.var(elpd_i, ddof=1))) if n_observations > 1 else 0.0,
        p=float(p_i.sum()),
        elpd_i=elpd_i,
        p_i=p_i,
        n_samples=int(n_samples),
        n_observations=int(n_observations),
        warning=bool(np.any(p_i > WAIC_VARIANCE_MAX)),
    )
