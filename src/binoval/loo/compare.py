"""Comparing models on one prediction task at a time, by expected log predictive density (LOO and WAIC).

Only models scored on the same task are ranked together (``binoval.loo.tasks``): ``compare_task`` ranks every
model that has a task's rows by elpd, and gives each model's difference from the best with the paired standard
error of that difference over the task's observations, ArviZ's ``p_worse`` (the probability, under a normal
approximation, that the model predicts worse than the best) and ``diag_diff`` (when that approximation is
doubtful: fewer than 100 observations, or a difference below 4), and the stacking weights. Observations are
weighted by how many each row stands for (``units``: 1 per group, or the trials of a group's successes or
failures), so on the new-groups task every figure equals ``arviz.compare(method="stacking")``'s, and on the
same-groups task it is what ArviZ would give on the trial-level data.

The tie rule (config ``compare``, defaults ``binoval.defaults.COMPARE``): a model is *tied* with the best when
its elpd difference is below ``elpd_tolerance`` or its ``p_worse`` is below ``p_worse_max``. ``p_worse_max``
0.975 ties every difference smaller than 1.96 paired standard errors. The rule serves the recommendation (the
simplest tied accepted model on the task ``compare.task``, ``binoval.verdict.verdict.recommend``). The number
of clusters of a mixture is chosen on evidence about K itself (``binoval.loo.k_choice``); each K's elpd,
difference and p_worse stay in the comparison beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from binoval.defaults import COMPARE, with_defaults
from binoval.loo.psis import k_threshold, task_table, weighted_totals
from binoval.loo.tasks import TASKS
from binoval.loo.waic import WAIC_VARIANCE_MAX

CRITERIA = ("loo", "waic")
#: ArviZ's ``diag_diff`` labels: too few observations for the normal approximation, or models too alike.
SMALL_DATA, SIMILAR_PREDICTIONS = "N < 100", "|elpd_diff| < 4"


@dataclass(frozen=True)
class Difference:
    """How much worse a model predicts than another on one task: ``diff`` = elpd(better) - elpd(worse) >= 0
    when ``better`` is ahead, its paired standard error ``se``, and ``p_worse`` = P(the other is worse) under
    the normal approximation N(diff, se) (ArviZ's ``p_worse``)."""

    diff: float
    se: float
    p_worse: float


def _aligned(table: pd.DataFrame, ic: str) -> pd.DataFrame:
    return table.sort_values(["group", "point"])[["group", "point", "units", f"elpd_{ic}_i"]]


def paired_difference(better: pd.DataFrame, worse: pd.DataFrame, ic: str = "loo") -> Difference:
    """The difference of two models' rows of one task, observation by observation (see ``Difference``).

    The standard error is sqrt(N var(pointwise differences)) over the N observations, each row counted
    ``units`` times, with ddof 0 as ``arviz.compare`` computes it (R's ``loo_compare`` uses ddof 1, a factor
    sqrt(N / (N - 1)) larger).
    """
    from scipy import special

    a, b = _aligned(better, ic), _aligned(worse, ic)
    if list(zip(a["group"], a["point"])) != list(zip(b["group"], b["point"])):
        raise ValueError("the two tables do not score the same observations; compare models on one task only")
    d = a[f"elpd_{ic}_i"].to_numpy(dtype=float) - b[f"elpd_{ic}_i"].to_numpy(dtype=float)
    diff, se = weighted_totals(d, a["units"].to_numpy(), ddof=0)
    # P(N(diff, se) > 0) = Phi(diff / se), what scipy.stats.norm.cdf(0, -diff, se) computes, without scipy.stats
    p_worse = float(special.ndtr(diff / (se + 1e-12))) if diff != 0 else float("nan")
    return Difference(diff, se, p_worse)


def is_tied(difference: Difference, tolerance: Mapping | None = None) -> bool:
    """Is a model tied with the best: difference below ``elpd_tolerance`` or ``p_worse`` below ``p_worse_max``?"""
    t = with_defaults(COMPARE, tolerance)
    if difference.diff < t["elpd_tolerance"]:
        return True
    return bool(np.isfinite(difference.p_worse) and difference.p_worse < t["p_worse_max"])


def tie_rule(tolerance: Mapping | None = None) -> str:
    """The tie rule of ``is_tied`` in words (config ``compare`` over ``binoval.defaults.COMPARE``)."""
    t = with_defaults(COMPARE, tolerance)
    return (
        f"A model is tied with the best when its elpd difference is below {t['elpd_tolerance']:g} or the "
        f"probability that it predicts worse (p_worse) is below {t['p_worse_max']:g} (config `compare`)."
    )


def diag_diff(observations: int, diff: float) -> str:
    """ArviZ's diagnostic of an elpd difference: ``N < 100``, ``|elpd_diff| < 4`` or empty (no concern)."""
    if diff == 0:
        return ""
    if observations < 100:
        return SMALL_DATA
    return SIMILAR_PREDICTIONS if abs(diff) < 4 else ""


def stacking_weights(pointwise: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Stacking weights (Yao et al. 2018): the simplex w maximising sum_j units_j log sum_m w_m exp(elpd_jm).

    ``pointwise``: (observations, models) LOO elpd; the same optimisation as ``arviz.compare(method="stacking")``,
    with each row counted ``units`` times.
    """
    from scipy.optimize import Bounds, LinearConstraint, minimize

    models = pointwise.shape[1]
    if models == 1:
        return np.ones(1)
    scaled = np.exp(pointwise - pointwise.max(axis=1, keepdims=True))
    units = np.asarray(units, dtype=float)

    def negative_score(w):
        return -np.sum(units * np.log(scaled @ w))

    def gradient(w):
        return -np.sum(units[:, None] * scaled / (scaled @ w)[:, None], axis=0)

    result = minimize(
        negative_score,
        np.full(models, 1.0 / models),
        jac=gradient,
        bounds=Bounds(np.zeros(models), np.ones(models)),
        constraints=LinearConstraint(np.ones(models), 1.0, 1.0),
    )
    weights = np.clip(result.x, 0.0, None)
    return weights / weights.sum()


def _methods(table: pd.DataFrame) -> str:
    """Which methods gave a task's elpd values, e.g. ``psis`` or ``psis+exact(3)``."""
    counts = table["loo_method"].value_counts()
    return "+".join(m if m == "psis" and len(counts) == 1 else f"{m}({counts[m]})" for m in sorted(counts.index))


def _warning(table: pd.DataFrame, ic: str) -> bool:
    if ic == "waic":
        return bool((table["loglik_var_i"] > WAIC_VARIANCE_MAX).any())
    psis = table[table["loo_method"] == "psis"]
    return bool((psis["pareto_k"] > k_threshold(int(table["total_draws"].iloc[0]))).any())


def task_tables(tables: Mapping[str, pd.DataFrame], task: str, ic: str = "loo") -> dict[str, pd.DataFrame]:
    """Each model's rows of ``task`` whose ``ic`` total is finite (failed fits, families without the task, and
    K-fold rows for WAIC drop out)."""
    out = {}
    for model_id, table in tables.items():
        rows = task_table(table, task)
        if len(rows) and np.isfinite(rows[f"elpd_{ic}"].iloc[0]):
            out[model_id] = rows
    return out


def compare_task(tables: Mapping[str, pd.DataFrame], task: str) -> pd.DataFrame:
    """One row per (criterion, model) of the models scored on ``task`` (see the module doc)."""
    rows = []
    for ic in CRITERIA:
        own = task_tables(tables, task, ic)
        if not own:
            continue
        totals = {m: float(t[f"elpd_{ic}"].iloc[0]) for m, t in own.items()}
        ordered = sorted(totals, key=lambda m: -totals[m])
        best = ordered[0]
        aligned = {m: _aligned(own[m], ic) for m in ordered}
        units = aligned[best]["units"].to_numpy()
        weights = stacking_weights(np.column_stack([aligned[m][f"elpd_{ic}_i"] for m in ordered]), units)
        observations = int(units.sum())
        for rank, model_id in enumerate(ordered):
            table = own[model_id]
            difference = paired_difference(own[best], table, ic) if model_id != best else Difference(0.0, 0.0, np.nan)
            rows.append(
                {
                    "task": task,
                    "criterion": ic,
                    "model_id": model_id,
                    "rank": rank,
                    "elpd": totals[model_id],
                    "se": float(table[f"se_{ic}"].iloc[0]),
                    "p": float(table[f"p_{ic}"].iloc[0]),
                    "elpd_diff": difference.diff,
                    "dse": difference.se,
                    "p_worse": difference.p_worse,
                    "diag_diff": diag_diff(observations, difference.diff),
                    "weight": float(weights[rank]),
                    "observations": observations,
                    "method": _methods(table) if ic == "loo" else "waic",
                    "warning": _warning(table, ic),
                }
            )
    return pd.DataFrame(rows)


def _value_of_each(model_ids: pd.Series, values, default) -> pd.Series:
    """``values[m]`` (a mapping or a Series indexed by model id) for each model id m, ``default`` where it has none.

    Not ``map(values).fillna(default)``: with no values the mapped column is float NaN, and filling a float column
    with text raises from pandas 4 on."""
    return model_ids.map(lambda m: values.get(m, default))


def comparison_with_k(
    tables: Mapping[str, pd.DataFrame],
    mixtures: Mapping[str, tuple[str, int]],
    tolerance: Mapping | None = None,
    evidence: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``compare_task`` for every task, plus each mixture model's K and the evidence about K and the K choice
    (``binoval.loo.k_choice.k_choice_table`` of ``evidence``, the SMC tables of the mixtures): columns
    ``mixture``, ``K``, ``log_ml``, ``log_ml_se``, ``p_k``, ``p_clusters``, ``k_selected``, ``k_reason``.
    Models without a finite elpd_loo on a task (failed fits) are left out of that task."""
    from binoval.loo.k_choice import k_choice_table

    bayes_factor = with_defaults(COMPARE, tolerance)["clusters_bayes_factor"]
    if evidence is not None and len(evidence):
        choice = k_choice_table(evidence, bayes_factor).set_index("model_id")
    else:
        choice = pd.DataFrame(columns=["log_ml", "log_ml_se", "p_k", "p_clusters", "selected", "reason"])
    parts = []
    for task in TASKS:
        comp = compare_task(tables, task)
        if comp.empty:
            continue
        comp["mixture"] = _value_of_each(comp["model_id"], {m: base for m, (base, _) in mixtures.items()}, "")
        comp["K"] = _value_of_each(comp["model_id"], {m: int(K) for m, (_, K) in mixtures.items()}, 0).astype("int64")
        for column in ("log_ml", "log_ml_se", "p_k", "p_clusters"):
            comp[column] = comp["model_id"].map(choice[column]).astype(float)
        comp["k_selected"] = comp["model_id"].map(choice["selected"]).astype("boolean").fillna(False).astype(bool)
        comp["k_reason"] = _value_of_each(comp["model_id"], choice["reason"], "").astype(str)
        parts.append(comp)
    if not parts:
        raise ValueError("no model has a finite elpd_loo on any task: every fit failed")
    return pd.concat(parts, ignore_index=True)
