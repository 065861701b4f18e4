"""Each family's own methods, tested on the family: simplicity count, held-out and marginal densities,
conditional log-likelihood, population and group rate draws, membership and conditional replication
(synthetic posterior draws; no sampling)."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest
from scipy import special, stats

from binoval.models import FAMILIES, GroupedCounts, ModelSpec, expand_models, family_of
from binoval.models.base import Family, draw_categorical

MIXTURE = FAMILIES["bb_mixture"]


def _one(n, r, group="g"):
    return GroupedCounts((group,), np.array([n]), np.array([r]))


def _mixture_idata(w, mu, kappa, chains=1):
    """Posterior draws of a mixture: arrays (S, K) split into ``chains`` chains, with a ``family`` attribute."""
    split = lambda a: np.asarray(a, dtype=float).reshape(chains, -1, np.shape(a)[-1])  # noqa: E731
    idata = az.from_dict(
        {"posterior": {"w": split(w), "mu": split(mu), "kappa": split(kappa)}},
        coords={"cluster": list(range(1, np.shape(w)[-1] + 1))},
        dims={"w": ["cluster"], "mu": ["cluster"], "kappa": ["cluster"]},
    )
    idata.posterior.attrs["family"] = "bb_mixture"
    return idata


# -- every family states everything ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_family_implements_what_the_stages_ask(name):
    family = FAMILIES[name]
    assert family.name == name
    assert set(family.default_priors) <= set(family.supports)
    assert set(family.required_options) <= set(family.options)
    for method in ("declare", "parameter_names", "population_parameters", "population_rate_draws"):
        assert getattr(type(family), method) is not getattr(Family, method), f"{name} lacks {method}"
    # a family either integrates a group's rate itself or overrides the held-out density that relies on it
    assert (
        type(family).marginal_log_likelihood is not Family.marginal_log_likelihood
        or type(family).heldout_log_density is not Family.heldout_log_density
    )


def test_population_parameters_order():
    assert FAMILIES["pooled"].population_parameters(12) == 1
    assert FAMILIES["hier_logit"].population_parameters(12) == FAMILIES["beta_binomial"].population_parameters(12) == 2
    assert MIXTURE.population_parameters(12, K=1) == 2
    assert MIXTURE.population_parameters(12, K=3) == 8
    assert FAMILIES["unpooled"].population_parameters(12) == 12


def test_glmm_simplicity_counts_structure():
    glmm = FAMILIES["glmm"]
    assert glmm.population_parameters(14, formula="r ~ sex + (1 | edu)") == 3
    assert glmm.population_parameters(14, formula="r ~ sex + (1 + sex | edu)") == 5
    assert glmm.population_parameters(14, formula="r ~ 0 + (1 + x || g) + (1 | h)") == 3


def test_only_the_mixture_expands_and_offers_a_k_choice():
    specs = expand_models({"mix": {"family": "bb_mixture", "K": [1, 3]}, "h": {"family": "hier_logit"}})
    assert list(specs) == ["mix_k1", "mix_k3", "h"]
    assert [family_of(specs[m]).k_choice(specs[m]) for m in specs] == [("mix", 1), ("mix", 3), None]
    assert specs["mix_k3"].config_id == "mix" and specs["h"].config_id == "h"


# -- held-out densities ------------------------------------------------------------------------


def test_heldout_density_hier_logit_quadrature_matches_monte_carlo():
    mu, tau = np.array([-2.0, -1.0]), np.array([0.5, 1.2])
    idata = az.from_dict({"posterior": {"mu": mu.reshape(1, 2), "tau": tau.reshape(1, 2)}})
    spec = ModelSpec("h", "hier_logit", {}, {})
    got = family_of(spec).heldout_log_density(spec, idata, _one(40, 5), "g", np.random.default_rng(0))
    rng = np.random.default_rng(3)
    for i in range(2):
        theta = rng.normal(mu[i], tau[i], size=400_000)
        mc = np.log(stats.binom.pmf(5, 40, special.expit(theta)).mean())
        assert got[i] == pytest.approx(mc, abs=0.01)


def test_heldout_density_mixture_k1_equals_beta_binomial():
    mu, kappa = np.array([0.1, 0.3]), np.array([20.0, 5.0])
    bb = az.from_dict({"posterior": {"mu": mu.reshape(1, 2), "kappa": kappa.reshape(1, 2)}})
    mix = az.from_dict(
        {"posterior": {"w": np.ones((1, 2, 1)), "mu": mu.reshape(1, 2, 1), "kappa": kappa.reshape(1, 2, 1)}},
        coords={"cluster": [1]},
        dims={"w": ["cluster"], "mu": ["cluster"], "kappa": ["cluster"]},
    )
    a = FAMILIES["beta_binomial"].heldout_log_density(
        ModelSpec("b", "beta_binomial", {}, {}), bb, _one(30, 4), "g", np.random.default_rng(0)
    )
    b = MIXTURE.heldout_log_density(
        ModelSpec("m", "bb_mixture", {}, {"K": 1}), mix, _one(30, 4), "g", np.random.default_rng(0)
    )
    assert np.allclose(a, b)
    assert np.allclose(a, stats.betabinom.logpmf(4, 30, mu * kappa, (1 - mu) * kappa))


def test_heldout_density_pooled():
    idata = az.from_dict({"posterior": {"p": np.array([[0.1, 0.2]])}})
    got = FAMILIES["pooled"].heldout_log_density(
        ModelSpec("p", "pooled", {}, {}), idata, _one(10, 2), "g", np.random.default_rng(0)
    )
    assert np.allclose(got, stats.binom.logpmf(2, 10, [0.1, 0.2]))


def test_heldout_density_unpooled_is_the_prior_predictive_exactly():
    spec = expand_models({"u": {"family": "unpooled", "priors": {"p": {"dist": "Beta", "alpha": 2, "beta": 8}}}})["u"]
    idata = az.from_dict({"posterior": {"p": np.full((2, 50, 1), 0.5)}})
    got = family_of(spec).heldout_log_density(spec, idata, _one(10, 2), "g", np.random.default_rng(0))
    assert got.shape == (100,)
    # Binomial(2 | 10, p) integrated over p ~ Beta(2, 8) is BetaBinomial(2 | 10, 2, 8), the same for every draw
    np.testing.assert_allclose(got, stats.betabinom.logpmf(2, 10, 2, 8), rtol=0, atol=1e-12)


def test_unpooled_prior_predictive_under_a_uniform_prior():
    from scipy import integrate

    from binoval.models.unpooled import prior_binomial_marginal

    prior = {"dist": "Uniform", "lower": 0.2, "upper": 0.7}
    got = prior_binomial_marginal(prior, np.array([10, 30]), np.array([2, 25]))
    for j, (n, r) in enumerate([(10, 2), (30, 25)]):

        def density(p, n=n, r=r):
            return stats.binom.pmf(r, n, p) / 0.5

        value = integrate.quad(density, 0.2, 0.7, epsabs=0, epsrel=1e-12)[0]
        assert got[j] == pytest.approx(np.log(value), abs=1e-9)


@pytest.mark.parametrize(
    "prior, reference",
    [
        ({"dist": "Beta", "alpha": 2.0, "beta": 8.0}, stats.beta(2.0, 8.0)),
        ({"dist": "Uniform", "lower": 0.2, "upper": 0.7}, stats.uniform(0.2, 0.5)),
    ],
)
def test_a_new_unpooled_group_draws_its_rate_from_the_prior_of_p(prior, reference):
    """Without PyMC (the report and loo jobs only read tables): draws whose distribution is the prior's."""
    from binoval.models.unpooled import draw_unit_prior

    draws = draw_unit_prior(prior, 20_000, np.random.default_rng(4))
    assert draws.shape == (20_000,)
    assert stats.kstest(draws, reference.cdf).pvalue > 0.01
    with pytest.raises(ValueError, match="must be Beta or Uniform, got Normal"):
        draw_unit_prior({"dist": "Normal", "mu": 0, "sigma": 1}, 3, np.random.default_rng(0))


