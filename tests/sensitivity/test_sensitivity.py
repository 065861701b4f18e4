"""Prior sensitivity by power-scaling: what is scaled, known answers, hospital12 fits, the stage's status and plot.

The hospital12 fits (hier_logit, 4 x 1000 draws, fixed seed) with three priors on ``mu`` (the population
logit; the data's pooled proportion 0.074 is logit -2.53):
- the family default Normal(0, 1.5): nothing sensitive to the prior (largest prior sensitivity about 0.03);
- Normal(-1, 0.3), a prior 5 sds from the data: prior-data conflict on ``mu`` (prior about 0.5, likelihood
  about 0.09);
- Normal(1.5, 0.2), 20 sds from the data: so far from them that the model gives up pooling instead (tau grows
  from 0.44 to 3.2, mu stays at 1.3): the data then reach ``mu`` only through the population of the group
  logits, which is scaled neither with the prior nor with the likelihood, so ``mu`` and ``tau`` show as
  "prior dominates" (likelihood sensitivity of mu about 0.01) and the conflict shows on the group with the
  most extreme data, p[1] (0/47).
"""

from __future__ import annotations

import struct

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from binoval.defaults import THRESHOLDS
from binoval.fit.sampler import SamplerSettings
from binoval.fit.stage import fit_model
from binoval.io import write_netcdf
from binoval.models import GroupedCounts, build_model, expand_models, family_of
from binoval.sensitivity.check import PARETO_K_MAX, sensitivity_status
from binoval.sensitivity.plots import MAX_HEIGHT, plot_powerscale_sequence
from binoval.sensitivity.powerscale import (
    CONFLICT,
    NO_ISSUE,
    PRIOR_DOMINATES,
    SEQUENCE_COLUMNS,
    TABLE_COLUMNS,
    components,
    log_prior_dataset,
    log_prior_draws,
    powerscale_sequence,
    prior_variables,
    quantities,
    reported_groups,
    sensitivity_table,
)

SETTINGS = SamplerSettings.from_config({"chains": 4, "draws": 1000, "tune": 1000})
SEED = 1


def _data(name: str) -> GroupedCounts:
    from binoval.data.grouped import load_dataset

    return GroupedCounts.from_frame(load_dataset(name))


HOSPITALS = _data("hospital12")
CENSUS = _data("census14")
#: groups in sorted order: glmm's ``(1 | group)`` sorts the levels of ``group`` (hospital12's "1", "10", ... clash)
SORTED = GroupedCounts(("a", "b", "c", "d", "e"), np.array([10, 50, 1, 200, 30]), np.array([0, 20, 1, 37, 30]))


def spec_of(raw: dict, model_id: str = "m"):
    return next(iter(expand_models({model_id: raw}).values()))


def hier_logit(mu_prior: dict | None = None):
    raw = {"family": "hier_logit", "parameterization": "noncentered"}
    if mu_prior:
        raw["priors"] = {"mu": {"dist": "Normal", **mu_prior}}
    return spec_of(raw, "hier_logit")


def fitted(spec):
    out = fit_model(spec, HOSPITALS, SETTINGS, seed=SEED, extension={"max_extensions": 0})
    return spec, out.idata


@pytest.fixture(scope="module")
def reference_fit():
    return fitted(hier_logit())


@pytest.fixture(scope="module")
def conflict_fit():
    return fitted(hier_logit({"mu": -1.0, "sigma": 0.3}))


@pytest.fixture(scope="module")
def far_prior_fit():
    return fitted(hier_logit({"mu": 1.5, "sigma": 0.2}))


def rows_by_quantity(table: pd.DataFrame) -> pd.DataFrame:
    return table.set_index("quantity")


# -- (d) what is scaled, and the log prior -------------------------------------------------------------

