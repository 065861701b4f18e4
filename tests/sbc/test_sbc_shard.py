"""SBC shards: simulation from the model, test quantities, log-likelihood, ranks, recorded failures, seeds."""

import numpy as np
import pandas as pd
import pytest

from binoval.models import FAMILIES, GroupedCounts, ModelSpec, build_model
from binoval.models.priors import PriorSpecError
from binoval.models.quadrature import binomial_logpmf_logit
from binoval.sbc.ranks import ranks, thin_draws, thin_factor
from binoval.sbc.simulate import LogLikelihood, check_simulate_priors, sbc_quantities, simulate, simulation_spec
from binoval.schemas import SbcSimulations

SMALL = GroupedCounts(("a", "b", "c", "d"), np.array([20, 30, 25, 40]), np.array([2, 5, 3, 9]))


def spec(family, model_id=None, **options):
    return ModelSpec(model_id or family, family, FAMILIES[family].default_priors, options)


def test_thin_factor():
    assert thin_factor(500, 500.0) == 1
    assert thin_factor(500, 100.0) == 5
    assert thin_factor(500, 20.0, min_ranks=100) == 5  # never fewer than min_ranks draws
    assert thin_factor(500, np.nan) == 5
    assert thin_factor(500, 300.0, thin=3) == 3
    with pytest.raises(ValueError):
        thin_factor(500, 300.0, thin=0)
    x = np.arange(2 * 10).reshape(2, 10)
    np.testing.assert_array_equal(thin_draws(x, 3), [0, 3, 6, 9, 10, 13, 16, 19])


@pytest.mark.parametrize("draws", [1000, 251])
def test_sbc_convergence_diagnostics_match_arviz(draws):
    import arviz as az
    import xarray as xr

    from binoval.mcmc import rhat_and_ess_bulk

    rng = np.random.default_rng(draws)
    x = rng.normal(size=(3, draws, 4)).cumsum(axis=1) * 0.05 + rng.normal(size=(3, draws, 4))
    ds = xr.Dataset({"q": (("chain", "draw", "quantity"), x)})
    rhat, ess = rhat_and_ess_bulk(x)
    np.testing.assert_allclose(rhat, az.rhat(ds)["q"].values)
    np.testing.assert_allclose(ess, az.ess(ds, method="bulk")["q"].values)


def test_ranks_count_draws_below_and_break_ties_at_random():
    draws = np.array([[0.1, 1.0], [0.2, 1.0], [0.3, 1.0], [0.4, 1.0]])
    rng = np.random.default_rng(0)
    got = np.array([ranks(draws, np.array([0.25, 1.0]), rng) for _ in range(2000)])
    assert (got[:, 0] == 2).all()
    counts = np.bincount(got[:, 1].astype(int), minlength=5)
    assert (counts > 300).all()  # 4 tied draws: ranks 0..4 equally likely


def test_check_simulate_priors_names_the_key():
    from binoval.models import expand_models

    specs = expand_models({"hier_logit": {"family": "hier_logit"}, "bb_mixture": {"family": "bb_mixture", "K": 2}})
    assert set(specs) == {"hier_logit", "bb_mixture_k2"}
    ok = check_simulate_priors({"hier_logit": {"tau": {"dist": "HalfNormal", "sigma": 3}}}, specs)
    assert ok == {"hier_logit": {"tau": {"dist": "HalfNormal", "sigma": 3}}}
    assert "bb_mixture_k2" in check_simulate_priors(
        {"bb_mixture": {"kappa": {"dist": "Gamma", "alpha": 2, "beta": 1}}}, specs
    )
    with pytest.raises(PriorSpecError, match=r"sbc\.simulate_priors\.hier_logit\.tau\.dist"):
        check_simulate_priors({"hier_logit": {"tau": {"dist": "Normal", "mu": 0, "sigma": 1}}}, specs)
    with pytest.raises(PriorSpecError, match=r"sbc\.simulate_priors\.hier_logit\.sigma"):
        check_simulate_priors({"hier_logit": {"sigma": {"dist": "HalfNormal", "sigma": 1}}}, specs)
    with pytest.raises(PriorSpecError, match=r"sbc\.simulate_priors\.nope"):
        check_simulate_priors({"nope": {"tau": {"dist": "HalfNormal", "sigma": 1}}}, specs)
    disabled = {"nope": {"family": "hier_logit", "enabled": False}}
    assert check_simulate_priors({"nope": {"tau": {"dist": "HalfNormal", "sigma": 1}}}, specs, disabled) == {}


