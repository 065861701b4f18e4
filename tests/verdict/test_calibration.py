"""The verdict's error rates: the exact self-rejection of the prior predictive check (fast), and, marked slow, the
whole data-dependent verdict (prior predictive, fit, posterior predictive) on fresh seeded datasets of known origin."""

import numpy as np
import pandas as pd
import pytest

from binoval.data.grouped import load_dataset
from binoval.models import GroupedCounts, expand_models
from binoval.predictive.primitives import leave_one_out_p_values as draw_p_values
from binoval.predictive.prior import summarise_prior_predictive
from binoval.verdict.calibration import (
    CheckRunner,
    prior_self_rejection,
    rejection_rates,
    wilson_interval,
)
from binoval.verdict.report import markdown_calibration

DATA = GroupedCounts(tuple("abcdefgh"), np.array([20, 40, 60, 80, 100, 120, 140, 160]), np.zeros(8, dtype="int64"))


def _draws(r_draws):
    return summarise_prior_predictive("m", DATA, r_draws).draws


def test_leave_one_out_p_values_match_the_stage_formula():
    values = np.array([0.0, 1.0, 1.0, 2.0, 5.0])
    # draw 4 (5.0) against the other four: none as large, so (1 + 0) / (1 + 4)
    assert draw_p_values(values, "greater")[4] == pytest.approx(1 / 5)
    # draw 1 (1.0): two others at least as large (1.0, 2.0, 5.0 -> 3), (1 + 3) / 5
    assert draw_p_values(values, "greater")[1] == pytest.approx(4 / 5)
    assert draw_p_values(values, "two-sided")[0] == pytest.approx(2 / 5)


def test_prior_check_rejects_its_own_prior_at_most_at_its_level():
    """Data from the prior are exchangeable with its draws and min-p is calibrated on them, so at 0.025 the check
    FAILs at most 2.5% of them, and not much less (the level is used, not wasted as Holm's bound wastes it)."""
    gen = np.random.default_rng(31)
    rates = 1 / (1 + np.exp(-gen.normal(-1.5, gen.gamma(2, 0.3, size=(4000, 1)), size=(4000, 8))))
    result = prior_self_rejection(_draws(gen.binomial(DATA.n, rates)), {"p_value_fail": 0.025})
    assert result["datasets"] == 4000 and result["level"] == 0.025
    assert 0.015 < result["rate"] <= 0.025 and result["low"] <= result["rate"] <= result["high"]
    # judging fewer statistics at a stricter level rejects less
    strict = prior_self_rejection(_draws(gen.binomial(DATA.n, rates)), {"p_value_fail": 0.005})
    assert strict["rate"] < result["rate"]


def test_min_p_on_the_prior_draws_is_never_weaker_than_holm():
    """Correlated statistics (spread, CV, chi-square, extremes move together): min-p calibrated on the prior's draws
    FAILs data that Holm's bound lets through, and both agree on data that are typical."""
    from binoval.predictive.check import prior_predictive_status

    gen = np.random.default_rng(5)
    prior_r = gen.binomial(DATA.n, gen.beta(2, 8, size=(4000, 1)) * np.ones(8))  # one shared rate per draw
    draws = _draws(prior_r)
    fails = {"min-p": 0, "Holm": 0}
    for _ in range(80):  # moderate overdispersion: near the edge of what the checks can see
        rates = np.clip(0.2 + gen.normal(0, 0.06, size=8), 0.01, 0.99)
        summary = summarise_prior_predictive("m", DATA.with_successes(gen.binomial(DATA.n, rates)), prior_r).summary
        with_draws = prior_predictive_status({"prior_predictive": summary, "draws": draws}).status == "FAIL"
        holm_only = prior_predictive_status({"prior_predictive": summary}).status == "FAIL"
        assert with_draws or not holm_only
        fails["min-p"] += with_draws
        fails["Holm"] += holm_only
    assert fails["min-p"] > fails["Holm"] > 0, fails


def test_a_degenerate_prior_fails_every_dataset():
    gen = np.random.default_rng(3)
    draws = np.vstack([np.zeros((700, 8), dtype=int), gen.binomial(DATA.n, 0.3, size=(300, 8))])
    assert prior_self_rejection(_draws(draws))["rate"] == 1.0