def test_the_binomial_and_beta_binomial_densities_are_scipys():
    from binoval.models.base import binomial_logpmf
    from binoval.models.beta_binomial import beta_binomial_logpmf

    rng = np.random.default_rng(8)
    n = np.concatenate([[0, 1, 5, 5, 2000], rng.integers(0, 3000, 200)])
    r = rng.integers(0, n + 1)
    r[:5] = [0, 0, 0, 5, 1999]
    p = np.concatenate([[0.5, 0.0, 1.0, 1.0, 1e-9], rng.uniform(0, 1, len(n) - 5)])
    np.testing.assert_allclose(binomial_logpmf(r, n, p), stats.binom.logpmf(r, n, p), rtol=1e-10, atol=1e-10)
    mu, kappa = rng.uniform(0.001, 0.999, len(n)), np.exp(rng.uniform(-3, 8, len(n)))
    np.testing.assert_allclose(
        beta_binomial_logpmf(r, n, mu, kappa),
        stats.betabinom.logpmf(r, n, mu * kappa, (1 - mu) * kappa),
        rtol=1e-9,
        atol=1e-9,
    )


def test_heldout_density_is_the_marginal_of_the_heldout_row():
    data = GroupedCounts(("a", "b"), np.array([40, 60]), np.array([5, 30]))
    idata = az.from_dict({"posterior": {"mu": np.array([[-2.0, -1.0]]), "tau": np.array([[0.5, 1.2]])}})
    spec = ModelSpec("h", "hier_logit", {}, {})
    family = family_of(spec)
    marginal = family.marginal_log_likelihood(spec, idata, data, np.random.default_rng(0))
    assert marginal.shape == (2, 2)
    # equal up to rounding: the quadrature's Newton iterations stop on the largest step of the groups done together
    np.testing.assert_allclose(
        family.heldout_log_density(spec, idata, data, "b", np.random.default_rng(0)), marginal[:, 1], rtol=1e-13
    )


