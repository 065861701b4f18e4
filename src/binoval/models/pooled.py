"""``pooled``: one success probability ``p`` shared by every group."""

from binoval.models.base import Family, binomial_logpmf, observe_binomial, posterior_draws
from binoval.models.priors import UNIT, make_rv


class Pooled(Family):
    name = "pooled"
    default_priors = {"p": {"dist": "Beta", "alpha": 1.0, "beta": 1.0}}
    supports = {"p": UNIT}

    def declare(self, model, data, n, r_observed, priors):

        p = make_rv("p", priors["p"])
        observe_binomial(n, r_observed, p=p)

    def parameter_names(self):
        return ["p"]

    def population_parameters(self, groups):
        """One: the shared rate ``p``."""
        return 1

    def population_rate_draws(self, spec, idata, rng):
        """A new group has the shared rate ``p``."""
        return posterior_draws(idata, "p")

    def marginal_log_likelihood(self, spec, idata, data, rng):
        """No group has a rate of its own: Binomial(r_i | n_i, p) per draw."""
        p = posterior_draws(idata, "p")
        return binomial_logpmf(data.r[None, :], data.n[None, :], p[:, None])
