"""``bb_mixture``: K clusters of groups, each cluster a beta-binomial population.

w ~ Dirichlet(a, ..., a); cluster means mu_1 < ... < mu_K; kappa_k per cluster;
r[i] ~ sum_k w_k BetaBinomial(n[i], mu_k kappa_k, (1 - mu_k) kappa_k).

Cluster assignments are marginalised (the sum above), so NUTS samples the
model and the pointwise log-likelihood is exact; the sum and its gradient are
one fused numba kernel (``binoval.models.mixture_density``). The means are ordered
generatively: mu = cumulative sums of a Dirichlet(1, ..., 1) draw of length
K + 1, which is the distribution of the order statistics of K Uniform(0, 1)
variables. Unlike an ``ordered`` transform, this orders prior draws too, so
forward simulation (prior predictive, SBC) matches the fitted model.

Both Dirichlet draws are sampled as normalised Gamma variables: w = g / sum(g) with g_k ~ Gamma(a, 1) is
Dirichlet(a, ..., a), and the gaps = e / sum(e) with e_j ~ Exponential(1) are Dirichlet(1, ..., 1). The model
is the same; NUTS samples log g and log e, whose geometry suits it better than PyMC's simplex transform (on
hospital12's SBC fits, K = 2..4: 0.20 / 0.24 / 0.30 s per fit and 8 / 18 / 18% extended, against 0.17 / 0.28 /
0.42 s and 35 / 40 / 18% with the simplex transform and a low-rank mass matrix; benchmarks/README.md, issue 17, sixth steps).
The scale of g and e (their sums) is not seen by the likelihood; power-scaling the prior scales the Dirichlet
densities of w and of the gaps instead of the Gamma densities (``derived_log_prior``).

A config entry with ``K: [1, 2]`` stands for two models, ``<id>_k1`` and
``<id>_k2``; the K choice (``binoval.loo.compare``) picks among them.
Group membership P(z_i = k | r_i, draw) is computed here only
(``membership_draws``), from the component densities ``component_logpmf``.
"""

import numpy as np

from binoval.models.base import (
    GROUP_DIM,
    LOG_COEFFICIENT_DATA,
    R_VAR,
    Family,
    ModelSpec,
    draw_categorical,
    posterior_draws,
)
from binoval.models.beta_binomial import beta_binomial_logpmf
from binoval.models.priors import POSITIVE, SIMPLEX, make_rv

CLUSTER_DIM = "cluster"
#: w = W_UNNORMALISED / its sum (K >= 2); the gaps between the ordered means = MU_GAPS_UNNORMALISED / its sum
W_UNNORMALISED, MU_GAPS_UNNORMALISED = "w_unnormalised", "mu_gaps_unnormalised"
#: the number of clusters K: one integer or a list (each K its own model)
K_SCHEMA = {
    "oneOf": [
        {"type": "integer", "minimum": 1, "maximum": 10},
        {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"type": "integer", "minimum": 1, "maximum": 10},
        },
    ]
}


def observe_beta_binomial_mixture(n, r_observed, w, alpha, beta):
    """Declare the observed ``R_VAR``: r_i ~ sum_k w_k BetaBinomial(n_i, alpha_k, beta_k).

    Its log-density and gradient come from one fused Op (``binoval.models.mixture_density``), with log C(n, r)
    read from the model's ``log_binomial_coefficient`` container; draws of ``r`` come from PyMC's ``Mixture``
    of ``BetaBinomial`` components, the same distribution.
    """
    import pymc as pm

    from binoval.models.mixture_density import beta_binomial_mixture_logp

    log_coefficient = pm.modelcontext(None)[LOG_COEFFICIENT_DATA]

    def draw(n, log_coefficient, w, alpha, beta, size):
        components = pm.BetaBinomial.dist(n=n[:, None], alpha=alpha[None, :], beta=beta[None, :])
        return pm.Mixture.dist(w=w, comp_dists=components, size=size)

    def logp(value, n, log_coefficient, w, alpha, beta):
        return beta_binomial_mixture_logp(value, n, log_coefficient, w, alpha, beta)

    return pm.CustomDist(
        R_VAR, n, log_coefficient, w, alpha, beta, dist=draw, logp=logp, observed=r_observed, dims=GROUP_DIM
    )


