"""Predictive accuracy of one model on each task: PSIS-LOO and WAIC from its stored log-likelihoods.

``loo_table`` turns a fit's InferenceData into one row per (task, point) (``binoval.loo.tasks``): for
``new_groups`` and ``conditional`` a point is a group, for ``same_groups`` it is a group's successes or its
failures, weighted by how many trials it stands for (``units``). Each row holds the pointwise elpd (LOO per
observation, and WAIC), the effective-number-of-parameters contributions, the Pareto k of the PSIS importance
weights, which method gave the elpd (``loo_method``: psis, exact or kfold), and the variance of the pointwise
log-likelihood (WAIC is unreliable where it exceeds 0.4). The task's totals (elpd, se, p), weighted by
``units``, are repeated on each of its rows so that the table is self-contained.

Pareto k above ``k_threshold(S) = min(1 - 1/log10(S), 0.7)`` (S = total draws) means the importance-sampling
estimate of that point is unreliable. ``exact_loo`` refits the model without each such observation and
computes its held-out density exactly (``binoval.loo.tasks.left_out_data`` and ``heldout_log_density``): one
compiled model serves every refit, since leaving an observation out keeps the data's shapes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import special

from binoval.defaults import THRESHOLDS
from binoval.loo.tasks import (
    GROUP_POINT,
    NEW_GROUPS,
    OUTCOMES,
    TABLE_TASKS,
    TASKS,
    heldout_log_density,
    left_out_data,
    task_points,
)
from binoval.loo.waic import waic
from binoval.models import GroupedCounts, ModelSpec


def k_threshold(total_draws: int, cap: float = THRESHOLDS["loo"]["pareto_k_max"]) -> float:
    """The sample-size-dependent Pareto k threshold min(1 - 1/log10(S), cap)."""
    return float(min(1.0 - 1.0 / np.log10(total_draws), cap))


def _logmeanexp(x: np.ndarray, axis: int = 0) -> np.ndarray:
    return special.logsumexp(x, axis=axis) - np.log(x.shape[axis])


def weighted_totals(pointwise: np.ndarray, units: np.ndarray | None = None, ddof: int = 1) -> tuple[float, float]:
    """Sum of a pointwise elpd over the observations and its standard error sqrt(N var).

    ``units[j]`` observations share the value ``pointwise[j]`` (default 1 each); N is their total. The
    variance has ``ddof`` 1 by default, as ``arviz.loo`` and R's ``loo`` compute the se of an elpd.
    """
    pointwise = np.asarray(pointwise, dtype=float)
    units = np.ones(len(pointwise)) if units is None else np.asarray(units, dtype=float)
    total_units = units.sum()
    total = float((units * pointwise).sum())
    if total_units <= ddof or not np.isfinite(total):
        return total, 0.0 if np.isfinite(total) else float("nan")
    mean = total / total_units
    variance = float((units * (pointwise - mean) ** 2).sum() / (total_units - ddof))
    return total, float(np.sqrt(total_units * variance))


def _psis(idata, points) -> tuple[np.ndarray, np.ndarray]:
    """PSIS-LOO elpd and Pareto k of each column of ``points.log_likelihood`` (ArviZ's ``loo``).

    A column that is the same for every draw (a density that no parameter moves) needs no importance
    sampling: its elpd is that value and its k is -inf.
    """
    import warnings

    import arviz_stats  # ArviZ's loo, without importing arviz_plots (and matplotlib) as `import arviz` does
    import xarray as xr

    array = points.log_likelihood
    constant = np.ptp(array, axis=(0, 1)) == 0
    elpd = array[0, 0, :].astype(float).copy()
    k = np.full(array.shape[-1], -np.inf)
    if (~constant).any():
        tree = xr.DataTree.from_dict(
            {
                "posterior": idata.posterior.to_dataset(),
                "log_likelihood": xr.Dataset({"ll": (("chain", "draw", "point"), array[:, :, ~constant])}),
            }
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loo = arviz_stats.loo(tree, pointwise=True, var_name="ll")
        elpd[~constant] = np.asarray(loo.elpd_i.values, dtype=float)
        k[~constant] = np.asarray(loo.pareto_k.values, dtype=float)
    return elpd, k


def task_rows(
    idata, model_id: str, data: GroupedCounts, task: str, exact: Mapping | None = None
) -> pd.DataFrame | None:
    """The rows of one task (see the module doc); None when the fit has no log-likelihood for it.

    ``exact`` maps (group, point) to an elpd from an exact refit or K-fold (value, method), which replaces
    the PSIS estimate in the row and the totals.
    """
    points = task_points(idata, task, data)
    if points is None:
        return None
    elpd_loo_i, pareto_k = _psis(idata, points)
    flat = points.log_likelihood.reshape(-1, points.log_likelihood.shape[-1])
    information = waic(flat)
    lppd_i = _logmeanexp(flat, axis=0)
    method = np.array(["psis"] * len(elpd_loo_i), dtype=object)
    for j, key in enumerate(zip(points.groups, points.points)):
        if exact and key in exact:
            elpd_loo_i[j], method[j] = exact[key]
    units = points.units
    elpd_loo, se_loo = weighted_totals(elpd_loo_i, units)
    elpd_waic, se_waic = weighted_totals(information.elpd_i, units)
    position = {g: i for i, g in enumerate(data.groups)}
    order = [position[g] for g in points.groups]
    return pd.DataFrame(
        {
            "model_id": model_id,
            "task": task,
            "group": points.groups,
            "point": points.points,
            "units": units.astype("int64"),
            "n": data.n[order].astype("int64"),
            "r": data.r[order].astype("int64"),
            "elpd_loo_i": elpd_loo_i,
            "p_loo_i": lppd_i - elpd_loo_i,
            "pareto_k": pareto_k,
            "loo_method": method.astype(str),
            "elpd_waic_i": information.elpd_i,
            "p_waic_i": information.p_i,
            "loglik_var_i": information.p_i,
            "elpd_loo": elpd_loo,
            "se_loo": se_loo,
            "p_loo": float(np.sum(units * (lppd_i - elpd_loo_i))),
            "elpd_waic": elpd_waic,
            "se_waic": se_waic,
            "p_waic": float(np.sum(units * information.p_i)),
            "total_draws": int(flat.shape[0]),
        }
    )


def group_rows(
    model_id: str, task: str, data: GroupedCounts, method: str, draws: int, elpd=np.nan, p=np.nan
) -> pd.DataFrame:
    """One row per group of ``task`` with elpd and p per group (``elpd``, ``p``: arrays or NaN), totals over them,
    and no Pareto k or WAIC: the rows of K-fold cross-validation, or of a fit without draws."""
    groups = len(data.groups)
    elpd = np.broadcast_to(np.asarray(elpd, dtype=float), (groups,))
    p = np.broadcast_to(np.asarray(p, dtype=float), (groups,))
    total, se = weighted_totals(elpd)
    nan = np.full(groups, np.nan)
    return pd.DataFrame(
        {
            "model_id": model_id,
            "task": task,
            "group": list(data.groups),
            "point": GROUP_POINT,
            "units": np.ones(groups, dtype="int64"),
            "n": data.n.astype("int64"),
            "r": data.r.astype("int64"),
            "elpd_loo_i": elpd,
            "p_loo_i": p,
            "pareto_k": nan,
            "loo_method": method,
            "elpd_waic_i": nan,
            "p_waic_i": nan,
            "loglik_var_i": nan,
            "elpd_loo": total,
            "se_loo": se,
            "p_loo": float(p.sum()),
            "elpd_waic": np.nan,
            "se_waic": np.nan,
            "p_waic": np.nan,
            "total_draws": int(draws),
        }
    )


def kfold_rows(
    model_id: str, data: GroupedCounts, values: Mapping[str, tuple[float, float]], draws: int
) -> pd.DataFrame:
    """The new-groups rows of K-fold cross-validation (``binoval.loo.kfold``; ``values``: group -> (elpd, p)):
    no Pareto k and no WAIC (nothing to smooth, no full-data task)."""
    elpd = [values[g][0] for g in data.groups]
    p = [values[g][1] for g in data.groups]
    return group_rows(model_id, NEW_GROUPS, data, "kfold", draws, elpd, p)


def loo_table(
    idata, model_id: str, data: GroupedCounts, exact: Mapping | None = None, kfold: Mapping | None = None
) -> pd.DataFrame:
    """Every task's rows (see the module doc); a fit without draws gets ``failed_fit_table``.

    ``exact`` maps (task, group, point) to (elpd, method) from exact refits; ``kfold`` maps each group to
    (elpd, p) from K-fold cross-validation, whose rows then stand for the new-groups task.
    """
    if "log_likelihood" not in idata.children or "posterior" not in idata.children:
        return failed_fit_table(model_id, data)
    exact = exact or {}
    parts = []
    for task in TABLE_TASKS:
        if task == NEW_GROUPS and kfold:
            draws = idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]
            parts.append(kfold_rows(model_id, data, kfold, draws))
            continue
        own = {(g, p): value for (t, g, p), value in exact.items() if t == task}
        rows = task_rows(idata, model_id, data, task, own)
        if rows is not None:
            parts.append(rows)
    return pd.concat(parts, ignore_index=True)


def failed_fit_table(model_id: str, data: GroupedCounts) -> pd.DataFrame:
    """The LOO table of a fit that produced no draws: one row per group and task, every figure NaN, 0 draws."""
    return pd.concat([group_rows(model_id, task, data, "psis", 0) for task in TABLE_TASKS], ignore_index=True)


def task_table(table: pd.DataFrame, task: str) -> pd.DataFrame:
    """The rows of one task of a LOO table (empty when the model has none for it)."""
    return table[table["task"] == task]


def flagged_points(table: pd.DataFrame, cap: float = THRESHOLDS["loo"]["pareto_k_max"]) -> list[tuple[str, str, str]]:
    """(task, group, point) of the compared tasks' PSIS estimates whose Pareto k exceeds the threshold, highest k first.

    The conditional task is left out: it is never compared, so its high k values are reported, not refitted.
    """
    if table.empty or int(table["total_draws"].iloc[0]) < 2:
        return []
    threshold = k_threshold(int(table["total_draws"].iloc[0]), cap)
    high = table[table["task"].isin(TASKS) & (table["loo_method"] == "psis") & (table["pareto_k"] > threshold)]
    high = high.sort_values("pareto_k", ascending=False)
    return list(zip(high["task"], high["group"], high["point"]))


# -- exact leave-one-out -------------------------------------------------------------------


def refit_index(data: GroupedCounts, task: str, group: str, point: str) -> int:
    """The seed index of the exact refit without one observation: unique per (task, group, point)."""
    points = (GROUP_POINT, *OUTCOMES)
    return (TABLE_TASKS.index(task) * len(data.groups) + data.groups.index(group)) * len(points) + points.index(point)


def exact_loo(
    spec: ModelSpec, data: GroupedCounts, points: list[tuple[str, str, str]], settings, seed: int
) -> dict[tuple[str, str, str], tuple[float, str]]:
    """Exact elpd of each (task, group, point): refit without the observation, score it (``binoval.loo.tasks``).

    Leaving an observation out keeps the data's shapes (``left_out_data``), so the model is compiled once
    (``CompiledSampler``) and each refit swaps its counts in: k observations cost one compile and k fits.
    Returns (elpd, "exact") per point, for ``loo_table``.
    """
    from binoval import seeds
    from binoval.fit.sampler import CompiledSampler
    from binoval.models import build_model

    if not points:
        return {}
    sampler = CompiledSampler(build_model(spec, data), settings)
    out: dict[tuple[str, str, str], tuple[float, str]] = {}
    for task, group, point in points:
        index = refit_index(data, task, group, point)
        fit = sampler.fit(left_out_data(data, group, point), seeds.int_seed(seed, "loo", spec.model_id, index))
        rng = seeds.rng(seed, "loo", spec.model_id, index)
        log_density = heldout_log_density(spec, fit.idata, data, group, point, rng)
        out[(task, group, point)] = (float(_logmeanexp(np.asarray(log_density, dtype=float))), "exact")
    return out