#: model spec, data, and the free variables whose prior is power-scaled (exactly the population-level ones).
PRIOR_CASES = {
    "pooled": ({"family": "pooled"}, HOSPITALS, ["p"]),
    # no population: the per-group p take the configured prior, so they are what is scaled
    "unpooled": ({"family": "unpooled"}, HOSPITALS, ["p"]),
    "hier_logit": ({"family": "hier_logit", "parameterization": "noncentered"}, HOSPITALS, ["mu", "tau"]),
    "hier_logit_centered": ({"family": "hier_logit", "parameterization": "centered"}, HOSPITALS, ["mu", "tau"]),
    "beta_binomial": ({"family": "beta_binomial"}, HOSPITALS, ["mu", "kappa"]),
    # the Gamma variables normalised to w and to the gaps of the means are auxiliary: the Dirichlet densities of
    # w and the gaps are scaled in their place (Family.derived_log_prior; K = 1: w is a constant)
    "bb_mixture_k1": ({"family": "bb_mixture", "K": 1}, HOSPITALS, ["kappa"]),
    "bb_mixture_k3": ({"family": "bb_mixture", "K": 3}, HOSPITALS, ["kappa"]),
    "logit_t": ({"family": "logit_t"}, HOSPITALS, ["mu", "tau", "nu"]),
    "glmm_rows": ({"family": "glmm", "formula": "r ~ (1 | group)"}, SORTED, ["Intercept", "sigma_group"]),
    "glmm_census": (
        {"family": "glmm", "formula": "r | trials(n) ~ sex + (1 | edu)"},
        CENSUS,
        ["Intercept", "b", "sigma_edu"],
    ),
    "glmm_correlated_centered": (
        {"family": "glmm", "formula": "r | trials(n) ~ sex + (1 + sex | edu)", "parameterization": "centered"},
        CENSUS,
        ["Intercept", "b", "chol_edu"],
    ),
}


def prior_tree(model, draws: int = 40):
    """Prior draws of every variable in the shape of a fit's posterior (a stand-in for a fit)."""
    import pymc as pm

    prior = pm.sample_prior_predictive(draws=draws, model=model, random_seed=3)
    return xr.DataTree.from_dict({"posterior": prior["prior"].to_dataset()})


@pytest.mark.parametrize("case", sorted(PRIOR_CASES))
def test_scaled_priors_are_exactly_the_population_level_free_variables(case):
    raw, data, expected = PRIOR_CASES[case]
    spec = spec_of(raw)
    model = build_model(spec, data)
    assert prior_variables(spec, data, model) == expected
    # every other free variable is group-level (it has the group dimension or a level dimension of a factor) or
    # an auxiliary variable of the family
    auxiliary = family_of(spec).auxiliary_variables(**spec.options)
    for rv in model.free_RVs:
        if rv.name not in expected and rv.name not in auxiliary:
            dims = set(model.named_vars_to_dims.get(rv.name) or ())
            assert dims & ({"group"} | set(data.covariates)), rv.name
    # the log prior evaluates at every draw, for every family (LKJ, Dirichlet and mixtures included)
    log_prior = log_prior_draws(log_prior_dataset(spec, data, prior_tree(model), model))
    assert log_prior.dims == ("chain", "draw") and np.isfinite(log_prior.values).all()


def test_log_prior_is_the_constrained_density_of_mu_and_tau_only():
    """Normal(mu | 0, 1.5) + HalfNormal(tau | 1) at each draw: no z, no Jacobian of tau's log transform."""
    spec = hier_logit()
    model = build_model(spec, HOSPITALS)
    tree = prior_tree(model)
    mu, tau = (tree.posterior[v].values for v in ("mu", "tau"))
    expected = stats.norm.logpdf(mu, 0.0, 1.5) + stats.halfnorm.logpdf(tau, scale=1.0)
    np.testing.assert_allclose(
        log_prior_draws(log_prior_dataset(spec, HOSPITALS, tree, model)).values, expected, rtol=0, atol=1e-6
    )


