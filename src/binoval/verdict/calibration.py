"""How often the verdict is wrong: the predictive checks and the fit stage run on datasets of known origin.

A model that generated the data should be ACCEPTED; the share of such datasets on which a
stage FAILs it is the verdict's false-reject rate. A model that did not generate them
should be REJECTED; the share on which it is, is the verdict's power against that
misspecification. ``CheckRunner`` compiles a model once and, for each simulated
dataset (same groups and trials as a template), runs what the workflow runs:

* the prior predictive check against one set of prior predictive draws (as rule
  ``prior_predictive`` draws them, ``prior_predictive.draws`` of them);
* the fit, extended while short of the convergence targets (``binoval.fit.stage``),
  and its status (``binoval.fit.check``);
* the posterior predictive check of that fit (``binoval.predictive.posterior``);

and judges each with the stage's own status function, thresholds as the verdict
resolves them (``binoval.predictive.levels.with_fail_levels``). A dataset is
REJECTED when any of the three stages FAILs; the prior and posterior predictive
checks alone are what ``verdict.false_reject_rate`` bounds.

Datasets of known origin (``prior_datasets``, ``posterior_datasets``): from the
model's own prior predictive, and from its posterior predictive given a bundled
dataset (each dataset from one posterior draw: the groups' own rates, as the
posterior predictive check replicates them). Every stream is seeded from (seed,
"calibration", model id, index).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from binoval import seeds
from binoval.defaults import PRIOR_PREDICTIVE, THRESHOLDS, VERDICT
from binoval.fit.sampler import CompiledSampler, SamplerSettings
from binoval.models import GroupedCounts, ModelSpec, build_model, family_of
from binoval.predictive.levels import with_fail_levels
from binoval.predictive.posterior import posterior_tree
from binoval.verdict.status import FAIL

#: The stages a calibration run judges, in the order of the verdict.
CALIBRATED_STAGES = ("prior_predictive", "fit", "ppc")
#: Of those, the ones ``verdict.false_reject_rate`` bounds.
PREDICTIVE = ("prior_predictive", "ppc")


@dataclass
class CheckRunner:
    """One model compiled once, judged by the prior predictive, fit and posterior predictive stages on any dataset
    with the groups and trials of ``template``."""

    spec: ModelSpec
    template: GroupedCounts
    settings: SamplerSettings = field(default_factory=SamplerSettings)
    seed: int = 0
    prior_draws: int = PRIOR_PREDICTIVE["draws"]
    thresholds: Mapping | None = None
    false_reject_rate: float = VERDICT["false_reject_rate"]
    extension: Mapping | None = None

    def __post_init__(self):
        from binoval.predictive.prior import prior_predictive_draws

        self.model = build_model(self.spec, self.template)
        self.sampler = CompiledSampler(self.model, self.settings, threads=1)
        self.resolved = with_fail_levels(self.thresholds or THRESHOLDS, self.false_reject_rate)
        self.prior_r = prior_predictive_draws(self.spec, self.template, self.prior_draws, self.seed)

    def judge(self, r: np.ndarray, index: int) -> dict:
        """Every calibrated stage's status on the dataset with successes ``r``; seeded from (seed, index)."""
        from binoval.fit.check import fit_status
        from binoval.fit.diagnostics import sampler_diagnostics
        from binoval.fit.stage import fit_until_converged
        from binoval.predictive.check import ppc_status, prior_predictive_status
        from binoval.predictive.posterior import posterior_predictive_check
        from binoval.predictive.prior import summarise_prior_predictive

        data = self.template.with_successes(np.asarray(r, dtype="int64"))
        prior = summarise_prior_predictive(self.spec.model_id, data, self.prior_r)
        prior_tables = {"prior_predictive": prior.summary, "draws": prior.draws}
        statuses = {"prior_predictive": prior_predictive_status(prior_tables, self.resolved["prior_predictive"])}
        fit_seed = seeds.int_seed(self.seed, "calibration", self.spec.model_id, index)
        fit = fit_until_converged(self.sampler, self.spec, data, fit_seed, self.extension, self.resolved.get("fit"))
        s = fit.settings
        sampler = sampler_diagnostics(
            fit.result.idata,
            self.spec.model_id,
            s.tune,
            s.max_treedepth,
            fit.result.wall_time_s,
            s.backend,
            fit.extensions,
            fit.extended_because,
        )
        statuses["fit"] = fit_status({"parameters": fit.convergence, "sampler": sampler}, self.resolved.get("fit"))
        idata = posterior_tree(fit.result.idata["posterior"].to_dataset(), self.spec, data)
        ppc = posterior_predictive_check(self.spec.model_id, idata, fit_seed)
        keyed = {"ppc": ppc.statistics, "ppc_groups": ppc.groups, "ppc_calibration": ppc.calibration}
        statuses["ppc"] = ppc_status(keyed, self.resolved["ppc"])
        row = {f"{stage}_status": result.status for stage, result in statuses.items()}
        failing = [
            f"{stage}: {reason}"
            for stage, result in statuses.items()
            for reason in result.reasons
            if reason.startswith(FAIL)
        ]
        return {
            **row,
            "predictive_reject": any(statuses[stage].status == FAIL for stage in PREDICTIVE),
            "reject": bool(failing),
            "extensions": fit.extensions,
            "reasons": " | ".join(failing),
        }