def test_config_check_rejects_bad_simulate_priors():
    from pathlib import Path

    import yaml

    from binoval.config import ConfigError, check_config, load_schema

    repo = Path(__file__).resolve().parents[2]
    config = yaml.safe_load((repo / "config" / "config.yaml").read_text())
    schema = load_schema(repo / "workflow" / "schemas" / "config.schema.yaml")
    check_config(config, schema)
    config["sbc"]["simulate_priors"] = {"hier_logit": {"tau": {"dist": "Beta", "alpha": 1, "beta": 1}}}
    with pytest.raises(ConfigError, match=r"sbc\.simulate_priors\.hier_logit\.tau"):
        check_config(config, schema)


def test_quantities_and_mixture_prior_draws_are_ordered():
    model = build_model(spec("hier_logit"), SMALL)
    labels = [q.label for q in sbc_quantities(model, spec("hier_logit"))]
    assert labels == ["mu", "tau", "p[a]", "p[b]", "p[c]", "p[d]", "log_likelihood"]
    k1 = spec("bb_mixture", "m_k1", K=1)
    assert [q.label for q in sbc_quantities(build_model(k1, SMALL), k1)] == ["mu[1]", "kappa[1]", "log_likelihood"]
    k3 = spec("bb_mixture", "m_k3", K=3)
    draws = simulate(build_model(k3, SMALL), ["mu", "w"], 300, np.random.default_rng(1))
    assert (np.diff(draws["mu"], axis=1) > 0).all()
    # cumsum of Dirichlet(1,1,1,1) = order statistics of 3 uniforms: E[mu] = 1/4, 2/4, 3/4
    np.testing.assert_allclose(draws["mu"].mean(axis=0), [0.25, 0.5, 0.75], atol=0.04)
    assert draws["r"].shape == (300, 4) and (draws["r"] <= SMALL.n).all()


@pytest.mark.parametrize(
    "model_spec",
    [spec("hier_logit", parameterization="centered"), spec("beta_binomial"), spec("bb_mixture", "m_k2", K=2)],
    ids=lambda s: s.model_id,
)
def test_simulations_draw_what_the_default_compile_mode_draws(model_spec):
    """``simulate`` compiles its draws in ``FORWARD_SAMPLING_MODE`` (no numba compile): the same counts and, to
    rounding, the same parameters as PyMC's default mode from the same generator state."""
    import pymc as pm

    model = build_model(model_spec, SMALL)
    names = [rv.name for rv in model.free_RVs]
    ours = simulate(model, names, 50, np.random.default_rng(5))
    default = dict(zip([*names, "r"], pm.draw([model[n] for n in [*names, "r"]], 50, np.random.default_rng(5))))
    np.testing.assert_array_equal(ours["r"], default["r"])
    for name in names:
        np.testing.assert_allclose(ours[name], default[name], rtol=1e-12, err_msg=name)


@pytest.mark.parametrize(
    "model_spec",
    [spec("pooled"), spec("unpooled"), spec("hier_logit"), spec("beta_binomial"), spec("bb_mixture", "m_k3", K=3)],
    ids=lambda s: s.model_id,
)
def test_predictive_rows_are_the_ppc_stages_numbers(model_spec):
    """SBC's per-fit predictive check works on the draws as arrays; it gives what the ppc stage's
    ``posterior_predictive_check`` gives for the same draws, data and seed, to the last digit."""
    import xarray as xr

    from binoval.predictive.posterior import posterior_predictive_check, posterior_tree
    from binoval.sbc.shard import predictive_rows

    model = build_model(model_spec, SMALL)
    names = [rv.name for rv in model.free_RVs] + [v.name for v in model.deterministics]
    prior = simulate(model, names, 300, np.random.default_rng(11))
    posterior = {name: prior[name].reshape(2, 150, *prior[name].shape[1:]) for name in names}
    data = SMALL.with_successes(prior["r"][0])
    rows = predictive_rows(model_spec, posterior, data, simulation=7, seed=3)
    dataset = xr.Dataset(
        {name: (("chain", "draw", *(f"{name}_dim_{i}" for i in range(v.ndim - 2))), v) for name, v in posterior.items()}
    )
    tables = posterior_predictive_check(
        model_spec.model_id, posterior_tree(dataset, model_spec, data), 3, group_levels=(0.95,)
    )
    expected = tables.statistics[["model_id", "statistic", "observed", "p_value"]].copy()
    expected.insert(1, "simulation", 7)
    expected["coverage_95"] = float(tables.calibration["coverage_95"].iloc[0])
    expected["pit_ks_pvalue"] = float(tables.calibration["pit_ks_pvalue"].iloc[0])
    pd.testing.assert_frame_equal(rows, expected)
    assert 0 < rows["pit_ks_pvalue"].iloc[0] <= 1 and rows["p_value"].between(0, 1).all()