# -- glmm: held-out rows keep their covariates -------------------------------------------------


GLMM_DATA = GroupedCounts(
    ("a_f", "a_m", "b_f", "b_m", "c_f"),
    np.array([100, 120, 80, 90, 70]),
    np.array([10, 30, 20, 40, 9]),
    {"edu": np.array(["a", "a", "b", "b", "c"]), "sex": np.array(["female", "male", "female", "male", "female"])},
)


def _glmm_posterior(u, draws=3):
    """Constant draws of a glmm fitted without one row: Intercept -1.5, sex[male] 0.8, sigma_edu 0.6, u_edu by level."""
    levels = list(u)
    return az.from_dict(
        {
            "posterior": {
                "Intercept": np.full((1, draws), -1.5),
                "b": np.full((1, draws, 1), 0.8),
                "sigma_edu": np.full((1, draws, 1), 0.6),
                "u_edu": np.broadcast_to(np.array(list(u.values()))[None, None, :, None], (1, draws, len(u), 1)).copy(),
            }
        },
        coords={"coef": ["sex[male]"], "edu": levels, "edu_effect": ["Intercept"]},
        dims={"b": ["coef"], "sigma_edu": ["edu_effect"], "u_edu": ["edu", "edu_effect"]},
    )


def test_glmm_heldout_row_is_scored_from_the_refits_own_rate_draws():
    """A row left out with n = 0 got its rate from the refit (the fitted effects of its level, or the population
    for a level only it has): its held-out density is the binomial at those draws."""
    spec = expand_models({"g": {"family": "glmm", "formula": "r ~ sex + (1 | edu)"}})["g"]
    p = np.array([[[0.1, 0.2, 0.3, 0.4, 0.15], [0.12, 0.22, 0.33, 0.45, 0.2]]])
    idata = az.from_dict({"posterior": {"p": p}}, coords={"group": list(GLMM_DATA.groups)}, dims={"p": ["group"]})
    got = family_of(spec).heldout_log_density(spec, idata, GLMM_DATA, "b_m", np.random.default_rng(0))
    np.testing.assert_allclose(got, stats.binom.logpmf(40, 90, [0.4, 0.45]))


def test_glmm_has_no_single_population_rate():
    spec = expand_models({"g": {"family": "glmm", "formula": "r ~ sex + (1 | edu)"}})["g"]
    assert family_of(spec).population_rate_draws(spec, _glmm_posterior({"a": 0.1}), np.random.default_rng(0)) is None


# -- population draws and derived quantities -----------------------------------------------------


