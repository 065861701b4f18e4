"""``pooled``: one success probability ``p`` shared by every group."""

from binoval.models.priors import UNIT, make_rv
from binoval.models.base import GROUP_DIM, R_VAR, Family


class Pooled(Family):
    name = "pooled"
    default_priors = {"p": {"dist": "Beta", "alpha": 1.0, "beta": 1.0}}
    supports = {"p": UNIT}

    def declare(self, model, data, n, r_observed, priors):
        import pymc as pm

        p = make_rv("p", priors["p"])
        pm.Binomial(R_VAR, n=n, p=p, observed=r_observed, dims=GROUP_DIM)

    def parameter_names(self):
        return ["p"]
