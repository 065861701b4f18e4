"""binoval.distributions against scipy.stats over the ranges the checks use (and the branch edges of kstwo)."""

import numpy as np
import pytest
from conftest import json_from_a_new_process
from scipy import stats

from binoval import distributions
from binoval.distributions import beta_binomial_draws, halfnormal_draws

SIZES = [1, 2, 3, 5, 10, 12, 25, 50, 100, 140, 141, 200, 500, 1000, 3000]


def _in_pelz_good_region(d, n):
    """Where scipy.stats.kstwo approximates (Pelz & Good, above 140 values) and ``ks_sf`` stays exact."""
    return n > 140 and n * d * d < 2.2 and n * d**1.5 > 1.4


@pytest.mark.parametrize("n", SIZES)
def test_ks_tail_is_scipys_exact_kolmogorov_distribution(n):
    grid = np.concatenate([np.linspace(0.001, 0.999, 250), [0.5 / n, 1 / n, 1 / n + 1e-9, (n - 1) / n, 0.5]])
    for d in grid[(grid > 0) & (grid < 1)]:
        expected, got = stats.kstwo.sf(d, n), distributions.ks_sf(d, n)
        if _in_pelz_good_region(d, n):
            np.testing.assert_allclose(got, expected, rtol=1e-4, err_msg=f"n={n}, d={d}")
        else:
            np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-14, err_msg=f"n={n}, d={d}")


@pytest.mark.parametrize("n, d", [(141, 0.1236), (500, 0.06), (1000, 0.035), (3000, 0.02)])
def test_ks_tail_is_exact_where_scipy_approximates(n, d):
    """Where kstwo uses Pelz & Good's series, ``ks_sf`` agrees with scipy's own exact Durbin-matrix routine."""
    from scipy.stats._ksstats import _kolmogn_DMTW

    assert _in_pelz_good_region(d, n)
    np.testing.assert_allclose(distributions.ks_sf(d, n), 1 - _kolmogn_DMTW(n, d, cdf=True), rtol=1e-9)


@pytest.mark.parametrize("n", [2, 5, 12, 30, 140, 1000])
@pytest.mark.parametrize("alpha", [0.5, 0.05, 0.01])
def test_ks_band_halfwidth_inverts_the_tail(n, alpha):
    d = distributions.ks_isf(alpha, n)
    np.testing.assert_allclose(distributions.ks_sf(d, n), alpha, rtol=1e-9)
    if n <= 140:
        np.testing.assert_allclose(d, stats.kstwo.isf(alpha, n), rtol=1e-9)


