import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml
from conftest import REPO, fit_tables_of
from scipy import stats
from test_config import DEFAULT, overlay

from binoval.config import check_config, load_schema
from binoval.fit.check import fit_status
from binoval.fit.sampler import CompiledSampler, SamplerSettings
from binoval.fit.stage import fit_model
from binoval.io import read_fit, write_netcdf
from binoval.models import GroupedCounts, expand_models
from binoval.schemas import ParameterDiagnostics, SamplerDiagnostics

SMALL = SamplerSettings.from_config({"chains": 2, "draws": 200, "tune": 200})
#: Three small groups, for fits whose numbers do not matter.
THREE_GROUPS = GroupedCounts(("a", "b", "c"), np.array([10, 20, 30]), np.array([1, 5, 9]))


@pytest.fixture(scope="module")
def hier_fit():
    from binoval.data.grouped import load_dataset

    data = GroupedCounts.from_frame(load_dataset("hospital12"))
    spec = expand_models({"hier_logit": {"family": "hier_logit"}})["hier_logit"]
    return data, fit_model(spec, data, SMALL, seed=7, extension={"max_extensions": 0})


def test_a_short_fit_is_extended_before_it_is_judged():
    """50 draws per chain miss the ESS target of 100 per chain: the stage runs the fit again with 2x and then 4x
    the draws (same compiled model), records how often and why, and the fit status says so."""
    from binoval.data.grouped import load_dataset

    data = GroupedCounts.from_frame(load_dataset("hospital12"))
    spec = expand_models({"pooled": {"family": "pooled"}})["pooled"]
    short = SamplerSettings.from_config({"chains": 2, "draws": 50, "tune": 100})
    extended = fit_model(spec, data, short, seed=7)
    sampler = extended.sampler
    assert sampler["extensions"].eq(2).all() and sampler["draws"].eq(200).all() and sampler["tune"].eq(400).all()
    because = sampler["extended_because"].iloc[0]
    assert because.startswith("100 draws per chain: ") and "ESS of p is" in because
    status = fit_status({"parameters": extended.parameters, "sampler": sampler})
    assert any("extended 2 time(s), to 200 draws per chain" in reason for reason in status.reasons)
    # judged on all 2 x 200 draws (an ESS above the 2 x 50 draws kept), stored thinned to the 50 per chain asked
    # for, in every group, so later stages hold what the config asked for whatever the extensions
    assert extended.parameters.set_index("variable").loc["p", "ess_bulk"] > 2 * 50
    for group in ("posterior", "sample_stats", "log_likelihood", "log_prior", "posterior_predictive"):
        assert extended.idata[group].sizes["draw"] == 50, group

    # without extensions the same fit is judged as it is, and fails on ESS
    as_is = fit_model(spec, data, short, seed=7, extension={"max_extensions": 0})
    assert as_is.sampler["extensions"].eq(0).all() and as_is.sampler["draws"].eq(50).all()
    status = fit_status({"parameters": as_is.parameters, "sampler": as_is.sampler})
    assert status.status == "FAIL" and any("bulk ESS of p" in reason for reason in status.reasons)
    assert not any("extended" in reason for reason in status.reasons)

    # a fit that meets the targets is not extended, and the seed alone decides the draws
    enough = fit_model(spec, data, SamplerSettings.from_config({"chains": 2, "draws": 400, "tune": 200}), seed=7)
    assert enough.sampler["extensions"].eq(0).all() and enough.sampler["extended_because"].eq("").all()


def test_fit_has_every_contract_group_and_name(hier_fit):
    data, out = hier_fit
    idata = out.idata
    for group in ("posterior", "sample_stats", "log_likelihood", "log_prior", "posterior_predictive", "observed_data"):
        assert group in idata.children
    assert set(idata.posterior.data_vars) == {"mu", "tau", "z", "theta", "p"}
    # the log prior of the population-level parameters, per draw, in their own (constrained) space
    assert set(idata.log_prior.data_vars) == {"mu", "tau"}
    mu, tau = (idata.posterior[v].values for v in ("mu", "tau"))
    expected = stats.norm.logpdf(mu, 0.0, 1.5) + stats.halfnorm.logpdf(tau, scale=1.0)
    np.testing.assert_allclose(idata.log_prior["mu"].values + idata.log_prior["tau"].values, expected, atol=1e-6)
    assert list(idata.posterior["p"].coords["group"].values) == list(data.groups)
    assert idata.posterior.sizes["chain"] == 2 and idata.posterior.sizes["draw"] == 200
    assert idata.log_likelihood["r"].shape == (2, 200, 12)
    np.testing.assert_array_equal(idata.observed_data["r"].values, data.r)
    pp = idata.posterior_predictive["r"].values
    assert pp.shape == (2, 200, 12) and np.all((pp >= 0) & (pp <= data.n))