def test_population_rate_draws_follow_the_population():
    rng = np.random.default_rng(0)
    draws = 20_000
    hier = az.from_dict({"posterior": {"mu": np.full((1, draws), special.logit(0.2)), "tau": np.full((1, draws), 0.5)}})
    p = FAMILIES["hier_logit"].population_rate_draws(ModelSpec("h", "hier_logit", {}, {}), hier, rng)
    assert np.median(special.logit(p)) == pytest.approx(special.logit(0.2), abs=0.02)
    assert np.std(special.logit(p)) == pytest.approx(0.5, abs=0.02)
    bb = az.from_dict({"posterior": {"mu": np.full((1, draws), 0.3), "kappa": np.full((1, draws), 10.0)}})
    p = FAMILIES["beta_binomial"].population_rate_draws(ModelSpec("b", "beta_binomial", {}, {}), bb, rng)
    assert p.mean() == pytest.approx(0.3, abs=0.01) and p.var() == pytest.approx(0.3 * 0.7 / 11, rel=0.05)
    mix = _mixture_idata(
        np.tile([0.25, 0.75], (draws, 1)), np.tile([0.1, 0.8], (draws, 1)), np.tile([1000.0, 1000.0], (draws, 1))
    )
    p = MIXTURE.population_rate_draws(ModelSpec("m", "bb_mixture", {}, {"K": 2}), mix, rng)
    assert (p < 0.5).mean() == pytest.approx(0.25, abs=0.01)


def test_icc_of_hier_logit():
    tau = np.full((1, 500), 1.0)
    idata = az.from_dict({"posterior": {"mu": np.full((1, 500), special.logit(0.2)), "tau": tau}})
    icc = FAMILIES["hier_logit"].derived_draws(idata)["icc"]
    assert icc.mean() == pytest.approx(1 / (1 + np.pi**2 / 3))
    assert FAMILIES["pooled"].derived_draws(idata) == {}


def test_draw_categorical_frequencies_and_last_category_on_rounding():
    probabilities = np.tile([0.2, 0.5, 0.3], (50_000, 1))
    z = draw_categorical(probabilities, np.random.default_rng(0))
    assert np.bincount(z, minlength=3) / len(z) == pytest.approx([0.2, 0.5, 0.3], abs=0.01)
    assert draw_categorical(np.array([[0.5, 0.5 - 1e-12]]), np.random.default_rng(0)).max() <= 1


# -- conditional log-likelihood matches what PyMC stores -----------------------------------------


def test_conditional_log_likelihood_is_the_binomial_of_each_groups_rate():
    data = GroupedCounts(("a", "b"), np.array([20, 30]), np.array([3, 9]))
    p = np.array([[[0.1, 0.3], [0.2, 0.25]]])
    idata = az.from_dict({"posterior": {"p": p}}, coords={"group": ["a", "b"]}, dims={"p": ["group"]})
    spec = ModelSpec("u", "unpooled", {}, {})
    got = family_of(spec).conditional_log_likelihood(spec, idata, data)
    assert np.allclose(got, stats.binom.logpmf(data.r, data.n, p[0]))


def test_mixture_conditional_log_likelihood_marginalises_assignments():
    data = GroupedCounts(("a", "b"), np.array([50, 40]), np.array([12, 30]))
    idata = _mixture_idata([[0.3, 0.7]], [[0.2, 0.6]], [[10.0, 30.0]])
    got = MIXTURE.conditional_log_likelihood(ModelSpec("m", "bb_mixture", {}, {"K": 2}), idata, data)
    like = 0.3 * stats.betabinom.pmf(data.r, data.n, 2.0, 8.0) + 0.7 * stats.betabinom.pmf(data.r, data.n, 18.0, 12.0)
    assert np.allclose(got[0], np.log(like))


# -- mixture membership and conditional replication ------------------------------------------------


def test_mixture_membership_matches_scipy_betabinom():
    w, mu, kappa = np.array([[0.3, 0.7]]), np.array([[0.2, 0.6]]), np.array([[10.0, 30.0]])
    n, r = np.array([50, 40]), np.array([12, 30])
    like = np.array(
        [
            [
                w[0, k] * stats.betabinom.pmf(r[i], n[i], mu[0, k] * kappa[0, k], (1 - mu[0, k]) * kappa[0, k])
                for k in range(2)
            ]
            for i in range(2)
        ]
    )
    expected = like / like.sum(axis=1, keepdims=True)
    membership = MIXTURE.membership_draws(_mixture_idata(w, mu, kappa), GroupedCounts(("a", "b"), n, r))
    np.testing.assert_allclose(membership[0], expected, rtol=1e-10)


def test_mixture_membership_survives_a_zero_weight():
    membership = MIXTURE.membership_draws(_mixture_idata([[0.0, 1.0]], [[0.2, 0.6]], [[10.0, 30.0]]), _one(50, 12))
    np.testing.assert_allclose(membership[0, 0], [0.0, 1.0])