@pytest.mark.parametrize("K, a", [(1, 1.0), (3, 1.0), (3, 2.5)])
def test_mixture_log_prior_is_the_dirichlet_density_of_weights_and_gaps_and_kappas_gamma(K, a):
    """bb_mixture samples its Dirichlet weights and gaps as normalised Gamma variables; the log prior scaled is
    Dirichlet(w | a) + Dirichlet(gaps | 1) + Gamma(kappa | 2, 0.05), not the Gamma densities of the auxiliaries."""
    spec = spec_of({"family": "bb_mixture", "K": K, "priors": {"w": {"dist": "Dirichlet", "a": a}}})
    model = build_model(spec, HOSPITALS)
    tree = prior_tree(model)
    w, mu, kappa = (tree.posterior[v].values for v in ("w", "mu", "kappa"))
    gaps = np.diff(np.concatenate([np.zeros((*mu.shape[:2], 1)), mu, np.ones((*mu.shape[:2], 1))], axis=-1), axis=-1)
    expected = stats.gamma.logpdf(kappa, 2.0, scale=20.0).sum(axis=-1)
    expected += np.array([[stats.dirichlet.logpdf(g, np.ones(K + 1)) for g in chain] for chain in gaps])
    if K > 1:
        expected += np.array([[stats.dirichlet.logpdf(v, np.full(K, a)) for v in chain] for chain in w])
    np.testing.assert_allclose(
        log_prior_draws(log_prior_dataset(spec, HOSPITALS, tree, model)).values, expected, rtol=1e-10, atol=1e-8
    )


def test_reported_quantities_per_family():
    """Population-level scalars (constants such as w at K = 1 left out, level effects u_edu left out), then the
    rates of the groups with the smallest n (1: 0/47, also the lowest proportion), the largest n (4: 810) and
    the highest proportion (8: 31/215)."""
    assert reported_groups(HOSPITALS) == ["1", "4", "8"]
    ties = GroupedCounts(("a", "b", "c"), np.array([10, 10, 20]), np.array([1, 5, 2]))
    assert reported_groups(ties) == ["a", "c", "b"]
    cases = {
        "hier_logit": ({"family": "hier_logit"}, HOSPITALS, ["mu", "tau", "p[1]", "p[4]", "p[8]"]),
        "pooled": ({"family": "pooled"}, HOSPITALS, ["p"]),
        "unpooled": ({"family": "unpooled"}, HOSPITALS, ["p[1]", "p[4]", "p[8]"]),
        "bb_mixture_k1": ({"family": "bb_mixture", "K": 1}, HOSPITALS, ["mu[1]", "kappa[1]"]),
        "bb_mixture_k2": (
            {"family": "bb_mixture", "K": 2},
            HOSPITALS,
            ["w[1]", "w[2]", "mu[1]", "mu[2]", "kappa[1]", "kappa[2]"],
        ),
    }
    for name, (raw, data, expected) in cases.items():
        spec = spec_of(raw)
        assert [q.label for q in quantities(spec, data)] == expected, name
    census = [q.label for q in quantities(spec_of(PRIOR_CASES["glmm_census"][0]), CENSUS)]
    assert census[:3] == ["Intercept", "b[sex[male]]", "sigma_edu[Intercept]"]
    assert all(label.startswith("p[") for label in census[3:]) and not any("u_edu" in label for label in census)


# -- known answers: a conjugate model with exact posterior draws ---------------------------------------

A, B = 30.0, 70.0  # Beta prior of pooled p, mean 0.3: far from hospital12's 0.074


