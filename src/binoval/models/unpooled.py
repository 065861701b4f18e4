"""``unpooled``: an independent success probability ``p`` per group."""

import numpy as np

from binoval.models.base import GROUP_DIM, Family, observe_binomial, posterior_size
from binoval.models.beta_binomial import beta_binomial_shape_logpmf
from binoval.models.priors import UNIT, make_rv


class Unpooled(Family):
    name = "unpooled"
    default_priors = {"p": {"dist": "Beta", "alpha": 1.0, "beta": 1.0}}
    supports = {"p": UNIT}

    def declare(self, model, data, n, r_observed, priors):

        p = make_rv("p", priors["p"], dims=GROUP_DIM)
        observe_binomial(n, r_observed, p=p)

    def parameter_names(self):
        return ["p"]

    def population_parameters(self, groups):
        """One rate per group: there is no population."""
        return groups

    def _prior_rates(self, spec, idata, rng) -> np.ndarray:
        """One draw of ``p`` from its prior per posterior draw (S,): the only thing a new group can be given.

        Drawn with numpy, not PyMC: the read-outs that need it run in jobs that only read tables (report, loo).
        """
        return draw_unit_prior(spec.priors["p"], posterior_size(idata), rng)

    def population_rate_draws(self, spec, idata, rng):
        """No population: a new group's rate comes from the prior of ``p``."""
        return self._prior_rates(spec, idata, rng)

    def marginal_log_likelihood(self, spec, idata, data, rng):
        """No population: a group's rate integrated over the prior of ``p``, exactly (``prior_binomial_marginal``).

        The same value for every draw, since nothing a fit learns about other groups informs a new one.
        """
        density = prior_binomial_marginal(spec.priors["p"], data.n, data.r)
        return np.broadcast_to(density, (posterior_size(idata), len(data.groups))).copy()


def draw_unit_prior(prior: dict, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` draws from a prior on (0, 1): Beta(alpha, beta) or Uniform(lower, upper), the priors ``UNIT`` allows."""
    if prior["dist"] == "Beta":
        return rng.beta(float(prior["alpha"]), float(prior["beta"]), size=int(size))
    if prior["dist"] == "Uniform":
        return rng.uniform(float(prior["lower"]), float(prior["upper"]), size=int(size))
    raise ValueError(f"a prior on (0, 1) must be Beta or Uniform, got {prior['dist']}")


def prior_binomial_marginal(prior: dict, n, r) -> np.ndarray:
    """log of the integral of Binomial(r | n, p) over p from a Beta or Uniform(lower, upper) prior, per group.

    Beta(a, b): the beta-binomial pmf. Uniform(l, u): (I_u(r + 1, n - r + 1) - I_l(r + 1, n - r + 1)) / ((n + 1)(u - l)),
    I the regularised incomplete beta function, since the binomial pmf integrates to 1 / (n + 1) over (0, 1).
    """
    from scipy import special

    n, r = np.asarray(n), np.asarray(r)
    if prior["dist"] == "Beta":
        return beta_binomial_shape_logpmf(r, n, float(prior["alpha"]), float(prior["beta"]))
    if prior["dist"] == "Uniform":
        lower, upper = float(prior["lower"]), float(prior["upper"])
        mass = special.betainc(r + 1, n - r + 1, upper) - special.betainc(r + 1, n - r + 1, lower)
        return np.log(mass) - np.log((n + 1) * (upper - lower))
    raise ValueError(f"no exact prior predictive for a {prior['dist']} prior on p (expected Beta or Uniform)")
