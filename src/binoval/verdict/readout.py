"""What a fitted model says about the groups and the population.

* ``group_rate_draws``: posterior draws of every group's rate, for every family
  (for ``bb_mixture`` drawn after sampling from each group's conditional
  posterior: cluster from its membership probabilities, then
  p ~ Beta(alpha_k + r, beta_k + n - r)).
* ``shrinkage_table``: observed proportion vs posterior mean (and 94% HDI) per group, with n.
* ``icc``: tau^2 / (tau^2 + pi^2 / 3) for ``hier_logit`` (latent-scale intra-class correlation).
* ``new_group_predictive``: successes of a never-seen group of n trials (its rate
  drawn from the population given each posterior draw).
* ``pair_probabilities``: P(rate of g1 > rate of g2) for listed pairs.
* ``mixture_clusters`` / ``membership``: cluster means, weights, concentrations and
  each group's posterior membership probabilities
  P(z_i = k | draw) ∝ w_k BetaBinomial(r_i | n_i, mu_k kappa_k, (1 - mu_k) kappa_k),
  averaged over draws; ``membership_accuracy`` compares the most likely cluster with a
  known true cluster (true clusters ordered by their pooled observed rate, fitted
  clusters by their mean, so labels 1..K are comparable).
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import special

from binoval.defaults import READOUT, with_defaults
from binoval.loo.psis import _posterior, mixture_component_logpmf
from binoval.models import GroupedCounts, ModelSpec

HDI_PROB = 0.94


def _hdi(draws: np.ndarray, prob: float = HDI_PROB) -> tuple[float, float]:
    """Narrowest interval holding ``prob`` of the draws."""
    x = np.sort(np.asarray(draws, dtype=float))
    m = int(np.floor(prob * len(x)))
    if m < 1 or m >= len(x):
        return float(x[0]), float(x[-1])
    widths = x[m:] - x[: len(x) - m]
    i = int(np.argmin(widths))
    return float(x[i]), float(x[i + m])


def membership_draws(idata, data: GroupedCounts) -> np.ndarray:
    """P(z_i = k | r_i, draw): array (draws, groups, K)."""
    logp = mixture_component_logpmf(idata, data.r, data.n)
    return np.exp(logp - special.logsumexp(logp, axis=2, keepdims=True))


def group_rate_draws(spec: ModelSpec, idata, data: GroupedCounts, rng: np.random.Generator) -> np.ndarray:
    """Posterior draws of each group's rate, array (draws, groups)."""
    if spec.family == "bb_mixture":
        probs = membership_draws(idata, data)
        mu, kappa = _posterior(idata, "mu"), _posterior(idata, "kappa")
        cum = probs.cumsum(axis=2)
        u = rng.random(probs.shape[:2])[:, :, None]
        z = np.minimum((u > cum).sum(axis=2), probs.shape[2] - 1)
        a = np.take_along_axis(mu * kappa, z, axis=1)
        b = np.take_along_axis((1 - mu) * kappa, z, axis=1)
        return rng.beta(a + data.r[None, :], b + (data.n - data.r)[None, :])
    p = _posterior(idata, "p")
    if p.ndim == 1:
        p = np.repeat(p[:, None], len(data.groups), axis=1)
    return p


def shrinkage_table(spec: ModelSpec, idata, data: GroupedCounts, rng: np.random.Generator) -> pd.DataFrame:
    """Per group: n, r, observed proportion, posterior mean rate and 94% HDI, and the shift."""
    draws = group_rate_draws(spec, idata, data, rng)
    hdis = [_hdi(draws[:, i]) for i in range(draws.shape[1])]
    observed = data.r / data.n
    mean = draws.mean(axis=0)
    return pd.DataFrame(
        {
            "group": list(data.groups),
            "n": data.n,
            "r": data.r,
            "observed": observed,
            "posterior_mean": mean,
            "hdi_low": [h[0] for h in hdis],
            "hdi_high": [h[1] for h in hdis],
            "shift": mean - observed,
        }
    )


def icc(idata) -> dict:
    """Latent-scale ICC of ``hier_logit``: tau^2 / (tau^2 + pi^2/3); posterior mean and 94% HDI."""
    tau = _posterior(idata, "tau")
    values = tau**2 / (tau**2 + np.pi**2 / 3)
    low, high = _hdi(values)
    return {"mean": float(values.mean()), "hdi_low": low, "hdi_high": high}


def population_rate_draws(spec: ModelSpec, idata, rng: np.random.Generator) -> np.ndarray:
    """One draw of a new group's rate per posterior draw, from the population."""
    family = spec.family
    if family == "pooled":
        return _posterior(idata, "p")
    if family == "hier_logit":
        mu, tau = _posterior(idata, "mu"), _posterior(idata, "tau")
        return special.expit(rng.normal(mu, tau))
    if family == "beta_binomial":
        mu, kappa = _posterior(idata, "mu"), _posterior(idata, "kappa")
        return rng.beta(mu * kappa, (1 - mu) * kappa)
    if family == "bb_mixture":
        w, mu, kappa = (_posterior(idata, v) for v in ("w", "mu", "kappa"))
        cum = w.cumsum(axis=1)
        z = np.minimum((rng.random(len(w))[:, None] > cum).sum(axis=1), w.shape[1] - 1)[:, None]
        m, k = np.take_along_axis(mu, z, 1)[:, 0], np.take_along_axis(kappa, z, 1)[:, 0]
        return rng.beta(m * k, (1 - m) * k)
    if family == "unpooled":
        import pymc as pm

        from binoval.models.priors import make_dist

        size = idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]
        return np.asarray(pm.draw(make_dist(spec.priors["p"]), draws=size, random_seed=rng), dtype=float)
    raise ValueError(f"unknown family {family!r}")


