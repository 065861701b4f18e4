"""Predictive-check primitives, table building, schemas and statuses (no MCMC)."""

import arviz as az
import numpy as np
import pandas as pd
import pandera.errors
import pytest

from binoval.models import GroupedCounts
from binoval.predictive.check import (
    DEFAULT_PPC_THRESHOLDS,
    DEFAULT_PRIOR_PREDICTIVE_THRESHOLDS,
    ppc_status,
    prior_predictive_status,
)
from binoval.predictive.posterior import posterior_predictive_check
from binoval.predictive.primitives import (
    central_interval,
    central_intervals,
    midrank_quantile,
    p_value,
    randomised_pit,
    tail_probabilities,
    uniformity_test,
)
from binoval.predictive.prior import summarise_prior_predictive
from binoval.predictive.statistics import STATISTIC_NAMES
from binoval.schemas import (
    PPCCalibration,
    PPCGroups,
    PPCStatistics,
    PriorPredictiveDraws,
    PriorPredictiveGroups,
    PriorPredictiveSummary,
    read_table,
    write_table,
)

DATA = GroupedCounts(("a", "b", "c", "d"), np.array([20, 30, 40, 50]), np.array([2, 6, 4, 10]))


def test_midrank_quantile_counts_ties_as_half():
    draws = np.array([0, 0, 0, 1, 1, 2, 3, 3, 3, 3])
    assert midrank_quantile(draws, 1) == pytest.approx((3 + 0.5 * 2) / 10)
    assert midrank_quantile(draws, 0) == pytest.approx(0.15)
    assert midrank_quantile(draws, 5) == 1.0
    assert midrank_quantile(draws, -1) == 0.0


def test_tail_probabilities_are_honest_with_ties_and_never_zero():
    # 86% of the draws are 0, 14% are 1: observing 1 is not extreme.
    draws = np.array([0] * 86 + [1] * 14)
    greater, less = tail_probabilities(draws, 1)
    assert greater == pytest.approx(15 / 101) and less == 1.0
    assert p_value(greater, less, "two-sided") == pytest.approx(30 / 101)
    assert p_value(greater, less, "greater") == pytest.approx(15 / 101)
    # all draws tie with the observed value: p = 1
    assert p_value(*tail_probabilities(np.zeros(50), 0), "two-sided") == 1.0
    # beyond every draw: the resolution of the check, never 0
    assert p_value(*tail_probabilities(np.arange(100), 150), "two-sided") == pytest.approx(2 / 101)
    assert p_value(*tail_probabilities(np.arange(100), 150), "greater") == pytest.approx(1 / 101)
    # a small value judged in the upper tail is no evidence at all
    assert p_value(*tail_probabilities(np.arange(100), -5), "greater") == 1.0
    with pytest.raises(ValueError, match="alternative"):
        p_value(0.1, 0.9, "less-ish")


def test_tail_probabilities_are_valid_p_values_for_exchangeable_data():
    """Data drawn like the draws: P(p <= a) <= a for the (1 + count) / (1 + S) estimate, at every level."""
    gen = np.random.default_rng(8)
    draws = gen.normal(size=(4000, 200))
    observed = gen.normal(size=4000)
    p = np.array([tail_probabilities(d, o)[0] for d, o in zip(draws, observed)])
    for a in (0.01, 0.05, 0.2):
        assert np.mean(p <= a) <= a + 3 * np.sqrt(a * (1 - a) / p.size)


def test_central_interval_ends_are_attainable():
    draws = np.arange(1000)
    low, high = central_interval(draws, 0.95)
    assert (low, high) == (24, 974)
    counts = np.random.default_rng(0).binomial(30, 0.2, size=(4000, 3))
    low, high = central_interval(counts, 0.9, axis=0)
    assert low.shape == (3,) and np.all(np.mod(low, 1) == 0) and np.all(low < high)


