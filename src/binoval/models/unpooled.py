"""``unpooled``: an independent success probability ``p`` per group."""

import numpy as np

from binoval.models.base import GROUP_DIM, Family, observe_binomial, posterior_size
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
        """One draw of ``p`` from its prior per posterior draw (S,): the only thing a new group can be given."""
        import pymc as pm

        from binoval.models.priors import make_dist

        draws = pm.draw(make_dist(spec.priors["p"]), draws=posterior_size(idata), random_seed=rng)
        return np.asarray(draws, dtype=float)

    def population_rate_draws(self, spec, idata, rng):
        """No population: a new group's rate comes from the prior of ``p``."""
        return self._prior_rates(spec, idata, rng)

    def marginal_log_likelihood(self, spec, idata, data, rng):
        """No population: a group's rate integrated over the prior of ``p``, exactly (``prior_binomial_marginal``).

        The same value for every draw, since nothing a fit learns about other groups informs a new one.
        """
        density = prior_binomial_marginal(spec.priors["p"], data.n, data.r)
        return np.broadcast_to(density, (posterior_size(idata), len(data.groups))).copy()


def prior_binomial_marginal(prior: dict, n, r) -> np.ndarray:
    """log of the integral of Binomial(r | n, p) over p from a Beta or Uniform(lower, upper) prior, per group.

    Beta(a, b): the beta-binomial pmf. Uniform(l, u): (I_u(r + 1, n - r + 1) - I_l(r + 1, n - r + 1)) / ((n + 1)(u - l)),
    I the regularised incomplete beta function, since the binomial pmf integrates to 1 / (n + 1) over (0, 1).
    """
    from scipy import special, stats

    n, r = np.asarray(n), np.asarray(r)
    if prior["dist"] == "Beta":
        return stats.betabinom.logpmf(r, n, prior["alpha"], prior["beta"])
    if prior["dist"] == "Uniform":
        lower, upper = float(prior["lower"]), float(prior["upper"])
        mass = special.betainc(r + 1, n - r + 1, upper) - special.betainc(r + 1, n - r + 1, lower)
        return np.log(mass) - np.log((n + 1) * (upper - lower))
    raise ValueError(f"no exact prior predictive for a {prior['dist']} prior on p (expected Beta or Uniform)")
