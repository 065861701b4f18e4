"""LOO stage: can each model's predictive accuracy be estimated reliably on the tasks it is compared on?

Needs table ``loo`` (rows per task and point, ``binoval.schemas.LooTable``).

FAIL when a compared task's LOO or WAIC estimate is not finite (a broken log-likelihood), or when the share
of a compared task's observations whose Pareto k still exceeds the threshold (no exact refit or K-fold
replaced them) is above ``k_high_share_fail``.
WARN when any observation of a compared task keeps a Pareto k above min(1 - 1/log10(S), ``pareto_k_max``)
(S = total draws): the refit budget (``loo.reloo_max_refits``) ran out before it, and its PSIS estimate is
unreliable.
Notes: refits and K-fold used; the conditional log-likelihood's high Pareto k values and WAIC variance (the
textbook numbers, never compared); each task's totals.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from binoval.defaults import THRESHOLDS, with_defaults
from binoval.loo.psis import k_threshold, task_table
from binoval.loo.tasks import CONDITIONAL, TASKS
from binoval.schemas import LooTable
from binoval.verdict.status import StageResult

#: pandera schema of each table loo_status reads (the verdict validates them on read)
TABLE_SCHEMAS = {"loo": LooTable}


def _names(rows: pd.DataFrame, limit: int = 5) -> str:
    labels = [g if p == "group" else f"{g} {p}" for g, p in zip(rows["group"].astype(str), rows["point"])]
    more = "" if len(labels) <= limit else f" and {len(labels) - limit} more"
    return ", ".join(labels[:limit]) + more


def loo_status(tables: Mapping[str, pd.DataFrame], thresholds: Mapping[str, float] | None = None) -> StageResult:
    """The LOO stage's status from table ``loo`` (see the module doc)."""
    t = with_defaults(THRESHOLDS["loo"], thresholds)
    table = tables["loo"]
    result = StageResult()
    if int(table["total_draws"].iloc[0]) == 0:
        result.fail("no log-likelihood: the fit produced no draws")
        return result
    threshold = k_threshold(int(table["total_draws"].iloc[0]), t["pareto_k_max"])
    for task in TASKS:
        rows = task_table(table, task)
        if rows.empty:
            continue
        first = rows.iloc[0]
        kfold_only = (rows["loo_method"] == "kfold").all()  # K-fold rows have no WAIC
        names = ("elpd_loo", "se_loo") if kfold_only else ("elpd_loo", "se_loo", "elpd_waic", "se_waic")
        broken = [name for name in names if not np.isfinite(first[name])]
        if broken:
            result.fail(f"{task}: {broken[0]} is not finite ({first[broken[0]]}); the log-likelihood is broken")
            continue
        high = rows[(rows["loo_method"] == "psis") & (rows["pareto_k"] > threshold)]
        high = high.sort_values("pareto_k", ascending=False)
        if len(high):
            share = high["units"].sum() / rows["units"].sum()
            message = (
                f"{task}: Pareto k above {threshold:.2f} for {len(high)} of {len(rows)} points ({_names(high)}; "
                f"max {high['pareto_k'].iloc[0]:.2f}) after the exact refits: their PSIS estimate is unreliable; "
                "raise loo.reloo_max_refits to refit them"
            )
            if share > t["k_high_share_fail"]:
                result.fail(message + f" (share of observations {share:.0%} > {t['k_high_share_fail']:.0%})")
            else:
                result.warn(message)
        replaced = rows[rows["loo_method"] != "psis"]
        for method in sorted(set(replaced["loo_method"])):
            done = replaced[replaced["loo_method"] == method]
            what = "exact refits without" if method == "exact" else "K-fold cross-validation of"
            result.note(f"{task}: {what} {len(done)} point(s): {_names(done, limit=8)}")
        waic = "" if kfold_only else f"; elpd_waic {first['elpd_waic']:.2f} (se {first['se_waic']:.2f})"
        result.note(
            f"{task}: elpd_loo {first['elpd_loo']:.2f} (se {first['se_loo']:.2f}), p_loo {first['p_loo']:.2f} over "
            f"{int(rows['units'].sum())} observations{waic}"
        )
    conditional = task_table(table, CONDITIONAL)
    if len(conditional) and np.isfinite(conditional["elpd_loo"].iloc[0]):
        first = conditional.iloc[0]
        high = conditional[conditional["pareto_k"] > threshold]
        variance = conditional[conditional["loglik_var_i"] > t["waic_variance_max"]]
        result.note(
            f"conditional (given each group's own rate; not compared): elpd_loo {first['elpd_loo']:.2f} "
            f"(se {first['se_loo']:.2f}), {len(high)}/{len(conditional)} Pareto k > {threshold:.2f}; "
            f"elpd_waic {first['elpd_waic']:.2f} (se {first['se_waic']:.2f}), p_waic {first['p_waic']:.2f}, "
            f"{len(variance)}/{len(conditional)} groups with log-likelihood variance > {t['waic_variance_max']}"
        )
    return result
