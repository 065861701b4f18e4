"""Predictive accuracy of one model: PSIS-LOO and WAIC from its stored log-likelihood.

``loo_table`` turns a fit's InferenceData into one row per group: the
pointwise elpd (LOO and WAIC), effective-number-of-parameter contributions,
the Pareto k of the PSIS importance weights, and the variance of the
pointwise log-likelihood (WAIC is unreliable where it exceeds 0.4). The
model's totals (elpd, se, p) are repeated on every row so that the table is
self-contained.

Pareto k above ``k_threshold(S) = min(1 - 1/log10(S), 0.7)`` (S = total
draws) means the importance-sampling estimate of that group's LOO density is
unreliable. When enabled (config ``loo.reloo``), ``exact_loo`` refits the
model without each flagged group and computes the held-out group's
predictive density exactly: the held-out group's own parameter comes from
the population given each posterior draw (``Family.heldout_log_density``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import special

from binoval.defaults import THRESHOLDS
from binoval.loo.waic import waic
from binoval.models import R_VAR, GroupedCounts, ModelSpec, family_of


def k_threshold(total_draws: int, cap: float = THRESHOLDS["loo"]["pareto_k_max"]) -> float:
    """The sample-size-dependent Pareto k threshold min(1 - 1/log10(S), cap)."""
    return float(min(1.0 - 1.0 / np.log10(total_draws), cap))


def pointwise_log_likelihood(idata) -> np.ndarray:
    """The log-likelihood of ``r`` as an array (draws, groups), chains stacked."""
    ll = idata.log_likelihood[R_VAR]
    return ll.stack(sample=("chain", "draw")).transpose("sample", ...).values


def _logmeanexp(x: np.ndarray, axis: int = 0) -> np.ndarray:
    return special.logsumexp(x, axis=axis) - np.log(x.shape[axis])


def _totals(pointwise: np.ndarray) -> tuple[float, float]:
    """Sum and its standard error sqrt(N var) of a pointwise elpd vector."""
    n = len(pointwise)
    return float(pointwise.sum()), float(np.sqrt(n * np.var(pointwise, ddof=1))) if n > 1 else 0.0


def loo_table(idata, model_id: str, data: GroupedCounts, exact: Mapping[str, float] | None = None) -> pd.DataFrame:
    """One row per group with pointwise and total LOO/WAIC figures (see the module doc).

    ``exact`` maps group ids to exact leave-one-group-out elpd values (from
    ``exact_loo``); those groups get ``loo_method = "exact"`` and replace the
    PSIS estimate in the totals.
    """
    import warnings

    import arviz as az

    if "log_likelihood" not in idata.children or "posterior" not in idata.children:
        return failed_fit_table(model_id, data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loo = az.loo(idata, pointwise=True, var_name=R_VAR)
    ll = pointwise_log_likelihood(idata)
    information = waic(ll)
    total_draws = ll.shape[0]
    lppd_i = _logmeanexp(ll, axis=0)
    elpd_loo_i = np.asarray(loo.elpd_i.values, dtype=float)
    method = np.array(["psis"] * len(elpd_loo_i), dtype=object)
    groups = [str(g) for g in idata.log_likelihood[R_VAR].coords["group"].values]
    for group, value in (exact or {}).items():
        i = groups.index(str(group))
        elpd_loo_i[i] = float(value)
        method[i] = "exact"
    elpd_loo, se_loo = _totals(elpd_loo_i)
    position = {g: i for i, g in enumerate(data.groups)}
    order = [position[g] for g in groups]
    return pd.DataFrame(
        {
            "model_id": model_id,
            "group": groups,
            "n": data.n[order].astype("int64"),
            "r": data.r[order].astype("int64"),
            "elpd_loo_i": elpd_loo_i,
            "p_loo_i": lppd_i - elpd_loo_i,
            "pareto_k": np.asarray(loo.pareto_k.values, dtype=float),
            "loo_method": method.astype(str),
            "elpd_waic_i": information.elpd_i,
            "p_waic_i": information.p_i,
            "loglik_var_i": information.p_i,
            "elpd_loo": elpd_loo,
            "se_loo": se_loo,
            "p_loo": float(np.sum(lppd_i - elpd_loo_i)),
            "elpd_waic": information.elpd,
            "se_waic": information.se,
            "p_waic": information.p,
            "total_draws": int(total_draws),
        }
    )


def failed_fit_table(model_id: str, data: GroupedCounts) -> pd.DataFrame:
    """The LOO table of a fit that produced no draws: every figure NaN, ``total_draws`` 0."""
    nan = np.full(len(data.groups), np.nan)
    columns = [
        "elpd_loo_i",
        "p_loo_i",
        "pareto_k",
        "elpd_waic_i",
        "p_waic_i",
        "loglik_var_i",
        "elpd_loo",
        "se_loo",
        "p_loo",
        "elpd_waic",
        "se_waic",
        "p_waic",
    ]
    table = pd.DataFrame({"model_id": model_id, "group": list(data.groups), "n": data.n, "r": data.r})
    for column in columns:
        table[column] = nan
    table.insert(table.columns.get_loc("elpd_waic_i"), "loo_method", "psis")
    table["total_draws"] = 0
    return table


def flagged_groups(table: pd.DataFrame, cap: float = THRESHOLDS["loo"]["pareto_k_max"]) -> list[str]:
    """Groups whose PSIS Pareto k exceeds the sample-size-dependent threshold, highest k first."""
    if int(table["total_draws"].iloc[0]) < 2:
        return []
    threshold = k_threshold(int(table["total_draws"].iloc[0]), cap)
    return table[table["pareto_k"] > threshold].sort_values("pareto_k", ascending=False)["group"].tolist()


# -- exact leave-one-group-out ---------------------------------------------------------------


def exact_loo(spec: ModelSpec, data: GroupedCounts, groups: list[str], settings, seed: int) -> dict[str, float]:
    """Exact leave-one-group-out elpd for ``groups``: refit without each, score it from the population.

    The model for N - 1 groups is compiled once (``CompiledSampler``) and each
    refit swaps its counts in, so k flagged groups cost one compile and k fits;
    a family whose model is built from covariates (``Family.uses_covariates``)
    is compiled once per group, since its design changes with the rows left out.
    The family says how a group is left out (``Family.leave_out``: covariates
    kept) and scores it (``Family.heldout_log_density``).
    """
    from binoval import seeds
    from binoval.fit.sampler import CompiledSampler
    from binoval.models import build_model

    if not groups:
        return {}
    family = family_of(spec)
    sampler = None
    out: dict[str, float] = {}
    for group in groups:
        index = data.groups.index(group) + 1000
        train = family.leave_out(data, group)
        if sampler is None or family.uses_covariates:
            sampler = CompiledSampler(build_model(spec, train), settings)
        fit = sampler.fit(train, seeds.int_seed(seed, "loo", spec.model_id, index))
        rng = seeds.rng(seed, "loo", spec.model_id, index)
        log_density = family.heldout_log_density(spec, fit.idata, data, group, rng)
        out[group] = float(_logmeanexp(np.asarray(log_density, dtype=float)))
    return out