def test_a_stored_fit_opens_whole_or_by_group(hier_fit, tmp_path):
    _, out = hier_fit
    path = tmp_path / "fit.nc"
    write_netcdf(out.idata, path)
    whole = read_fit(path)
    assert set(whole.children) == set(out.idata.children)
    posterior = read_fit(path, groups=["posterior", "no_such_group"])
    assert list(posterior.children) == ["posterior"]
    xr.testing.assert_identical(posterior.posterior.to_dataset(), whole.posterior.to_dataset())


def test_diagnostics_tables_validate_and_cover_every_quantity(hier_fit):
    _, out = hier_fit
    params = ParameterDiagnostics.validate(out.parameters)
    sampler = SamplerDiagnostics.validate(out.sampler)
    assert len(params) == 2 + 12 * 3
    assert set(params.loc[params["free"], "variable"]) == {"mu", "tau", "z"}
    assert params["r_hat"].notna().all() and (params["ess_bulk"] > 0).all()
    assert list(sampler["chain"]) == [0, 1] and (sampler["error"] == "").all()
    assert sampler["wall_time_s"].iloc[0] > 0


def test_diagnostics_reuse_the_convergence_table_of_the_same_draws(hier_fit):
    """The fit stage passes the convergence table it judged by; the parameters table is the same as computed afresh
    (this fit was not extended, so the stored draws are the judged ones)."""
    from binoval.fit.diagnostics import convergence_table, parameter_diagnostics

    _, out = hier_fit
    free = {"mu", "tau", "z"}
    afresh = parameter_diagnostics(out.idata, "hier_logit", free)
    reused = parameter_diagnostics(out.idata, "hier_logit", free, convergence_table(out.idata))
    pd.testing.assert_frame_equal(reused, afresh)
    pd.testing.assert_frame_equal(out.parameters, afresh)


def test_a_mixture_fit_is_judged_on_its_weights_and_means_not_on_the_gamma_variables_they_are_made_of():
    """bb_mixture's unnormalised Gamma variables (``auxiliary_variables``) have a scale no data inform: the fit is
    judged on w, mu and kappa, which are made from them, while the stored posterior keeps them (posterior
    predictive draws and refits need every free variable)."""
    from binoval.fit.diagnostics import convergence_table

    (spec,) = expand_models({"m": {"family": "bb_mixture", "K": 2}}).values()
    out = fit_model(spec, THREE_GROUPS, SMALL, seed=3, extension={"max_extensions": 0})
    assert set(out.parameters["variable"]) == {"w", "mu", "kappa"}
    assert len(out.parameters) == 6 and out.parameters["r_hat"].notna().all()
    assert {"w_unnormalised", "mu_gaps_unnormalised"} <= set(out.idata.posterior.data_vars)

    # an excluded variable is not judged even when its chains disagree outright
    posterior = out.idata.posterior.to_dataset()
    stuck = posterior["mu"].isel(cluster=0) + posterior["chain"]  # mu is in (0, 1): the chains do not overlap
    idata = xr.DataTree.from_dict({"posterior": posterior.assign(stuck=stuck)})
    assert convergence_table(idata).set_index("variable").loc["stuck", "r_hat"] > 1.5
    assert "stuck" not in set(convergence_table(idata, ["stuck"])["variable"])


def test_same_seed_same_draws():
    data = THREE_GROUPS
    spec = expand_models({"pooled": {"family": "pooled"}})["pooled"]
    first = fit_model(spec, data, SMALL, seed=3).idata.posterior["p"].values
    second = fit_model(spec, data, SMALL, seed=3).idata.posterior["p"].values
    third = fit_model(spec, data, SMALL, seed=4).idata.posterior["p"].values
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, third)


def test_failing_fit_is_recorded_not_raised(monkeypatch):
    def boom(self, data, seed, settings=None):
        raise RuntimeError("initial evaluation failed\nsecond line")

    monkeypatch.setattr(CompiledSampler, "fit", boom)
    data = GroupedCounts(("a", "b"), np.array([10, 20]), np.array([1, 5]))
    spec = expand_models({"pooled": {"family": "pooled"}})["pooled"]
    out = fit_model(
        spec, data, SamplerSettings.from_config({"backend": "pymc", "chains": 1, "draws": 10, "tune": 10}), seed=1
    )
    sampler = SamplerDiagnostics.validate(out.sampler)
    assert sampler["error"].iloc[0] == "RuntimeError: initial evaluation failed"
    assert ParameterDiagnostics.validate(out.parameters).empty and "observed_data" in out.idata.children
    status = fit_status({"parameters": out.parameters, "sampler": sampler})
    assert status.status == "FAIL" and "initial evaluation failed" in status.reasons[0]


