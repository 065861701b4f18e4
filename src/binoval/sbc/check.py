"""SBC stages: does the model recover the parameters it simulates (prior SBC), and given data like the run's
(posterior SBC, ``binoval.sbc.posterior``)? Both are judged by the rules below, each with its own thresholds
(``thresholds.sbc``, ``thresholds.posterior_sbc``) and tables.

Needs two tables (see ``workflow/rules/sbc.smk``, ``sbc_tables``):
``summary`` (``SbcSummary``: one row per test quantity) and ``simulations``
(``SbcSimulations``: one row per simulation and quantity).

FAIL when
- some quantity's ranks are not uniform: a Holm-adjusted p-value (over every
  quantity and both tests, ECDF bands and chi-square) is below ``alpha_fail``;
- some quantity's central-interval coverage is clearly off: its Jeffreys
  interval at level 1 - alpha_fail / (3 x quantities) (Bonferroni over
  quantities and the 50/80/95% levels) lies entirely more than
  ``coverage_tolerance`` away from the nominal level;
- more than ``failure_rate_max`` of the fits raised;
- more than ``nonconverged_rate_max`` of the successful fits did not converge
  (R-hat above ``r_hat_max``, bulk ESS below ``ess_min``, more than
  ``divergences_max`` divergent transitions, or E-BFMI below ``ebfmi_min``).
WARN when a Holm-adjusted p-value is below ``alpha_warn``, when any fit failed,
when more than ``nonconverged_rate_warn`` of the fits did not converge, and when
fewer than ``min_simulations`` fits succeeded (too few for the tests to see much).
Ranks of non-converged fits are kept in the tests (dropping them would select
simulations by their data); they are counted here instead.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from binoval.defaults import THRESHOLDS, with_defaults
from binoval.sbc.summary import jeffreys_interval
from binoval.schemas import SbcSimulations, SbcSummary
from binoval.verdict.status import StageResult

#: schema of each table sbc_status reads (validated when the verdict reads them)
TABLE_SCHEMAS = {"summary": SbcSummary, "simulations": SbcSimulations}  # both stages

LEVELS = (50, 80, 95)


def nonconverged(fits: pd.DataFrame, t: Mapping[str, float]) -> pd.Series:
    """Which successful fits (one row per simulation) miss the convergence thresholds."""
    return (
        (fits["rhat_max"] > t["r_hat_max"])
        | (fits["ess_min"] < t["ess_min"])
        | (fits["divergences"] > t["divergences_max"])
        | (fits["ebfmi_min"] < t["ebfmi_min"])
    )


def sbc_status(tables: Mapping[str, pd.DataFrame], thresholds: Mapping[str, float] | None = None) -> StageResult:
    """The SBC stage's status from tables ``summary`` and ``simulations`` (see module docstring)."""
    return calibration_status(tables, with_defaults(THRESHOLDS["sbc"], thresholds), "SBC")


def posterior_sbc_status(
    tables: Mapping[str, pd.DataFrame], thresholds: Mapping[str, float] | None = None
) -> StageResult:
    """The posterior SBC stage's status (``binoval.sbc.posterior``): prior SBC's rules, on its own tables
    ``summary`` and ``simulations`` and ``thresholds.posterior_sbc``."""
    return calibration_status(tables, with_defaults(THRESHOLDS["posterior_sbc"], thresholds), "posterior SBC")


def calibration_status(tables: Mapping[str, pd.DataFrame], t: Mapping[str, float], name: str) -> StageResult:
    """The rules of the module docstring applied to one SBC run; ``name`` (SBC, posterior SBC) says which."""
    summary, simulations = tables["summary"], tables["simulations"]
    result = StageResult()
    fits = simulations.drop_duplicates("simulation")
    total = len(fits)
    if total == 0:
        result.fail(f"no {name} simulations were run")
        return result
    ok = fits[fits["status"] == "ok"]
    failed = total - len(ok)
    if failed:
        first = fits.loc[fits["status"] == "failed", "error"].iloc[0]
        message = f"{failed} of {total} {name} fits failed ({failed / total:.1%}); first error: {first}"
        if failed / total > t["failure_rate_max"]:
            result.fail(f"{message} > {t['failure_rate_max']:.0%} allowed")
        else:
            result.warn(message)
    if len(ok) == 0:
        result.fail(f"no {name} fit succeeded, so calibration cannot be judged")
        return result

    bad = nonconverged(ok, t)
    rate = float(bad.mean())
    if bad.any():
        detail = (
            f"{int(bad.sum())} of {len(ok)} {name} fits did not converge ({rate:.1%}: R-hat > {t['r_hat_max']}, "
            f"ESS < {t['ess_min']}, divergences > {t['divergences_max']} or E-BFMI < {t['ebfmi_min']})"
        )
        result.grade(rate, detail, t["nonconverged_rate_max"], t["nonconverged_rate_warn"], worse="above", fmt=".0%")

    if len(ok) < t["min_simulations"]:
        result.warn(
            f"only {len(ok)} successful {name} simulations (< {t['min_simulations']}); the tests see only gross miscalibration"
        )

    worst_p = np.fmin(summary["ecdf_p_holm"].to_numpy(dtype=float), summary["chi2_p_holm"].to_numpy(dtype=float))
    for row, p in sorted(zip(summary.itertuples(), worst_p), key=lambda item: item[1]):
        if not np.isfinite(p):
            continue
        text = (
            f"ranks of {row.quantity} are not uniform (ECDF p = {row.ecdf_p:.2g}, chi-square p = {row.chi2_p:.2g}; "
            f"z-score mean {row.z_mean:+.2f}, sd {row.z_sd:.2f}): Holm-adjusted p = {p:.2g}"
        )
        result.grade(p, text, t["alpha_fail"], t["alpha_warn"])

    tol = t["coverage_tolerance"]
    checks = len(summary) * len(LEVELS)
    confidence = 1 - t["alpha_fail"] / max(checks, 1)  # Bonferroni over quantities x levels
    for row in summary.itertuples():
        for level in LEVELS:
            value = getattr(row, f"coverage_{level}")
            if not np.isfinite(value) or row.ranked == 0:
                continue
            low, high = jeffreys_interval(int(round(value * row.ranked)), int(row.ranked), confidence)
            nominal = level / 100
            if high < nominal - tol or low > nominal + tol:
                result.fail(
                    f"{level}% intervals of {row.quantity} cover the truth in {value:.0%} of {row.ranked} fits "
                    f"({confidence:.2%} interval {low:.0%}-{high:.0%}), more than {tol:.0%} from {level}%"
                )

    if result.status == "PASS":
        p_min = np.nanmin(worst_p) if np.isfinite(worst_p).any() else np.nan
        cov = summary["coverage_95"]
        result.note(
            f"{len(ok)} of {total} {name} fits ok, {int(bad.sum())} not converged; ranks of {len(summary)} "
            f"quantities uniform (smallest Holm-adjusted p = {p_min:.2g}); 95% coverage "
            f"{cov.min():.0%}-{cov.max():.0%}"
        )
    return result
