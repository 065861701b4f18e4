"""How many clusters? Evidence about the number of components K of a mixture family, and the K choice.

With 10-30 groups, predictive accuracy barely separates K (a wide beta-binomial component predicts a new group
almost as well as two narrow ones), so the K choice rests on the marginal likelihood of each K instead:
p(data | K), estimated by sequential Monte Carlo (``pm.sample_smc``, which tempers from the prior to the
posterior and multiplies the normalising constants of its stages). Each SMC chain is an independent estimate;
their log-mean-exp is the estimate and their spread its Monte Carlo error.

The user asks two questions, and the prior over K puts them on an equal footing: *are there clusters at all?*
One population (K = 1) gets prior probability 1/2 and clusters the other 1/2, spread evenly over the configured
K >= 2. (A uniform prior over K = 1..4 says "clusters" with probability 3/4 before seeing any data; and since a
mixture whose extra components sit on top of each other fits one population as well as K = 1 does, on data
from one population its posterior stays near that 3/4: measured, p(data | K) within 0.1 of each other for
K = 1, 2, 3 on a simulated single Beta population.) Then

* P(K >= 2 | data) = B / (1 + B), B the Bayes factor of clusters against one population: the mean of
  p(data | K) over the K >= 2, divided by p(data | K = 1);
* **clusters exist** when B is at least ``clusters_bayes_factor`` (config ``compare``, default 3: "positive
  evidence" on Kass and Raftery's scale, P(K >= 2 | data) >= 0.75);
* **how many**: if they exist, the posterior median of K given K >= 2 (the K that minimises the expected
  absolute error |K - K'|, which a near tie between two large K's does not push up); if not, K = 1.

Without K = 1 among the configured K's the first question is not asked: the prior is uniform and the chosen K
is the posterior median.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from binoval.models import GroupedCounts, ModelSpec

#: Columns of an evidence table (``binoval.schemas.KEvidence``): one row per SMC chain.
EVIDENCE_COLUMNS = ["model_id", "mixture", "K", "chain", "log_marginal_likelihood", "draws"]


def smc_log_marginal_likelihood(spec: ModelSpec, data: GroupedCounts, draws: int, chains: int, seed: int) -> np.ndarray:
    """log p(data | model) per SMC chain (``pm.sample_smc`` with ``draws`` particles, chains run one after another)."""
    import warnings

    import pymc as pm

    from binoval.models import build_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with build_model(spec, data):
            idata = pm.sample_smc(
                draws=int(draws),
                chains=int(chains),
                cores=1,
                random_seed=int(seed),
                progressbar=False,
                compute_convergence_checks=False,
            )
    stages = idata.sample_stats["log_marginal_likelihood"].values  # (chain, stage): NaN until the last stage
    return np.array([float(np.asarray(row, dtype=float)[-1]) for row in stages])


def evidence_table(spec: ModelSpec, config_id: str, K: int, estimates: np.ndarray, draws: int) -> pd.DataFrame:
    """One row per SMC chain of one mixture model's log marginal likelihood."""
    return pd.DataFrame(
        {
            "model_id": spec.model_id,
            "mixture": config_id,
            "K": int(K),
            "chain": np.arange(len(estimates), dtype="int64"),
            "log_marginal_likelihood": np.asarray(estimates, dtype=float),
            "draws": int(draws),
        },
        columns=EVIDENCE_COLUMNS,
    )


def k_prior(ks: np.ndarray) -> np.ndarray:
    """The prior over the configured K's: 1/2 on K = 1 and 1/2 spread evenly over K >= 2 (uniform without K = 1,
    or when K = 1 is the only one); see the module doc."""
    ks = np.asarray(ks)
    one, many = ks == 1, ks >= 2
    if not one.any() or not many.any():
        return np.full(len(ks), 1.0 / len(ks))
    return np.where(one, 0.5, 0.5 / many.sum())


