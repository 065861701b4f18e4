"""Fit stage: is the MCMC output trustworthy?

FAIL when any posterior quantity has R-hat above ``r_hat_max`` or bulk/tail
ESS below ``ess_*_min_per_chain`` x chains (after the fit stage's extensions,
``config fit``: the reasons say when a fit needed them), when the share of divergent
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

#: The ``thresholds.fit`` keys that more draws can meet: the fit stage extends a fit until it meets them, so the
#: fit rule takes them as params (changing one reruns the fits; the other fit thresholds only the verdict).
CONVERGENCE_TARGETS = ("r_hat_max", "ess_bulk_min_per_chain", "ess_tail_min_per_chain")

#: pandera schema of each table fit_status reads (the verdict validates them on read)
TABLE_SCHEMAS = {"parameters": ParameterDiagnostics, "sampler": SamplerDiagnostics}


def _label(row) -> str:
    return f"{row.variable}[{row['index']}]" if row["index"] else row.variable


def convergence_shortfalls(
    parameters: pd.DataFrame, chains: int, thresholds: Mapping[str, float] | None = None
) -> list[str]:
    """How a fit misses the R-hat and bulk/tail ESS targets of ``thresholds.fit``, one sentence each; empty when
    it meets them. These are what more draws can cure, so the fit stage extends a fit on them (``binoval.fit.stage``)."""
    t = with_defaults(THRESHOLDS["fit"], thresholds)
    out = []
    checked = parameters.dropna(subset=["r_hat"])
    if len(checked):
        worst = checked.loc[checked["r_hat"].idxmax()]
        if worst["r_hat"] > t["r_hat_max"]:
            out.append(f"R-hat of {_label(worst)} is {worst['r_hat']:.3f} > {t['r_hat_max']}")
    for kind in ("bulk", "tail"):
        column = f"ess_{kind}"
        minimum = t[f"ess_{kind}_min_per_chain"] * chains
        valid = parameters.dropna(subset=[column])
        if len(valid):
            low = valid.loc[valid[column].idxmin()]
            if low[column] < minimum:
                out.append(
                    f"{kind} ESS of {_label(low)} is {low[column]:.0f} < {minimum:.0f} "
                    f"({t[f'ess_{kind}_min_per_chain']} per chain)"
                )
    return out


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
    for shortfall in convergence_shortfalls(parameters, chains, t):
        result.fail(shortfall)
    checked = parameters.dropna(subset=["r_hat"])
    worst = checked.loc[checked["r_hat"].idxmax()] if len(checked) else None

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

    extensions = int(sampler["extensions"].iloc[0])
    if extensions:
        result.note(
            f"the fit was extended {extensions} time(s), to {draws // max(chains, 1)} draws per chain, before it was "
            f"judged: {sampler['extended_because'].iloc[0]}"
        )
    if result.status == "PASS":
        rhat = f"max R-hat {worst['r_hat']:.3f}" if worst is not None else "R-hat not available"
        ess = parameters["ess_bulk"].min()
        result.note(
            f"{rhat}, min bulk ESS {ess:.0f}, no divergences, {chains} chains x {draws // max(chains, 1)} draws"
        )
    return result
