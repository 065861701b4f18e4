"""Posterior SBC: reference draws from the fit, folded replicates, and detection of a likelihood that is wrong for
the data regime.

The detection test fits the pooled model to hospital12 (overdispersed data) and runs posterior SBC twice from the
same fit and the same compiled model: once as it is (the replicate comes from the pooled model itself: calibrated),
once with a simulator whose replicate has the overdispersion the pooled likelihood ignores (group logits spread by
0.45 around the reference rate, as in hospital12). The pooled posterior is then too narrow for the data it sees and
posterior SBC FAILs it.
"""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import integrate, special, stats

from binoval.fit.sampler import SamplerSettings
from binoval.fit.stage import fit_model
from binoval.models import FAMILIES, GroupedCounts, ModelSpec, build_model
from binoval.sbc.check import posterior_sbc_status
from binoval.sbc.posterior import (
    PosteriorShardRunner,
    effective_draws_per_draw,
    fold_replicate,
    reference_positions,
    reference_sized_draws,
)
from binoval.sbc.shard import sbc_sampler_settings
from binoval.sbc.simulate import LogLikelihood
from binoval.sbc.summary import summarise
from binoval.schemas import SbcSimulations

SIMS = 200


def spec_of(family, **options):
    return ModelSpec(family, family, FAMILIES[family].default_priors, options)


@pytest.fixture(scope="module")
def hospital12_counts():
    from binoval.data.grouped import load_dataset

    return GroupedCounts.from_frame(load_dataset("hospital12"))


@pytest.fixture(scope="module")
def pooled_fit(hospital12_counts):
    settings = SamplerSettings.from_config({"chains": 4, "draws": 1000, "tune": 1000})
    return fit_model(spec_of("pooled"), hospital12_counts, settings, seed=5).idata


class OverdispersedReplicate(PosteriorShardRunner):
    """Simulates each replicate group with its own rate: logit p_i = logit p* + 0.45 z_i (what pooled ignores)."""

    def replicate(self, reference, rng):
        p = np.asarray(reference["p"], dtype=float)[:, None]
        rates = special.expit(special.logit(p) + 0.45 * rng.standard_normal((len(p), len(self.data.n))))
        return rng.binomial(self.data.n[None, :], rates).astype("int64")


def status_of(runner):
    table = runner.run(0)
    SbcSimulations.validate(table)
    summary = summarise(table)
    return posterior_sbc_status({"summary": summary, "simulations": table}, {}), summary


