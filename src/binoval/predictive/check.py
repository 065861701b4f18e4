"""Prior predictive and posterior predictive stages: statuses from their tables.

Both stages judge the same statistics the same way, so that the chance of rejecting a
correctly specified model is known by design and bounded by ``verdict.false_reject_rate``:

* Each judged statistic (``statistics``; by default every statistic of
  ``binoval.predictive.statistics`` that is not an exact transform of another) has a
  p-value in the tail its purpose names: two-sided for location and spread, the upper
  tail for statistics built to detect one kind of misfit (overdispersion, excess of
  groups at 0 or at n, clusters or an outlying group: evenly spread proportions are no
  evidence against a model). Tail probabilities are ``(1 + count) / (1 + draws)``.
* Multiplicity: the p-values of the judged statistics are adjusted for the family-wise
  error over the statistics. The prior predictive check adjusts by Westfall-Young min-p on
  the prior's own draws (each draw judged against the others gives the distribution of
  the smallest p-value under the prior: exact whatever the dependence between the
  statistics, which are strongly correlated); the posterior predictive check by Holm
  (valid whatever their dependence). FAIL when a statistic's adjusted p-value is below
  ``p_value_fail``, WARN below ``p_value_warn``. ``p_value_fail`` defaults to
  half of ``verdict.false_reject_rate`` (``fail_level``): the two predictive checks
  together reject a correct model on these statistics at most that often. For the prior
  predictive check the bound is exact (data drawn from the prior are exchangeable with the
  prior's draws); posterior predictive p-values of a correct model crowd the middle, so
  the PPC rejects less often than its level. ``benchmarks/verdict_calibration.py``
  measures both, with every other reason to FAIL included.
* Resolution: with ``S`` draws no p-value is below ``1 / (1 + S)``. The prior predictive
  stage needs ``prior_predictive.draws`` of at least ``minimum_prior_draws`` (checked with
  the config); the PPC replicates each posterior draw as often as needed for
  ``binoval.predictive.posterior.REPLICATED_DATASETS`` datasets, enough for Holm.

Prior predictive, besides: WARN / FAIL when the share of degenerate datasets (all groups
at 0 or all at n) exceeds ``degenerate_warn`` / ``degenerate_fail``: such a prior puts its
mass on rates of 0 or 1.

Posterior predictive, besides: FAIL / WARN when the share of groups inside their 95%
predictive intervals is below ``coverage_95_fail`` / ``coverage_95_warn``; FAIL / WARN
when the KS test of the randomised PIT values gives a p-value below ``pit_pvalue_fail``
/ ``pit_pvalue_warn``; FAIL when the fit failed (no posterior draws).

The PIT check only warns by default (``pit_pvalue_fail: 0``): these are in-sample PIT
values, and when each group has its own well-identified rate (weak pooling, large n) the
data are used twice, so even a correct model's PIT values crowd the middle (e.g.
``unpooled`` on the 3-cluster data: KS p = 3e-5 with every group inside its 50%
interval). The reason says which way the PIT values deviate: crowding the middle
(predictive wider than the data) or the ends (predictive too narrow or shifted, which the
coverage and statistic checks also catch).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from binoval.predictive.levels import (  # noqa: F401 - the defaults are part of this module's interface
    DEFAULT_PPC_THRESHOLDS,
    DEFAULT_PRIOR_PREDICTIVE_THRESHOLDS,
    merged,
)
from binoval.predictive.primitives import min_p_adjusted, min_p_null, smallest_p_value
from binoval.predictive.statistics import STATISTICS
from binoval.schemas import PPCCalibration, PPCGroups, PPCStatistics, PriorPredictiveDraws, PriorPredictiveSummary
from binoval.verdict.status import StageResult

#: Schema of each table key the status functions read (use with ``schemas.read_table``).
TABLE_SCHEMAS = {
    "prior_predictive": PriorPredictiveSummary,
    "draws": PriorPredictiveDraws,
    "ppc": PPCStatistics,
    "ppc_groups": PPCGroups,
    "ppc_calibration": PPCCalibration,
}


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def judge_statistics(result: StageResult, judged: pd.DataFrame, t: Mapping, describe, null_min_p=None) -> None:
    """FAIL / WARN for each judged statistic whose multiplicity-adjusted p-value is below ``p_value_fail`` /
    ``p_value_warn``; ``describe(row)`` says where the observed value lies. Adjusted by min-p against
    ``null_min_p`` (the smallest p-value of each reference draw, ``min_p_null``) when given, else by Holm."""
    from binoval.sbc.uniformity import holm

    p = judged["p_value"].to_numpy(dtype=float)
    m = len(judged)
    if null_min_p is not None:
        adjusted, how = min_p_adjusted(p, null_min_p), f"min-p adjusted over {m} statistics (on the prior's own draws)"
    else:
        adjusted, how = holm(p), f"Holm-adjusted over {m} statistics"
    for row, p_adjusted in zip(judged.itertuples(), adjusted):
        tail = "upper-tail" if row.alternative != "two-sided" else "two-sided"
        where = f"{describe(row)}: {tail} p = {row.p_value:.4f}, {how} {p_adjusted:.4f}"
        result.grade(p_adjusted, where, t["p_value_fail"], t["p_value_warn"], fmt=".3g")


def _smallest_adjusted(judged: pd.DataFrame, draws: int) -> float:
    """The smallest Holm-adjusted p-value any judged statistic could reach with ``draws`` draws."""
    if judged.empty:
        return float("nan")
    return len(judged) * min(smallest_p_value(draws, STATISTICS[name].alternative) for name in judged["statistic"])


def prior_predictive_status(tables: Mapping[str, pd.DataFrame], thresholds: Mapping | None = None) -> StageResult:
    """Status of the prior predictive stage.

    Table keys: ``prior_predictive`` (the ``PriorPredictiveSummary`` table,
    one row per statistic) and, optionally, ``draws`` (``PriorPredictiveDraws``: every statistic of every
    draw); with the draws the statistics are adjusted by min-p on them, without by Holm.
    """
    t = merged(DEFAULT_PRIOR_PREDICTIVE_THRESHOLDS, thresholds)
    summary = tables["prior_predictive"]
    result = StageResult()
    if summary.empty:
        result.fail("the prior predictive table is empty")
        return result
    draws = int(summary["draws"].iloc[0])
    judged = summary[summary["statistic"].isin(t["statistics"])]
    prior_draws = tables.get("draws")
    null = min_p_null(prior_draws, list(judged["statistic"])) if prior_draws is not None and len(judged) else None
    judge_statistics(
        result,
        judged,
        t,
        lambda row: (
            f"observed {row.statistic} = {_fmt(row.observed)} is at prior predictive quantile {row.quantile:.4f} "
            f"(central 99% interval [{_fmt(row.lower_99)}, {_fmt(row.upper_99)}], {draws} draws)"
        ),
        null,
    )
    floor = 1.0 / (1.0 + draws) if null is not None else _smallest_adjusted(judged, draws)
    if floor >= t["p_value_fail"]:
        result.warn(
            f"{draws} prior predictive draws cannot resolve the FAIL level {t['p_value_fail']:.3g}: the smallest "
            f"Holm-adjusted p-value they allow is {floor:.3g}; raise prior_predictive.draws"
        )
    share = float(summary["degenerate_share"].iloc[0])
    message = f"{share:.1%} of prior predictive datasets are degenerate (every group at 0 or every group at n)"
    result.grade(share, message, t["degenerate_fail"], t["degenerate_warn"], worse="above", fmt=".0%")
    if result.status == "PASS":
        smallest = judged.loc[judged["p_value"].idxmin()] if len(judged) else None
        lowest = f"smallest p = {smallest['p_value']:.3f} ({smallest['statistic']})" if smallest is not None else ""
        result.note(
            f"{len(judged)} statistics judged over {draws} prior predictive draws, {lowest}, none below the "
            f"adjusted WARN level {t['p_value_warn']:.3g}; {share:.1%} degenerate datasets"
        )
    return result


def ppc_status(tables: Mapping[str, pd.DataFrame], thresholds: Mapping | None = None) -> StageResult:
    """Status of the posterior predictive stage.

    Table keys: ``ppc`` (``PPCStatistics``, one row per statistic),
    ``ppc_groups`` (``PPCGroups``, one row per group) and ``ppc_calibration``
    (``PPCCalibration``, one row: coverage, PIT test, fit error).
    """
    t = merged(DEFAULT_PPC_THRESHOLDS, thresholds)
    statistics = tables["ppc"]
    groups = tables["ppc_groups"]
    calibration = tables["ppc_calibration"].iloc[0]
    result = StageResult()
    if calibration["fit_error"]:
        result.fail(f"no posterior predictive draws, the fit failed: {calibration['fit_error']}")
        return result

    draws = int(calibration["draws"])
    judged = statistics[statistics["statistic"].isin(t["statistics"])]
    judge_statistics(
        result,
        judged,
        t,
        lambda row: (
            f"{row.statistic}: observed {_fmt(row.observed)}, predicted mean {_fmt(row.mean)} "
            f"(95% interval [{_fmt(row.lower_95)}, {_fmt(row.upper_95)}])"
        ),
    )

    n_groups = int(calibration["groups"])
    coverage = float(calibration["coverage_95"])
    outside = groups.loc[~groups["inside_95"], "group"].tolist()
    message = f"{n_groups - len(outside)}/{n_groups} groups ({coverage:.0%}) inside their 95% predictive intervals" + (
        f"; outside: {', '.join(map(str, outside[:10]))}" if outside else ""
    )
    result.grade(coverage, message, t["coverage_95_fail"], t["coverage_95_warn"], fmt=".0%")

    pit_p = float(calibration["pit_ks_pvalue"])
    middle = float(groups["pit"].between(0.25, 0.75).mean()) if len(groups) else float("nan")
    shape = (
        "crowding the middle: predictive wider than the data"
        if middle > 0.5
        else "crowding the ends: predictive too narrow or shifted"
    )
    pit = (
        f"randomised PIT values not uniform: KS D = {calibration['pit_ks_statistic']:.3f}, p = {pit_p:.4f} over "
        f"{n_groups} groups, {middle:.0%} of them in [0.25, 0.75] (uniform: 50%; {shape})"
    )
    result.grade(pit_p, pit, t["pit_pvalue_fail"], t["pit_pvalue_warn"])

    if result.status == "PASS":
        smallest = judged.loc[judged["p_value"].idxmin()] if len(judged) else None
        lowest = (
            f"smallest p = {smallest['p_value']:.3f} ({smallest['statistic']})"
            if smallest is not None
            else "no statistic judged"
        )
        result.note(
            f"{len(judged)} statistics judged over {draws} replicated datasets, {lowest} (none below the "
            f"Holm-adjusted WARN level {t['p_value_warn']:.3g}); {message}; PIT KS p = {pit_p:.3f}"
        )
    return result