def conjugate_tree(prior_a: float = A, prior_b: float = B, draws: int = 2000) -> xr.DataTree:
    """A stand-in for a pooled fit to hospital12: exact posterior draws Beta(a + R, b + N - R) and the
    pointwise binomial log-likelihood."""
    rng = np.random.default_rng(5)
    total_r, total_n = HOSPITALS.r.sum(), HOSPITALS.n.sum()
    p = rng.beta(prior_a + total_r, prior_b + total_n - total_r, size=(4, draws))
    loglik = stats.binom.logpmf(HOSPITALS.r, HOSPITALS.n, p[..., None])
    coords = {"chain": np.arange(4), "draw": np.arange(draws), "group": list(HOSPITALS.groups)}
    return xr.DataTree.from_dict(
        {
            "posterior": xr.Dataset({"p": (("chain", "draw"), p)}, coords=coords),
            "log_likelihood": xr.Dataset({"r": (("chain", "draw", "group"), loglik)}, coords=coords),
        }
    )


def test_sequence_matches_the_exact_power_scaled_conjugate_posteriors():
    """Beta(a, b)^alpha is Beta(alpha (a - 1) + 1, alpha (b - 1) + 1), the binomial likelihood^alpha adds alpha R
    and alpha (N - R): the reweighted means and sds must match these exact posteriors."""
    spec = spec_of({"family": "pooled", "priors": {"p": {"dist": "Beta", "alpha": A, "beta": B}}})
    sequence = powerscale_sequence(spec, HOSPITALS, conjugate_tree())
    assert list(sequence.columns) == list(SEQUENCE_COLUMNS)
    R, N = HOSPITALS.r.sum(), HOSPITALS.n.sum()
    for row in sequence.itertuples():
        if row.component == "prior":
            exact = stats.beta(row.alpha * (A - 1) + 1 + R, row.alpha * (B - 1) + 1 + N - R)
        else:
            exact = stats.beta(A + row.alpha * R, B + row.alpha * (N - R))
        # importance sampling from the posterior to a wider one (likelihood at alpha 1/2: Pareto k about 0.6)
        # under-represents the tails, so the match is tight only where the weights are tame
        loose = row.pareto_k >= 0.5
        where = (row.component, row.alpha, row.pareto_k)
        assert row.mean == pytest.approx(exact.mean(), abs=(0.15 if loose else 0.05) * exact.std()), where
        assert row.sd == pytest.approx(exact.std(), rel=0.15 if loose else 0.05), where
        assert row.q05 == pytest.approx(exact.ppf(0.05), abs=0.1 * exact.std()), where
        assert row.pareto_k < PARETO_K_MAX
    table = sensitivity_table(spec, HOSPITALS, conjugate_tree())
    assert table.loc[0, "diagnosis"] == CONFLICT and table.loc[0, "prior"] > 0.1


def test_a_flat_prior_has_no_prior_sensitivity_and_constant_weights():
    """Beta(1, 1) is constant: power-scaling it changes nothing (sensitivity 0, Pareto k -inf)."""
    spec = spec_of({"family": "pooled"})
    tree = conjugate_tree(1.0, 1.0)
    table = sensitivity_table(spec, HOSPITALS, tree)
    assert table.loc[0, "prior"] == 0.0 and table.loc[0, "pareto_k_prior"] == -np.inf
    assert table.loc[0, "likelihood"] > 0.05 and np.isfinite(table.loc[0, "pareto_k_likelihood"])
    sequence = powerscale_sequence(spec, HOSPITALS, tree)
    prior_rows = sequence[sequence["component"] == "prior"]
    np.testing.assert_allclose(prior_rows["mean"], float(tree.posterior["p"].mean()), rtol=1e-12)


# -- hospital12 fits ---------------------------------------------------------------------------------