def test_reference_positions_spread_over_chains():
    rng = np.random.default_rng(0)
    chain, draw = reference_positions(4, 1000, shard=3, S=10, rng=rng)
    np.testing.assert_array_equal(chain, (30 + np.arange(10)) % 4)
    assert draw.min() >= 0 and draw.max() < 1000
    again = reference_positions(4, 1000, shard=3, S=10, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(draw, again[1])


def test_fold_keeps_shapes_and_covariates():
    data = GroupedCounts(("a", "b"), np.array([10, 20]), np.array([3, 4]), {"x": np.array([1.0, 2.0])})
    folded = fold_replicate(data, np.array([5, 0]))
    assert folded.groups == data.groups and folded.covariates is data.covariates
    np.testing.assert_array_equal(folded.n, [20, 40])
    np.testing.assert_array_equal(folded.r, [8, 4])


@pytest.mark.parametrize(("a", "b"), [(1.0, 9.0), (0.5, 0.5), (7.0, 3.0)])
def test_folding_a_replicate_that_shares_the_rate_is_exact_for_a_marginalised_rate(a, b):
    """p(r, r' | a, b) with one Beta(a, b) rate shared by both counts = constant x BetaBinomial(r + r' | 2n, a, b):
    the ratio does not depend on (a, b), so the posterior given the folded count is the posterior given both."""
    n, r, r_new = 12, 3, 5

    def pair(a, b):
        f = lambda p: stats.binom.pmf(r, n, p) * stats.binom.pmf(r_new, n, p) * stats.beta.pdf(p, a, b)  # noqa: E731
        return integrate.quad(f, 0, 1, points=[0.25, 0.5])[0]

    ratio = pair(a, b) / stats.betabinom.pmf(r + r_new, 2 * n, a, b)
    expected = special.comb(n, r) * special.comb(n, r_new) / special.comb(2 * n, r + r_new)
    assert ratio == pytest.approx(expected, rel=1e-6)


def test_folded_log_likelihood_differs_from_the_pair_by_a_constant():
    """For hier_logit the compiled log-likelihood of the folded data minus that of the two counts (each binomial with
    the group's rate) is the same at every parameter value."""
    data = GroupedCounts(("a", "b", "c"), np.array([10, 30, 20]), np.array([1, 6, 2]))
    r_new = np.array([3, 4, 0])
    spec = spec_of("hier_logit", parameterization="noncentered")
    model = build_model(spec, data)
    loglik = LogLikelihood(model)
    rng = np.random.default_rng(1)
    values = {"mu": rng.normal(-2, 1, 5), "tau": rng.gamma(2, 0.5, 5), "z": rng.normal(size=(5, 3))}
    folded = loglik(fold_replicate(data, r_new), values)
    p = special.expit(values["mu"][:, None] + values["tau"][:, None] * values["z"])
    pair = (stats.binom.logpmf(data.r, data.n, p) + stats.binom.logpmf(r_new, data.n, p)).sum(axis=1)
    difference = folded - pair
    np.testing.assert_allclose(difference, difference[0], rtol=0, atol=1e-9)


def test_simulations_fold_a_replicate_into_the_observed_counts(pooled_fit, hospital12_counts):
    runner = PosteriorShardRunner(
        spec_of("pooled"), hospital12_counts, sbc_sampler_settings({}, {}), 3, 4, posterior=pooled_fit.posterior
    )
    truths = runner.simulate_truths(0, 4, np.random.default_rng(0))
    reference = pooled_fit.posterior["p"].values
    assert all(np.isin(truths["p"], reference))  # reference draws are draws of the fit
    for i in range(4):
        data = runner.dataset(truths, i)
        np.testing.assert_array_equal(data.n, 2 * hospital12_counts.n)
        assert np.all(data.r >= hospital12_counts.r) and np.all(data.r <= hospital12_counts.r + hospital12_counts.n)


def test_the_replicate_reads_variables_that_are_not_ranked(hospital12_counts):
    """bb_mixture_k1's weight w is a constant (not free, not ranked) that its rate draws read: the replicate is
    simulated from every variable of the reference draw, and the shard's fits run (the default run failed here)."""
    spec = ModelSpec("bb_mixture_k1", "bb_mixture", FAMILIES["bb_mixture"].default_priors, {"K": 1})
    fit_settings = SamplerSettings.from_config({"chains": 2, "draws": 200, "tune": 200})
    posterior = fit_model(spec, hospital12_counts, fit_settings, seed=3).idata.posterior
    settings = sbc_sampler_settings({}, {"chains": 2, "draws": 200, "tune": 200})
    runner = PosteriorShardRunner(spec, hospital12_counts, settings, 4, 2, extend_factor=1, posterior=posterior)
    assert "w" in posterior and "w" not in runner.free + runner.variables
    table = runner.run(0)
    SbcSimulations.validate(table)
    assert set(table["status"]) == {"ok"}


def test_fits_start_with_the_draws_the_observed_fit_says_min_ranks_needs():
    # 1.5 x 100 effective draws over 2 chains at 0.05 per draw: 1500 per chain
    assert reference_sized_draws(500, 2, 0.05, 100, 4) == 1500
    assert reference_sized_draws(500, 2, 0.5, 100, 4) == 500  # never fewer than configured
    assert reference_sized_draws(500, 2, 0.001, 100, 4) == 2000  # at most extend_factor x the draws
    assert reference_sized_draws(500, 2, 0.001, 100, 1) == 500  # extend_factor 1: never more draws
    assert reference_sized_draws(500, 2, float("nan"), 100, 4) == 500  # nothing known


def test_the_rate_is_per_sampled_draw_not_per_stored_draw():
    """An extended fit stores thinned draws; its diagnostics tables hold ESS and draw counts of every sampled draw."""
    parameters = pd.DataFrame(
        {
            "variable": ["mu", "mu", "kappa", "w"],
            "index": ["1", "2", "1", "1"],
            "ess_bulk": [650.0, 900.0, 3000.0, np.nan],
        }
    )
    sampler = pd.DataFrame({"chain": [0, 1, 2, 3], "draws": [2000] * 4})
    rates = effective_draws_per_draw(parameters, sampler)
    assert rates == {("mu", "1"): 650.0 / 8000, ("mu", "2"): 900.0 / 8000, ("kappa", "1"): 3000.0 / 8000}
    assert effective_draws_per_draw(parameters.iloc[:0], sampler) == {}


def test_the_shard_fits_with_the_sized_draws(pooled_fit, hospital12_counts):
    settings = sbc_sampler_settings({}, {"chains": 2, "draws": 100, "tune": 100})

    def runner(rates):
        return PosteriorShardRunner(
            spec_of("pooled"), hospital12_counts, settings, 3, 1, posterior=pooled_fit.posterior, reference_rates=rates
        )

    sized = runner({("p", ""): 0.25})
    assert sized.settings.draws == 300  # 1.5 x 100 / (2 x 0.25)
    truths = sized.simulate_truths(0, 1, np.random.default_rng(0))
    assert sized.sample(sized.dataset(truths, 0), 1).posterior["p"].shape == (2, 300)
    assert runner({("x", ""): 0.01}).settings.draws == 100  # a variable it does not rank


def test_a_sized_fit_is_extended_to_at_most_extend_factor_times_the_configured_draws(pooled_fit, hospital12_counts):
    """Sized fits that fall short are refitted no longer than any other SBC fit may get; at the most already, not
    refitted at all (a refit of the same length would only cost)."""
    settings = sbc_sampler_settings({}, {"chains": 2, "draws": 100, "tune": 100})

    def draws_asked(rates):
        runner = PosteriorShardRunner(
            spec_of("pooled"),
            hospital12_counts,
            settings,
            3,
            1,
            posterior=pooled_fit.posterior,
            reference_rates=rates,
            min_ranks=100_000,
            extend_factor=4,
        )
        asked, sample = [], runner.sample

        def recording(data, seed, s=None):
            asked.append((s or runner.settings).draws)
            return sample(data, seed, s)

        runner.sample = recording
        table = runner.run(0)
        return asked, bool(table["extended"].iloc[0])

    # min_ranks 100 000 at 250 effective draws per draw: 1.5 x 100 000 / (2 x 250) = 300 per chain
    assert draws_asked({("p", ""): 250.0}) == ([300, 400], True)  # sized to 300, refitted at 4 x 100
    assert draws_asked({("p", ""): 0.0001}) == ([400], False)  # sized to the most: no refit


def test_the_sized_draws_follow_the_ranked_group_rates_only():
    """With a subset of group rates ranked, a slow unranked group does not size the fits; a slow ranked one does."""
    from binoval.data.synthetic import simulate_logit_normal_counts

    data = GroupedCounts.from_frame(simulate_logit_normal_counts(60, 3))
    spec = spec_of("hier_logit", parameterization="centered")
    reference = xr.Dataset()  # the sizing reads only the rates; the draws are read when simulating
    settings = sbc_sampler_settings({}, {"chains": 2, "draws": 100, "tune": 100})

    def runner(rates):
        return PosteriorShardRunner(
            spec, data, settings, 3, 1, posterior=reference, max_group_quantities=5, reference_rates=rates
        )

    ranked = runner({}).quantities
    groups = [q.index for q in ranked if q.variable == "p" and q.role == "group_subset"]
    unranked = next(str(i) for i in data.groups if str(i) not in groups)
    fast = {("mu", ""): 1.0, ("tau", ""): 1.0, **{("p", g): 1.0 for g in groups}}
    assert runner({**fast, ("p", unranked): 0.01}).settings.draws == 100
    assert runner({**fast, ("p", groups[0]): 0.25}).settings.draws == 300  # 1.5 x 100 / (2 x 0.25)


def test_same_seed_same_table_and_a_failed_fit_is_recorded(pooled_fit, hospital12_counts):
    settings = sbc_sampler_settings({}, {"chains": 2, "draws": 200, "tune": 200})
    make = lambda: PosteriorShardRunner(  # noqa: E731
        spec_of("pooled"), hospital12_counts, settings, 9, 3, posterior=pooled_fit.posterior
    )
    first, second = make().run(1), make().run(1)
    columns = ["simulation", "quantity", "rank", "true_value", "post_mean"]
    assert first[columns].equals(second[columns])
    assert sorted(first["simulation"].unique()) == [3, 4, 5]
    failed = PosteriorShardRunner(
        spec_of("pooled"), hospital12_counts, settings, 9, 3, fit_error="RuntimeError: no draws"
    ).run(0)
    SbcSimulations.validate(failed)
    assert set(failed["status"]) == {"failed"}
    status = posterior_sbc_status({"summary": summarise(failed), "simulations": failed}, {})
    assert status.status == "FAIL"
    assert any("the observed fit failed: RuntimeError: no draws" in reason for reason in status.reasons)


@pytest.fixture(scope="module")
def pooled_runner(pooled_fit, hospital12_counts):
    settings = sbc_sampler_settings({}, {})
    return PosteriorShardRunner(
        spec_of("pooled"), hospital12_counts, settings, 2025, SIMS, posterior=pooled_fit.posterior
    )


def test_matched_simulator_passes(pooled_runner):
    status, summary = status_of(pooled_runner)
    assert status.status == "PASS", status.reasons
    assert summary["ecdf_p_holm"].min() > 0.05


def test_a_likelihood_without_the_data_s_overdispersion_fails(pooled_runner):
    import copy

    runner = copy.copy(pooled_runner)
    runner.__class__ = OverdispersedReplicate
    status, summary = status_of(runner)
    assert status.status == "FAIL", status.reasons
    assert any("ranks of p are not uniform" in reason for reason in status.reasons)
    p = summary.set_index("quantity").loc["p"]
    assert p["coverage_95"] < 0.85 and p["z_sd"] > 1.5  # intervals too narrow for the replicated data


@pytest.mark.slow
def test_centred_hier_logit_fails_where_the_data_put_tau_near_zero():
    """Fresh homogeneous data (12 groups of 100 trials, one rate 0.07): the posterior of tau sits near 0, where the
    centred parameterisation has a funnel. Posterior SBC FAILs the centred hier_logit (most refits diverge) and
    PASSes the non-centred one on the same data."""
    rng = np.random.default_rng(3)
    n = np.full(12, 100)
    data = GroupedCounts(tuple(f"g{i}" for i in range(12)), n, rng.binomial(n, 0.07))
    settings = SamplerSettings.from_config({"chains": 4, "draws": 1000, "tune": 1000})
    results = {}
    for parameterization in ("centered", "noncentered"):
        spec = spec_of("hier_logit", parameterization=parameterization)
        fit = fit_model(spec, data, settings, seed=1, extension={"extend_factor": 2, "max_extensions": 2})
        runner = PosteriorShardRunner(spec, data, sbc_sampler_settings({}, {}), 11, SIMS, posterior=fit.idata.posterior)
        results[parameterization] = status_of(runner)[0]
    assert results["noncentered"].status == "PASS", results["noncentered"].reasons
    assert results["centered"].status == "FAIL", results["centered"].reasons
    assert any("posterior SBC fits did not converge" in reason for reason in results["centered"].reasons)


@pytest.mark.slow
def test_reference_hier_logit_passes_on_hospital12_at_the_defaults(hospital12_counts):
    """The default run's hier_logit, fitted as the fit stage fits it, passes posterior SBC at the default settings."""
    from binoval.defaults import FIT, SAMPLER

    spec = spec_of("hier_logit", parameterization="noncentered")
    fit = fit_model(spec, hospital12_counts, SamplerSettings.from_config(SAMPLER), seed=12345, extension=FIT)
    runner = PosteriorShardRunner(
        spec, hospital12_counts, sbc_sampler_settings(SAMPLER, {}), 12345, SIMS, posterior=fit.idata.posterior
    )
    status, summary = status_of(runner)
    assert status.status == "PASS", status.reasons
    assert summary["coverage_95"].between(0.9, 1.0).all()
