"""The uniformity tests, bands and multiplicity of binoval.sbc on synthetic ranks (fast, no sampling)."""

import numpy as np
import pandas as pd
import pytest

from binoval.sbc.check import sbc_status
from binoval.sbc.summary import jeffreys_interval, summarise
from binoval.sbc.uniformity import (
    adjusted_gamma,
    chi_square_test,
    ecdf_band,
    ecdf_counts,
    ecdf_test,
    fractional_ranks,
    holm,
    null_statistics,
)


def test_holm_matches_hand_computation():
    p = [0.01, 0.04, 0.03, 0.005, np.nan]
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> monotone 0.06
    np.testing.assert_allclose(holm(p)[:4], [0.03, 0.06, 0.06, 0.02])
    assert np.isnan(holm(p)[4])


def test_fractional_ranks_of_uniform_discrete_ranks_are_uniform():
    rng = np.random.default_rng(1)
    L = rng.integers(100, 300, size=20000)
    rank = rng.integers(0, L + 1)
    u = fractional_ranks(rank, L, rng)
    assert ((u >= 0) & (u < 1)).all()
    counts = np.histogram(u, bins=10, range=(0, 1))[0]
    assert np.abs(counts - 2000).max() < 200


def test_simultaneous_band_has_its_coverage_and_is_wider_than_pointwise():
    n = 100
    band = ecdf_band(n, alpha=0.05)
    assert 0 < band.gamma < 0.05  # adjusted for the many evaluation points
    rng = np.random.default_rng(7)
    inside = 0
    for _ in range(1000):
        diff = ecdf_counts(rng.random(n), band.z) / n - band.z
        inside += bool(((diff >= band.lower - 1e-12) & (diff <= band.upper + 1e-12)).all())
    assert 0.93 <= inside / 1000 <= 0.975


def test_null_distribution_is_deterministic():
    assert np.array_equal(null_statistics(50), null_statistics.__wrapped__(50))
    assert adjusted_gamma(50) == adjusted_gamma(50)


@pytest.mark.parametrize("n", [50, 200, 1000])
def test_ecdf_p_value_does_not_depend_on_rounding(n):
    """A sample and its mirror image 1 - u have the same ECDF statistic in exact arithmetic (binomial symmetry;
    the evaluation points are symmetric), reached by the lower tail in one and the upper tail in the other."""
    rng = np.random.default_rng(n)
    for _ in range(100):
        u = rng.random(n)
        assert ecdf_test(u).p_value == ecdf_test(1.0 - u).p_value


@pytest.mark.parametrize("test", [lambda u: ecdf_test(u).p_value, lambda u: chi_square_test(u)[0].p_value])
def test_false_rejection_rate_is_about_alpha(test):
    rng = np.random.default_rng(3)
    p = np.array([test(rng.random(100)) for _ in range(400)])
    assert 0.02 <= (p < 0.05).mean() <= 0.09


@pytest.mark.parametrize("bad", ["too_narrow", "biased"])
def test_both_tests_reject_miscalibrated_ranks(bad):
    rng = np.random.default_rng(4)
    # a posterior too narrow piles ranks at the ends; a biased one shifts them
    u = rng.beta(0.6, 0.6, 200) if bad == "too_narrow" else rng.beta(1.6, 1.0, 200)
    assert ecdf_test(u).p_value < 0.01
    assert chi_square_test(u)[0].p_value < 0.01


def test_jeffreys_interval():
    low, high = jeffreys_interval(95, 100)
    assert low < 0.95 < high and high < 1
    assert jeffreys_interval(0, 10)[0] == 0 and jeffreys_interval(10, 10)[1] == 1


