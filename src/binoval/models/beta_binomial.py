"""``beta_binomial``: group rates drawn from a Beta population.

p[i] ~ Beta(mu * kappa, (1 - mu) * kappa), r[i] ~ Binomial(n[i], p[i]).
``mu`` is the population mean rate and ``kappa`` the concentration: the
population variance of rates is mu (1 - mu) / (kappa + 1).
"""

from binoval.models.base import GROUP_DIM, Family, log_binomial_coefficient, observe_binomial, posterior_draws
from binoval.models.priors import POSITIVE, UNIT, make_rv


def beta_binomial_logpmf(r, n, mu, kappa):
    """log BetaBinomial(r | n, mu kappa, (1 - mu) kappa), broadcasting: a rate from Beta(mean mu, concentration
    kappa) integrated out exactly."""
    return beta_binomial_shape_logpmf(r, n, mu * kappa, (1.0 - mu) * kappa)


def beta_binomial_shape_logpmf(r, n, alpha, beta):
    """log BetaBinomial(r | n, alpha, beta), broadcasting: a rate from Beta(alpha, beta) integrated out exactly
    (``scipy.special``: table-only jobs call it without importing ``scipy.stats``)."""
    from scipy import special

    return log_binomial_coefficient(n, r) + special.betaln(r + alpha, n - r + beta) - special.betaln(alpha, beta)


class BetaBinomial(Family):
    name = "beta_binomial"
    default_priors = {
        "mu": {"dist": "Beta", "alpha": 1.0, "beta": 1.0},
        "kappa": {"dist": "Gamma", "alpha": 2.0, "beta": 0.05},
    }
    supports = {"mu": UNIT, "kappa": POSITIVE}

    def declare(self, model, data, n, r_observed, priors):
        import pymc as pm

        mu = make_rv("mu", priors["mu"])
        kappa = make_rv("kappa", priors["kappa"])
        p = pm.Beta("p", alpha=mu * kappa, beta=(1.0 - mu) * kappa, dims=GROUP_DIM)
        observe_binomial(n, r_observed, p=p)

    def parameter_names(self):
        return ["mu", "kappa", "p"]

    def population_parameters(self, groups):
        """Two: the population mean ``mu`` and concentration ``kappa``."""
        return 2

    def population_rate_draws(self, spec, idata, rng):
        """p ~ Beta(mu kappa, (1 - mu) kappa) per draw."""
        mu, kappa = posterior_draws(idata, "mu"), posterior_draws(idata, "kappa")
        return rng.beta(mu * kappa, (1 - mu) * kappa)

    def marginal_log_likelihood(self, spec, idata, data, rng):
        """The group's rate integrated out exactly: a beta-binomial density per draw."""
        mu, kappa = posterior_draws(idata, "mu")[:, None], posterior_draws(idata, "kappa")[:, None]
        return beta_binomial_logpmf(data.r[None, :], data.n[None, :], mu, kappa)