def prior_datasets(spec: ModelSpec, template: GroupedCounts, count: int, seed: int) -> np.ndarray:
    """``count`` datasets (count, groups) from the model's prior predictive, on ``template``'s groups and trials."""
    from binoval.predictive.prior import prior_predictive_draws

    return prior_predictive_draws(spec, template, count, seeds.int_seed(seed, "calibration", spec.model_id, 1))


def posterior_datasets(
    spec: ModelSpec, data: GroupedCounts, count: int, seed: int, settings: SamplerSettings | None = None
) -> np.ndarray:
    """``count`` datasets (count, groups) from the model's posterior predictive given ``data``: each from one
    posterior draw, the groups' counts from their own rates in it (``Family.replicate_groups``)."""
    sampler = CompiledSampler(build_model(spec, data), settings or SamplerSettings(), threads=1)
    fit = sampler.fit(data, seeds.int_seed(seed, "calibration", spec.model_id, 2))
    idata = posterior_tree(fit.idata["posterior"].to_dataset(), spec, data)
    rng = seeds.rng(seed, "calibration", spec.model_id, 3)
    replicated = family_of(spec).replicate_groups(idata, data, rng)
    return replicated[rng.choice(len(replicated), size=count, replace=False)]


def rejection_rates(rows: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per ``by`` group: datasets, the share each stage FAILed, the predictive checks' and the overall rejection
    rate with a 95% Wilson interval of the latter."""
    out = []
    for key, frame in rows.groupby(by, sort=False):
        n = len(frame)
        rejected = int(frame["reject"].sum())
        low, high = wilson_interval(rejected, n)
        out.append(
            {
                **dict(zip(by, key if isinstance(key, tuple) else (key,))),
                "datasets": n,
                **{f"{stage}_fail": float((frame[f"{stage}_status"] == FAIL).mean()) for stage in CALIBRATED_STAGES},
                "predictive_reject": float(frame["predictive_reject"].mean()),
                "reject": rejected / n,
                "reject_low": low,
                "reject_high": high,
                "extended": float((frame["extensions"] > 0).mean()),
            }
        )
    return pd.DataFrame(out)


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a binomial proportion (sensible at 0 and at small counts)."""
    if trials == 0:
        return float("nan"), float("nan")
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def prior_self_rejection(draws: pd.DataFrame, thresholds: Mapping | None = None) -> dict:
    """How often the prior predictive check FAILs data drawn from the model's own prior: each of the stage's ``S``
    draws (``PriorPredictiveDraws``) judged against the others by the stage's rule (min-p over the judged
    statistics at ``p_value_fail``; every draw FAILs when the share of degenerate draws is above
    ``degenerate_fail``, a property of the prior). No fit is needed, so every run measures it. The min-p rule
    is calibrated on these draws, so the rate sits at or below its level by construction; a rate above it would
    mean a broken check.

    Returns ``datasets``, ``rejected``, ``rate`` and its 95% Wilson interval ``low``, ``high``, and ``level``.
    """
    from binoval.predictive.levels import merged_prior_predictive
    from binoval.predictive.primitives import min_p_null

    t = merged_prior_predictive(thresholds)
    size = len(draws)
    if float(draws["degenerate"].mean()) > t["degenerate_fail"]:
        rejected = size
    elif t["statistics"]:
        null = min_p_null(draws, t["statistics"])
        global_p = np.searchsorted(np.sort(null), null, side="right") / size
        rejected = int(np.count_nonzero(global_p < t["p_value_fail"]))
    else:
        rejected = 0
    low, high = wilson_interval(rejected, size)
    return {
        "datasets": size,
        "rejected": rejected,
        "rate": rejected / size if size else float("nan"),
        "low": low,
        "high": high,
        "level": t["p_value_fail"],
    }


def sbc_predictive_rejection(predictive: pd.DataFrame, prior_draws: pd.DataFrame, thresholds: Mapping) -> dict:
    """How often the prior and posterior predictive checks FAIL datasets from the model's own prior, judged on
    the SBC fits (``SbcPredictive``): each simulated dataset against the prior predictive stage's draws and against
    its own fit's replications, by the stages' rules (min-p on the prior's draws, resp. Holm, over the judged
    statistics at ``p_value_fail``; the PPC's coverage and PIT rules; every dataset when the prior's degenerate
    share is above ``degenerate_fail``).

    ``thresholds``: all stages, with the FAIL levels filled (``with_fail_levels``). Returns ``simulations`` and,
    for ``prior_predictive``, ``ppc`` and ``either``, the number of datasets FAILed; ``rate`` with its 95% Wilson
    interval ``low``, ``high`` is that of ``either``.
    """
    from binoval.predictive.levels import DEFAULT_PPC_THRESHOLDS, merged, merged_prior_predictive
    from binoval.predictive.primitives import min_p_adjusted, min_p_null, tail_p_values
    from binoval.predictive.statistics import STATISTICS

    prior_t = merged_prior_predictive(thresholds.get("prior_predictive"))
    ppc_t = merged(DEFAULT_PPC_THRESHOLDS, thresholds.get("ppc"))
    wide = predictive.pivot(index="simulation", columns="statistic", values=["observed", "p_value"])
    per_simulation = predictive.groupby("simulation")[["coverage_95", "pit_ks_pvalue"]].first().loc[wide.index]
    size = len(wide)
    if float(prior_draws["degenerate"].mean()) > prior_t["degenerate_fail"]:
        prior_fail = np.ones(size, dtype=bool)
    else:
        names = prior_t["statistics"]
        if names:
            p = np.column_stack(
                [tail_p_values(prior_draws[n], wide[("observed", n)], STATISTICS[n].alternative) for n in names]
            )
            adjusted = min_p_adjusted(p.min(axis=1), min_p_null(prior_draws, names))
            prior_fail = adjusted < prior_t["p_value_fail"]
        else:
            prior_fail = np.zeros(size, dtype=bool)
    names = ppc_t["statistics"]
    ppc_p = wide["p_value"][names].to_numpy(dtype=float)
    ppc_fail = (len(names) * ppc_p.min(axis=1) < ppc_t["p_value_fail"]) if names else np.zeros(size, dtype=bool)
    ppc_fail |= per_simulation["coverage_95"].to_numpy(dtype=float) < ppc_t["coverage_95_fail"]
    ppc_fail |= np.nan_to_num(per_simulation["pit_ks_pvalue"].to_numpy(dtype=float), nan=1.0) < ppc_t["pit_pvalue_fail"]
    either = prior_fail | ppc_fail
    rejected = int(either.sum())
    low, high = wilson_interval(rejected, size)
    return {
        "simulations": size,
        "prior_predictive": int(prior_fail.sum()),
        "ppc": int(ppc_fail.sum()),
        "either": rejected,
        "rate": rejected / size if size else float("nan"),
        "low": low,
        "high": high,
    }