def k_posterior(evidence: pd.DataFrame) -> pd.DataFrame:
    """Per (mixture, K): ``log_ml`` (log-mean-exp over chains), ``log_ml_se`` (sd over chains / sqrt(chains)),
    ``p_k`` = P(K | data) under ``k_prior``, and ``p_clusters`` = P(K >= 2 | data)."""
    rows = []
    for (mixture, model_id, K), part in evidence.groupby(["mixture", "model_id", "K"], sort=True):
        values = part["log_marginal_likelihood"].to_numpy(dtype=float)
        se = float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")
        log_ml = float(special.logsumexp(values) - np.log(len(values)))
        rows.append({"mixture": mixture, "model_id": model_id, "K": int(K), "log_ml": log_ml, "log_ml_se": se})
    table = pd.DataFrame(rows, columns=["mixture", "model_id", "K", "log_ml", "log_ml_se"])
    table["p_k"] = np.nan
    table["p_clusters"] = np.nan
    for _mixture, part in table.groupby("mixture"):
        ks = part["K"].to_numpy()
        log_joint = part["log_ml"].to_numpy(dtype=float) + np.log(k_prior(ks))
        if np.isfinite(log_joint).all():
            p = np.exp(log_joint - special.logsumexp(log_joint))
        else:  # a K without evidence (its SMC failed): no posterior over K
            p = np.full(len(part), np.nan)
        table.loc[part.index, "p_k"] = p
        table.loc[part.index, "p_clusters"] = float(p[ks >= 2].sum())
    return table


def _median(ks: np.ndarray, p: np.ndarray) -> int:
    """The smallest K whose cumulative probability reaches 1/2 (``p`` need not be normalised)."""
    cumulative = np.cumsum(p) / np.sum(p)
    return int(ks[np.searchsorted(cumulative, 0.5 - 1e-12)])


def choose_k(posterior: pd.DataFrame, clusters_bayes_factor: float | None = None) -> tuple[int, str]:
    """The chosen K from one mixture's ``k_posterior`` rows (the rule of the module doc), and the reason in words;
    K = 0 (none chosen) when some K has no finite marginal likelihood."""
    from binoval.defaults import COMPARE

    threshold = COMPARE["clusters_bayes_factor"] if clusters_bayes_factor is None else float(clusters_bayes_factor)
    part = posterior.sort_values("K")
    ks, p = part["K"].to_numpy(), part["p_k"].to_numpy()
    if not np.isfinite(p).all():
        missing = ", ".join(str(k) for k, v in zip(ks, part["log_ml"]) if not np.isfinite(v))
        return 0, f"no K choice: no marginal likelihood for K = {missing} (its SMC run failed; see its evidence log)"
    probabilities = ", ".join(f"P(K={k}) {q:.2f}" for k, q in zip(ks, p))
    if not ((ks == 1).any() and (ks >= 2).any()):
        chosen = _median(ks, p)
        return chosen, f"K={chosen} is the posterior median of K by SMC marginal likelihoods: {probabilities}"
    clusters = float(p[ks >= 2].sum())
    bayes_factor = clusters / (1.0 - clusters) if clusters < 1 else float("inf")
    evidence = f"P(K >= 2 | data) = {clusters:.2f}, Bayes factor of clusters against one population {bayes_factor:.2g}"
    if bayes_factor < threshold:
        return 1, (
            f"K=1: no evidence of clusters ({evidence} < {threshold:g}); by SMC marginal likelihoods, {probabilities}"
        )
    many = ks >= 2
    chosen = _median(ks[many], p[many])
    return chosen, (
        f"K={chosen}: clusters are likely ({evidence} >= {threshold:g}) and K={chosen} is the posterior median of K "
        f"given K >= 2; by SMC marginal likelihoods, {probabilities}"
    )


def k_choice_table(evidence: pd.DataFrame, clusters_bayes_factor: float | None = None) -> pd.DataFrame:
    """Per mixture model: its K, the evidence (``k_posterior``), and whether its K is the chosen one, with why."""
    posterior = k_posterior(evidence)
    posterior["selected"] = False
    posterior["reason"] = ""
    for _mixture, part in posterior.groupby("mixture"):
        chosen, reason = choose_k(part, clusters_bayes_factor)
        posterior.loc[part.index, "selected"] = part["K"] == chosen
        posterior.loc[part.index, "reason"] = reason
    return posterior
