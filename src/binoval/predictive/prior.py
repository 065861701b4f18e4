"""Prior predictive check: datasets from the model's prior (same groups, same n).

The test statistics of ``binoval.predictive.statistics`` are computed per draw and the
observed value located among them (mid-rank quantile, ``binoval.predictive.primitives``).
A prior that cannot produce data like the observed (observed statistic far in a tail) or
that mostly produces degenerate data (every group at 0 or every group at n) is a poor prior.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from binoval import seeds
from binoval.models import FORWARD_SAMPLING_MODE, R_VAR, GroupedCounts, ModelSpec, build_model
from binoval.predictive.primitives import central_interval, group_table, midrank_quantile, predictive_p_values
from binoval.predictive.statistics import compute_statistics, is_degenerate, proportions

PRIOR_INTERVAL = 0.99


def prior_predictive_draws(spec: ModelSpec, data: GroupedCounts, draws: int, seed: int) -> np.ndarray:
    """``draws`` datasets of ``r`` (shape (draws, G)) from the prior of ``spec``, seeded from ``seed``."""
    import pymc as pm

    model = build_model(spec, data)
    with model:
        idata = pm.sample_prior_predictive(
            draws=int(draws),
            var_names=[R_VAR],
            random_seed=seeds.int_seed(seed, "prior_predictive", spec.model_id),
            compile_kwargs={"mode": FORWARD_SAMPLING_MODE},
        )
    values = idata.prior_predictive[R_VAR].values
    return values.reshape(-1, values.shape[-1]).astype("int64")


@dataclass
class PriorPredictiveTables:
    summary: pd.DataFrame  # one row per statistic
    draws: pd.DataFrame  # one row per draw, one column per statistic
    groups: pd.DataFrame  # one row per group: prior predictive proportions against observed


def summarise_prior_predictive(model_id: str, data: GroupedCounts, r_draws: np.ndarray) -> PriorPredictiveTables:
    """Statistics per prior predictive draw and where the observed data fall among them."""
    r_draws = np.asarray(r_draws)
    n_draws = r_draws.shape[0]
    replicated = compute_statistics(r_draws, data.n)
    observed = compute_statistics(data.r, data.n)
    degenerate = is_degenerate(r_draws, data.n)
    rows = []
    for tails in predictive_p_values(replicated, observed):
        name = tails["statistic"]
        values = replicated[name]
        obs = float(observed[name])
        low, high = central_interval(values, PRIOR_INTERVAL)
        quantile, tail = midrank_quantile(values, obs), (1.0 - PRIOR_INTERVAL) / 2.0
        rows.append(
            {
                "model_id": model_id,
                "statistic": name,
                "observed": obs,
                "mean": float(values.mean()),
                "lower_99": float(low),
                "upper_99": float(high),
                "quantile": quantile,
                "inside_99": bool(tail <= quantile <= 1.0 - tail),
                **{k: v for k, v in tails.items() if k != "statistic"},
                "draws": int(n_draws),
                "degenerate_share": float(degenerate.mean()),
            }
        )
    draws_table = pd.DataFrame(
        {"model_id": model_id, "draw": np.arange(n_draws), **replicated, "degenerate": degenerate}
    )

    p_draws = proportions(r_draws, data.n)
    q = np.quantile(p_draws, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    groups = group_table(
        model_id,
        data,
        q05=q[0],
        q25=q[1],
        median=q[2],
        q75=q[3],
        q95=q[4],
        p_zero=np.mean(r_draws == 0, axis=0),
        observed_quantile=[midrank_quantile(r_draws[:, i], data.r[i]) for i in range(len(data.groups))],
    )
    return PriorPredictiveTables(pd.DataFrame(rows), draws_table, groups)