def new_group_predictive(spec: ModelSpec, idata, n: int, rng: np.random.Generator) -> dict:
    """Predictive distribution of successes in a new group of ``n`` trials: summary figures."""
    p = population_rate_draws(spec, idata, rng)
    r = rng.binomial(int(n), np.clip(p, 0.0, 1.0))
    low, high = np.quantile(r, [0.05, 0.95])
    return {
        "n": int(n),
        "rate_mean": float(p.mean()),
        "rate_low": _hdi(p)[0],
        "rate_high": _hdi(p)[1],
        "r_mean": float(r.mean()),
        "r_q05": float(low),
        "r_median": float(np.median(r)),
        "r_q95": float(high),
        "p_zero": float((r == 0).mean()),
    }


def pair_probabilities(rates: np.ndarray, groups: Sequence[str], pairs: Iterable[Sequence[str]]) -> pd.DataFrame:
    """P(rate[g1] > rate[g2]) per listed pair, from draws (draws, groups)."""
    index = {str(g): i for i, g in enumerate(groups)}
    rows = []
    for pair in pairs:
        g1, g2 = (str(g) for g in pair)
        for g in (g1, g2):
            if g not in index:
                raise ValueError(f"config key readout.compare_groups: group {g!r} is not in the data")
        diff = rates[:, index[g1]] - rates[:, index[g2]]
        rows.append({"group_1": g1, "group_2": g2, "p_greater": float((diff > 0).mean()), "mean_difference": float(diff.mean())})
    return pd.DataFrame(rows, columns=["group_1", "group_2", "p_greater", "mean_difference"])


def mixture_clusters(idata) -> pd.DataFrame:
    """Per cluster (ordered by mean): posterior mean and 94% HDI of mu, weight w and kappa."""
    w, mu, kappa = (_posterior(idata, v) for v in ("w", "mu", "kappa"))
    rows = []
    for k in range(mu.shape[1]):
        rows.append(
            {
                "cluster": k + 1,
                "mu_mean": float(mu[:, k].mean()),
                "mu_low": _hdi(mu[:, k])[0],
                "mu_high": _hdi(mu[:, k])[1],
                "w_mean": float(w[:, k].mean()),
                "kappa_mean": float(kappa[:, k].mean()),
            }
        )
    return pd.DataFrame(rows)


def membership(idata, data: GroupedCounts) -> pd.DataFrame:
    """Each group's posterior membership probabilities (columns ``p_cluster_<k>``) and most likely cluster."""
    probs = membership_draws(idata, data).mean(axis=0)
    out = pd.DataFrame({"group": list(data.groups), "n": data.n, "r": data.r})
    for k in range(probs.shape[1]):
        out[f"p_cluster_{k + 1}"] = probs[:, k]
    out["most_likely"] = probs.argmax(axis=1) + 1
    return out


def true_cluster_ranks(frame: pd.DataFrame, column: str = "true_cluster") -> pd.Series:
    """True cluster labels renumbered 1..K by their pooled observed rate (lowest first)."""
    rate = frame.groupby(column).apply(lambda d: d["r"].sum() / d["n"].sum(), include_groups=False).sort_values()
    rank = {label: i + 1 for i, label in enumerate(rate.index)}
    return frame[column].map(rank)


def membership_accuracy(member: pd.DataFrame, truth: pd.Series) -> tuple[pd.DataFrame, float]:
    """Confusion matrix (true rank x most likely cluster) and the share of groups where they agree."""
    true = pd.Series(np.asarray(truth), index=member.index, name="true cluster")
    predicted = member["most_likely"].rename("most likely cluster")
    confusion = pd.crosstab(true, predicted)
    return confusion, float((true.to_numpy() == predicted.to_numpy()).mean())


def model_readout(spec: ModelSpec, idata, frame: pd.DataFrame, settings: dict | None, rng: np.random.Generator) -> dict:
    """Every read-out of one fitted model (keys as ``binoval.verdict.report.build_report`` expects)."""
    s = with_defaults(READOUT, settings)
    data = GroupedCounts.from_frame(frame)
    out: dict = {}
    rates = group_rate_draws(spec, idata, data, rng)
    out["shrinkage"] = shrinkage_table(spec, idata, data, rng)
    if spec.family != "glmm":  # a new group's rate depends on its covariates: no single population predictive
        out["new_group"] = new_group_predictive(spec, idata, s["new_group_n"], rng)
    out["pairs"] = pair_probabilities(rates, data.groups, s["compare_groups"])
    if spec.family == "hier_logit":
        out["icc"] = icc(idata)
    if spec.family == "bb_mixture":
        out["clusters"] = mixture_clusters(idata)
        out["membership"] = membership(idata, data)
        if "true_cluster" in frame.columns:
            truth = true_cluster_ranks(frame.reset_index(drop=True))
            out["confusion"], out["accuracy"] = membership_accuracy(out["membership"], truth)
    return out
