"""``hier_logit``: varying intercepts on the logit scale.

theta[i] = mu + tau * z[i] with z[i] ~ Normal(0, 1) (non-centred) or
theta[i] ~ Normal(mu, tau) (centred); r[i] ~ Binomial(n[i], invlogit(theta[i])).
The non-centred form samples well when groups carry little information
(small tau or small n); the centred form when they carry a lot.
"""

import numpy as np

from binoval.models.base import (
    GROUP_DIM,
    PARAMETERIZATION_SCHEMA,
    Family,
    is_centered,
    observe_binomial,
    posterior_draws,
)
from binoval.models.priors import POSITIVE, REAL, make_rv
from binoval.models.quadrature import normal_logit_marginal


class HierLogit(Family):
    name = "hier_logit"
    default_priors = {
        "mu": {"dist": "Normal", "mu": 0.0, "sigma": 1.5},
        "tau": {"dist": "HalfNormal", "sigma": 1.0},
    }
    supports = {"mu": REAL, "tau": POSITIVE}
    option_schemas = {"parameterization": PARAMETERIZATION_SCHEMA}

    def declare(self, model, data, n, r_observed, priors, parameterization="noncentered"):
        import pymc as pm

        centered = is_centered(parameterization)
        mu = make_rv("mu", priors["mu"])
        tau = make_rv("tau", priors["tau"])
        if centered:
            theta = pm.Normal("theta", mu, tau, dims=GROUP_DIM)
        else:
            z = pm.Normal("z", 0.0, 1.0, dims=GROUP_DIM)
            theta = pm.Deterministic("theta", mu + tau * z, dims=GROUP_DIM)
        pm.Deterministic("p", pm.math.invlogit(theta), dims=GROUP_DIM)
        observe_binomial(n, r_observed, logit_p=theta)

    def mass_matrix(self, parameterization="noncentered"):
        """``low_rank`` for the non-centred form: when the data pin the group logits down, ``mu`` moves with every
        ``z`` (theta = mu + tau z), a correlation a diagonal mass matrix cannot follow; ``diag`` for the centred."""
        return "diag" if is_centered(parameterization) else "low_rank"

    def parameter_names(self, parameterization="noncentered"):
        return ["mu", "tau"] + (["z"] if parameterization == "noncentered" else []) + ["theta", "p"]

    def population_parameters(self, groups, parameterization="noncentered"):
        """Two: the population mean ``mu`` and sd ``tau`` of the group logits."""
        return 2

    def population_rate_draws(self, spec, idata, rng):
        """invlogit(theta) with theta ~ Normal(mu, tau) per draw."""
        from scipy import special

        mu, tau = posterior_draws(idata, "mu"), posterior_draws(idata, "tau")
        return special.expit(rng.normal(mu, tau))

    def derived_draws(self, idata):
        """``icc``: the latent-scale intra-class correlation tau^2 / (tau^2 + pi^2/3),
        pi^2/3 being the variance of the standard logistic distribution."""
        tau = posterior_draws(idata, "tau")
        return {"icc": tau**2 / (tau**2 + np.pi**2 / 3)}

    def marginal_log_likelihood(self, spec, idata, data, rng):
        """The group's logit integrated over Normal(mu, tau) by 60-node Gauss-Hermite quadrature."""
        return normal_logit_marginal(posterior_draws(idata, "mu"), posterior_draws(idata, "tau"), data.n, data.r)