def test_wilson_interval_and_rates_table():
    assert wilson_interval(0, 100)[0] == 0.0 and 0.03 < wilson_interval(0, 100)[1] < 0.04
    low, high = wilson_interval(5, 100)
    assert low < 0.05 < high
    rows = pd.DataFrame(
        {
            "cell": ["a"] * 4,
            "prior_predictive_status": ["PASS", "FAIL", "PASS", "WARN"],
            "fit_status": "PASS",
            "ppc_status": ["PASS", "PASS", "FAIL", "PASS"],
            "predictive_reject": [False, True, True, False],
            "reject": [False, True, True, False],
            "extensions": [0, 1, 0, 0],
        }
    )
    rates = rejection_rates(rows, ["cell"]).iloc[0]
    assert rates["reject"] == 0.5 and rates["prior_predictive_fail"] == 0.25 and rates["extended"] == 0.25


def test_report_section_names_the_target_and_the_measurement():
    prior = {"datasets": 4000, "rejected": 50, "rate": 0.0125, "low": 0.01, "high": 0.016, "level": 0.025}
    sbc = {"simulations": 200, "prior_predictive": 2, "ppc": 1, "either": 3, "rate": 0.015, "low": 0.005, "high": 0.043}
    text = "\n".join(markdown_calibration({"hier_logit": {"prior": prior, "sbc": sbc}, "glmm": {"prior": prior}}, 0.05))
    assert "## Verdict calibration" in text and "at most 5%" in text and "benchmarks/verdict_calibration.py" in text
    assert "| hier_logit | 50/4000 (1.2%) | 2/200 (1.0%) | 1/200 (0.5%) | 3/200 (1.5%) | [0.5%, 4.3%] |" in text
    assert "| glmm | 50/4000 (1.2%) | n/a | n/a | n/a | n/a |" in text


def test_sbc_rejection_applies_the_stage_rules_to_every_simulation():
    """The vectorised rules agree with the stages' own status functions, simulation by simulation."""
    from binoval.predictive.check import ppc_status, prior_predictive_status
    from binoval.predictive.levels import with_fail_levels
    from binoval.predictive.statistics import STATISTICS, compute_statistics
    from binoval.verdict.calibration import sbc_predictive_rejection

    gen = np.random.default_rng(12)
    prior_r = gen.binomial(DATA.n, gen.beta(2, 8, size=(3000, 1)) * np.ones(8))
    prior_draws = _draws(prior_r)
    simulated = np.vstack(
        [
            gen.binomial(DATA.n, gen.beta(2, 8, size=(40, 1)) * np.ones(8)),
            gen.binomial(DATA.n, [0.05, 0.6] * 4, size=(10, 8)),
        ]
    )
    rows, expected_prior, expected_ppc = [], [], []
    thresholds = with_fail_levels({}, 0.05)
    for i, r in enumerate(simulated):
        observed = compute_statistics(r, DATA.n)
        ppc_p = dict.fromkeys(STATISTICS, 0.5)
        ppc_p[str(gen.choice(list(STATISTICS)))] = float(gen.choice([0.5, 0.01, 0.001]))  # 9 x 0.001 < 0.025
        coverage = float(gen.choice([1.0, 0.75]))
        for name in STATISTICS:
            rows.append(
                {
                    "model_id": "m",
                    "simulation": i,
                    "statistic": name,
                    "observed": float(observed[name]),
                    "p_value": ppc_p[name],
                    "coverage_95": coverage,
                    "pit_ks_pvalue": 0.5,
                }
            )
        summary = summarise_prior_predictive("m", DATA.with_successes(r), prior_r).summary
        expected_prior.append(
            prior_predictive_status(
                {"prior_predictive": summary, "draws": prior_draws}, thresholds["prior_predictive"]
            ).status
            == "FAIL"
        )
        statistics = pd.DataFrame(
            [
                {
                    "statistic": n,
                    "observed": 0.0,
                    "mean": 0.0,
                    "lower_95": 0.0,
                    "upper_95": 0.0,
                    "alternative": STATISTICS[n].alternative,
                    "p_value": ppc_p[n],
                }
                for n in STATISTICS
            ]
        )
        groups = pd.DataFrame({"group": list(DATA.groups), "inside_95": True, "pit": np.linspace(0.1, 0.9, 8)})
        calibration = pd.DataFrame(
            [
                {
                    "draws": 4000,
                    "groups": 8,
                    "coverage_95": coverage,
                    "pit_ks_statistic": 0.1,
                    "pit_ks_pvalue": 0.5,
                    "fit_error": "",
                }
            ]
        )
        keyed = {"ppc": statistics, "ppc_groups": groups, "ppc_calibration": calibration}
        expected_ppc.append(ppc_status(keyed, thresholds["ppc"]).status == "FAIL")
    result = sbc_predictive_rejection(pd.DataFrame(rows), prior_draws, thresholds)
    assert result["simulations"] == 50
    assert result["prior_predictive"] == sum(expected_prior) and 8 <= sum(expected_prior) <= 12
    assert result["ppc"] == sum(expected_ppc) and 0 < sum(expected_ppc) < 50
    assert result["either"] == sum(a or b for a, b in zip(expected_prior, expected_ppc))


