"""Posterior predictive check: replicated data of the same groups against the observed.

From replicated datasets of the same groups (``Family.replicate_groups``: each group's count
from its own rate in a posterior draw; for mixtures a rate drawn given the group's cluster and
count), ``REPLICATED_DATASETS`` of them at least (several per posterior draw when the fit has
fewer draws, so that small p-values are resolved): each statistic's predictive mean, 95%
interval and p-value in the tail its purpose names (``binoval.predictive.statistics``); per group, whether the observed count lies inside
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
from binoval.models.base import posterior_size
from binoval.predictive.primitives import (
    central_interval,
    central_intervals,
    group_table,
    predictive_p_values,
    randomised_pit,
    uniformity_test,
)
from binoval.predictive.statistics import compute_statistics

PPC_INTERVAL = 0.95
GROUP_LEVELS = (0.5, 0.9, 0.95)
# Stream indices under seeds.rng(seed, "ppc", model_id, index). Index 0 is the
# fit stage's posterior predictive draw (binoval.fit.stage), so these stay apart from it.
PIT_STREAM, REPLICATION_STREAM = 1, 2

#: At least this many replicated datasets per check, as many as the prior predictive check draws by
#: default: the smallest two-sided p-value is then 2 / 4001, a fifth of the level a judged statistic
#: must reach to FAIL (Holm over nine statistics at 0.025: 0.0028), whatever the number of posterior
#: draws (an SBC fit's 1000 draws are replicated 4 times).
REPLICATED_DATASETS = 4000


@dataclass
class PosteriorPredictiveTables:
    statistics: pd.DataFrame  # one row per statistic
    groups: pd.DataFrame  # one row per group: intervals, coverage flags, PIT
    calibration: pd.DataFrame  # one row: coverage at each level, PIT uniformity test, fit error
    replicated: dict[str, np.ndarray] | None = None  # statistic -> draws, for plots


def fit_error(idata) -> str:
    """The fit's recorded error, or "" if it has posterior draws."""
    if "posterior" in idata.children:
        return ""
    return str(idata.observed_data.attrs.get("fit_error", "the fit has no posterior draws"))


def observed_counts(idata) -> GroupedCounts:
    """The data the fit saw, from its observed_data and constant_data groups."""
    r = idata.observed_data[R_VAR]
    groups = tuple(str(g) for g in r.coords[r.dims[0]].values)
    if "constant_data" in idata.children and N_DATA in idata.constant_data:
        n = idata.constant_data[N_DATA].values
    else:
        raise ValueError("the fit has no constant_data.n (numbers of trials)")
    return GroupedCounts(groups, np.asarray(n, dtype="int64"), np.asarray(r.values, dtype="int64"))


def posterior_tree(posterior, spec, data: GroupedCounts):
    """A fit's posterior (an xarray Dataset) with the data it saw and its family, as this check reads a fit."""
    import xarray as xr

    from binoval.fit.sampler import observed_tree

    tree = observed_tree(data)
    posterior = posterior.copy()
    posterior.attrs.update({"model_id": spec.model_id, "family": spec.family})
    return xr.DataTree.from_dict({"posterior": posterior, **{name: tree[name].to_dataset() for name in tree.children}})