def test_mixture_replications_condition_on_each_groups_cluster():
    data = GroupedCounts(("low", "high"), np.array([100, 100]), np.array([10, 90]))
    draws = 2000
    idata = _mixture_idata(
        np.full((draws, 2), 0.5), np.tile([0.1, 0.9], (draws, 1)), np.full((draws, 2), 200.0), chains=2
    )
    r_rep = MIXTURE.replicate_groups(idata, data, np.random.default_rng(3), copies=3)
    assert r_rep.shape == (3 * draws, 2)
    assert abs(r_rep[:, 0].mean() - 10) < 1 and abs(r_rep[:, 1].mean() - 90) < 1


def test_mixture_group_rates_are_drawn_from_each_groups_cluster_posterior():
    data = GroupedCounts(("a", "d"), np.array([100, 100]), np.array([5, 55]))
    idata = _mixture_idata(np.full((4000, 2), 0.5), np.tile([0.06, 0.6], (4000, 1)), np.full((4000, 2), 80.0))
    rates = MIXTURE.group_rate_draws(ModelSpec("m", "bb_mixture", {}, {"K": 2}), idata, data, np.random.default_rng(0))
    assert rates[:, 0].mean() == pytest.approx((0.06 * 80 + 5) / (80 + 100), abs=0.01)
    assert rates[:, 1].mean() == pytest.approx((0.6 * 80 + 55) / (80 + 100), abs=0.01)


# -- logit_t: Student-t varying intercepts --------------------------------------------------------


LOGIT_T = FAMILIES["logit_t"]


def _t_posterior(mu, tau, nu):
    return az.from_dict(
        {
            "posterior": {
                name: np.asarray(v, dtype=float).reshape(1, -1) for name, v in (("mu", mu), ("tau", tau), ("nu", nu))
            }
        }
    )


@pytest.mark.parametrize(
    "mu, tau, nu, n, r",
    [
        (-2.5, 0.45, 5.0, 810, 46),
        (-2.5, 0.45, 1.0, 47, 0),
        (-2.5, 0.05, 3.0, 810, 400),
        (0.0, 2.0, 0.5, 30, 15),
        (-1.0, 1.0, 30.0, 1000, 1),
        (-2.0, 0.2, 50.0, 2000, 1000),
    ],
)
def test_logit_t_heldout_quadrature_is_accurate_to_1e_6(mu, tau, nu, n, r):
    """Against adaptive quadrature in theta, split at the population centre and the likelihood peak."""
    from scipy import integrate

    def integrand(theta):
        return stats.binom.pmf(r, n, special.expit(theta)) * stats.t.pdf((theta - mu) / tau, nu) / tau

    split = sorted([mu, special.logit(min(max(r / n, 1e-4), 1 - 1e-4))])
    pieces = [(-np.inf, split[0]), (split[0], split[1]), (split[1], np.inf)]
    reference = np.log(sum(integrate.quad(integrand, a, b, limit=1000, epsabs=0, epsrel=1e-13)[0] for a, b in pieces))
    spec = ModelSpec("t", "logit_t", {}, {})
    got = LOGIT_T.heldout_log_density(spec, _t_posterior([mu], [tau], [nu]), _one(n, r), "g", np.random.default_rng(0))
    assert got[0] == pytest.approx(reference, abs=1e-6)


def test_logit_t_heldout_density_matches_monte_carlo():
    mu, tau, nu = np.array([-2.0, -1.0]), np.array([0.5, 1.2]), np.array([3.0, 20.0])
    spec = ModelSpec("t", "logit_t", {}, {})
    got = LOGIT_T.heldout_log_density(spec, _t_posterior(mu, tau, nu), _one(40, 5), "g", np.random.default_rng(0))
    rng = np.random.default_rng(3)
    for i in range(2):
        theta = mu[i] + tau[i] * rng.standard_t(nu[i], size=400_000)
        mc = np.log(stats.binom.pmf(5, 40, special.expit(theta)).mean())
        assert got[i] == pytest.approx(mc, abs=0.01)


