"""``unpooled``: an independent success probability ``p`` per group."""

import numpy as np

from binoval.models.base import GROUP_DIM, R_VAR, Family, binomial_logpmf, posterior_size
from binoval.models.priors import UNIT, make_rv


class Unpooled(Family):
    name = "unpooled"
    default_priors = {"p": {"dist": "Beta", "alpha": 1.0, "beta": 1.0}}
    supports = {"p": UNIT}

    def declare(self, model, data, n, r_observed, priors):
        import pymc as pm

        p = make_rv("p", priors["p"], dims=GROUP_DIM)
        pm.Binomial(R_VAR, n=n, p=p, observed=r_observed, dims=GROUP_DIM)

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
        """No population: a group's rate integrated over the prior of ``p``, one prior draw per posterior draw."""
        p = self._prior_rates(spec, idata, rng)
        return binomial_logpmf(data.r[None, :], data.n[None, :], p[:, None])