def _equal_n_hier_logit_data(seed: int, groups: int = 18, trials: int = 45) -> GroupedCounts:
    """Fresh groups of equal size from hier_logit: logit rates ~ Normal(-1, 0.4)."""
    gen = np.random.default_rng(seed)
    rates = 1 / (1 + np.exp(-gen.normal(-1.0, 0.4, size=groups)))
    n = np.full(groups, trials)
    return GroupedCounts(tuple(f"g{i}" for i in range(groups)), n, gen.binomial(n, rates))


@pytest.mark.slow
def test_known_answers_on_fresh_equal_n_data_and_on_evenly_spread_proportions():
    """18 equal-n groups simulated from hier_logit (fresh seeds): hier_logit passes every data-dependent stage.
    Groups whose proportions are evenly spread (the smallest max_gap there is) are not a reason to reject the
    hierarchical or mixture models: evenly spread rates are what one population produces, not evidence against it."""
    specs = expand_models(
        {
            "hier_logit": {"family": "hier_logit"},
            "beta_binomial": {"family": "beta_binomial"},
            "bb_mixture": {"family": "bb_mixture", "K": [2]},
        }
    )
    template = _equal_n_hier_logit_data(0)
    runners = {m: CheckRunner(spec, template, seed=41) for m, spec in specs.items()}
    for seed in (901, 902, 903):
        row = runners["hier_logit"].judge(_equal_n_hier_logit_data(seed).r, seed)
        assert not row["reject"], (seed, row["reasons"])
    evenly = np.round(np.linspace(0.15, 0.45, 18) * 45).astype("int64")  # 7 .. 20 successes of 45
    for model_id, runner in runners.items():
        row = runner.judge(evenly, 0)
        assert not row["reject"], (model_id, row["reasons"])


@pytest.mark.slow
def test_measured_error_rates_on_fresh_simulations():
    """The verdict's false-reject rate for a correct model, and its power against pooling overdispersed data, on
    fresh seeded datasets (benchmarks/verdict_calibration.py measures every default model with more datasets)."""
    data = GroupedCounts.from_frame(load_dataset("hospital12"))
    specs = expand_models({"pooled": {"family": "pooled"}, "hier_logit": {"family": "hier_logit"}})
    from binoval.verdict.calibration import prior_datasets

    hier = CheckRunner(specs["hier_logit"], data, seed=7)
    own = prior_datasets(specs["hier_logit"], data, 40, seed=7)
    rejected = sum(hier.judge(r, i)["reject"] for i, r in enumerate(own))
    # a correct model: at the 5% target 40 datasets give at most 6 rejections with probability 0.99
    assert rejected <= 6, rejected

    gen = np.random.default_rng(8)
    logit = gen.normal(np.log(0.0718 / 0.9282), 0.6, size=(30, len(data.n)))
    overdispersed = gen.binomial(data.n, 1 / (1 + np.exp(-logit)))
    pooled = CheckRunner(specs["pooled"], data, seed=7)
    caught = sum(pooled.judge(r, i)["reject"] for i, r in enumerate(overdispersed))
    assert caught >= 24, caught  # at least 80% of 30