def test_logit_t_with_large_nu_is_the_normal_population():
    """As nu grows the t population becomes hier_logit's Normal(mu, tau): compare with adaptive quadrature."""
    from scipy import integrate

    mu, tau = np.array([-2.0, -1.0]), np.array([0.5, 1.2])
    data = GroupedCounts(("a", "b"), np.array([40, 200]), np.array([5, 90]))
    got = LOGIT_T.marginal_log_likelihood(
        ModelSpec("t", "logit_t", {}, {}), _t_posterior(mu, tau, [1e7, 1e7]), data, None
    )
    for s in range(2):
        for g in range(2):
            n, r = data.n[g], data.r[g]

            def integrand(theta, r=r, n=n, s=s):
                return stats.binom.pmf(r, n, special.expit(theta)) * stats.norm.pdf(theta, mu[s], tau[s])

            split = sorted([mu[s], special.logit(r / n)])
            pieces = [(-np.inf, split[0]), (split[0], split[1]), (split[1], np.inf)]
            reference = np.log(
                sum(integrate.quad(integrand, a, b, limit=1000, epsabs=0, epsrel=1e-13)[0] for a, b in pieces)
            )
            # the t with nu = 1e7 is itself about 1e-6 from the Normal in log density this far in the tail (z = 3.6)
            assert got[s, g] == pytest.approx(reference, abs=1e-5)


def test_logit_t_population_and_simplicity():
    assert LOGIT_T.population_parameters(12) == 3
    assert LOGIT_T.parameter_names() == ["mu", "tau", "nu", "z", "theta", "p"]
    draws = 40_000
    idata = _t_posterior(np.full(draws, -1.0), np.full(draws, 0.5), np.full(draws, 4.0))
    p = LOGIT_T.population_rate_draws(ModelSpec("t", "logit_t", {}, {}), idata, np.random.default_rng(0))
    z = (special.logit(p) + 1.0) / 0.5
    assert stats.kstest(z, stats.t(4).cdf).pvalue > 0.001


def test_logit_t_fits_hospital12_with_contract_names_and_dims():
    from binoval.data.grouped import load_dataset
    from binoval.fit.sampler import SamplerSettings
    from binoval.fit.stage import fit_model

    frame = load_dataset("hospital12")
    data = GroupedCounts.from_frame(frame)
    spec = expand_models({"logit_t": {"family": "logit_t"}})["logit_t"]
    out = fit_model(spec, data, SamplerSettings.from_config({"chains": 2, "draws": 100, "tune": 100}), seed=1)
    posterior = out.idata.posterior
    assert posterior.attrs["family"] == "logit_t"
    for name in ("mu", "tau", "nu"):
        assert posterior[name].dims == ("chain", "draw")
    for name in ("z", "theta", "p"):
        assert posterior[name].dims == ("chain", "draw", "group")
        assert list(posterior[name].coords["group"].values) == list(data.groups)
    assert (posterior["nu"].values > 0).all() and (posterior["tau"].values > 0).all()
    assert out.idata.log_likelihood["r"].shape[-1] == 12
    np.testing.assert_allclose(
        LOGIT_T.conditional_log_likelihood(spec, out.idata, data),
        out.idata.log_likelihood["r"].stack(s=("chain", "draw")).transpose("s", ...).values,
        rtol=1e-6,
        atol=1e-8,
    )


CONDITIONAL_CASES = {
    "pooled": {"family": "pooled"},
    "unpooled": {"family": "unpooled"},
    "hier_logit": {"family": "hier_logit"},
    "beta_binomial": {"family": "beta_binomial"},
    "bb_mixture": {"family": "bb_mixture", "K": 2},
    "glmm": {"family": "glmm", "formula": "r ~ sex + (1 | edu)"},
    "logit_t": {"family": "logit_t"},
}