def synthetic_simulations(n_sims, rng, narrow_tau=False, failed=0, diverging=0):
    """A per-simulation table as the shards write it, for a model with parameters mu and tau.

    The 'posterior' of each quantity is Normal(post_mean, post_sd); the truth is drawn from that posterior
    (calibrated) or, for tau with ``narrow_tau``, from a distribution 2.5 times wider (miscalibrated).
    """
    from scipy import stats

    rows = []
    for s in range(n_sims):
        for q in ("mu", "tau"):
            mean, sd = rng.normal(), 1.0
            spread = 2.5 if (narrow_tau and q == "tau") else 1.0
            truth = mean + spread * sd * rng.normal()
            L = 200
            rank = int(np.clip(np.round(stats.norm.cdf(truth, mean, sd) * (L + 1) - rng.random()), 0, L))
            bounds = {
                f"q{lv}_{side}": stats.norm.ppf(0.5 + sign * lv / 200, mean, sd)
                for lv in (50, 80, 95)
                for side, sign in (("low", -1), ("high", 1))
            }
            status = "failed" if s < failed else "ok"
            row = dict(
                model_id="m",
                shard=0,
                simulation=s,
                quantity=q,
                variable=q,
                index="",
                role="parameter",
                status=status,
                error="RuntimeError: boom" if status == "failed" else "",
                rhat_max=1.0,
                ess_min=300.0,
                divergences=int(s < failed + diverging) * 3,
                ebfmi_min=0.9,
                wall_time_s=0.1,
                extended=False,
                thin=1,
                n_ranks=float(L),
                rank=float(rank),
                u=(rank + rng.random()) / (L + 1),
                true_value=truth,
                post_mean=mean,
                post_sd=sd,
                **bounds,
            )
            if status == "failed":
                row.update(
                    {
                        k: np.nan
                        for k in ["rank", "u", "post_mean", "post_sd", "n_ranks", "rhat_max", "ess_min", *bounds]
                    }
                )
                row["divergences"] = 0
            rows.append(row)
    return pd.DataFrame(rows)


def test_sbc_status_passes_calibrated_and_fails_miscalibrated():
    rng = np.random.default_rng(11)
    good = synthetic_simulations(200, rng)
    status = sbc_status({"summary": summarise(good), "simulations": good}, {})
    assert status.status == "PASS", status.reasons
    bad = synthetic_simulations(200, rng, narrow_tau=True)
    summary = summarise(bad)
    status = sbc_status({"summary": summary, "simulations": bad}, {})
    assert status.status == "FAIL"
    assert any("tau" in r and "not uniform" in r for r in status.reasons)
    assert not any("of mu" in r for r in status.reasons)
    assert summary.set_index("quantity").loc["tau", "coverage_95"] < 0.8


def test_sbc_status_counts_failed_and_nonconverged_fits():
    rng = np.random.default_rng(12)
    table = synthetic_simulations(120, rng, failed=3)
    status = sbc_status({"summary": summarise(table), "simulations": table}, {})
    assert status.status == "WARN" and any("3 of 120 SBC fits failed" in r for r in status.reasons)
    table = synthetic_simulations(120, rng, failed=10)
    assert sbc_status({"summary": summarise(table), "simulations": table}, {}).status == "FAIL"
    table = synthetic_simulations(120, rng, diverging=40)
    status = sbc_status({"summary": summarise(table), "simulations": table}, {})
    assert status.status == "FAIL" and any("did not converge" in r for r in status.reasons)
    assert sbc_status({"summary": summarise(table), "simulations": table}, {"divergences_max": 5}).status == "PASS"


def test_all_failed_fits_summarise_plot_and_fail(tmp_path):
    from binoval.sbc.plots import plot_ecdf_difference, plot_rank_histograms
    from binoval.schemas import SbcSimulations, SbcSummary

    table = SbcSimulations.validate(synthetic_simulations(5, np.random.default_rng(13), failed=5))
    summary = SbcSummary.validate(summarise(table))
    assert (summary["ranked"] == 0).all() and summary["ecdf_p_holm"].isna().all()
    plot_ecdf_difference(table, tmp_path / "e.png")
    plot_rank_histograms(table, tmp_path / "r.png")
    status = sbc_status({"summary": summary, "simulations": table}, {})
    assert status.status == "FAIL" and any("no SBC fit succeeded" in r for r in status.reasons)