def test_simulation_spec_overrides_only_the_named_prior():
    base = spec("hier_logit")
    sim = simulation_spec(base, {"tau": {"dist": "HalfNormal", "sigma": 3.0}})
    assert sim.priors["tau"]["sigma"] == 3.0 and sim.priors["mu"] == base.priors["mu"]
    tau = simulate(build_model(sim, SMALL), ["tau"], 2000, np.random.default_rng(2))["tau"]
    assert 2.2 < tau.mean() < 2.6  # HalfNormal(3) mean 3 * sqrt(2/pi) = 2.39


def test_log_likelihood_matches_scipy():
    s = spec("hier_logit")
    model = build_model(s, SMALL)
    loglik = LogLikelihood(model)
    rng = np.random.default_rng(3)
    values = {"mu": rng.normal(size=5), "tau": rng.gamma(2, size=5), "z": rng.normal(size=(5, 4))}
    got = loglik(SMALL, values)
    theta = values["mu"][:, None] + values["tau"][:, None] * values["z"]
    # On the logit scale: scipy given p = expit(21.1) loses 3e-6 to rounding 1 - p (the third draw), the model's
    # r theta - n log(1 + e^theta) + log C(n, r) agrees with a 60-digit evaluation to the last digit.
    exact = binomial_logpmf_logit(SMALL.r, SMALL.n, theta).sum(axis=1)
    np.testing.assert_allclose(got, exact, rtol=1e-10)


def test_log_likelihood_of_many_groups_is_compiled_and_agrees():
    """Above ``COMPILED_LOGLIK_ABOVE_GROUPS`` the joint log-likelihood is compiled to machine code; its values are
    the exact ones, as FAST_COMPILE's are on few groups."""
    from binoval.data.synthetic import simulate_logit_normal_counts
    from binoval.sbc.simulate import COMPILED_LOGLIK_ABOVE_GROUPS

    assert LogLikelihood(build_model(spec("hier_logit"), SMALL)).mode == "FAST_COMPILE"
    data = GroupedCounts.from_frame(simulate_logit_normal_counts(COMPILED_LOGLIK_ABOVE_GROUPS + 1, 8))
    loglik = LogLikelihood(build_model(spec("hier_logit"), data))
    assert loglik.mode is None
    rng = np.random.default_rng(4)
    values = {"mu": rng.normal(size=5), "tau": rng.gamma(2, size=5), "z": rng.normal(size=(5, data.n.size))}
    theta = values["mu"][:, None] + values["tau"][:, None] * values["z"]
    exact = binomial_logpmf_logit(data.r, data.n, theta).sum(axis=1)
    np.testing.assert_allclose(loglik(data, values), exact, rtol=1e-10)


@pytest.fixture(scope="module")
def pooled_runner():
    from binoval.sbc.shard import ShardRunner, sbc_sampler_settings

    settings = sbc_sampler_settings({}, {"chains": 2, "draws": 100, "tune": 100})
    return ShardRunner(spec("pooled"), SMALL, settings, seed=5, sims_per_shard=3, min_ranks=50)


def test_raw_trace_path_matches_arviz_path(pooled_runner):
    """The fast nutpie path (raw Arrow trace) gives the same draws and stats as CompiledSampler.fit."""
    from binoval.sbc.shard import ebfmi

    fast = pooled_runner.sample(SMALL, 17)
    slow = pooled_runner.sampler.fit(SMALL, 17).idata
    np.testing.assert_array_equal(fast.posterior["p"], slow.posterior["p"].values)
    np.testing.assert_array_equal(fast.diverging, slow.sample_stats["diverging"].values)
    import arviz as az

    np.testing.assert_allclose(ebfmi(fast.energy), az.bfmi(slow)["energy"].values)
    assert set(fast.posterior) == {"p"}


