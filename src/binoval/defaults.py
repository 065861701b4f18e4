"""Every default of binoval, defined once.

``DEFAULTS`` has the shape of ``config/config.yaml``, the default run; the named
sections below are its parts, and every module takes its defaults from them
(merge a section with the config into a new dict; never mutate one in place).
``config/config.yaml``, the ``default:`` values of ``workflow/schemas/config.schema.yaml``
and the tables of ``config/README.md`` are checked against this module by
``tests/test_defaults.py``.

One list lives elsewhere: the statistic names. Their home is the registry
``binoval.predictive.statistics.STATISTICS``; ``thresholds.prior_predictive.statistics``
and ``thresholds.ppc.statistics`` default to the ones it marks as judged (see ``JUDGED``).

This module imports nothing heavy (no numpy, no PyMC): the Snakefile and the
config checks read it while planning.
"""

from __future__ import annotations

#: Marks a threshold default that is "every statistic the registry marks as judged", filled in by
#: ``binoval.predictive.check``.
JUDGED = "judged"

#: NUTS settings of the observed fit (and of exact LOO refits): 4 chains x 1000 kept draws after 1000 warm-up
#: draws; target acceptance 0.95 (small steps, few divergences); at most 2**10 leapfrog steps per draw; the mass
#: matrix nutpie adapts: ``auto`` takes the family's (``Family.mass_matrix``), or ``diag`` / ``low_rank``.
SAMPLER = {
    "backend": "nutpie",
    "chains": 4,
    "draws": 1000,
    "tune": 1000,
    "target_accept": 0.95,
    "max_treedepth": 10,
    "mass_matrix": "auto",
}

#: Chains, draws and tuning of an SBC fit before ``sbc.sampler`` overrides: 2 x 500 draws give about 100-500
#: nearly independent draws, enough for ranks; the other sampler keys come from ``SAMPLER_INHERITED_BY_SBC``.
SBC_SAMPLER = {"chains": 2, "draws": 500, "tune": 300}

#: Keys of the top-level ``sampler`` that SBC fits inherit (chains, draws and tune come from ``SBC_SAMPLER``).
SAMPLER_INHERITED_BY_SBC = ("backend", "target_accept", "max_treedepth", "mass_matrix")

#: The models of the default run (model id -> spec); bb_mixture expands to one model per K.
MODELS = {
    "pooled": {"family": "pooled"},
    "unpooled": {"family": "unpooled"},
    "hier_logit": {"family": "hier_logit", "parameterization": "noncentered"},
    "hier_logit_centered": {"family": "hier_logit", "parameterization": "centered"},
    "beta_binomial": {"family": "beta_binomial"},
    "bb_mixture": {"family": "bb_mixture", "K": [1, 2, 3, 4]},
}

#: Prior predictive: datasets drawn from each model's prior. They are also the reference of the min-p adjustment
#: (``binoval.predictive.check``): 4000 draws put 100 of them in the 2.5% tail that decides FAIL; the config check
#: requires at least ``binoval.predictive.levels.minimum_prior_draws`` (159 at the defaults).
PRIOR_PREDICTIVE = {"draws": 4000}

#: The fit stage: a fit short of the R-hat or ESS targets of ``thresholds.fit`` is run again with ``extend_factor``
#: times the draws and warm-up, at most ``max_extensions`` times (default: up to 4x), before it is judged.
FIT = {"extend_factor": 2, "max_extensions": 2}

#: The verdict: the predictive checks reject a correctly specified model on their statistics at most this often
#: (each of the two spends half as its Holm family-wise FAIL level; ``benchmarks/verdict_calibration.py`` measures
#: the rate with every reason to FAIL included).
VERDICT = {"false_reject_rate": 0.05}

#: LOO: every observation of a compared task whose Pareto k is high is refitted exactly, highest k first, up to
#: 20 refits per model (one compile, then about a second each at the default sampler settings). Families whose
#: rows are not groups (glmm) score new groups by 5-fold cross-validation over the levels of their grouping factor.
LOO = {"reloo": True, "reloo_max_refits": 20, "kfold": {"k": 5, "by": None}}

#: Comparison: the new-groups task drives the recommendation; a model is tied with the best when
#: its elpd difference is below 4 or its p_worse below 0.975 (a difference under 1.96 paired standard errors).
#: The K choice: SMC marginal likelihoods with 2000 particles in each of 2 independent chains; clusters are claimed
#: when their Bayes factor against one population is at least 3 ("positive evidence", Kass and Raftery 1995).
COMPARE = {
    "task": "new_groups",
    "elpd_tolerance": 4,
    "p_worse_max": 0.975,
    "clusters_bayes_factor": 3,
    "evidence": {"draws": 2000, "chains": 2},
}

#: Population read-out: a never-seen group of 100 trials; no group pairs compared.
READOUT = {"new_group_n": 100, "compare_groups": []}

#: Simulation-based calibration: 200 simulations per model. ``sims_per_shard`` ``auto`` sizes the shard jobs by the
#: data (``binoval.resources.sims_per_shard``): one shard of 200 per model and stage while fits run on one thread (a
#: shard's fixed cost of interpreter, imports and a cached compile, 2-5 s, is then a large share of its work), two of
#: 100 from 300 groups on (the two-thread fit would otherwise wait for a lone shard); a release-size SBC (1000) spreads
#: over 5-10 jobs per model on a cluster.
SBC = {
    "simulations": 200,
    "sims_per_shard": "auto",  # simulations per shard job, or auto: by the data's groups (binoval.resources)
    "sampler": {},  # overrides of SBC_SAMPLER for SBC fits only
    "thin": "auto",  # thin each fit to about its bulk ESS (never below min_ranks draws); or an integer factor
    "min_ranks": 100,  # thinning never keeps fewer draws than this
    "extend_factor": 4,  # a fit with fewer than min_ranks effective draws is rerun with up to 4x the draws (1: never)
    "simulate_priors": {},  # {model_id: {param: prior spec}}: simulate from these priors, fit the model's own
    "max_group_quantities": 50,  # more groups: rank a seeded subset of this many group rates, plus pooled summaries
}

