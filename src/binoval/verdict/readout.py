"""What a fitted model says about the groups and the population.

The draws come from the model's family (``binoval.models``); this module summarises them.

* ``shrinkage_table``: observed proportion vs posterior mean (and 94% HDI) per group, with n,
  from the family's ``group_rate_draws``.
* ``interval_summary``: posterior mean and 94% HDI of a derived quantity the family draws
  (``Family.derived_draws``, e.g. ``icc`` of ``hier_logit``).
* ``new_group_predictive``: successes of a never-seen group of n trials (its rate
  drawn from the population given each posterior draw: ``Family.population_rate_draws``).
* ``pair_probabilities``: P(rate of g1 > rate of g2) for listed pairs.
* ``cluster_table`` / ``membership``: for families with clusters, cluster means, weights,
  concentrations and each group's posterior membership probabilities
  (``Family.membership_draws``) averaged over draws; ``membership_accuracy`` compares the
  most likely cluster with a known true cluster (true clusters ordered by their pooled
  observed rate, fitted clusters by their mean, so labels 1..K are comparable).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from binoval.defaults import READOUT, with_defaults
from binoval.models import GroupedCounts, ModelSpec, family_of

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


def shrinkage_table(draws: np.ndarray, data: GroupedCounts) -> pd.DataFrame:
    """Per group: n, r, observed proportion, posterior mean rate and 94% HDI, and the shift.

    ``draws``: (draw, group) rate draws, ``Family.group_rate_draws``.
    """
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


def interval_summary(draws: np.ndarray) -> dict:
    """Posterior mean and 94% HDI of a scalar quantity's draws."""
    low, high = _hdi(draws)
    return {"mean": float(np.mean(draws)), "hdi_low": low, "hdi_high": high}


def new_group_predictive(p: np.ndarray, n: int, rng: np.random.Generator) -> dict:
    """Predictive distribution of successes in a new group of ``n`` trials, from one draw ``p`` of its rate
    per posterior draw (``Family.population_rate_draws``): summary figures."""
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
        rows.append(
            {"group_1": g1, "group_2": g2, "p_greater": float((diff > 0).mean()), "mean_difference": float(diff.mean())}
        )
    return pd.DataFrame(rows, columns=["group_1", "group_2", "p_greater", "mean_difference"])


def cluster_table(clusters: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per cluster (ordered by mean): posterior mean and 94% HDI of mu, weight w and kappa
    (``clusters``: draws (S, K) of each, ``Family.cluster_draws``)."""
    w, mu, kappa = clusters["w"], clusters["mu"], clusters["kappa"]
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


def membership(membership_draws: np.ndarray, data: GroupedCounts) -> pd.DataFrame:
    """Each group's posterior membership probabilities (columns ``p_cluster_<k>``) and most likely cluster,
    from P(z_i = k | r_i, draw) of shape (S, groups, K) (``Family.membership_draws``)."""
    probs = membership_draws.mean(axis=0)
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
    family = family_of(spec)
    data = GroupedCounts.from_frame(frame)
    out: dict = {}
    rates = family.group_rate_draws(spec, idata, data, rng)
    out["shrinkage"] = shrinkage_table(rates, data)
    population = family.population_rate_draws(spec, idata, rng)
    if population is not None:  # None: a new group's rate depends on more than the population (covariates)
        out["new_group"] = new_group_predictive(population, s["new_group_n"], rng)
    out["pairs"] = pair_probabilities(rates, data.groups, s["compare_groups"])
    for name, draws in family.derived_draws(idata).items():
        out[name] = interval_summary(draws)
    clusters = family.cluster_draws(idata)
    if clusters is not None:
        out["clusters"] = cluster_table(clusters)
        out["membership"] = membership(family.membership_draws(idata, data), data)
        if "true_cluster" in frame.columns:
            truth = true_cluster_ranks(frame.reset_index(drop=True))
            out["confusion"], out["accuracy"] = membership_accuracy(out["membership"], truth)
    return out
