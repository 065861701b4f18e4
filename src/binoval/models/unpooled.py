"""``unpooled``: an independent success probability ``p`` per group."""

from binoval.models.priors import UNIT, make_rv
from binoval.models.base import GROUP_DIM, R_VAR, Family


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
