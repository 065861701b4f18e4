"""The fused beta-binomial mixture density (``binoval.models.mixture_density``) against scipy and PyMC."""

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
from conftest import json_from_a_new_process
from scipy import special, stats

from binoval.models import GroupedCounts, build_model, expand_models
from binoval.models.base import log_binomial_coefficient
from binoval.models.mixture_density import beta_binomial_mixture_logp, digamma, mixture_logp_and_gradients


def reference_logp(r, n, w, alpha, beta):
    """log sum_k w_k BetaBinomial(r_i | n_i, alpha_k, beta_k) with scipy, per group."""
    with np.errstate(divide="ignore"):
        log_w = np.log(w)
    return special.logsumexp(log_w + stats.betabinom.logpmf(r[:, None], n[:, None], alpha, beta), axis=1)


def seeded_case(seed, groups, K, max_trials=2000):
    """Counts with every edge a dataset has (n = 0, r = 0, r = n) and seeded mixture parameters."""
    rng = np.random.default_rng(seed)
    n = rng.integers(0, max_trials, groups)
    n[:3] = [0, 7, 7]
    r = rng.binomial(n, rng.uniform(0.02, 0.98, groups))
    r[1:3] = [0, 7]
    w = rng.dirichlet(np.ones(K))
    mu = np.sort(rng.uniform(0.01, 0.99, K))
    kappa = rng.gamma(2.0, 20.0, K) + 0.05
    return r, n, log_binomial_coefficient(n, r), w, mu * kappa, (1.0 - mu) * kappa


def test_digamma_matches_scipy_across_its_range():
    x = np.concatenate([[1e-10, 1e-3, 0.5, 1.0, 9.999, 10.0, 10.001, 1e6, 1e12], np.geomspace(1e-6, 1e5, 400)])
    ours = np.array([digamma(v) for v in x])
    np.testing.assert_allclose(ours, special.psi(x), rtol=1e-13, atol=1e-13)
    assert np.isnan(digamma(0.0)) and np.isnan(digamma(-1.5)) and np.isnan(digamma(np.nan))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("K", [1, 2, 4])
def test_density_matches_scipy(seed, K):
    r, n, log_c, w, alpha, beta = seeded_case(seed, 40, K)
    logp = mixture_logp_and_gradients(r, n, log_c, w, alpha, beta)[0]
    np.testing.assert_allclose(logp, reference_logp(r, n, w, alpha, beta), rtol=1e-11, atol=1e-11)
    assert abs(logp[0]) < 1e-14  # n = 0: nothing observed, log 1


@pytest.mark.parametrize("seed", range(3))
def test_gradient_matches_finite_differences(seed):
    r, n, log_c, w, alpha, beta = seeded_case(seed, 15, 3, max_trials=300)
    _, d_w, d_alpha, d_beta = mixture_logp_and_gradients(r, n, log_c, w, alpha, beta)
    for position, derivative in ((0, d_w), (1, d_alpha), (2, d_beta)):
        for k in range(3):
            params = [w.copy(), alpha.copy(), beta.copy()]
            step = 1e-6 * params[position][k]
            params[position][k] += step
            up = reference_logp(r, n, *params)
            params[position][k] -= 2 * step
            down = reference_logp(r, n, *params)
            np.testing.assert_allclose(derivative[:, k], (up - down) / (2 * step), rtol=1e-5, atol=1e-7)


def test_a_weight_of_zero_leaves_its_cluster_out_but_keeps_its_derivative():
    r, n, log_c, _, alpha, beta = seeded_case(5, 10, 3)
    w = np.array([0.4, 0.0, 0.6])
    logp, d_w, _, d_beta = mixture_logp_and_gradients(r, n, log_c, w, alpha, beta)
    np.testing.assert_allclose(logp, reference_logp(r, n, w, alpha, beta), rtol=1e-11, atol=1e-11)
    assert np.all(np.isfinite(d_w[:, 1])) and np.all(d_w[1:, 1] > 0)
    assert np.all(d_beta[:, 1] == 0.0)


def test_outside_the_support_is_minus_infinity_with_zero_gradient():
    r, n, log_c, w, alpha, beta = seeded_case(6, 10, 2)
    r_bad = r.copy()
    r_bad[4] = n[4] + 1
    logp, d_w, *_ = mixture_logp_and_gradients(r_bad, n, log_c, w, alpha, beta)
    assert logp[4] == -np.inf and np.all(d_w[4] == 0.0) and np.all(np.isfinite(np.delete(logp, 4)))
    for bad_alpha in (np.array([0.0, 1.0]), np.array([-1.0, 1.0]), np.array([np.nan, 1.0])):
        logp, d_w, d_alpha, d_beta = mixture_logp_and_gradients(r, n, log_c, w, bad_alpha, beta)
        assert np.all(logp == -np.inf) and not (d_w.any() or d_alpha.any() or d_beta.any())


