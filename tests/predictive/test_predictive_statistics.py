"""Shared test statistics (binoval.predictive.statistics) on hand-computed cases."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from binoval.predictive import statistics as st

N = np.array([10, 10, 20])
R = np.array([0, 5, 20])  # proportions 0, 0.5, 1


def test_hand_computed_values():
    values = st.compute_statistics(R, N)
    sd = np.sqrt(1 / 6)  # proportions 0, .5, 1: mean .5, variance (.25 + 0 + .25) / 3
    expected = {
        "total_successes": 25,
        "pooled_proportion": 25 / 40,
        "var_proportion": 1 / 6,
        "sd_proportion": sd,
        # pooled .625; expected counts 6.25, 6.25, 12.5; variances x .375:
        # 6.25^2/2.34375 + 1.25^2/2.34375 + 7.5^2/4.6875 = 16.667 + 0.667 + 12
        "chi2_overdispersion": 16 + 2 / 3 + 2 / 3 + 12,
        "min_proportion": 0.0,
        "max_proportion": 1.0,
        "n_zero": 1,
        "n_full": 1,
        "cv_proportion": sd / 0.5,
        "max_gap": 0.5 / sd,
    }
    assert set(values) == set(expected) == set(st.STATISTIC_NAMES)
    for name, value in expected.items():
        assert values[name] == pytest.approx(value), name


def test_vectorised_over_datasets_with_broadcast_n():
    r = np.array([[0, 5, 20], [1, 1, 2], [0, 10, 0]])
    values = st.compute_statistics(r, N)
    assert all(v.shape == (3,) for v in values.values())
    # second dataset: every proportion 0.1, no spread at all
    assert values["var_proportion"][1] == pytest.approx(0, abs=1e-15)
    assert values["chi2_overdispersion"][1] == pytest.approx(0)
    assert values["cv_proportion"][1] == 0
    assert values["max_gap"][1] == 0
    # third: pooled .25, expected 2.5, 2.5, 5; 6.25/1.875 + 56.25/1.875 + 25/3.75 = 40
    assert values["chi2_overdispersion"][2] == pytest.approx(40)
    assert values["n_zero"][2] == 2 and values["n_full"][2] == 1
    # a stack of stacks: (chains, draws, groups) -> (chains, draws)
    stacked = np.broadcast_to(r, (4, 3, 3))
    assert st.chi2_overdispersion(stacked, N).shape == (4, 3)
    np.testing.assert_allclose(st.chi2_overdispersion(stacked, N)[2], values["chi2_overdispersion"])


def test_degenerate_datasets_are_defined():
    zeros, full = np.zeros(3, dtype=int), N.copy()
    for r in (zeros, full):
        values = st.compute_statistics(r, N)
        assert all(np.isfinite(v) for v in values.values())
        assert values["chi2_overdispersion"] == 0
        assert values["cv_proportion"] == 0 and values["max_gap"] == 0
        assert st.is_degenerate(r, N)
    assert st.compute_statistics(zeros, N)["n_zero"] == 3
    assert st.compute_statistics(full, N)["n_full"] == 3
    assert not st.is_degenerate(np.array([0, 10, 0]), N)
    np.testing.assert_array_equal(
        st.is_degenerate(np.array([[0, 0, 0], [10, 10, 20], [0, 10, 20]]), N), [True, True, False]
    )


def test_chi2_equals_pearson_statistic_of_the_2xG_table():
    rng = np.random.default_rng(3)
    n = rng.integers(20, 300, size=15)
    r = rng.binomial(n, rng.uniform(0.05, 0.6, size=15))
    table = np.vstack([r, n - r])
    expected = chi2_contingency(table, correction=False)[0]
    assert st.chi2_overdispersion(r, n) == pytest.approx(expected)


def test_hospital12_reproduces_brief_numbers():
    from importlib.resources import files

    df = pd.read_csv(files("binoval.data") / "datasets" / "hospital12.csv")
    values = st.compute_statistics(df["r"].to_numpy(), df["n"].to_numpy())
    assert values["total_successes"] == 208
    assert values["var_proportion"] == pytest.approx(0.00135, abs=5e-6)
    assert values["max_proportion"] == pytest.approx(0.1442, abs=1e-4)
    assert values["cv_proportion"] == pytest.approx(0.499, abs=1e-3)
    assert values["n_zero"] == 1


def test_max_gap_separates_clusters_from_one_population():
    n = np.full(24, 1000)
    spread = np.linspace(0.3, 0.7, 24)  # evenly spread rates: gap / sd = (0.4/23) / sd(uniform grid)
    clustered = np.repeat([0.2, 0.5, 0.8], 8) + np.tile(np.linspace(-0.02, 0.02, 8), 3)
    even = st.max_gap(np.round(spread * 1000), n)
    separated = st.max_gap(np.round(clustered * 1000), n)
    assert even == pytest.approx((0.4 / 23) / spread.std(), rel=0.05)
    assert even < 0.2 and separated > 1.0


def test_unknown_statistic_is_rejected():
    with pytest.raises(KeyError, match="unknown statistics"):
        st.compute_statistics(R, N, names=["nope"])


def test_all_at_once_equals_each_alone_exactly():
    """``compute_statistics`` shares the proportions and their spread between statistics; the numbers are those of
    each statistic computed on its own from the counts, with plain numpy, on ordinary and degenerate datasets."""
    gen = np.random.default_rng(5)
    n = gen.integers(1, 60, 13)
    r = np.concatenate([gen.binomial(n, gen.beta(1, 4, (300, 1))), np.zeros((1, 13), int), n[None], n[None] // 2])
    together = st.compute_statistics(r, n)
    p = r / n
    plain = {
        "total_successes": r.sum(-1),
        "pooled_proportion": r.sum(-1) / n.sum(),
        "sd_proportion": p.std(-1),
        "var_proportion": p.var(-1),
        "min_proportion": p.min(-1),
        "max_proportion": p.max(-1),
        "n_zero": (r == 0).sum(-1),
        "n_full": (r == n).sum(-1),
    }
    for name, values in plain.items():
        assert np.array_equal(together[name], values), name
    for name in st.STATISTIC_NAMES:
        assert np.array_equal(together[name], st.STATISTICS[name].function(r, n)), name


def test_blocked_evaluation_equals_one_pass_over_all_datasets():
    """``compute_statistics`` works through many datasets block by block; every statistic of every dataset is the one
    a single pass over all of them gives, with leading axes kept and with trials given per group or per dataset."""
    gen = np.random.default_rng(11)
    n = gen.integers(1, 60, 13)
    r = gen.binomial(n, gen.beta(1, 4, (2, 6000, 1)))
    assert r[..., 0].size > 2 * st._BLOCK_VALUES // 13  # at least three blocks
    per_dataset_n = np.broadcast_to(n, r.shape) + (r == n) * gen.integers(0, 2, r.shape)
    for trials in (n, per_dataset_n):
        blocked = st.compute_statistics(r, trials)
        whole = st.Datasets(r, trials)
        for name, statistic in st.STATISTICS.items():
            assert blocked[name].shape == r.shape[:-1]
            np.testing.assert_array_equal(blocked[name], statistic.function(whole), err_msg=name)