def test_shard_is_deterministic_and_shards_differ(pooled_runner):
    first = pooled_runner.run(0)
    SbcSimulations.validate(first)
    assert list(first["simulation"].unique()) == [0, 1, 2]
    assert (first["status"] == "ok").all()
    again = pooled_runner.run(0)
    cols = ["simulation", "quantity", "rank", "u", "true_value", "post_mean"]
    pd.testing.assert_frame_equal(first[cols], again[cols])
    other = pooled_runner.run(1)
    assert list(other["simulation"].unique()) == [3, 4, 5]
    assert not np.isin(other["true_value"], first["true_value"]).any()
    # the pooled model's p truth lies inside [0, 1]; log-likelihood quantity present
    assert set(first["quantity"]) == {"p", "log_likelihood"}


def test_thread_cap_does_not_change_the_shard(pooled_runner):
    """Snakemake's thread reservation caps the chains run at once; the ranks depend only on the seeds."""
    from binoval.sbc.shard import ShardRunner

    one_thread = ShardRunner(
        pooled_runner.spec, SMALL, pooled_runner.settings, seed=5, sims_per_shard=3, min_ranks=50, threads=1
    )
    assert one_thread.sampler.threads == 1 and pooled_runner.sampler.threads == 2
    cols = ["simulation", "quantity", "rank", "true_value", "post_mean", "post_sd"]
    pd.testing.assert_frame_equal(one_thread.run(0)[cols], pooled_runner.run(0)[cols])


def test_a_fit_that_raises_is_recorded_and_the_shard_continues(pooled_runner, monkeypatch):
    real_fit = pooled_runner.sample
    calls = {"n": 0}

    def flaky(data, seed, settings=None):
        calls["n"] += settings is None  # count first fits, not extensions of a short fit
        if calls["n"] == 2 and settings is None:
            raise RuntimeError("sampler exploded")
        return real_fit(data, seed, settings)

    monkeypatch.setattr(pooled_runner, "sample", flaky)
    table = pooled_runner.run(0)
    SbcSimulations.validate(table)
    fits = table.drop_duplicates("simulation").set_index("simulation")
    assert list(fits["status"]) == ["ok", "failed", "ok"]
    assert fits.loc[1, "error"] == "RuntimeError: sampler exploded"
    failed = table[table["simulation"] == 1]
    assert failed["true_value"].notna().all() and failed["rank"].isna().all()


def test_fits_short_of_effective_draws_are_extended(pooled_runner):
    """A fit with fewer than min_ranks effective draws is rerun with at most extend_factor x the draws; 1 turns it
    off."""
    import copy

    demanding = copy.copy(pooled_runner)
    demanding.min_ranks, demanding.extend_factor = 10**6, 3
    table = demanding.run(0)
    assert table["extended"].all()
    plain = copy.copy(demanding)
    plain.extend_factor = 1
    assert not plain.run(0)["extended"].any()


def test_extension_draws_are_sized_by_the_first_fits_effective_draws():
    """The refit asks for 1.5 x the draws min_ranks needs at the first fit's ESS rate, between 2x and extend_factor x."""
    from binoval.sbc.shard import extension_draws

    # 500 draws per chain gave 75 effective draws: 100 need 667 per chain, with the margin 1000 (2x)
    assert extension_draws(500, 75.0, 100, 4) == 1000
    # 40 effective draws: 100 need 1250 per chain, with the margin 1875
    assert extension_draws(500, 40.0, 100, 4) == 1875
    # far short, or no usable ESS: the cap
    assert extension_draws(500, 5.0, 100, 4) == 2000
    assert extension_draws(500, float("nan"), 100, 4) == 2000
    assert extension_draws(500, 0.0, 100, 3) == 1500
    # never more than extend_factor x, never less than 2x
    assert extension_draws(500, 99.0, 100, 2) == 1000
    # a fit that started longer than configured (posterior SBC's sized draws) is capped at extend_factor x the
    # configured draws, not at extend_factor x its own
    assert extension_draws(1341, 80.0, 100, 4, configured_draws=500) == 2000
    assert extension_draws(700, 80.0, 100, 4, configured_draws=500) == 1400