def replicated_counts(family, draws, data: GroupedCounts, model_id: str, seed: int) -> tuple[np.ndarray, int]:
    """The replicated datasets a PPC compares with the data, (copies x S, groups), and ``copies``.

    ``draws``: the fit (an InferenceData or ``PosteriorArrays``) that ``family`` replicates from; ``copies`` datasets
    per posterior draw, enough for ``REPLICATED_DATASETS`` in all.
    """
    copies = max(1, -(-REPLICATED_DATASETS // posterior_size(draws)))
    rng = seeds.rng(seed, "ppc", model_id, REPLICATION_STREAM)
    return family.replicate_groups(draws, data, rng, copies), copies


def group_intervals(
    r_rep: np.ndarray, r_observed: np.ndarray, levels: tuple[float, ...]
) -> dict[float, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per level: each group's central predictive interval (low, high) and whether its observed count is inside."""
    return {
        level: (low, high, (low <= r_observed) & (r_observed <= high))
        for level, (low, high) in central_intervals(r_rep, levels).items()
    }


def pit_uniformity(
    r_rep: np.ndarray, r_observed: np.ndarray, model_id: str, seed: int
) -> tuple[np.ndarray, float, float]:
    """Each group's randomised PIT value and the Kolmogorov-Smirnov statistic and p-value of their uniformity."""
    pit = randomised_pit(r_rep, r_observed, seeds.rng(seed, "ppc", model_id, PIT_STREAM))
    return (pit, *uniformity_test(pit))


@dataclass
class JudgedValues:
    """What the ppc stage judges of one fit, without its tables (SBC checks every fit; ``judged_values``)."""

    statistics: list[dict]  # per statistic: statistic, observed, alternative, both tails, p_value
    coverage_95: float  # share of groups inside their central 95% predictive interval
    pit_ks_pvalue: float  # Kolmogorov-Smirnov p-value of the groups' randomised PIT values


def judged_values(model_id: str, family, draws, data: GroupedCounts, seed: int) -> JudgedValues:
    """The values ``posterior_predictive_check`` gives for the fit ``draws`` of ``data`` (same seeds, same numbers)
    that the ppc stage judges, computed from arrays alone: ``draws`` may be ``PosteriorArrays``."""
    r_rep, _ = replicated_counts(family, draws, data, model_id, seed)
    observed = compute_statistics(data.r, data.n)
    statistics = [
        {"statistic": tails["statistic"], "observed": float(observed[tails["statistic"]]), **tails}
        for tails in predictive_p_values(compute_statistics(r_rep, data.n), observed)
    ]
    inside = group_intervals(r_rep, data.r, (PPC_INTERVAL,))[PPC_INTERVAL][2]
    _, _, ks_pvalue = pit_uniformity(r_rep, data.r, model_id, seed)
    return JudgedValues(statistics, float(inside.mean()), ks_pvalue)


def posterior_predictive_check(
    model_id: str, idata, seed: int, group_levels: tuple[float, ...] = GROUP_LEVELS
) -> PosteriorPredictiveTables:
    """All posterior predictive tables of one fit; the PIT randomisation is seeded from ``seed``.

    ``group_levels``: the central predictive intervals of each group, and their coverage, that the tables carry.
    """
    error = fit_error(idata)
    if error:
        return _failed_ppc(model_id, idata, error, group_levels)
    data = observed_counts(idata)
    r_rep, copies = replicated_counts(fitted_family(idata), idata, data, model_id, seed)
    n_draws, n_groups = r_rep.shape
    replicated = compute_statistics(r_rep, data.n)
    observed = compute_statistics(data.r, data.n)
    rows = []
    for tails in predictive_p_values(replicated, observed):
        name = tails["statistic"]
        values = replicated[name]
        low, high = central_interval(values, PPC_INTERVAL)
        rows.append(
            {
                "model_id": model_id,
                "statistic": name,
                "observed": float(observed[name]),
                "mean": float(values.mean()),
                "lower_95": float(low),
                "upper_95": float(high),
                **{k: v for k, v in tails.items() if k != "statistic"},
                "draws": int(n_draws),
            }
        )

    groups = group_table(
        model_id,
        data,
        mean=r_rep.mean(axis=0),
    )
    for level, (low, high, inside) in group_intervals(r_rep, data.r, group_levels).items():
        tag = f"{round(level * 100)}"
        groups[f"lower_{tag}"] = low.astype("int64")
        groups[f"upper_{tag}"] = high.astype("int64")
        groups[f"inside_{tag}"] = inside
    groups["pit"], ks_statistic, ks_pvalue = pit_uniformity(r_rep, data.r, model_id, seed)

    calibration = pd.DataFrame(
        [
            {
                "model_id": model_id,
                "draws": int(n_draws),
                "groups": int(n_groups),
                **{
                    f"coverage_{round(level * 100)}": float(groups[f"inside_{round(level * 100)}"].mean())
                    for level in group_levels
                },
                "pit_ks_statistic": ks_statistic,
                "pit_ks_pvalue": ks_pvalue,
                "copies": int(copies),
                "fit_error": "",
            }
        ]
    )
    return PosteriorPredictiveTables(pd.DataFrame(rows), groups, calibration, replicated)


def _failed_ppc(model_id: str, idata, error: str, group_levels: tuple[float, ...]) -> PosteriorPredictiveTables:
    """Empty statistics and group tables and a calibration row carrying the fit's error, with the columns of
    ``group_levels`` that a check of a successful fit has."""
    statistics = pd.DataFrame(
        {
            "model_id": pd.Series(dtype=str),
            "statistic": pd.Series(dtype=str),
            **{c: pd.Series(dtype=float) for c in ("observed", "mean", "lower_95", "upper_95")},
            "alternative": pd.Series(dtype=str),
            **{c: pd.Series(dtype=float) for c in ("p_greater_eq", "p_less_eq", "p_value")},
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
                for level in group_levels
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
                **{f"coverage_{round(level * 100)}": np.nan for level in group_levels},
                "pit_ks_statistic": np.nan,
                "pit_ks_pvalue": np.nan,
                "copies": 0,
                "fit_error": error,
            }
        ]
    )
    return PosteriorPredictiveTables(statistics, groups, calibration, None)
