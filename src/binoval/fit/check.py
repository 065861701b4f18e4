"""Fit stage: is the MCMC output trustworthy?

FAIL when any posterior quantity has R-hat above ``r_hat_max`` or bulk/tail
ESS below ``ess_*_min_per_chain`` x chains, when the share of divergent
transitions exceeds ``divergence_rate_max``, when a chain's E-BFMI is below
``ebfmi_min``, or when the fit raised. WARN on any divergence at all and
when more than ``treedepth_rate_max`` of the draws hit the maximum tree depth
(the sampler was cut short, so it is slow and may explore poorly).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from binoval.defaults import THRESHOLDS, with_defaults
from binoval.schemas import ParameterDiagnostics, SamplerDiagnostics
from binoval.verdict.status import StageResult

#: pandera schema of each table fit_status reads (the verdict validates them on read)
TABLE_SCHEMAS = {"parameters": ParameterDiagnostics, "sampler": SamplerDiagnostics}


def _label(row) -> str:
    return f"{row.variable}[{row['index']}]" if row["index"] else row.variable


def fit_status(tables: Mapping[str, pd.DataFrame], thresholds: Mapping[str, float] | None = None) -> StageResult:
    """The fit stage's status from tables ``parameters`` (ParameterDiagnostics) and ``sampler`` (SamplerDiagnostics)."""
    t = with_defaults(THRESHOLDS["fit"], thresholds)
    parameters, sampler = tables["parameters"], tables["sampler"]
    result = StageResult()
    errors = [e for e in sampler["error"] if e]
    if errors:
        result.fail(f"the fit raised: {errors[0]}")
        return result

    chains = len(sampler)
    draws = int(sampler["draws"].sum())
    checked = parameters.dropna(subset=["r_hat"])

    worst = checked.loc[checked["r_hat"].idxmax()] if len(checked) else None
    if worst is not None and worst["r_hat"] > t["r_hat_max"]:
        result.fail(f"R-hat of {_label(worst)} is {worst['r_hat']:.3f} > {t['r_hat_max']}")
    for kind in ("bulk", "tail"):
        column = f"ess_{kind}"
        minimum = t[f"ess_{kind}_min_per_chain"] * chains
        valid = parameters.dropna(subset=[column])
        if len(valid):
            low = valid.loc[valid[column].idxmin()]
            if low[column] < minimum:
                result.fail(
                    f"{kind} ESS of {_label(low)} is {low[column]:.0f} < {minimum:.0f} ({t[f'ess_{kind}_min_per_chain']} per chain)"
                )

    divergences = int(sampler["divergences"].sum())
    rate = divergences / max(draws, 1)
    result.grade(
        rate,
        f"{divergences} divergent transitions ({rate:.2%} of {draws} draws)",
        t["divergence_rate_max"],
        0.0,
        worse="above",
        fmt=".2%",
    )

    low_bfmi = sampler[sampler["ebfmi"] < t["ebfmi_min"]]
    for row in low_bfmi.itertuples():
        result.fail(f"E-BFMI of chain {row.chain} is {row.ebfmi:.2f} < {t['ebfmi_min']}")

    hits = int(sampler["treedepth_hits"].sum())
    if hits / max(draws, 1) > t["treedepth_rate_max"]:
        result.warn(
            f"{hits} draws ({hits / draws:.1%}) hit the maximum tree depth {int(sampler['max_treedepth'].iloc[0])}"
        )

    if result.status == "PASS":
        rhat = f"max R-hat {worst['r_hat']:.3f}" if worst is not None else "R-hat not available"
        ess = parameters["ess_bulk"].min()
        result.note(
            f"{rhat}, min bulk ESS {ess:.0f}, no divergences, {chains} chains x {draws // max(chains, 1)} draws"
        )
    return result
