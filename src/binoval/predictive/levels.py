"""The FAIL levels of the predictive checks and the draws they need: light enough for the config check.

``verdict.false_reject_rate`` is shared by the two predictive stages (``PREDICTIVE_STAGES``,
Bonferroni over the two: each spends half as the family-wise level of its judged
statistics, ``fail_level``), unless ``thresholds.<stage>.p_value_fail`` is set.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from binoval.defaults import JUDGED, THRESHOLDS, VERDICT
from binoval.predictive.statistics import JUDGED_STATISTICS, STATISTIC_NAMES

#: The stages that share ``verdict.false_reject_rate`` (Bonferroni over the two: each spends half).
PREDICTIVE_STAGES = ("prior_predictive", "ppc")

#: The prior predictive draws must resolve adjusted p-values this many times smaller than ``p_value_fail``, so
#: that data beyond all but a few draws can still FAIL.
RESOLUTION = 4


def fail_level(false_reject_rate: float) -> float:
    """Each predictive stage's family-wise FAIL level: its share of ``verdict.false_reject_rate``."""
    return float(false_reject_rate) / len(PREDICTIVE_STAGES)


def _resolved(defaults: Mapping) -> dict:
    """A stage's threshold defaults with ``statistics: JUDGED`` spelled out as the registry's judged names."""
    statistics = defaults["statistics"]
    return {**defaults, "statistics": list(JUDGED_STATISTICS) if statistics == JUDGED else list(statistics)}


DEFAULT_PRIOR_PREDICTIVE_THRESHOLDS = _resolved(THRESHOLDS["prior_predictive"])
DEFAULT_PPC_THRESHOLDS = _resolved(THRESHOLDS["ppc"])


def merged(defaults: Mapping, thresholds: Mapping | None) -> dict:
    """A stage's thresholds over its defaults; an unset ``p_value_fail`` is the default ``fail_level``."""
    out = _resolved({**defaults, **{k: v for k, v in (thresholds or {}).items() if v is not None}})
    if out.get("p_value_fail") is None:
        out["p_value_fail"] = fail_level(VERDICT["false_reject_rate"])
    unknown = [s for s in out["statistics"] if s not in STATISTIC_NAMES]
    if unknown:
        raise ValueError(f"unknown statistics {unknown} in thresholds; known: {', '.join(STATISTIC_NAMES)}")
    return out


def with_fail_levels(thresholds: Mapping | None, false_reject_rate: float) -> dict:
    """``thresholds`` (all stages) with each predictive stage's unset ``p_value_fail`` filled by ``fail_level``."""
    out = {stage: dict(values or {}) for stage, values in (thresholds or {}).items()}
    for stage in PREDICTIVE_STAGES:
        if out.setdefault(stage, {}).get("p_value_fail") is None:
            out[stage]["p_value_fail"] = fail_level(false_reject_rate)
    return out


def merged_prior_predictive(thresholds: Mapping | None) -> dict:
    """``thresholds.prior_predictive`` over its defaults."""
    return merged(DEFAULT_PRIOR_PREDICTIVE_THRESHOLDS, thresholds)


def minimum_prior_draws(thresholds: Mapping | None = None) -> int:
    """The fewest prior predictive draws that resolve the FAIL level of ``thresholds.prior_predictive`` (with
    ``p_value_fail`` filled, ``with_fail_levels``): the smallest min-p adjusted p-value, ``1 / (1 + S)``, at most
    ``p_value_fail / RESOLUTION``."""
    t = merged_prior_predictive(thresholds)
    return math.ceil(RESOLUTION / t["p_value_fail"]) - 1