def test_reference_priors_are_not_flagged(reference_fit, tmp_path):
    """Default priors of hier_logit: every quantity "none", status PASS naming the largest prior sensitivity;
    the table computed from the stored NetCDF (as the stage reads it) equals the in-memory one."""
    import arviz as az

    spec, idata = reference_fit
    table = sensitivity_table(spec, HOSPITALS, idata)
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert list(table["quantity"]) == ["mu", "tau", "p[1]", "p[4]", "p[8]"]
    assert (table["diagnosis"] == NO_ISSUE).all(), table
    assert (table["prior"] < 0.05).all() and (table[["pareto_k_prior", "pareto_k_likelihood"]] < PARETO_K_MAX).all(None)
    status = sensitivity_status({"sensitivity": table})
    assert status.status == "PASS" and status.reasons[0].startswith("largest prior sensitivity"), status.reasons
    write_netcdf(idata, tmp_path / "fit.nc")
    stored = sensitivity_table(spec, HOSPITALS, az.from_netcdf(tmp_path / "fit.nc"))
    pd.testing.assert_frame_equal(stored, table)


def test_the_stage_reads_the_log_prior_the_fit_stored(reference_fit):
    """The fit stores the scaled log prior as its ``log_prior`` group; sensitivity reads that group (doubling it
    doubles the prior component) and computes the same values for a fit stored without it."""
    spec, idata = reference_fit
    assert set(idata["log_prior"].data_vars) == {"mu", "tau"}
    stored = components(spec, HOSPITALS, idata)
    groups = {name: idata[name].to_dataset() for name in idata.children if name != "log_prior"}
    recomputed = components(spec, HOSPITALS, xr.DataTree.from_dict(groups))
    np.testing.assert_allclose(stored["prior"].values, recomputed["prior"].values, rtol=1e-12)
    np.testing.assert_array_equal(stored["likelihood"].values, recomputed["likelihood"].values)
    doubled = dict(groups, log_prior=2 * idata["log_prior"].to_dataset())
    np.testing.assert_allclose(
        components(spec, HOSPITALS, xr.DataTree.from_dict(doubled))["prior"].values, 2 * stored["prior"].values
    )


def test_conflicting_prior_on_mu_is_a_prior_data_conflict(conflict_fit):
    """mu ~ Normal(-1, 0.3) against data at logit -2.5: both components move mu; the status WARNs by default
    and FAILs with ``conflict: fail``."""
    spec, idata = conflict_fit
    table = rows_by_quantity(sensitivity_table(spec, HOSPITALS, idata))
    assert table.loc["mu", "diagnosis"] == CONFLICT, table
    assert table.loc["mu", "prior"] > 0.3 and table.loc["mu", "likelihood"] > 0.06
    tables = {"sensitivity": table.reset_index()}
    warned = sensitivity_status(tables)
    assert warned.status == "WARN"
    assert any(r.startswith("WARN: prior-data conflict on mu: power-scaling the prior") for r in warned.reasons)
    failed = sensitivity_status(tables, {"conflict": "fail"})
    assert failed.status == "FAIL" and any(r.startswith("FAIL: prior-data conflict on mu") for r in failed.reasons)


def test_a_prior_far_from_the_data_is_flagged_on_mu_and_the_extreme_group(far_prior_fit):
    """mu ~ Normal(1.5, 0.2): the fit escapes through tau (see the module doc), so mu is "prior dominates"
    rather than a conflict, and the conflict is on p[1]; the status WARNs, and FAILs when either is fail."""
    spec, idata = far_prior_fit
    assert float(idata.posterior["tau"].mean()) > 2.0
    table = rows_by_quantity(sensitivity_table(spec, HOSPITALS, idata))
    assert table.loc["mu", "diagnosis"] == PRIOR_DOMINATES and table.loc["mu", "prior"] > 0.1, table
    assert table.loc["tau", "diagnosis"] == PRIOR_DOMINATES
    assert table.loc["p[1]", "diagnosis"] == CONFLICT
    tables = {"sensitivity": table.reset_index()}
    assert sensitivity_status(tables).status == "WARN"
    assert any(r.startswith("WARN: the prior dominates mu") for r in sensitivity_status(tables).reasons)
    assert sensitivity_status(tables, {"conflict": "fail"}).status == "FAIL"
    assert sensitivity_status(tables, {"prior_dominates": "fail", "conflict": "note"}).status == "FAIL"
    noted = sensitivity_status(tables, {"prior_dominates": "note", "conflict": "note"})
    assert noted.status == "PASS" and any(r.startswith("prior-data conflict on p[1]") for r in noted.reasons)