@pytest.mark.parametrize("name", sorted(CONDITIONAL_CASES))
def test_conditional_log_likelihood_matches_pymc(name):
    """The family's conditional log-likelihood equals what PyMC computes for the fit's ``log_likelihood``
    (prior draws stand in for posterior draws). The model is built on other counts and given the data after, as every
    SBC fit is, so its stored log C(n, r) must follow the data put in."""
    import pymc as pm

    from binoval.fit.sampler import set_observed
    from binoval.models import build_model

    assert set(CONDITIONAL_CASES) == set(FAMILIES)
    spec = next(iter(expand_models({name: CONDITIONAL_CASES[name]}).values()))
    model = build_model(spec, GLMM_DATA.with_successes(GLMM_DATA.r // 2))
    set_observed(model, GLMM_DATA)
    prior = pm.sample_prior_predictive(draws=50, model=model, random_seed=4)
    idata = az.from_dict(
        {"posterior": {v: prior.prior[v].values for v in prior.prior.data_vars}},
        coords={k: v.values for k, v in prior.prior.coords.items() if k not in ("chain", "draw")},
        dims={v: list(prior.prior[v].dims[2:]) for v in prior.prior.data_vars},
    )
    with model:
        stored = pm.compute_log_likelihood(idata, var_names=["r"], extend_inferencedata=False, progressbar=False)
    expected = stored["r"].stack(s=("chain", "draw")).transpose("s", ...).values
    got = family_of(spec).conditional_log_likelihood(spec, idata, GLMM_DATA)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


# -- one trial given the group's other trials (the same-groups task) ---------------------------


def _mixture_posterior(w, mu, kappa):
    """One draw of a bb_mixture posterior with the given weights, means and concentrations per cluster."""
    K = len(w)
    return az.from_dict(
        {
            "posterior": {
                name: np.asarray(v, dtype=float).reshape(1, 1, K)
                for name, v in zip("w mu kappa".split(), (w, mu, kappa))
            }
        },
        coords={"cluster": list(range(1, K + 1))},
        dims={"w": ["cluster"], "mu": ["cluster"], "kappa": ["cluster"]},
    )


def test_trial_log_likelihood_of_a_family_with_group_rates_is_log_p():
    data = GroupedCounts(("a", "b"), np.array([10, 20]), np.array([3, 0]))
    p = np.array([[[0.3, 0.01], [0.25, 0.02]]])
    idata = az.from_dict({"posterior": {"p": p}}, coords={"group": ["a", "b"]}, dims={"p": ["group"]})
    got = FAMILIES["unpooled"].trial_log_likelihood(ModelSpec("u", "unpooled", {}, {}), idata, data)
    assert got.shape == (2, 2, 2)
    np.testing.assert_allclose(got[..., 0], np.log(p[0]))
    np.testing.assert_allclose(got[..., 1], np.log1p(-p[0]))


def test_mixture_k1_trial_log_likelihood_is_the_beta_binomial_predictive():
    """K = 1: one more success given r - 1 successes in n - 1 trials has probability (a + r - 1) / (a + b + n - 1)."""
    mu, kappa = 0.2, 15.0
    a, b = mu * kappa, (1 - mu) * kappa
    data = GroupedCounts(("g", "h"), np.array([30, 12]), np.array([7, 0]))
    got = MIXTURE.trial_log_likelihood(
        ModelSpec("m", "bb_mixture", {}, {"K": 1}), _mixture_posterior([1], [mu], [kappa]), data
    )
    assert got[0, 0, 0] == pytest.approx(np.log((a + 7 - 1) / (a + b + 30 - 1)))
    assert got[0, 0, 1] == pytest.approx(np.log((b + 30 - 7 - 1) / (a + b + 30 - 1)))
    # no success in h: the value is that of one more success given all 12 trials (weighted by 0 in the task)
    assert got[0, 1, 0] == pytest.approx(np.log(a / (a + b + 12)))
    assert got[0, 1, 1] == pytest.approx(np.log((b + 12 - 1) / (a + b + 12 - 1)))


def test_mixture_trial_log_likelihood_agrees_with_integration_over_the_rate():
    """K = 2: P(success | the group's other trials) = integral of p over the group's posterior rate given them."""
    from scipy import integrate

    w, mu, kappa = np.array([0.6, 0.4]), np.array([0.15, 0.6]), np.array([20.0, 8.0])
    n, r = 25, 9
    got = MIXTURE.trial_log_likelihood(
        ModelSpec("m", "bb_mixture", {}, {"K": 2}), _mixture_posterior(w, mu, kappa), _one(n, r)
    )[0, 0]

    def population(p):
        return sum(wk * stats.beta.pdf(p, mk * kk, (1 - mk) * kk) for wk, mk, kk in zip(w, mu, kappa))

    def predictive(successes, failures):
        def weight(p):
            return population(p) * p**successes * (1 - p) ** failures

        norm = integrate.quad(weight, 0, 1, epsabs=0, epsrel=1e-12, limit=200)[0]
        return integrate.quad(lambda p: p * weight(p), 0, 1, epsabs=0, epsrel=1e-12, limit=200)[0] / norm

    assert got[0] == pytest.approx(np.log(predictive(r - 1, n - r)), abs=1e-8)
    assert got[1] == pytest.approx(np.log(1 - predictive(r, n - r - 1)), abs=1e-8)