#: Posterior SBC (``binoval.sbc.posterior``): 200 simulations per model in shards sized as prior SBC's, reference draws from the
#: observed fit; SBC fit settings as prior SBC's (``sampler`` overrides them for posterior SBC only; thinning and
#: extension are ``sbc``'s).
POSTERIOR_SBC = {"enabled": True, "simulations": 200, "sims_per_shard": "auto", "sampler": {}}

#: Prior sensitivity (``binoval.sensitivity``): power-scaling of the prior and the likelihood of every fit.
SENSITIVITY = {"enabled": True}

#: When an SBC run is PASS, WARN or FAIL; prior and posterior SBC are judged alike.
SBC_THRESHOLDS = {
    "alpha_fail": 0.01,  # FAIL below: any Holm-adjusted p-value of the rank uniformity tests
    "alpha_warn": 0.05,  # WARN below
    "coverage_tolerance": 0.1,  # FAIL: an interval's coverage is surely more than this off its nominal level
    "failure_rate_max": 0.05,  # FAIL above: share of SBC fits that raised
    "nonconverged_rate_max": 0.2,  # FAIL above: share of successful fits that did not converge
    "nonconverged_rate_warn": 0.1,  # WARN above
    "r_hat_max": 1.05,  # a fit did not converge: its largest R-hat is above this ...
    "ess_min": 50,  # ... or its smallest bulk ESS is below this ...
    "divergences_max": 0,  # ... or it had more divergent transitions than this ...
    "ebfmi_min": 0.2,  # ... or a chain's E-BFMI is below this
    "min_simulations": 100,  # WARN when fewer SBC fits succeeded
}

#: Every number the verdict uses, per stage (meanings in config/README.md, section Thresholds).
THRESHOLDS = {
    "fit": {
        "r_hat_max": 1.01,  # FAIL above: rank-normalised split R-hat of any posterior quantity
        "ess_bulk_min_per_chain": 100,  # FAIL below: bulk ESS per chain
        "ess_tail_min_per_chain": 100,  # FAIL below: tail ESS per chain
        "divergence_rate_max": 0.001,  # FAIL above: share of divergent draws (any divergence WARNs)
        "ebfmi_min": 0.3,  # FAIL below: a chain's E-BFMI
        "treedepth_rate_max": 0.01,  # WARN above: share of draws that hit max_treedepth
    },
    "prior_predictive": {
        "statistics": JUDGED,
        "p_value_fail": None,  # FAIL below: a judged statistic's Holm-adjusted p-value; None: false_reject_rate / 2
        "p_value_warn": 0.1,  # WARN below
        "degenerate_warn": 0.1,  # WARN above: share of datasets with every group at 0 or every group at n
        "degenerate_fail": 0.5,  # FAIL above
    },
    "ppc": {
        "statistics": JUDGED,
        "p_value_fail": None,  # FAIL below: a judged statistic's Holm-adjusted p-value; None: false_reject_rate / 2
        "p_value_warn": 0.1,  # WARN below
        "coverage_95_fail": 0.8,  # FAIL below: share of groups inside their 95% predictive intervals
        "coverage_95_warn": 0.9,  # WARN below
        "pit_pvalue_fail": 0.0,  # FAIL below: KS p-value of the randomised PIT values (0: never; in-sample PIT)
        "pit_pvalue_warn": 0.01,  # WARN below
    },
    "loo": {
        "pareto_k_max": 0.7,  # cap of the Pareto k threshold min(1 - 1/log10(S), cap)
        "k_high_share_fail": 1.0,  # FAIL above: share of groups with high k (1.0: never, high k only WARNs)
        "waic_variance_max": 0.4,  # WARN above: a group's pointwise log-likelihood variance (WAIC unreliable)
    },
    "sbc": SBC_THRESHOLDS,
    "posterior_sbc": SBC_THRESHOLDS,
    "sensitivity": {
        "threshold": 0.05,  # a quantity is sensitive to the prior (likelihood) when power-scaling it moves the
        # posterior by at least this (cumulative Jensen-Shannon distance per unit log power, priorsense's default)
        "conflict": "warn",  # prior and likelihood both sensitive (prior-data conflict): fail, warn or note
        "prior_dominates": "warn",  # prior sensitive, likelihood not (the data say little): fail, warn or note
    },
}

#: The default run: the shape and values of config/config.yaml.
DEFAULTS = {
    "dataset": "hospital12",  # a bundled dataset name or a CSV path
    "run": None,  # results go to results/<run>/; None: the dataset's file stem
    "columns": {"group": "group", "n": "n", "r": "r"},
    "trials": None,  # None: the dataset is grouped already
    "seed": 12345,  # the root of every random stream
    "sampler": SAMPLER,
    "models": MODELS,
    "prior_predictive": PRIOR_PREDICTIVE,
    "fit": FIT,
    "loo": LOO,
    "compare": COMPARE,
    "readout": READOUT,
    "verdict": VERDICT,
    "fail_on_reject": False,  # True: the run exits non-zero when no model is accepted
    "sbc": SBC,
    "posterior_sbc": POSTERIOR_SBC,
    "sensitivity": SENSITIVITY,
    "thresholds": THRESHOLDS,
}


def with_defaults(defaults: dict, overrides: dict | None) -> dict:
    """A new dict: ``defaults`` with the keys of ``overrides`` (a config section, may be None) on top."""
    return {**defaults, **(overrides or {})}