@pytest.mark.parametrize("draws", [1, 2, 3, 39, 40, 41, 1000, 4000])
def test_central_intervals_from_one_partial_sort_are_central_interval_exactly(draws):
    """Every level's ends are the order statistics ``np.quantile``'s inverted CDF picks, ties and odd sizes included."""
    gen = np.random.default_rng(draws)
    counts = gen.binomial(gen.integers(1, 40, 7), 0.3, size=(draws, 7))
    proportions = gen.beta(0.5, 3, size=(5, draws))
    levels = (0.5, 0.8, 0.9, 0.95, 0.99)
    for values, axis in ((counts, 0), (proportions, 1)):
        together = central_intervals(values, levels, axis=axis)
        for level in levels:
            alone = central_interval(values, level, axis=axis)
            assert np.array_equal(together[level][0], alone[0]) and np.array_equal(together[level][1], alone[1])


def test_randomised_pit_is_uniform_for_data_from_the_predictive():
    # 400 "groups" whose predictive is Binomial(10, 0.15); observed drawn from it.
    gen = np.random.default_rng(11)
    r_rep = gen.binomial(10, 0.15, size=(4000, 400))
    r_obs = gen.binomial(10, 0.15, size=400)
    pit = randomised_pit(r_rep, r_obs, np.random.default_rng(1))
    assert uniformity_test(pit)[1] > 0.01
    # the plain (non-randomised) PIT of discrete data is far from uniform: that is why we randomise
    plain = np.mean(r_rep <= r_obs, axis=0)
    assert uniformity_test(plain)[1] < 1e-6
    # a predictive that is too narrow and off-centre is detected
    wrong = randomised_pit(gen.binomial(10, 0.5, size=(4000, 400)), r_obs, np.random.default_rng(1))
    assert uniformity_test(wrong)[1] < 1e-6


