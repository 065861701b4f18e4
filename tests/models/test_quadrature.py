"""The group-marginal densities of the logit families against independent integrals of the same density."""

import numpy as np
import pytest
from scipy import integrate, special, stats

from binoval.models.logit_t import t_logit_marginal
from binoval.models.quadrature import binomial_logpmf_logit, normal_logit_marginal


def _log_integral(log_density, centre: float, spread: float) -> float:
    """log of the integral of exp(log_density) over the real line by adaptive quadrature (scipy's QUADPACK).

    ``centre`` is the mode and ``spread`` the width of the peak: breakpoints around it make sure that a peak
    far narrower than the tails is resolved; the tails beyond 50 spreads are integrated to infinity.
    """
    peak = log_density(centre)

    def density(t):
        return np.exp(log_density(t) - peak)

    lo, hi = centre - 50 * spread, centre + 50 * spread
    points = [centre + k * spread for k in (-20, -5, -1, 0, 1, 5, 20)]
    options = {"limit": 2000, "epsabs": 0, "epsrel": 1e-13}
    value = integrate.quad(density, lo, hi, points=points, **options)[0]
    value += integrate.quad(density, -np.inf, lo, **options)[0] + integrate.quad(density, hi, np.inf, **options)[0]
    return float(np.log(value) + peak)


def _spread(log_density, centre: float) -> float:
    """1 / sqrt(-second derivative) of ``log_density`` at ``centre``, by finite differences."""
    h = 1e-4
    curvature = (log_density(centre + h) - 2 * log_density(centre) + log_density(centre - h)) / h**2
    return float(1.0 / np.sqrt(max(-curvature, 1e-12)))


def _mode(log_density, lo: float, hi: float) -> float:
    from scipy.optimize import minimize_scalar

    return float(minimize_scalar(lambda t: -log_density(t), bounds=(lo, hi), method="bounded").x)


#: (population mean, sd, n, r): typical groups, a likelihood far narrower than the population,
#: a group far from the population, no successes in many trials, a single trial, no trials.
NORMAL_CASES = [
    (-2.5, 0.45, 100, 8),
    (-2.5, 0.05, 800, 200),
    (-6.0, 2.0, 2000, 0),
    (0.0, 3.0, 1, 0),
    (0.0, 5.0, 100_000, 0),
    (-3.0, 5.0, 10, 10),
    (0.5, 10.0, 50, 25),
    (-1.0, 1e-3, 10, 3),
    (1.0, 0.5, 0, 0),
]


def _random_cases(seed: int, count: int) -> list[tuple[float, float, int, int]]:
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(count):
        mean, sd = rng.normal(0, 2), float(np.exp(rng.uniform(np.log(0.01), np.log(5))))
        n = int(np.exp(rng.uniform(0, np.log(20_000))))
        r = int(rng.binomial(n, special.expit(rng.normal(mean, sd + 1))))
        cases.append((mean, sd, n, r))
    return cases


@pytest.mark.parametrize("case", NORMAL_CASES + _random_cases(20261122, 25))
def test_normal_logit_marginal_agrees_with_adaptive_integration_to_1e6(case):
    mean, sd, n, r = case

    def log_density(t):
        return binomial_logpmf_logit(r, n, t) + stats.norm.logpdf(t, mean, sd)

    centre = _mode(log_density, mean - 40 * sd - 30, mean + 40 * sd + 30)
    expected = _log_integral(log_density, centre, _spread(log_density, centre))
    got = normal_logit_marginal(np.array([mean]), np.array([sd]), np.array([n]), np.array([r]))[0, 0]
    assert abs(got - expected) < 1e-6, (case, got, expected)


def test_normal_logit_marginal_agrees_with_brute_force_monte_carlo():
    """The same density by simple Monte Carlo over the population, within 4 Monte Carlo standard errors."""
    rng = np.random.default_rng(7)
    mean, sd = np.array([-2.5, -1.0, 0.3]), np.array([0.45, 1.0, 2.0])
    n, r = np.array([150, 40, 12]), np.array([9, 10, 11])
    got = normal_logit_marginal(mean, sd, n, r)
    for j in range(3):
        theta = rng.normal(mean[j], sd[j], 2_000_000)
        density = np.exp(binomial_logpmf_logit(r[j], n[j], theta))
        estimate, se = density.mean(), density.std() / np.sqrt(len(density))
        assert abs(np.exp(got[j, j]) - estimate) < 4 * se, (j, np.exp(got[j, j]), estimate, se)


def test_normal_logit_marginal_shapes_and_broadcasting():
    """(S,) population draws against G groups give (S, G); per-group means (S, G) are used as given."""
    mean, sd = np.array([-1.0, 0.0]), np.array([0.5, 1.0])
    n, r = np.array([10, 20, 30]), np.array([1, 5, 9])
    shared = normal_logit_marginal(mean, sd, n, r)
    assert shared.shape == (2, 3)
    per_group = normal_logit_marginal(np.repeat(mean[:, None], 3, 1), np.repeat(sd[:, None], 3, 1), n, r)
    np.testing.assert_allclose(per_group, shared)
    one = normal_logit_marginal(mean[:1], sd[:1], n[1:2], r[1:2])
    np.testing.assert_allclose(one[0, 0], shared[0, 1])


@pytest.mark.parametrize(
    "case", [(-2.5, 0.45, 3.0, 100, 8), (-2.5, 0.1, 20.0, 800, 200), (0.0, 1.0, 1.0, 50, 49), (-1.0, 2.0, 0.5, 5, 0)]
)
def test_t_logit_marginal_agrees_with_adaptive_integration_to_1e6(case):
    mu, tau, nu, n, r = case

    def log_density(t):
        return binomial_logpmf_logit(r, n, t) + stats.t.logpdf(t, nu, mu, tau)

    centre = _mode(log_density, mu - 60 * tau - 30, mu + 60 * tau + 30)
    expected = _log_integral(log_density, centre, _spread(log_density, centre))
    got = t_logit_marginal(np.array([mu]), np.array([tau]), np.array([nu]), np.array([n]), np.array([r]))[0, 0]
    assert abs(got - expected) < 1e-6, (case, got, expected)
