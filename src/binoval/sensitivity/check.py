"""Prior sensitivity stage: is the posterior driven by the prior rather than by the data?

Needs one table, ``sensitivity`` (``binoval.sensitivity.powerscale.sensitivity_table``: one row per quantity
with its prior and likelihood power-scaling sensitivity, CJS-based, and the Pareto k of each component's
importance weights). The diagnosis is recomputed here from the ``prior`` and ``likelihood`` columns with
``threshold``, so changing the threshold needs no rerun of the stage.

Per quantity (in table order):
- prior-data conflict: prior sensitivity >= ``threshold`` and likelihood sensitivity >= ``threshold`` (the
  prior and the data pull the posterior different ways); reported with severity ``conflict``;
- the prior dominates: prior sensitivity >= ``threshold``, likelihood sensitivity below it (an informative
  prior and data that say little about the quantity); reported with severity ``prior_dominates``.
A severity is ``fail`` (FAIL), ``warn`` (WARN) or ``note`` (the finding is listed but the status stays PASS).

Besides:
- WARN when the Pareto k of a component's power-scaling weights exceeds ``PARETO_K_MAX`` (0.7): the
  importance-sampling estimate of that component's sensitivities is unreliable, so a quantity shown as
  insensitive may not be. The weights are the same for every quantity, so this is one reason per component,
  whatever the severities: an unreliable check is worth a look even when it found nothing;
- WARN when a sensitivity is not a finite number (it could not be computed);
- FAIL when the table is empty (the fit failed: no posterior draws to reweight).
When nothing is found the PASS reason names the quantity most sensitive to the prior, with its numbers.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from binoval.defaults import THRESHOLDS, with_defaults
from binoval.schemas import SensitivityTable
from binoval.sensitivity.powerscale import CONFLICT, PRIOR_DOMINATES, TABLE_COLUMNS, diagnose
from binoval.verdict.status import StageResult

#: Columns ``sensitivity_status`` reads from the ``sensitivity`` table (the full table: ``TABLE_COLUMNS``).
COLUMNS = TABLE_COLUMNS
#: schema of each table sensitivity_status reads (validated when the verdict reads them)
TABLE_SCHEMAS = {"sensitivity": SensitivityTable}
#: What a severity does to the status.
SEVERITIES = ("fail", "warn", "note")
#: Pareto k of the importance weights above which the sensitivity estimates are unreliable.
PARETO_K_MAX = 0.7


def checked_thresholds(thresholds: Mapping | None) -> dict:
    """``thresholds`` over their defaults (``binoval.defaults.THRESHOLDS["sensitivity"]``), checked: a
    threshold in (0, 1] and known severities."""
    t = with_defaults(THRESHOLDS["sensitivity"], thresholds)
    value = t["threshold"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ValueError(f"thresholds.sensitivity.threshold must be a number in (0, 1], got {value!r}")
    for key in ("conflict", "prior_dominates"):
        if t[key] not in SEVERITIES:
            raise ValueError(
                f"thresholds.sensitivity.{key} must be one of {', '.join(repr(s) for s in SEVERITIES)}, got {t[key]!r}"
            )
    return t


def _report(result: StageResult, severity: str, reason: str) -> None:
    {"fail": result.fail, "warn": result.warn, "note": result.note}[severity](reason)


def conflict_reason(row, threshold: float) -> str:
    return (
        f"prior-data conflict on {row.quantity}: power-scaling the prior moves its posterior by {row.prior:.3f} (CJS) "
        f"and the likelihood by {row.likelihood:.3f}, both at or above {threshold:g}; the prior pulls against the data"
    )


def dominates_reason(row, threshold: float) -> str:
    return (
        f"the prior dominates {row.quantity}: power-scaling the prior moves its posterior by {row.prior:.3f} (CJS), "
        f"the likelihood by {row.likelihood:.3f}, below {threshold:g}: the data, as the model links them to it, "
        "say little about it"
    )


def _pareto_k_findings(table: pd.DataFrame, result: StageResult) -> float:
    """WARN per component whose weights have Pareto k above ``PARETO_K_MAX``; the largest finite k of all."""
    worst = -np.inf
    for component in ("prior", "likelihood"):
        k = table[f"pareto_k_{component}"].to_numpy(dtype=float)
        k = k[np.isfinite(k)]
        if not len(k):
            continue
        worst = max(worst, float(k.max()))
        if k.max() > PARETO_K_MAX:
            result.warn(
                f"power-scaling the {component} gives importance weights with Pareto k {k.max():.2f} > {PARETO_K_MAX}: "
                f"every {component} sensitivity is unreliable (refit with the {component} scaled, or more draws)"
            )
    return worst


def sensitivity_status(tables: Mapping[str, pd.DataFrame], thresholds: Mapping | None = None) -> StageResult:
    """The sensitivity stage's status from table ``sensitivity`` (see the module docstring)."""
    t = checked_thresholds(thresholds)
    table = tables["sensitivity"]
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"sensitivity table lacks columns {', '.join(missing)}")
    result = StageResult()
    if table.empty:
        result.fail("no power-scaling sensitivity values: the fit has no posterior draws")
        return result
    threshold = float(t["threshold"])
    finite = np.isfinite(table["prior"].to_numpy(dtype=float)) & np.isfinite(table["likelihood"].to_numpy(dtype=float))
    for row in table[~finite].itertuples():
        result.warn(
            f"the sensitivity of {row.quantity} could not be computed (prior {row.prior}, likelihood {row.likelihood})"
        )
    for row in table[finite].itertuples():
        diagnosis = diagnose(row.prior, row.likelihood, threshold)
        if diagnosis == CONFLICT:
            _report(result, t["conflict"], conflict_reason(row, threshold))
        elif diagnosis == PRIOR_DOMINATES:
            _report(result, t["prior_dominates"], dominates_reason(row, threshold))
    worst_k = _pareto_k_findings(table, result)
    if result.status == "PASS" and finite.any():
        top = table[finite].loc[table.loc[finite, "prior"].astype(float).idxmax()]
        k_text = f"; Pareto k of the weights at most {worst_k:.2f}" if np.isfinite(worst_k) else ""
        result.note(
            f"largest prior sensitivity {top['prior']:.3f} ({top['quantity']}, likelihood {top['likelihood']:.3f}) "
            f"among {int(finite.sum())} quantities (threshold {threshold:g}){k_text}"
        )
    return result