def test_sequence_is_the_posterior_at_alpha_one_and_mu_follows_the_prior(far_prior_fit):
    spec, idata = far_prior_fit
    sequence = powerscale_sequence(spec, HOSPITALS, idata)
    assert set(sequence["component"]) == {"prior", "likelihood"} and len(set(sequence["alpha"])) == 9
    at_one = sequence[np.isclose(sequence["alpha"], 1.0)]
    assert (at_one["pareto_k"] == -np.inf).all()
    for row in at_one.itertuples():
        draws = idata.posterior[row.variable].values
        if row.index:
            draws = idata.posterior[row.variable].sel(group=row.index).values
        assert row.mean == pytest.approx(draws.mean(), rel=1e-12)
        assert row.sd == pytest.approx(draws.std(), rel=1e-12)
    mu = sequence[(sequence["component"] == "prior") & (sequence["quantity"] == "mu")].sort_values("alpha")
    assert np.all(np.diff(mu["mean"]) > 0) and mu["mean"].iloc[-1] < 1.5  # towards the prior mean, not past it
    assert np.all(np.diff(mu["sd"]) < 0)  # and narrower, as the prior's weight grows


# -- (c) the status on hand-made tables --------------------------------------------------------------


def table_of(prior, likelihood, k_prior=0.1, k_likelihood=0.1, diagnosis="none") -> pd.DataFrame:
    n = len(prior)
    return pd.DataFrame(
        {
            "model_id": "m",
            "quantity": [f"q{i}" for i in range(n)],
            "variable": [f"q{i}" for i in range(n)],
            "index": "",
            "prior": np.asarray(prior, dtype=float),
            "likelihood": np.asarray(likelihood, dtype=float),
            "diagnosis": diagnosis,
            "pareto_k_prior": k_prior,
            "pareto_k_likelihood": k_likelihood,
        }
    )


def test_status_recomputes_the_diagnosis_with_the_threshold():
    """The stored diagnosis is ignored: prior 0.03, likelihood 0.2 is fine at 0.05 and a conflict at 0.02."""
    table = table_of([0.03, 0.01], [0.2, 0.001], diagnosis="prior-data conflict")
    passed = sensitivity_status({"sensitivity": table})
    assert passed.status == "PASS"
    assert passed.reasons == [
        "largest prior sensitivity 0.030 (q0, likelihood 0.200) among 2 quantities "
        "(threshold 0.05); Pareto k of the weights at most 0.10"
    ]
    strict = sensitivity_status({"sensitivity": table}, {"threshold": 0.02})
    assert strict.status == "WARN" and len(strict.reasons) == 1
    assert strict.reasons[0] == (
        "WARN: prior-data conflict on q0: power-scaling the prior moves its posterior by 0.030 (CJS) and the "
        "likelihood by 0.200, both at or above 0.02; the prior pulls against the data"
    )
    dominated = sensitivity_status({"sensitivity": table}, {"threshold": 0.005})
    assert any(
        r.startswith(
            "WARN: the prior dominates q1: power-scaling the prior moves its posterior by 0.010 (CJS), "
            "the likelihood by 0.001, below 0.005"
        )
        for r in dominated.reasons
    )


def test_status_severities():
    table = table_of([0.2, 0.2], [0.2, 0.01])  # q0 conflict, q1 prior dominates

    def status(**t):
        return sensitivity_status({"sensitivity": table}, t)

    assert status().status == "WARN" and len(status().reasons) == 2
    assert status(conflict="fail").status == "FAIL"
    assert status(prior_dominates="fail").status == "FAIL"
    both_noted = status(conflict="note", prior_dominates="note")
    assert both_noted.status == "PASS"
    assert [r.split(":")[0] for r in both_noted.reasons[:2]] == ["prior-data conflict on q0", "the prior dominates q1"]
    assert THRESHOLDS["sensitivity"] == {"threshold": 0.05, "conflict": "warn", "prior_dominates": "warn"}