@pytest.mark.parametrize("mode", ["FAST_COMPILE", "NUMBA"])
def test_graph_value_and_gradient_match_pymc_mixture(mode):
    """Through PyTensor (perform, and the numba backend nutpie compiles) the Op's value and gradient are PyMC's."""
    r, n, log_c, w, alpha, beta = seeded_case(7, 25, 3)
    w_in, alpha_in, beta_in = pt.dvector("w"), pt.dvector("alpha"), pt.dvector("beta")
    ours = beta_binomial_mixture_logp(pt.as_tensor(r), pt.as_tensor(n), pt.as_tensor(log_c), w_in, alpha_in, beta_in)
    components = pm.BetaBinomial.dist(n=n[:, None], alpha=alpha_in[None, :], beta=beta_in[None, :])
    theirs = pm.logp(pm.Mixture.dist(w=w_in, comp_dists=components), r)
    inputs = [w_in, alpha_in, beta_in]
    outputs = [[out, *pytensor.grad(out.sum(), inputs)] for out in (ours, theirs)]
    ours_values, theirs_values = (pytensor.function(inputs, o, mode=mode)(w, alpha, beta) for o in outputs)
    for a, b in zip(ours_values, theirs_values, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


def test_model_log_density_and_gradient_match_a_pymc_mixture_model():
    """The built bb_mixture_k3 (fused Op) and the same model written with PyMC's Mixture agree at random points,
    transforms and Jacobians included: Dirichlet weights and gaps as normalised Gamma and Exponential variables."""
    rng = np.random.default_rng(11)
    n = rng.integers(1, 400, 12)
    data = GroupedCounts(tuple(f"g{i}" for i in range(12)), n, rng.binomial(n, 0.3))
    spec = expand_models({"mix": {"family": "bb_mixture", "K": 3}})["mix_k3"]
    model = build_model(spec, data)
    with pm.Model() as reference:
        g = pm.Gamma("w_unnormalised", alpha=1.0, beta=1.0, shape=3)
        w = g / g.sum()
        gaps = pm.Exponential("mu_gaps_unnormalised", 1.0, shape=4)
        mu = pt.cumsum(gaps / gaps.sum())[:3]
        kappa = pm.Gamma("kappa", alpha=2.0, beta=0.05, shape=3)
        components = pm.BetaBinomial.dist(n=n[:, None], alpha=(mu * kappa)[None, :], beta=((1 - mu) * kappa)[None, :])
        pm.Mixture("r", w=w, comp_dists=components, observed=data.r)
    ours_logp, ours_dlogp = model.compile_logp(mode="FAST_COMPILE"), model.compile_dlogp(mode="FAST_COMPILE")
    theirs_logp, theirs_dlogp = (
        reference.compile_logp(mode="FAST_COMPILE"),
        reference.compile_dlogp(mode="FAST_COMPILE"),
    )
    for _ in range(5):
        point = {
            "w_unnormalised_log__": rng.normal(size=3),
            "mu_gaps_unnormalised_log__": rng.normal(size=4),
            "kappa_log__": rng.normal(3.0, 1.0, size=3),
        }
        np.testing.assert_allclose(ours_logp(point), theirs_logp(point), rtol=1e-10)
        np.testing.assert_allclose(ours_dlogp(point), theirs_dlogp(point), rtol=1e-8, atol=1e-8)


def test_shapes_are_inferred_without_running_the_op():
    """PyTensor's shape inference takes the Op's ``infer_shape`` (in PyTensor 3.3's signature, no ``fgraph``):
    (groups,) for the density, (groups, K) for each gradient, from symbolic inputs of unknown length."""
    import warnings

    from pytensor.graph.fg import FunctionGraph
    from pytensor.tensor.rewriting.shape import ShapeFeature

    from binoval.models.mixture_density import beta_binomial_mixture_logp_op

    r, n = pt.lvector("r"), pt.lvector("n")
    log_coefficient, w, alpha, beta = (pt.dvector(name) for name in ("c", "w", "a", "b"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        outputs = beta_binomial_mixture_logp_op(r, n, log_coefficient, w, alpha, beta)
        graph = FunctionGraph([r, n, log_coefficient, w, alpha, beta], outputs, features=[ShapeFeature()], clone=False)
        shapes = [pt.stack(graph.shape_feature.shape_tuple(out)) for out in outputs]
    shape_of = pytensor.function([r, n, log_coefficient, w, alpha, beta], shapes, on_unused_input="ignore")
    counts, weights = np.zeros(5, dtype="int64"), np.full(3, 1 / 3)
    got = shape_of(counts, counts, np.zeros(5), weights, weights, weights)
    assert [tuple(s) for s in got] == [(5,), (5, 3), (5, 3), (5, 3)]


def test_the_op_defines_infer_shape_as_pytensor_now_calls_it():
    """Defining the Op with the old ``infer_shape(self, fgraph, node, shapes)`` warns (a DeprecationWarning in every
    mixture job's log) and will stop working; a fresh import must not warn."""
    probe = (
        "import json, warnings\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    import binoval.models.mixture_density\n"
        "print(json.dumps([str(w.message) for w in caught if 'infer_shape' in str(w.message)]))"
    )
    assert json_from_a_new_process(probe) == []
