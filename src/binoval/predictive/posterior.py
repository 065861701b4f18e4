"""Posterior predictive check: replicated data of the same groups against the observed.

From the fit's ``posterior_predictive`` draws of ``r`` (or, where the family replicates the same
groups itself, its ``Family.conditional_replication``: for mixtures, draws that condition each
group on its cluster membership): each statistic's predictive mean, 95%
interval and two-sided Bayesian p-value; per group, whether the observed count lies inside
the central 50/90/95% predictive intervals; randomised PIT values (the counts are discrete,
so the plain PIT is not uniform even under a perfect model) and a Kolmogorov-Smirnov test
of their uniformity. Definitions in ``binoval.predictive.primitives``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from binoval import seeds
from binoval.models import N_DATA, R_VAR, GroupedCounts, fitted_family
from binoval.predictive.primitives import (
    central_interval,
    group_table,
    randomised_pit,
    two_sided_p_value,
    uniformity_test,
)
from binoval.predictive.statistics import STATISTIC_NAMES, compute_statistics

PPC_INTERVAL = 0.95
GROUP_LEVELS = (0.5, 0.9, 0.95)
# Stream indices under seeds.rng(seed, "ppc", model_id, index). Index 0 is the
# fit stage's posterior predictive draw (binoval.fit.stage), so these stay apart from it.
PIT_STREAM, CONDITIONAL_STREAM = 1, 2


@dataclass
class PosteriorPredictiveTables:
    statistics: pd.DataFrame  # one row per statistic
    groups: pd.DataFrame  # one row per group: intervals, coverage flags, PIT
    calibration: pd.DataFrame  # one row: coverage at each level, PIT uniformity test, fit error
    replicated: dict[str, np.ndarray] | None = None  # statistic -> draws, for plots


def fit_error(idata) -> str:
    """The fit's recorded error, or "" if it has posterior predictive draws."""
    if "posterior_predictive" in idata.children and R_VAR in idata.posterior_predictive:
        return ""
    return str(idata.observed_data.attrs.get("fit_error", "the fit has no posterior predictive draws"))


def observed_counts(idata) -> GroupedCounts:
    """The data the fit saw, from its observed_data and constant_data groups."""
    r = idata.observed_data[R_VAR]
    groups = tuple(str(g) for g in r.coords[r.dims[0]].values)
    if "constant_data" in idata.children and N_DATA in idata.constant_data:
        n = idata.constant_data[N_DATA].values
    else:
        raise ValueError("the fit has no constant_data.n (numbers of trials)")
    return GroupedCounts(groups, np.asarray(n, dtype="int64"), np.asarray(r.values, dtype="int64"))


def posterior_predictive_draws(idata) -> np.ndarray:
    """Posterior predictive draws of ``r`` as (chains x draws, G)."""
    values = idata.posterior_predictive[R_VAR].values
    return values.reshape(-1, values.shape[-1]).astype("int64")


def replicated_counts(idata, data: GroupedCounts, model_id: str, seed: int) -> tuple[np.ndarray, str]:
    """The replicated datasets a PPC compares with the data, and where they come from.

    The fit's posterior_predictive draws (``"fit"``), unless its family replicates the
    same groups itself (``Family.conditional_replication``, labelled ``Family.replication``:
    ``"mixture_conditional"`` for mixtures, conditioned on each group's cluster membership).
    """
    family = fitted_family(idata)
    rng = seeds.rng(seed, "ppc", model_id, CONDITIONAL_STREAM)
    replicated = family.conditional_replication(idata, data, rng) if family is not None else None
    if replicated is not None:
        return replicated, family.replication
    return posterior_predictive_draws(idata), "fit"


def posterior_predictive_check(model_id: str, idata, seed: int) -> PosteriorPredictiveTables:
    """All posterior predictive tables of one fit; the PIT randomisation is seeded from ``seed``."""
    error = fit_error(idata)
    if error:
        return _failed_ppc(model_id, idata, error)
    data = observed_counts(idata)
    r_rep, source = replicated_counts(idata, data, model_id, seed)
    n_draws, n_groups = r_rep.shape
    replicated = compute_statistics(r_rep, data.n)
    observed = compute_statistics(data.r, data.n)
    rows = []
    for name in STATISTIC_NAMES:
        values = replicated[name]
        obs = float(observed[name])
        low, high = central_interval(values, PPC_INTERVAL)
        greater, less, p_value = two_sided_p_value(values, obs)
        rows.append(
            {
                "model_id": model_id,
                "statistic": name,
                "observed": obs,
                "mean": float(values.mean()),
                "lower_95": float(low),
                "upper_95": float(high),
                "p_greater_eq": greater,
                "p_less_eq": less,
                "p_value": p_value,
                "draws": int(n_draws),
            }
        )

    groups = group_table(
        model_id,
        data,
        mean=r_rep.mean(axis=0),
    )
    for level in GROUP_LEVELS:
        tag = f"{round(level * 100)}"
        low, high = central_interval(r_rep, level, axis=0)
        groups[f"lower_{tag}"] = low.astype("int64")
        groups[f"upper_{tag}"] = high.astype("int64")
        groups[f"inside_{tag}"] = (low <= data.r) & (data.r <= high)
    groups["pit"] = randomised_pit(r_rep, data.r, seeds.rng(seed, "ppc", model_id, PIT_STREAM))

    ks_statistic, ks_pvalue = uniformity_test(groups["pit"].to_numpy())
    calibration = pd.DataFrame(
        [
            {
                "model_id": model_id,
                "draws": int(n_draws),
                "groups": int(n_groups),
                **{
                    f"coverage_{round(level * 100)}": float(groups[f"inside_{round(level * 100)}"].mean())
                    for level in GROUP_LEVELS
                },
                "pit_ks_statistic": ks_statistic,
                "pit_ks_pvalue": ks_pvalue,
                "replication": source,
                "fit_error": "",
            }
        ]
    )
    return PosteriorPredictiveTables(pd.DataFrame(rows), groups, calibration, replicated)


def _failed_ppc(model_id: str, idata, error: str) -> PosteriorPredictiveTables:
    """Empty statistics and group tables and a calibration row carrying the fit's error."""
    statistics = pd.DataFrame(
        {
            "model_id": pd.Series(dtype=str),
            "statistic": pd.Series(dtype=str),
            **{
                c: pd.Series(dtype=float)
                for c in ("observed", "mean", "lower_95", "upper_95", "p_greater_eq", "p_less_eq", "p_value")
            },
            "draws": pd.Series(dtype="int64"),
        }
    )
    groups = pd.DataFrame(
        {
            "model_id": pd.Series(dtype=str),
            "group": pd.Series(dtype=str),
            "n": pd.Series(dtype="int64"),
            "r": pd.Series(dtype="int64"),
            "observed_proportion": pd.Series(dtype=float),
            "mean": pd.Series(dtype=float),
            **{
                f"{column}_{round(level * 100)}": pd.Series(dtype=bool if column == "inside" else "int64")
                for level in GROUP_LEVELS
                for column in ("lower", "upper", "inside")
            },
            "pit": pd.Series(dtype=float),
        }
    )
    calibration = pd.DataFrame(
        [
            {
                "model_id": model_id,
                "draws": 0,
                "groups": int(idata.observed_data[R_VAR].size),
                **{f"coverage_{round(level * 100)}": np.nan for level in GROUP_LEVELS},
                "pit_ks_statistic": np.nan,
                "pit_ks_pvalue": np.nan,
                "replication": "none",
                "fit_error": error,
            }
        ]
    )
    return PosteriorPredictiveTables(statistics, groups, calibration, None)