@pytest.mark.parametrize(
    "kwargs, status, fragment",
    [
        ({}, "PASS", "max R-hat 1.000"),
        ({"r_hat": 1.05}, "FAIL", "R-hat of mu is 1.050 > 1.01"),
        ({"ess": 150.0}, "FAIL", "bulk ESS of mu is 150 < 200"),
        ({"divergences": (1, 0)}, "WARN", "1 divergent transitions"),
        ({"divergences": (5, 3)}, "FAIL", "8 divergent transitions (0.40% of 2000 draws)"),
        ({"ebfmi": (0.2, 0.9)}, "FAIL", "E-BFMI of chain 0 is 0.20"),
        ({"hits": (30, 0)}, "WARN", "hit the maximum tree depth"),
    ],
)
def test_fit_status_thresholds(kwargs, status, fragment):
    result = fit_status(fit_tables_of(**kwargs))
    assert result.status == status
    assert any(fragment in reason for reason in result.reasons), result.reasons


def test_reference_posterior_of_hospital12():
    """Reference analysis of hospital12: mu mean -2.559 (within 0.03), tau mean 0.451 (within 0.04)."""
    from binoval.data.grouped import load_dataset

    reference = yaml.safe_load((REPO / "config" / "examples" / "hospital12_reference.yaml").read_text())
    config = overlay(DEFAULT, reference)
    specs = check_config(config, load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml"))
    data = GroupedCounts.from_frame(load_dataset(config["dataset"]))
    out = fit_model(specs["hier_logit"], data, SamplerSettings.from_config(config["sampler"]), seed=config["seed"])
    post = out.idata.posterior
    assert abs(float(post["mu"].mean()) - (-2.559)) < 0.03
    assert abs(float(post["tau"].mean()) - 0.451) < 0.04
    p = post["p"].mean(dim=("chain", "draw"))
    assert abs(float(p.sel(group="1")) - 0.050) < 0.01
    assert abs(float(p.sel(group="8")) - 0.126) < 0.01
    assert abs(float(p.sel(group="4")) - 0.054) < 0.01
    assert fit_status({"parameters": out.parameters, "sampler": out.sampler}).status in ("PASS", "WARN")


def _built(model_id: str, spec: dict):
    from binoval.models import build_model

    (built,) = expand_models({model_id: spec}).values()
    return build_model(built, THREE_GROUPS)


@pytest.mark.parametrize(
    "spec, expected",
    [
        ({"family": "hier_logit"}, "low_rank"),
        ({"family": "hier_logit", "parameterization": "noncentered"}, "low_rank"),
        ({"family": "hier_logit", "parameterization": "centered"}, "diag"),
        ({"family": "beta_binomial"}, "diag"),
        ({"family": "pooled"}, "diag"),
        ({"family": "bb_mixture", "K": 3}, "diag"),
        ({"family": "bb_mixture", "K": 1}, "low_rank"),
    ],
)
def test_the_family_chooses_the_mass_matrix_unless_the_config_does(spec, expected):
    from binoval.fit.sampler import mass_matrix_of

    model = _built("m", spec)
    assert mass_matrix_of(model, SamplerSettings()) == expected
    for chosen in ("diag", "low_rank"):
        assert mass_matrix_of(model, SamplerSettings(mass_matrix=chosen)) == chosen
    assert mass_matrix_of(model, SamplerSettings(backend="pymc")) == "diag"


def test_the_low_rank_mass_matrix_follows_a_non_centred_mean_across_many_groups():
    """At 300 informative groups mu moves with all 300 z-scores: the regularised low-rank matrix finds that
    direction (the diagonal one gave an ESS of mu near 60, nutpie's unregularised low rank took 13 s)."""
    import arviz_stats

    from binoval.data.synthetic import simulate_logit_normal_counts
    from binoval.fit.sampler import (
        LOW_RANK_GAMMA,
        LOW_RANK_REGULARISED_ABOVE,
        LOW_RANK_UPDATE_INTERVAL,
        nutpie_adaptation,
        parameter_count,
    )
    from binoval.models import build_model

    (spec,) = expand_models({"m": {"family": "hier_logit"}}).values()
    data = GroupedCounts.from_frame(simulate_logit_normal_counts(300, 20261123))
    model = build_model(spec, data)
    assert parameter_count(model) == 302  # mu, tau and one z per group
    sampler = CompiledSampler(model, SamplerSettings.from_config({"chains": 2, "draws": 500, "tune": 300}), 1)
    assert sampler.adaptation_options == {
        "adaptation": "low_rank",
        "mass_matrix_gamma": LOW_RANK_GAMMA,
        "mass_matrix_update_freq": LOW_RANK_UPDATE_INTERVAL,
    }
    at_the_limit = build_model(spec, data.rows(list(range(LOW_RANK_REGULARISED_ABOVE - 2))))
    assert parameter_count(at_the_limit) == LOW_RANK_REGULARISED_ABOVE
    assert nutpie_adaptation("low_rank", at_the_limit) == {"adaptation": "low_rank"}
    assert nutpie_adaptation("diag", model) == {"adaptation": "diag"}
    fit = sampler.fit(data, seed=1)
    ess = arviz_stats.ess(fit.idata, var_names=["mu", "tau"])
    assert min(float(ess["mu"]), float(ess["tau"])) > 200


def test_a_mass_matrix_the_backend_cannot_adapt_is_an_error():
    from binoval.fit.sampler import mass_matrix_of

    model = _built("m", {"family": "pooled"})
    with pytest.raises(ValueError, match="sampler.mass_matrix must be one of auto, diag, low_rank, got 'dense'"):
        mass_matrix_of(model, SamplerSettings(mass_matrix="dense"))
    with pytest.raises(ValueError, match="low_rank needs the nutpie backend"):
        mass_matrix_of(model, SamplerSettings(backend="pymc", mass_matrix="low_rank"))
    from binoval.config import ConfigError

    with pytest.raises(ConfigError, match="sampler.mass_matrix"):
        check_config(
            overlay(DEFAULT, {"sampler": {"mass_matrix": "dense"}}),
            load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml"),
        )


@pytest.mark.parametrize("family, adaptation", [("hier_logit", "low_rank"), ("beta_binomial", "diag")])
def test_the_chosen_mass_matrix_reaches_nutpie(monkeypatch, family, adaptation):
    import nutpie

    calls = []

    class Compiled:
        shared_var_keys = {}

        def with_data(self, **data):
            return self

    monkeypatch.setattr(nutpie, "compile_pymc_model", lambda model, **kwargs: Compiled())
    monkeypatch.setattr(nutpie, "sample", lambda compiled, **kwargs: calls.append(kwargs) or "draws")
    monkeypatch.setattr("binoval.fit.sampler.drop_transformed", lambda idata: idata)
    sampler = CompiledSampler(_built("m", {"family": family}), SMALL)
    sampler.fit(THREE_GROUPS, seed=1)
    assert calls[0]["adaptation"] == adaptation
    assert "mass_matrix_gamma" not in calls[0]  # three groups: nutpie's own regularisation

    # SBC's fits, which call nutpie on the compiled model themselves, adapt the same way
    from binoval.sbc.shard import ShardRunner

    (spec,) = expand_models({"m": {"family": family}}).values()
    runner = ShardRunner(spec, THREE_GROUPS, SMALL, seed=1, sims_per_shard=1)
    monkeypatch.setattr(nutpie, "sample", lambda compiled, **kwargs: calls.append(kwargs) or 1 / 0)
    with pytest.raises(ZeroDivisionError):
        runner.sample(THREE_GROUPS, seed=1)
    assert {key: calls[-1].get(key) for key in ("adaptation", "mass_matrix_gamma")} == {
        key: calls[0].get(key) for key in ("adaptation", "mass_matrix_gamma")
    }


@pytest.mark.parametrize("adaptation, nutpie_interval", [("low_rank", 20), ("diag", 1)])
def test_nutpie_sample_sets_the_update_interval_nutpie_sample_does_not_take(adaptation, nutpie_interval):
    """At nutpie's own update interval ``nutpie_sample`` draws what ``nutpie.sample`` draws (the same settings and
    start); at another the draws change, so the interval reached the sampler."""
    import nutpie

    from binoval.data.grouped import load_dataset
    from binoval.fit.nutpie_cache import compile_nutpie_model
    from binoval.fit.sampler import nutpie_sample, with_data
    from binoval.models import build_model

    (spec,) = expand_models({"m": {"family": "hier_logit"}}).values()
    data = GroupedCounts.from_frame(load_dataset("hospital12"))
    compiled = with_data(compile_nutpie_model(build_model(spec, data)), data)
    run = dict(draws=50, tune=100, chains=2, cores=1, seed=3, progress_bar=False, adaptation=adaptation)
    run |= dict(target_accept=0.9, save_warmup=False)

    def mu(trace):
        return trace["posterior"]["mu"].values

    reference = mu(nutpie.sample(compiled, **run))
    same = mu(nutpie_sample(compiled, mass_matrix_update_freq=nutpie_interval, **run))
    other = mu(nutpie_sample(compiled, mass_matrix_update_freq=nutpie_interval + 7, **run))
    np.testing.assert_array_equal(same, reference)
    assert not np.array_equal(other, reference)