class BetaBinomialMixture(Family):
    name = "bb_mixture"
    default_priors = {
        "w": {"dist": "Dirichlet", "a": 1.0},
        "kappa": {"dist": "Gamma", "alpha": 2.0, "beta": 0.05},
    }
    supports = {"w": SIMPLEX, "kappa": POSITIVE}
    option_schemas = {"K": K_SCHEMA}
    required_options = ("K",)

    def expand(self, model_id, priors, options):
        """One model ``<model_id>_k<K>`` per K."""
        ks = options["K"] if isinstance(options["K"], list) else [options["K"]]
        return [ModelSpec(f"{model_id}_k{k}", self.name, priors, {"K": int(k)}, model_id) for k in ks]

    def k_choice(self, spec):
        return (spec.config_id or spec.model_id, int(spec.options["K"]))

    def declare(self, model, data, n, r_observed, priors, K):
        import pymc as pm
        import pytensor.tensor as pt

        model.add_coord(CLUSTER_DIM, list(range(1, K + 1)))
        if K == 1:
            w = pm.Deterministic("w", pt.ones(1), dims=CLUSTER_DIM)
        else:  # w ~ Dirichlet(a, ..., a)
            unnormalised = pm.Gamma(W_UNNORMALISED, alpha=float(priors["w"]["a"]), beta=1.0, dims=CLUSTER_DIM)
            w = pm.Deterministic("w", unnormalised / unnormalised.sum(), dims=CLUSTER_DIM)
        gaps = pm.Exponential(MU_GAPS_UNNORMALISED, 1.0, shape=K + 1)  # gaps / sum ~ Dirichlet(1, ..., 1)
        mu = pm.Deterministic("mu", pt.cumsum(gaps)[:K] / gaps.sum(), dims=CLUSTER_DIM)
        kappa = make_rv("kappa", priors["kappa"], dims=CLUSTER_DIM)
        observe_beta_binomial_mixture(n, r_observed, w, mu * kappa, (1.0 - mu) * kappa)

    def mass_matrix(self, K):
        """``low_rank`` for K = 1: its mean is the ratio of two gaps whose common scale the data do not see, so
        when the mean is well identified the two log gaps move together (on hospital12, 4 x 1000 draws: 0.19 s
        and bulk ESS 3233 against 0.34 s and 1993 with a diagonal matrix). ``diag`` for K >= 2, where the diagonal
        gave more effective draws per second in every case measured (SBC fits and the observed fit; benchmarks/README.md,
        issue 17, sixth steps)."""
        return "low_rank" if int(K) == 1 else "diag"

    def auxiliary_variables(self, K):
        """The Gamma variables normalised to w and to the gaps between the means: devices of the sampling."""
        return [MU_GAPS_UNNORMALISED] if int(K) == 1 else [W_UNNORMALISED, MU_GAPS_UNNORMALISED]

    def derived_log_prior(self, posterior, priors, K):
        """{"mu": log Dirichlet(gaps | 1, ..., 1), "w": log Dirichlet(w | a, ..., a)} per draw, the gaps being the
        differences of 0, mu_1, ..., mu_K, 1. A Dirichlet(1, ..., 1) density is the constant log K!; w is the
        constant 1 when K = 1 and has no prior then."""
        from scipy import special

        K = int(K)
        mu = np.asarray(posterior["mu"].transpose("chain", "draw", ...).values, dtype=float)
        derived = {"mu": np.full(mu.shape[:2], special.gammaln(K + 1.0))}
        if K >= 2:
            a = float(priors["w"]["a"])
            log_w = np.full(mu.shape[:2], special.gammaln(K * a) - K * special.gammaln(a))
            if a != 1.0:  # (a - 1) log w, which is 0 at a = 1 even where a weight underflowed to 0
                w = np.asarray(posterior["w"].transpose("chain", "draw", ...).values, dtype=float)
                with np.errstate(divide="ignore"):
                    log_w += (a - 1.0) * np.log(w).sum(axis=-1)
            derived["w"] = log_w
        return derived

    def parameter_names(self, K):
        return ["w", "mu", "kappa"]

    def population_parameters(self, groups, K):
        """3K - 1: K means, K concentrations and K - 1 free weights."""
        return 3 * int(K) - 1

    def cluster_draws(self, idata):
        return {name: posterior_draws(idata, name) for name in ("w", "mu", "kappa")}

    def component_logpmf(self, idata, n, r) -> np.ndarray:
        """log w_k + log BetaBinomial(r_i | n_i, mu_k kappa_k, (1 - mu_k) kappa_k): array (S, groups, K)."""
        w, mu, kappa = self.cluster_draws(idata).values()
        r = np.asarray(r)[None, :, None]
        n = np.asarray(n)[None, :, None]
        with np.errstate(divide="ignore"):  # a weight that underflowed to 0 gives log 0 = -inf: that cluster is out
            log_w = np.log(w)
        return log_w[:, None, :] + beta_binomial_logpmf(r, n, mu[:, None, :], kappa[:, None, :])

    def membership_draws(self, idata, data):
        """P(z_i = k | r_i, draw) proportional to w_k BetaBinomial(r_i | n_i, mu_k kappa_k, (1 - mu_k) kappa_k)."""
        from scipy import special

        logp = self.component_logpmf(idata, data.n, data.r)
        return np.exp(logp - special.logsumexp(logp, axis=2, keepdims=True))

    def _draw_clusters(self, idata, data, rng):
        """Each group's cluster per draw from its membership probabilities, and that cluster's mu, kappa (S, groups)."""
        z = draw_categorical(self.membership_draws(idata, data), rng)
        clusters = self.cluster_draws(idata)
        return np.take_along_axis(clusters["mu"], z, axis=1), np.take_along_axis(clusters["kappa"], z, axis=1)

    def group_rate_draws(self, spec, idata, data, rng):
        """Per draw: the group's cluster from its membership, then p ~ Beta(alpha_k + r, beta_k + n - r)."""
        mu, kappa = self._draw_clusters(idata, data, rng)
        return rng.beta(mu * kappa + data.r[None, :], (1 - mu) * kappa + (data.n - data.r)[None, :])

    def population_rate_draws(self, spec, idata, rng):
        """Per draw: a cluster from the weights ``w``, then p ~ Beta(mu_k kappa_k, (1 - mu_k) kappa_k)."""
        clusters = self.cluster_draws(idata)
        z = draw_categorical(clusters["w"], rng)[:, None]
        m, k = np.take_along_axis(clusters["mu"], z, 1)[:, 0], np.take_along_axis(clusters["kappa"], z, 1)[:, 0]
        return rng.beta(m * k, (1 - m) * k)

    def conditional_log_likelihood(self, spec, idata, data):
        """The mixture's likelihood: beta-binomial components summed over clusters (assignments marginalised)."""
        return self.marginal_log_likelihood(spec, idata, data, None)

    def marginal_log_likelihood(self, spec, idata, data, rng):
        """log sum_k w_k BetaBinomial(r_i | n_i, mu_k kappa_k, (1 - mu_k) kappa_k), exact."""
        from scipy import special

        return special.logsumexp(self.component_logpmf(idata, data.n, data.r), axis=2)

    def sequence_logprob(self, idata, n, r) -> np.ndarray:
        """log q(r, n): the probability of one particular sequence of r successes in n trials, (S, groups).

        q(r, n) = sum_k w_k B(alpha_k + r, beta_k + n - r) / B(alpha_k, beta_k), the group's rate and cluster
        integrated out; ``r``, ``n`` per group.
        """
        from scipy import special

        w, mu, kappa = self.cluster_draws(idata).values()
        alpha, beta = (mu * kappa)[:, None, :], ((1.0 - mu) * kappa)[:, None, :]
        r = np.asarray(r, dtype=float)[None, :, None]
        n = np.asarray(n, dtype=float)[None, :, None]
        with np.errstate(divide="ignore"):
            log_w = np.log(w)[:, None, :]
        terms = log_w + special.betaln(alpha + r, beta + n - r) - special.betaln(alpha, beta)
        return special.logsumexp(terms, axis=2)

    def trial_log_likelihood(self, spec, idata, data):
        """log p(a success | the group's other n - 1 trials, draw) = log q(r, n) - log q(r - 1, n - 1); a failure
        likewise with q(r, n - 1) (``sequence_logprob``): the group's rate and cluster stay integrated out, as in
        the fitted likelihood. Where a group has no success (no failure), the value is that of one more trial
        given all of its trials (its weight is 0)."""
        n, r = data.n, data.r
        successes_r, successes_n = np.maximum(r, 1), n + (r == 0)
        failures_n = n + (r == n)
        success = self.sequence_logprob(idata, successes_n, successes_r) - self.sequence_logprob(
            idata, successes_n - 1, successes_r - 1
        )
        failure = self.sequence_logprob(idata, failures_n, r) - self.sequence_logprob(idata, failures_n - 1, r)
        return np.stack([success, failure], axis=-1)

    def replicate_groups(self, idata, data, rng, copies=1):
        """Replicated counts of the same groups, (copies x S, groups), conditioned on each group's cluster.

        The mixture's likelihood is marginalised over cluster assignments, so the
        fit's own posterior predictive draws every group's cluster afresh from
        ``w``: it replicates new groups, not these groups. Here, per posterior draw,
        each group's cluster is drawn from its membership probabilities given its
        observed count (``membership_draws``), then, for each copy, its rate from that
        cluster's Beta and its count from the Binomial: the group's cluster is its
        own, its rate within the cluster is replicated (a mixed predictive check of
        the cluster's spread; conditioning the rate on the count as well uses each
        count twice and crowds the PIT values in the middle).
        """
        mu, kappa = self._draw_clusters(idata, data, rng)
        shape = (int(copies), *mu.shape)
        rates = rng.beta(np.broadcast_to(mu * kappa, shape), np.broadcast_to((1.0 - mu) * kappa, shape))
        return rng.binomial(data.n, rates).reshape(-1, mu.shape[-1]).astype("int64")
