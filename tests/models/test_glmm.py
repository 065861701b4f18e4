import numpy as np
import pymc as pm
import pytest

from binoval.data.grouped import load_dataset
from binoval.fit.check import fit_status
from binoval.fit.sampler import SamplerSettings
from binoval.fit.stage import fit_model
from binoval.models import GroupedCounts, build_model, expand_models

CENSUS = GroupedCounts.from_frame(load_dataset("census14"))


def glmm(formula, **options):
    return expand_models({"g": {"family": "glmm", "formula": formula, **options}})["g"]


def test_names_and_dims_of_correlated_model():
    model = build_model(glmm("r | trials(n) ~ sex + (1 + sex | edu)"), CENSUS)
    idata = pm.sample_prior_predictive(draws=200, model=model, random_seed=1)
    prior = idata.prior
    assert {"Intercept", "b", "sigma_edu", "corr_edu", "u_edu", "theta", "p"} <= set(prior.data_vars)
    assert prior["b"].dims[2:] == ("coef",) and list(prior["b"].coords["coef"].values) == ["sex[male]"]
    assert prior["u_edu"].shape[2:] == (7, 2)
    corr = prior["corr_edu"].values
    assert corr.shape[2:] == (1,) and np.all(np.abs(corr) <= 1)
    assert prior["p"].dims[2:] == ("group",)


def test_crossed_intercepts_model_builds_and_simulates():
    data = GroupedCounts(
        ("a", "b", "c", "d"),
        np.array([10, 20, 30, 40]),
        np.array([1, 5, 9, 20]),
        {"actor": np.array(["x", "x", "y", "y"]), "block": np.array(["1", "2", "1", "2"])},
    )
    idata = pm.sample_prior_predictive(
        draws=50, model=build_model(glmm("r ~ (1 | actor) + (1 | block)"), data), random_seed=2
    )
    assert {"sigma_actor", "sigma_block", "u_actor", "u_block"} <= set(idata.prior.data_vars)
    assert "b" not in idata.prior


def test_census_sex_effect_matches_reference():
    """Reference analysis of census14: intercepts varying by education plus sex; sex effect near 1.37 (sd 0.04)."""
    out = fit_model(
        glmm("r | trials(n) ~ sex + (1 | edu)"),
        CENSUS,
        SamplerSettings.from_config({"draws": 1000, "tune": 1000}),
        seed=11,
    )
    b = out.idata.posterior["b"].sel(coef="sex[male]")
    assert abs(float(b.mean()) - 1.37) < 0.03
    assert 0.02 < float(b.std()) < 0.06
    assert int(out.sampler["divergences"].sum()) <= 4


@pytest.mark.slow
def test_census_correlated_slopes_runs_with_few_divergences():
    out = fit_model(glmm("r | trials(n) ~ sex + (1 + sex | edu)"), CENSUS, SamplerSettings.from_config({}), seed=12)
    assert int(out.sampler["divergences"].sum()) <= 5
    assert not any(
        "divergent" in reason and reason.startswith("FAIL")
        for reason in fit_status({"parameters": out.parameters, "sampler": out.sampler}).reasons
    )


def test_centered_parameterization_has_the_same_names_and_samples_u_directly():
    formula = "r | trials(n) ~ sex + (1 + sex | edu)"
    for options in ({}, {"formula": "r | trials(n) ~ sex + (1 | edu)"}):
        spec = glmm(options.get("formula", formula), parameterization="centered")
        model = build_model(spec, CENSUS)
        free = {rv.name for rv in model.free_RVs}
        assert "u_edu" in free and "z_edu" not in free
        prior = pm.sample_prior_predictive(draws=100, model=model, random_seed=3).prior
        assert {"sigma_edu", "u_edu", "theta", "p"} <= set(prior.data_vars)
    noncentered = build_model(glmm(formula), CENSUS)
    assert "z_edu" in {rv.name for rv in noncentered.free_RVs}
    with pytest.raises(ValueError, match="parameterization"):
        build_model(glmm(formula, parameterization="sideways"), CENSUS)


def test_census_centered_and_noncentered_fits_agree():
    """Both parameterizations are the same model: their posteriors of the sex effect and the level sd agree."""
    formula = "r | trials(n) ~ sex + (1 | edu)"
    settings = SamplerSettings.from_config({"chains": 2, "draws": 1000, "tune": 1000})
    posteriors = [
        fit_model(glmm(formula, parameterization=p), CENSUS, settings, seed=11).idata.posterior
        for p in ("noncentered", "centered")
    ]
    for name, tolerance in (("b", 0.01), ("sigma_edu", 0.1), ("Intercept", 0.1)):
        means = [float(post[name].mean()) for post in posteriors]
        assert abs(means[0] - means[1]) < tolerance, (name, means)
    assert abs(float(posteriors[1]["b"].mean()) - 1.37) < 0.03
