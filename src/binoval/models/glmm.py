"""``glmm``: binomial GLMM on the logit scale with covariates and varying effects.

theta[i] = Intercept + X[i] b + sum over factors g of Z_g[i] u_g[level_g(i)],
r[i] ~ Binomial(n[i], invlogit(theta[i])). The formula (see
``binoval.models.formula``) names the fixed effects and the varying terms.

``parameterization: noncentered`` (default): u_g = z_g * sigma_g for one
effect or uncorrelated effects, u_g = z_g L_g' with L_g the Cholesky factor of
an LKJ-distributed covariance (``lkj_eta``) for correlated intercepts and
slopes. ``centered``: u_g ~ Normal(0, sigma_g), or MvNormal(0, L_g L_g')
for correlated terms. As for hier_logit, non-centred usually suits levels
that carry little information and centred levels with many trials each. On
census14 (7 education levels of thousands of trials) neither form is clearly
better at 4 x 1000 draws: what mixes slowly there is the trade-off between
``Intercept`` and the level effects, which both forms share.

Posterior names: ``Intercept``, ``b[coef]``, ``sigma_<g>[<g>_effect]``,
``corr_<g>[<g>_pair]`` (correlated terms), ``u_<g>[<g>, <g>_effect]``,
``theta[group]``, ``p[group]``.

A new group's rate depends on its covariates, so the family has no single
population rate and no group-marginal log-likelihood: its rows own no parameter.
A left-out row (exact refit with n = 0) is scored from the refit's own draws of
its rate (``heldout_log_density``).
"""

from __future__ import annotations

import numpy as np

from binoval.models.base import (
    GROUP_DIM,
    PARAMETERIZATION_SCHEMA,
    Family,
    binomial_logpmf,
    is_centered,
    observe_binomial,
)
from binoval.models.formula import build_design, parse_formula
from binoval.models.priors import POSITIVE, REAL, make_dist, make_rv


class Glmm(Family):
    name = "glmm"
    default_priors = {
        "Intercept": {"dist": "Normal", "mu": 0.0, "sigma": 1.5},
        "b": {"dist": "Normal", "mu": 0.0, "sigma": 1.0},
        "sigma": {"dist": "HalfNormal", "sigma": 1.0},
    }
    supports = {"Intercept": REAL, "b": REAL, "sigma": POSITIVE}
    option_schemas = {
        "formula": {"type": "string", "minLength": 3},
        "lkj_eta": {"type": "number", "exclusiveMinimum": 0},
        "parameterization": PARAMETERIZATION_SCHEMA,
    }
    required_options = ("formula",)

    def declare(self, model, data, n, r_observed, priors, formula, lkj_eta=2.0, parameterization="noncentered"):
        import pymc as pm
        import pytensor.tensor as pt

        centered = is_centered(parameterization)
        design = build_design(parse_formula(formula), data.covariates, data.groups)
        theta = pt.zeros(len(data.groups))
        if design.intercept:
            theta = theta + make_rv("Intercept", priors["Intercept"])
        if design.fixed_names:
            model.add_coord("coef", design.fixed_names)
            b = make_rv("b", priors["b"], dims="coef")
            theta = theta + pt.dot(design.fixed, b)
        for block in design.varying:
            g = block.term.factor
            effect_dim, k = f"{g}_effect", len(block.names)
            model.add_coord(g, block.levels)
            model.add_coord(effect_dim, block.names)
            dims = (g, effect_dim)
            if block.term.correlated:
                pairs = [f"{block.names[i]}~{block.names[j]}" for i in range(k) for j in range(i + 1, k)]
                model.add_coord(f"{g}_pair", pairs)
                packed = pm.LKJCholeskyCov(
                    f"chol_{g}",
                    n=k,
                    eta=float(lkj_eta),
                    sd_dist=make_dist(priors["sigma"], shape=k),
                    compute_corr=False,
                )
                chol = pm.math.expand_packed_triangular(k, packed, lower=True)
                covariance = pt.dot(chol, chol.T)
                stds = pt.sqrt(pt.diag(covariance))
                pm.Deterministic(f"sigma_{g}", stds, dims=effect_dim)
                upper = np.triu_indices(k, 1)
                pm.Deterministic(f"corr_{g}", (covariance / pt.outer(stds, stds))[upper], dims=f"{g}_pair")
                if centered:
                    u = pm.MvNormal(f"u_{g}", mu=pt.zeros(k), chol=chol, dims=dims)
                else:
                    u = pm.Deterministic(f"u_{g}", pt.dot(pm.Normal(f"z_{g}", 0.0, 1.0, dims=dims), chol.T), dims=dims)
            else:
                sigma = make_rv(f"sigma_{g}", priors["sigma"], dims=effect_dim)
                if centered:
                    u = pm.Normal(f"u_{g}", 0.0, sigma, dims=dims)
                else:
                    u = pm.Deterministic(f"u_{g}", pm.Normal(f"z_{g}", 0.0, 1.0, dims=dims) * sigma, dims=dims)
            theta = theta + (u[block.index] * block.matrix).sum(axis=1)
        theta = pm.Deterministic("theta", theta, dims=GROUP_DIM)
        pm.Deterministic("p", pm.math.invlogit(theta), dims=GROUP_DIM)
        observe_binomial(n, r_observed, logit_p=theta)

    def parameter_names(self, formula, lkj_eta=2.0, parameterization="noncentered"):
        parsed = parse_formula(formula)
        names = (["Intercept"] if parsed.intercept else []) + (["b"] if parsed.fixed else [])
        for term in parsed.varying:
            g = term.factor
            names += [f"sigma_{g}"] + ([f"corr_{g}"] if term.correlated else []) + [f"u_{g}"]
        return names + ["theta", "p"]

    def level_effects(self, formula, lkj_eta=2.0, parameterization="noncentered"):
        """``u_<g>`` of every varying term: one row per level of factor g."""
        return [f"u_{term.factor}" for term in parse_formula(formula).varying]

    def population_parameters(self, groups, formula, lkj_eta=2.0, parameterization="noncentered"):
        """Intercept, one per fixed-effect term, and per varying term its sds (and correlations).

        Categorical fixed effects count once per term, not per level: the count
        ranks formulas by structure without needing the data.
        """
        parsed = parse_formula(formula)
        count = int(parsed.intercept) + len(parsed.fixed)
        for term in parsed.varying:
            k = int(term.intercept) + len(term.slopes)
            count += k + (k * (k - 1) // 2 if term.correlated else 0)
        return count

    def population_rate_draws(self, spec, idata, rng):
        """None: a new group's rate depends on its covariates, not on the population alone."""
        return None

    def kfold_by(self, spec):
        """The factor of the formula's first varying term: a new group is a new level of it, with all its rows."""
        varying = parse_formula(spec.options["formula"]).varying
        return varying[0].factor if varying else None

    def heldout_log_density(self, spec, idata, data, group, rng):
        """log Binomial(r | n, p) of ``group``'s row per draw of a refit in which the row had no trials: its rate
        there comes from the fitted effects of the levels other rows share with it, and from the population for a
        level only it has, so averaging over draws integrates those effects (Monte Carlo)."""
        return binomial_logpmf(data.r[None, :], data.n[None, :], self._posterior_rates(idata, data))[
            :, data.groups.index(group)
        ]
