"""Known answers of the predictive checks, with real model fits (one compile per model, few draws).

* hospital12, non-centred hier_logit with the reference priors (config/examples/hospital12_reference.yaml):
  all 12 groups inside their 95% predictive intervals, no extreme statistic;
  in particular the number of zero-event groups (observed 1) is not extreme:
  its predicted mean is about 0.14 zero-groups, which makes the reference analysis's quoted
  p = 0.001 impossible (the upper-tail p-value is P(T_rep >= 1) ~ 0.13).
* data simulated from the 3-cluster beta-binomial of the three-cluster design (binoval.data.synthetic):
  ``pooled`` fails the overdispersion check, a 2-cluster mixture passes it.
"""

from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

from binoval.fit.sampler import SamplerSettings
from binoval.fit.stage import fit_model
from binoval.models import GroupedCounts, expand_models
from binoval.predictive.check import ppc_status, prior_predictive_status
from binoval.predictive.posterior import posterior_predictive_check
from binoval.predictive.prior import prior_predictive_draws, summarise_prior_predictive

SETTINGS = SamplerSettings(chains=4, draws=500, tune=500, target_accept=0.95)
REFERENCE_PRIORS = {
    "mu": {"dist": "Normal", "mu": float(np.log(0.075 / 0.925)), "sigma": 1.0},
    "tau": {"dist": "HalfNormal", "sigma": 1.0},
}
SPECS = expand_models(
    {
        "hier_logit": {"family": "hier_logit", "parameterization": "noncentered", "priors": REFERENCE_PRIORS},
        "pooled": {"family": "pooled"},
        "bb_mixture": {"family": "bb_mixture", "K": [2]},
    }
)


def hospital12() -> GroupedCounts:
    df = pd.read_csv(files("binoval.data") / "datasets" / "hospital12.csv", dtype={"group": str})
    return GroupedCounts.from_frame(df)


def three_clusters() -> GroupedCounts:
    """The three-cluster design: Beta(2,10) x 8, Beta(7,7) x 10, Beta(15,3) x 7 agents, 100 trials each."""
    gen = np.random.default_rng(20240501)
    rates = np.concatenate([gen.beta(2, 10, 8), gen.beta(7, 7, 10), gen.beta(15, 3, 7)])
    n = np.full(rates.size, 100)
    return GroupedCounts(tuple(f"agent{i:02d}" for i in range(rates.size)), n, gen.binomial(n, rates))


def _ppc(model_id, data):
    outputs = fit_model(SPECS[model_id], data, SETTINGS, seed=12345)
    assert not outputs.sampler["error"].any(), outputs.sampler["error"].tolist()
    tables = posterior_predictive_check(model_id, outputs.idata, seed=12345)
    keyed = {"ppc": tables.statistics, "ppc_groups": tables.groups, "ppc_calibration": tables.calibration}
    return tables, keyed


@pytest.fixture(scope="module")
def hier_logit_hospital12():
    return _ppc("hier_logit", hospital12())


def test_hier_logit_hospital12_groups_inside_and_no_extreme_statistic(hier_logit_hospital12):
    tables, keyed = hier_logit_hospital12
    assert tables.groups["inside_95"].all(), tables.groups[["group", "r", "lower_95", "upper_95"]]
    assert tables.calibration["coverage_95"].iloc[0] == 1.0
    stats = tables.statistics.set_index("statistic")
    assert (stats["p_value"] >= 0.05).all(), stats["p_value"]
    result = ppc_status(keyed, {})
    assert result.status == "PASS", result.reasons


def test_hier_logit_hospital12_zero_count_is_not_extreme(hier_logit_hospital12):
    tables, _ = hier_logit_hospital12
    zero = tables.statistics.set_index("statistic").loc["n_zero"]
    assert zero["observed"] == 1
    # the predicted number of zero-event groups is small but plausible (reference analysis: 0.14)
    assert 0.05 < zero["mean"] < 0.4
    # P(T_rep >= 1) cannot exceed E[T_rep] for a count (Markov), and it is of that order:
    # ((1 + count) / (1 + draws) adds at most one draw's worth)
    assert zero["p_greater_eq"] <= zero["mean"] + 1.0 / (1 + zero["draws"]) + 1e-12
    assert zero["p_greater_eq"] > 0.04
    # judged in the upper tail (an excess of zero-event groups): p = P(T_rep >= 1), far from the reference's 0.001
    assert zero["alternative"] == "greater" and zero["p_value"] == zero["p_greater_eq"]


@pytest.fixture(scope="module")
def clusters():
    return three_clusters()


def test_pooled_fails_overdispersion_on_three_clusters(clusters):
    tables, keyed = _ppc("pooled", clusters)
    chi2 = tables.statistics.set_index("statistic").loc["chi2_overdispersion"]
    assert chi2["p_value"] < 0.01
    assert chi2["observed"] > chi2["upper_95"]
    result = ppc_status(keyed, {"statistics": ["chi2_overdispersion"]})
    assert result.status == "FAIL"
    assert any("chi2_overdispersion" in reason and reason.startswith("FAIL") for reason in result.reasons)


def test_mixture_passes_overdispersion_on_three_clusters(clusters):
    tables, keyed = _ppc("bb_mixture_k2", clusters)
    assert tables.calibration["coverage_95"].iloc[0] >= 0.9
    chi2 = tables.statistics.set_index("statistic").loc["chi2_overdispersion"]
    assert chi2["p_value"] >= 0.05
    assert ppc_status(keyed, {"statistics": ["chi2_overdispersion"]}).status == "PASS"
    assert ppc_status(keyed, {}).status == "PASS"


def test_prior_predictive_reference_hier_logit_and_pooled_on_hospital12():
    data = hospital12()
    draws = prior_predictive_draws(SPECS["hier_logit"], data, 1000, seed=12345)
    assert draws.shape == (1000, 12)
    np.testing.assert_array_equal(draws, prior_predictive_draws(SPECS["hier_logit"], data, 1000, seed=12345))
    assert not np.array_equal(draws, prior_predictive_draws(SPECS["hier_logit"], data, 1000, seed=1))
    summary = summarise_prior_predictive("hier_logit", data, draws).summary
    assert summary["inside_99"].all()
    assert prior_predictive_status({"prior_predictive": summary}, {}).status == "PASS"
    # reference analysis: P(zero-event group) under the reference prior predictive is about 12% for the smallest group
    groups = summarise_prior_predictive("hier_logit", data, draws).groups.set_index("group")
    assert 0.05 < groups.loc["1", "p_zero"] < 0.25

    # one shared rate cannot produce the observed spread between hospitals
    pooled = summarise_prior_predictive(
        "pooled", data, prior_predictive_draws(SPECS["pooled"], data, 1000, seed=12345)
    ).summary
    chi2 = pooled.set_index("statistic").loc["chi2_overdispersion"]
    assert not chi2["inside_99"] and chi2["quantile"] == 1.0
    result = prior_predictive_status({"prior_predictive": pooled}, {})
    assert result.status == "FAIL" and any("chi2_overdispersion" in r for r in result.reasons)