@pytest.mark.parametrize("n", [1, 3, 12, 50, 140])
def test_ks_uniform_test_is_scipys_exact_kstest(n):
    rng = np.random.default_rng(n)
    for power in (0.5, 1.0, 2.0):  # uniform, and two departures from it
        values = rng.random(n) ** power
        expected = stats.kstest(values, "uniform", method="exact")
        statistic, p_value = distributions.ks_uniform_test(values)
        assert statistic == pytest.approx(expected.statistic, abs=1e-15)
        np.testing.assert_allclose(p_value, expected.pvalue, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("n", [10, 50, 199, 1000, 2000])
def test_binomial_tails_and_quantiles_are_scipys(n):
    z = np.arange(1, 100) / 100
    k = np.arange(-1, n + 2)[None, :]
    for ours, theirs in [
        (distributions.binomial_cdf(k, n, z[:, None]), stats.binom.cdf(k, n, z[:, None])),
        (distributions.binomial_sf(k - 1, n, z[:, None]), stats.binom.sf(k - 1, n, z[:, None])),
    ]:
        assert ours.shape == theirs.shape
        tiny = theirs <= 1e-30  # the far tails, where the two libraries' incomplete beta functions part
        np.testing.assert_allclose(ours[~tiny], theirs[~tiny], rtol=1e-11)
        np.testing.assert_allclose(ours[tiny], theirs[tiny], rtol=0, atol=1e-40)
    for q in (1e-4, 0.005, 0.025, 0.5, 0.975, 0.995, 1 - 1e-4, 1.0):
        np.testing.assert_array_equal(distributions.binomial_ppf(q, n, z), stats.binom.ppf(q, n, z), err_msg=str(q))


def test_binomial_functions_pass_scipy_special_integers():
    """bdtr warns once per element given floats for k or n (0.8 s of an SBC summary job's band)."""
    import warnings

    z = np.arange(1, 100) / 100
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        distributions.binomial_ppf([0.005, 0.995], 200.0, z[:, None])
        distributions.binomial_cdf(np.arange(-1, 202.0), 200.0, 0.3)
        distributions.binomial_sf(np.arange(-1, 202.0), 200, 0.3)


def test_chi_square_tail_is_scipys():
    x = np.linspace(0, 60, 121)
    for df in (1, 4, 19):
        np.testing.assert_allclose(distributions.chi2_sf(x, df), stats.chi2.sf(x, df), rtol=1e-14)


def test_the_checks_do_not_import_scipy_stats():
    """The point of the module: a job that checks uniformity does not pay for importing scipy.stats."""
    code = (
        "import json, sys, numpy as np\n"
        "from binoval.predictive.primitives import uniformity_test, ks_band_halfwidth\n"
        "from binoval.sbc.uniformity import ecdf_band, ecdf_test, chi_square_test\n"
        "u = np.random.default_rng(0).random(40)\n"
        "uniformity_test(u); ks_band_halfwidth(12); ecdf_band(40); ecdf_test(u); chi_square_test(u)\n"
        "print(json.dumps('scipy.stats' in sys.modules))\n"
    )
    assert json_from_a_new_process(code) is False


#: (parameters, size) as PyTensor hands them to a scipy sampler: scalars, one value per group, a sample of
#: datasets over groups, leading length-1 axes, and an int size
DRAW_LAYOUTS = [
    ((), None),
    ((), (7,)),
    ((5,), None),
    ((5,), (3, 5)),
    ((1, 5), (4, 5)),
    ((3, 1), (3, 4)),
    ((), 6),
]


@pytest.mark.parametrize("shape, size", DRAW_LAYOUTS)
def test_halfnormal_draws_are_scipys(shape, size):
    values = np.random.default_rng(1)
    loc, scale = values.normal(size=shape), values.gamma(2.0, size=shape)
    ours = halfnormal_draws(np.random.default_rng(7), loc, scale, size)
    theirs = stats.halfnorm.rvs(loc, scale, size=size, random_state=np.random.default_rng(7))
    assert np.shape(ours) == np.shape(theirs) and np.asarray(ours).dtype == np.asarray(theirs).dtype
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("shape, size", DRAW_LAYOUTS)
def test_beta_binomial_draws_are_scipys(shape, size):
    values = np.random.default_rng(2)
    n = values.integers(0, 50, size=shape)
    a, b = values.gamma(1.5, size=shape), values.gamma(3.0, size=shape)
    ours = beta_binomial_draws(np.random.default_rng(8), n, a, b, size)
    theirs = stats.betabinom.rvs(n, a, b, size=size, random_state=np.random.default_rng(8))
    assert type(ours) is type(theirs) and np.shape(ours) == np.shape(theirs)
    assert np.asarray(ours).dtype == np.asarray(theirs).dtype
    np.testing.assert_array_equal(ours, theirs)


def test_draws_at_scale_zero_and_float_trials_are_scipys():
    rng = np.random.default_rng
    loc = np.array([0.5, 1.5])
    np.testing.assert_array_equal(
        halfnormal_draws(rng(3), loc, 0.0, (4, 2)), stats.halfnorm.rvs(loc, 0.0, size=(4, 2), random_state=rng(3))
    )
    n = np.array([10.0, 0.0, 25.0])
    np.testing.assert_array_equal(
        beta_binomial_draws(rng(4), n, 2.0, 3.0, None), stats.betabinom.rvs(n, 2.0, 3.0, random_state=rng(4))
    )


@pytest.mark.parametrize(
    "draw, args",
    [
        (halfnormal_draws, (0.0, -1.0)),
        (halfnormal_draws, (0.0, np.nan)),
        (beta_binomial_draws, (10, 0.0, 1.0)),
        (beta_binomial_draws, (10.5, 1.0, 1.0)),
        (beta_binomial_draws, (-1, 1.0, 1.0)),
        (beta_binomial_draws, (np.arange(3), 1.0, 1.0)),  # size below does not match the 3 trials
    ],
)
def test_draws_refuse_what_scipy_refuses(draw, args):
    scipy_draw = {halfnormal_draws: stats.halfnorm.rvs, beta_binomial_draws: stats.betabinom.rvs}[draw]
    size = (2, 4) if np.ndim(args[0]) else None
    with pytest.raises(ValueError):
        scipy_draw(*args, size=size, random_state=np.random.default_rng(0))
    with pytest.raises(ValueError):
        draw(np.random.default_rng(0), *args, size)