def test_randomised_pit_is_seeded():
    r_rep = np.random.default_rng(0).binomial(10, 0.3, size=(500, 5))
    r_obs = np.array([0, 3, 3, 5, 10])
    a = randomised_pit(r_rep, r_obs, np.random.default_rng(7))
    b = randomised_pit(r_rep, r_obs, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert a[4] >= np.mean(r_rep[:, 4] < 10)  # lies within its tie block
    assert a[0] <= np.mean(r_rep[:, 0] <= 0)


def _prior_tables(r_draws):
    return summarise_prior_predictive("m", DATA, r_draws)


def test_prior_predictive_summary_locates_observed_data(tmp_path):
    gen = np.random.default_rng(5)
    # draws from rates near the observed ones (0.1 .. 0.2): the data look typical
    r_draws = gen.binomial(DATA.n, gen.uniform(0.05, 0.3, size=(2000, 1)) * np.ones(4))
    tables = _prior_tables(r_draws)
    summary = write_table(tables.summary, tmp_path / "s.parquet", PriorPredictiveSummary)
    write_table(tables.draws, tmp_path / "d.parquet", PriorPredictiveDraws)
    write_table(tables.groups, tmp_path / "g.parquet", PriorPredictiveGroups)
    assert list(read_table(tmp_path / "s.parquet", PriorPredictiveSummary)["statistic"]) == list(STATISTIC_NAMES)
    row = summary.set_index("statistic").loc["total_successes"]
    assert row["observed"] == 22 and row["inside_99"]
    assert 0.05 < row["quantile"] < 0.95
    assert summary["draws"].eq(2000).all()
    assert summary["degenerate_share"].eq(tables.draws["degenerate"].mean()).all()
    assert 0 < summary["degenerate_share"].iloc[0] < 0.01  # a few all-zero datasets at rates near 0.05
    assert len(tables.draws) == 2000


def test_prior_predictive_status_pass_warn_fail():
    gen = np.random.default_rng(5)
    typical = _prior_tables(gen.binomial(DATA.n, gen.uniform(0.05, 0.3, size=(2000, 1)) * np.ones(4))).summary
    result = prior_predictive_status({"prior_predictive": typical}, DEFAULT_PRIOR_PREDICTIVE_THRESHOLDS)
    # one shared rate per draw: the observed spread between groups may be unusual, but not impossible
    assert result.status in ("PASS", "WARN")

    # a prior that only produces rates near 0.9: the observed totals are far outside
    far = _prior_tables(gen.binomial(DATA.n, 0.9, size=(2000, 4))).summary
    result = prior_predictive_status({"prior_predictive": far}, {})
    assert result.status == "FAIL"
    assert any("total_successes" in r and "quantile 0.0000" in r and "Holm" in r for r in result.reasons)

    # judging only a statistic that is fine gives PASS with a summary line
    result = prior_predictive_status({"prior_predictive": far}, {"statistics": ["n_zero"]})
    assert result.status == "PASS" and "1 statistics judged over 2000" in result.reasons[0]

    # half the datasets degenerate (all zero)
    draws = np.vstack([np.zeros((600, 4), dtype=int), gen.binomial(DATA.n, 0.15, size=(400, 4))])
    result = prior_predictive_status({"prior_predictive": _prior_tables(draws).summary}, {"statistics": ["n_zero"]})
    assert result.status == "FAIL" and "60.0% of prior predictive datasets are degenerate" in result.reasons[0]
    result = prior_predictive_status(
        {"prior_predictive": _prior_tables(draws).summary}, {"statistics": ["n_zero"], "degenerate_fail": 0.7}
    )
    assert result.status == "WARN"


def _idata(rates, data=DATA):
    """A fit of family unpooled whose posterior draws of each group's rate are ``rates`` (S, groups)."""
    chains = 2
    idata = az.from_dict(
        {
            "posterior": {"p": rates.reshape(chains, -1, rates.shape[-1])},
            "observed_data": {"r": data.r},
            "constant_data": {"n": data.n},
        },
        coords={"group": list(data.groups)},
        dims={"p": ["group"], "r": ["group"], "n": ["group"]},
    )
    idata.posterior.attrs["family"] = "unpooled"  # as the fit stage records it
    return idata


def _ppc(rates, tmp_path=None, seed=1):
    tables = posterior_predictive_check("m", _idata(rates), seed)
    if tmp_path is not None:
        write_table(tables.statistics, tmp_path / "s.parquet", PPCStatistics)
        write_table(tables.groups, tmp_path / "g.parquet", PPCGroups)
        write_table(tables.calibration, tmp_path / "c.parquet", PPCCalibration)
    return tables, {"ppc": tables.statistics, "ppc_groups": tables.groups, "ppc_calibration": tables.calibration}


def test_ppc_of_a_matching_predictive_passes(tmp_path):
    gen = np.random.default_rng(2)
    rates = np.clip(DATA.r / DATA.n + gen.normal(0, 0.03, size=(4000, 4)), 0.01, 0.99)
    tables, keyed = _ppc(rates, tmp_path)
    assert tables.groups["inside_95"].all() and tables.calibration["coverage_95"].iloc[0] == 1.0
    # 4000 posterior draws are enough replicated datasets: p-values resolve 1 / 4001
    assert tables.calibration["draws"].iloc[0] == 4000 and tables.calibration["copies"].iloc[0] == 1
    fewer, _ = _ppc(rates[:300])  # 300 draws: 14 copies of each
    assert fewer.calibration["draws"].iloc[0] == 4200 and fewer.calibration["copies"].iloc[0] == 14
    assert tables.statistics["p_value"].between(0, 1).all()
    result = ppc_status(keyed, DEFAULT_PPC_THRESHOLDS)
    assert result.status == "PASS", result.reasons
    # the PIT values are seeded: same seed, same values; other seed, other values
    again, _ = _ppc(rates, seed=1)
    other, _ = _ppc(rates, seed=2)
    np.testing.assert_array_equal(tables.groups["pit"], again.groups["pit"])
    assert not np.array_equal(tables.groups["pit"], other.groups["pit"])


def test_a_check_of_fewer_group_levels_keeps_the_rest_of_the_tables():
    """SBC asks each fit's check for the judged 95% group intervals only; everything it keeps is the full check's."""
    gen = np.random.default_rng(4)
    rates = np.clip(DATA.r / DATA.n + gen.normal(0, 0.08, size=(1000, 4)), 0.01, 0.99)
    full = posterior_predictive_check("m", _idata(rates), 3)
    judged = posterior_predictive_check("m", _idata(rates), 3, group_levels=(0.95,))
    pd.testing.assert_frame_equal(judged.statistics, full.statistics)
    assert [c for c in judged.groups if c.endswith(("_50", "_90"))] == []
    kept = list(judged.groups.columns)
    pd.testing.assert_frame_equal(judged.groups, full.groups[kept])
    kept = list(judged.calibration.columns)
    assert "coverage_95" in kept and "coverage_50" not in kept
    pd.testing.assert_frame_equal(judged.calibration, full.calibration[kept])


def test_ppc_of_a_wrong_predictive_fails():
    tables, keyed = _ppc(np.full((4000, 4), 0.5))  # observed rates are 0.1 .. 0.2
    result = ppc_status(keyed, {})
    assert result.status == "FAIL"
    text = " ".join(result.reasons)
    assert "total_successes" in text and "0/4 groups (0%) inside" in text
    assert tables.calibration["coverage_95"].iloc[0] == 0.0
    # judging nothing but an unaffected statistic still fails on coverage
    result = ppc_status(keyed, {"statistics": ["n_full"]})
    assert result.status == "FAIL" and not any("n_full" in r for r in result.reasons)
    # a coverage threshold of 0 and PIT thresholds of 0 let only the statistics speak
    relaxed = {
        "statistics": ["n_full"],
        "coverage_95_fail": 0,
        "coverage_95_warn": 0,
        "pit_pvalue_fail": 0,
        "pit_pvalue_warn": 0,
    }
    assert ppc_status(keyed, relaxed).status == "PASS"


def test_ppc_warns_between_thresholds():
    statistics = pd.DataFrame(
        [
            {
                "model_id": "m",
                "statistic": "sd_proportion",
                "observed": 0.1,
                "mean": 0.05,
                "lower_95": 0.01,
                "upper_95": 0.09,
                "alternative": "two-sided",
                "p_greater_eq": 0.004,
                "p_less_eq": 0.996,
                "p_value": 0.008,
                "draws": 1000,
            }
        ]
    )
    groups = pd.DataFrame({"group": ["a", "b"], "inside_95": [True, True], "pit": [0.3, 0.6]})
    calibration = pd.DataFrame(
        [
            {
                "draws": 1000,
                "groups": 2,
                "coverage_95": 1.0,
                "pit_ks_statistic": 0.3,
                "pit_ks_pvalue": 0.5,
                "fit_error": "",
            }
        ]
    )
    keyed = {"ppc": statistics, "ppc_groups": groups, "ppc_calibration": calibration}
    result = ppc_status(keyed, {})  # one judged statistic: Holm leaves 0.008 as it is
    assert result.status == "FAIL" and "two-sided p = 0.0080" in result.reasons[0] and "< 0.025" in result.reasons[0]
    result = ppc_status(keyed, {"p_value_fail": 0.005})
    assert result.status == "WARN" and "Holm-adjusted over 1 statistics 0.0080 < 0.1" in result.reasons[0]


def test_pit_check_warns_by_default_and_names_the_shape():
    statistics = pd.DataFrame(columns=["statistic", "p_value"])
    pit = np.linspace(0.4, 0.6, 20)  # crowding the middle
    groups = pd.DataFrame({"group": [f"g{i}" for i in range(20)], "inside_95": True, "pit": pit})
    d, p = uniformity_test(pit)
    calibration = pd.DataFrame(
        [{"draws": 1000, "groups": 20, "coverage_95": 1.0, "pit_ks_statistic": d, "pit_ks_pvalue": p, "fit_error": ""}]
    )
    keyed = {"ppc": statistics, "ppc_groups": groups, "ppc_calibration": calibration}
    result = ppc_status(keyed, {})
    assert p < 0.01 and result.status == "WARN"
    assert "100% of them in [0.25, 0.75]" in result.reasons[0] and "crowding the middle" in result.reasons[0]
    assert ppc_status(keyed, {"pit_pvalue_fail": 0.005}).status == "FAIL"
    ends = np.concatenate([np.linspace(0, 0.05, 10), np.linspace(0.95, 1, 10)])
    groups["pit"] = ends
    calibration["pit_ks_pvalue"] = uniformity_test(ends)[1]
    assert "crowding the ends" in ppc_status(keyed, {}).reasons[0]


def test_ppc_of_a_failed_fit_fails_and_tables_validate(tmp_path):
    idata = az.from_dict({"observed_data": {"r": DATA.r}}, coords={"group": list(DATA.groups)}, dims={"r": ["group"]})
    idata["observed_data"].attrs["fit_error"] = "RuntimeError: boom"
    tables = posterior_predictive_check("m", idata, 1)
    write_table(tables.statistics, tmp_path / "s.parquet", PPCStatistics)
    write_table(tables.groups, tmp_path / "g.parquet", PPCGroups)
    write_table(tables.calibration, tmp_path / "c.parquet", PPCCalibration)
    keyed = {
        "ppc": read_table(tmp_path / "s.parquet", PPCStatistics),
        "ppc_groups": read_table(tmp_path / "g.parquet", PPCGroups),
        "ppc_calibration": read_table(tmp_path / "c.parquet", PPCCalibration),
    }
    result = ppc_status(keyed, {})
    assert result.status == "FAIL" and "RuntimeError: boom" in result.reasons[0]
    # asked for fewer group levels, a failed fit's tables have the columns a successful check of those levels has
    judged = posterior_predictive_check("m", idata, 1, group_levels=(0.95,))
    ok = posterior_predictive_check("m", _idata(np.full((400, 4), 0.15)), 1, group_levels=(0.95,))
    assert list(judged.groups.columns) == list(ok.groups.columns)
    assert list(judged.calibration.columns) == list(ok.calibration.columns)


def test_schemas_reject_broken_tables(tmp_path):
    tables, _ = _ppc(np.full((400, 4), 0.15))
    bad = tables.statistics.copy()
    bad.loc[0, "p_value"] = 1.5
    with pytest.raises(pandera.errors.SchemaError):
        write_table(bad, tmp_path / "bad.parquet", PPCStatistics)
    bad = tables.groups.copy()
    bad.loc[0, "lower_95"] = bad.loc[0, "upper_95"] + 1
    with pytest.raises(pandera.errors.SchemaError):
        write_table(bad, tmp_path / "bad.parquet", PPCGroups)
    bad = tables.statistics.copy()
    bad.loc[0, "statistic"] = "made_up"
    with pytest.raises(pandera.errors.SchemaError):
        write_table(bad, tmp_path / "bad.parquet", PPCStatistics)
    assert not (tmp_path / "bad.parquet").exists()


def test_unknown_judged_statistic_is_an_error():
    with pytest.raises(ValueError, match="unknown statistics"):
        ppc_status(
            {"ppc": pd.DataFrame(), "ppc_groups": pd.DataFrame(), "ppc_calibration": pd.DataFrame([{"fit_error": ""}])},
            {"statistics": ["nope"]},
        )


def test_mixture_replications_condition_on_each_groups_cluster():
    data = GroupedCounts(("low", "high"), np.array([100, 100]), np.array([10, 90]))
    draws = 2000
    posterior = {
        "w": np.full((2, draws // 2, 2), 0.5),
        "mu": np.broadcast_to([0.1, 0.9], (2, draws // 2, 2)).copy(),
        "kappa": np.full((2, draws // 2, 2), 200.0),
    }
    marginal = np.random.default_rng(0).binomial(
        100, np.where(np.random.default_rng(1).uniform(size=(2, draws // 2, 2)) < 0.5, 0.1, 0.9)
    )
    idata = az.from_dict(
        {
            "posterior": posterior,
            "posterior_predictive": {"r": marginal},
            "observed_data": {"r": data.r},
            "constant_data": {"n": data.n},
        },
        coords={"group": list(data.groups), "cluster": [1, 2]},
        dims={"w": ["cluster"], "mu": ["cluster"], "kappa": ["cluster"], "r": ["group"], "n": ["group"]},
    )
    idata.posterior.attrs["family"] = "bb_mixture"  # as the fit stage records it
    tables = posterior_predictive_check("mix", idata, 1)
    assert tables.calibration["copies"].iloc[0] == 2
    groups = tables.groups.set_index("group")
    assert groups.loc["low", "upper_95"] < 30 and groups.loc["high", "lower_95"] > 70
    # the fit's marginal predictive would have given each group the whole population's range
    assert np.quantile(marginal[..., 0], 0.975) > 80