@pytest.mark.parametrize(
    ("thresholds", "message"),
    [
        ({"conflict": "error"}, "thresholds.sensitivity.conflict must be one of 'fail', 'warn', 'note', got 'error'"),
        ({"prior_dominates": "WARN"}, "thresholds.sensitivity.prior_dominates must be one of"),
        ({"threshold": 0}, "thresholds.sensitivity.threshold must be a number in (0, 1], got 0"),
        ({"threshold": "0.05"}, "thresholds.sensitivity.threshold must be a number"),
    ],
)
def test_invalid_thresholds_raise_a_clear_error(thresholds, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        sensitivity_status({"sensitivity": table_of([0.01], [0.1])}, thresholds)


def test_unreliable_weights_empty_tables_and_missing_values():
    heavy = sensitivity_status({"sensitivity": table_of([0.01, 0.02], [0.1, 0.1], k_likelihood=0.85)})
    assert heavy.status == "WARN" and len(heavy.reasons) == 1
    assert heavy.reasons[0].startswith(
        "WARN: power-scaling the likelihood gives importance weights with Pareto k 0.85 > 0.7: every likelihood "
        "sensitivity is unreliable"
    )
    flat = sensitivity_status({"sensitivity": table_of([0.0], [0.1], k_prior=-np.inf)})
    assert flat.status == "PASS" and flat.reasons[0].endswith("Pareto k of the weights at most 0.10")
    empty = sensitivity_status({"sensitivity": table_of([], [])})
    assert empty.status == "FAIL" and "no posterior draws" in empty.reasons[0]
    missing = sensitivity_status({"sensitivity": table_of([np.nan, 0.01], [0.1, 0.1])})
    assert missing.status == "WARN" and missing.reasons[0].startswith(
        "WARN: the sensitivity of q0 could not be computed"
    )
    with pytest.raises(ValueError, match="lacks columns pareto_k_prior"):
        sensitivity_status({"sensitivity": table_of([0.1], [0.1]).drop(columns="pareto_k_prior")})


def test_tables_validate_against_the_schemas():
    from binoval import schemas

    spec = spec_of({"family": "pooled", "priors": {"p": {"dist": "Beta", "alpha": A, "beta": B}}})
    schemas.SensitivityTable.validate(sensitivity_table(spec, HOSPITALS, conjugate_tree()))
    schemas.SensitivitySequence.validate(powerscale_sequence(spec, HOSPITALS, conjugate_tree()))


# -- the plot -----------------------------------------------------------------------------------------


def png_size(path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


def test_sequence_plot_draws_every_quantity_and_caps_its_height(tmp_path):
    spec = spec_of({"family": "pooled", "priors": {"p": {"dist": "Beta", "alpha": A, "beta": B}}})
    sequence = powerscale_sequence(spec, HOSPITALS, conjugate_tree())
    path = tmp_path / "one.png"
    plot_powerscale_sequence(sequence, path, "pooled")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    many = pd.concat([sequence.assign(quantity=f"q{i}") for i in range(40)], ignore_index=True)
    many.loc[many["alpha"] == many["alpha"].min(), "pareto_k"] = 0.9  # marked as unreliable
    plot_powerscale_sequence(many, tmp_path / "many.png", "many")
    assert png_size(tmp_path / "many.png")[1] <= (MAX_HEIGHT + 1) * 110
    plot_powerscale_sequence(sequence.iloc[:0], tmp_path / "empty.png", "failed fit")
    assert (tmp_path / "empty.png").exists()
