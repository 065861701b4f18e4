"""LOO stage: can the model's predictive accuracy be estimated reliably?

Needs table ``loo`` (one row per group, ``binoval.schemas.LooTable``).

FAIL when the LOO or WAIC estimate is not finite (a broken log-likelihood),
or when the share of groups whose Pareto k exceeds the threshold (and that
were not re-estimated exactly) is above ``k_high_share_fail``.
WARN when any group's Pareto k exceeds min(1 - 1/log10(S), ``pareto_k_max``)
(S = total draws) without an exact refit — the PSIS estimate for those
groups is unreliable, typical of hierarchical models whose groups carry much
information about their own parameter — and when the pointwise
log-likelihood variance of a group exceeds ``waic_variance_max`` (WAIC is
then unreliable; prefer LOO).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from binoval.defaults import THRESHOLDS, with_defaults
from binoval.loo.psis import k_threshold
from binoval.schemas import LooTable
from binoval.verdict.status import StageResult

#: pandera schema of each table loo_status reads (the verdict validates them on read)
TABLE_SCHEMAS = {"loo": LooTable}


def loo_status(tables: Mapping[str, pd.DataFrame], thresholds: Mapping[str, float] | None = None) -> StageResult:
    """The LOO stage's status from table ``loo`` (per-group PSIS-LOO and WAIC figures)."""
    t = with_defaults(THRESHOLDS["loo"], thresholds)
    table = tables["loo"]
    result = StageResult()
    first = table.iloc[0]
    if int(first["total_draws"]) == 0:
        result.fail("no log-likelihood: the fit produced no draws")
        return result
    for name in ("elpd_loo", "se_loo", "elpd_waic", "se_waic"):
        if not np.isfinite(first[name]):
            result.fail(f"{name} is not finite ({first[name]}); the log-likelihood is broken")
            return result
    threshold = k_threshold(int(first["total_draws"]), t["pareto_k_max"])
    psis = table[table["loo_method"] == "psis"]
    high = psis[psis["pareto_k"] > threshold]
    exact = table[table["loo_method"] == "exact"]
    groups = len(table)
    if len(high):
        worst = high.loc[high["pareto_k"].idxmax()]
        names = ", ".join(high.sort_values("pareto_k", ascending=False)["group"].astype(str).head(5))
        more = "" if len(high) <= 5 else f" and {len(high) - 5} more"
        message = (
            f"Pareto k above {threshold:.2f} for {len(high)}/{groups} groups ({names}{more}; max {worst['pareto_k']:.2f} "
            f"in group {worst['group']}): the PSIS-LOO estimate is unreliable for them; enable loo.reloo for exact refits"
        )
        if len(high) / groups > t["k_high_share_fail"]:
            result.fail(message + f" (share {len(high) / groups:.0%} > {t['k_high_share_fail']:.0%})")
        else:
            result.warn(message)
    variance = table[table["loglik_var_i"] > t["waic_variance_max"]]
    if len(variance):
        result.warn(
            f"pointwise log-likelihood variance above {t['waic_variance_max']} for {len(variance)}/{groups} groups "
            f"(max {variance['loglik_var_i'].max():.2f}): WAIC is unreliable, rely on LOO"
        )
    if len(exact):
        result.note(
            f"exact leave-one-group-out refits for {len(exact)} group(s): {', '.join(exact['group'].astype(str))}"
        )
    result.note(
        f"elpd_loo {first['elpd_loo']:.2f} (se {first['se_loo']:.2f}), p_loo {first['p_loo']:.2f}; "
        f"elpd_waic {first['elpd_waic']:.2f} (se {first['se_waic']:.2f}), p_waic {first['p_waic']:.2f}; "
        f"{len(high)}/{groups} Pareto k > {threshold:.2f}"
    )
    return result
