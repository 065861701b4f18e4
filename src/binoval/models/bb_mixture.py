"""``bb_mixture``: K clusters of groups, each cluster a beta-binomial population.

w ~ Dirichlet(a, ..., a); cluster means mu_1 < ... < mu_K; kappa_k per cluster;
r[i] ~ sum_k w_k BetaBinomial(n[i], mu_k kappa_k, (1 - mu_k) kappa_k).

Cluster assignments are marginalised (the sum above), so NUTS samples the
model and the pointwise log-likelihood is exact. The means are ordered
generatively: mu = cumulative sums of a Dirichlet(1, ..., 1) draw of length
K + 1, which is the distribution of the order statistics of K Uniform(0, 1)
variables. Unlike an ``ordered`` transform, this orders prior draws too, so
forward simulation (prior predictive, SBC) matches the fitted model.
"""

from binoval.models.priors import POSITIVE, SIMPLEX, make_rv
from binoval.models.base import GROUP_DIM, R_VAR, Family

CLUSTER_DIM = "cluster"


class BetaBinomialMixture(Family):
    name = "bb_mixture"
    default_priors = {
        "w": {"dist": "Dirichlet", "a": 1.0},
        "kappa": {"dist": "Gamma", "alpha": 2.0, "beta": 0.05},
    }
    supports = {"w": SIMPLEX, "kappa": POSITIVE}
    options = ("K",)

    def declare(self, model, data, n, r_observed, priors, K):
        import numpy as np
        import pymc as pm
        import pytensor.tensor as pt

        model.add_coord(CLUSTER_DIM, list(range(1, K + 1)))
        if K == 1:
            w = pm.Deterministic("w", pt.ones(1), dims=CLUSTER_DIM)
        else:
            w = pm.Dirichlet("w", a=np.full(K, float(priors["w"]["a"])), dims=CLUSTER_DIM)
        gaps = pm.Dirichlet("mu_gaps", a=np.ones(K + 1))
        mu = pm.Deterministic("mu", pt.cumsum(gaps)[:K], dims=CLUSTER_DIM)
        kappa = make_rv("kappa", priors["kappa"], dims=CLUSTER_DIM)
        components = pm.BetaBinomial.dist(
            n=n[:, None], alpha=(mu * kappa)[None, :], beta=((1.0 - mu) * kappa)[None, :]
        )
        pm.Mixture(R_VAR, w=w, comp_dists=components, observed=r_observed, dims=GROUP_DIM)

    def parameter_names(self, K):
        return ["w", "mu", "kappa"]
