"""Prior predictive and posterior predictive stages: statuses from their tables.

Prior predictive (``thresholds.prior_predictive``): for each judged statistic
the observed value's mid-rank quantile among the prior predictive draws is
compared with two tail levels. WARN when it lies outside the central
``1 - 2 quantile_warn`` interval (default: outside the central 99%), FAIL when
it lies beyond ``quantile_fail`` (default 0.0005: with 1000 draws, essentially
no draw reaches the observed value), i.e. the prior cannot produce data like
these. WARN / FAIL when the share of degenerate datasets (all groups at 0 or
all at n) exceeds ``degenerate_warn`` / ``degenerate_fail``: such a prior puts
its mass on rates of 0 or 1.

Posterior predictive (``thresholds.ppc``): FAIL when a judged statistic's
two-sided Bayesian p-value is below ``p_value_fail``, WARN below
``p_value_warn``; FAIL / WARN when the share of groups inside their 95%
predictive intervals is below ``coverage_95_fail`` / ``coverage_95_warn``;
FAIL / WARN when the KS test of the randomised PIT values gives a p-value
below ``pit_pvalue_fail`` / ``pit_pvalue_warn``; FAIL when the fit failed
(no posterior predictive draws).

The PIT check only warns by default (``pit_pvalue_fail: 0``): these are
in-sample PIT values, and when each group has its own well-identified rate
(weak pooling, large n) the data are used twice, so even a correct model's
PIT values crowd the middle (e.g. ``unpooled`` on the 3-cluster data: KS
p = 3e-5 with every group inside its 50% interval). The reason says which
way the PIT values deviate: crowding the middle (predictive wider than the
data) or the ends (predictive too narrow or shifted, which the coverage and
statistic checks also catch). ``statistics`` lists the judged statistics
(all of ``binoval.predictive.statistics.STATISTIC_NAMES`` by default); the others are
still reported in the tables.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from binoval.defaults import ALL_STATISTICS, THRESHOLDS
from binoval.predictive.statistics import STATISTIC_NAMES
from binoval.schemas import PPCCalibration, PPCGroups, PPCStatistics, PriorPredictiveSummary
from binoval.verdict.status import StageResult

#: Schema of each table key the status functions read (use with ``schemas.read_table``).
TABLE_SCHEMAS = {
    "prior_predictive": PriorPredictiveSummary,
    "ppc": PPCStatistics,
    "ppc_groups": PPCGroups,
    "ppc_calibration": PPCCalibration,
}


def _resolved(defaults: Mapping) -> dict:
    """A stage's threshold defaults with ``statistics: ALL_STATISTICS`` spelled out as the registry's names."""
    statistics = defaults["statistics"]
    return {**defaults, "statistics": list(STATISTIC_NAMES) if statistics == ALL_STATISTICS else list(statistics)}


DEFAULT_PRIOR_PREDICTIVE_THRESHOLDS = _resolved(THRESHOLDS["prior_predictive"])
DEFAULT_PPC_THRESHOLDS = _resolved(THRESHOLDS["ppc"])


def _merged(defaults: Mapping, thresholds: Mapping | None) -> dict:
    merged = {**defaults, **{k: v for k, v in (thresholds or {}).items() if v is not None}}
    unknown = [s for s in merged["statistics"] if s not in STATISTIC_NAMES]
    if unknown:
        raise ValueError(f"unknown statistics {unknown} in thresholds; known: {', '.join(STATISTIC_NAMES)}")
    return merged


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def prior_predictive_status(tables: Mapping[str, pd.DataFrame], thresholds: Mapping | None = None) -> StageResult:
    """Status of the prior predictive stage.

    Table keys: ``prior_predictive`` (the ``PriorPredictiveSummary`` table,
    one row per statistic).
    """
    t = _merged(DEFAULT_PRIOR_PREDICTIVE_THRESHOLDS, thresholds)
    summary = tables["prior_predictive"]
    result = StageResult()
    if summary.empty:
        result.fail("the prior predictive table is empty")
        return result
    draws = int(summary["draws"].iloc[0])
    judged = summary[summary["statistic"].isin(t["statistics"])]
    for row in judged.itertuples():
        tail = min(row.quantile, 1.0 - row.quantile)
        where = (
            f"observed {row.statistic} = {_fmt(row.observed)} is at prior predictive quantile {row.quantile:.4f} "
            f"(central 99% interval [{_fmt(row.lower_99)}, {_fmt(row.upper_99)}], {draws} draws)"
        )
        if tail < t["quantile_fail"]:
            result.fail(f"{where}: the prior almost never produces such data")
        elif tail < t["quantile_warn"]:
            result.warn(f"{where}: in the outer {2 * t['quantile_warn']:.1%} of the prior predictive (mid-rank)")
    share = float(summary["degenerate_share"].iloc[0])
    message = f"{share:.1%} of prior predictive datasets are degenerate (every group at 0 or every group at n)"
    result.grade(share, message, t["degenerate_fail"], t["degenerate_warn"], worse="above", fmt=".0%")
    if result.status == "PASS":
        inside = int(judged["inside_99"].sum())
        result.note(
            f"all {len(judged)} judged statistics inside the central {1 - 2 * t['quantile_warn']:.1%} of {draws} prior predictive "
            f"draws ({inside} inside the 99% interval); {share:.1%} degenerate datasets"
        )
    return result


def ppc_status(tables: Mapping[str, pd.DataFrame], thresholds: Mapping | None = None) -> StageResult:
    """Status of the posterior predictive stage.

    Table keys: ``ppc`` (``PPCStatistics``, one row per statistic),
    ``ppc_groups`` (``PPCGroups``, one row per group) and ``ppc_calibration``
    (``PPCCalibration``, one row: coverage, PIT test, fit error).
    """
    t = _merged(DEFAULT_PPC_THRESHOLDS, thresholds)
    statistics = tables["ppc"]
    groups = tables["ppc_groups"]
    calibration = tables["ppc_calibration"].iloc[0]
    result = StageResult()
    if calibration["fit_error"]:
        result.fail(f"no posterior predictive draws, the fit failed: {calibration['fit_error']}")
        return result

    draws = int(calibration["draws"])
    judged = statistics[statistics["statistic"].isin(t["statistics"])]
    for row in judged.itertuples():
        where = (
            f"{row.statistic}: observed {_fmt(row.observed)}, predicted mean {_fmt(row.mean)} "
            f"(95% interval [{_fmt(row.lower_95)}, {_fmt(row.upper_95)}]), two-sided p = {row.p_value:.3f}"
        )
        result.grade(row.p_value, where, t["p_value_fail"], t["p_value_warn"])

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
        result.note(f"{len(judged)} statistics judged over {draws} draws, {lowest}; {message}; PIT KS p = {pit_p:.3f}")
    return result
