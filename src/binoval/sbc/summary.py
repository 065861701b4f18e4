"""Summary of an SBC run per test quantity.

From the per-simulation table (first ``simulations`` simulations, global
index order): the two uniformity tests on the fractional ranks of the
successful fits, Holm-adjusted together over all quantities and both tests
(see ``uniformity``); coverage of the central 50/80/95% posterior intervals
with a 95% Jeffreys interval (the posterior of a binomial rate under a
Beta(1/2, 1/2) prior; robust at 0 and n successes); the mean and sd of the
posterior z-scores (post_mean - true) / post_sd, which should be about 0 and
at most 1; and the posterior contraction 1 - E[post var] / Var[true] (near 1:
the data pin the quantity down; near 0: the posterior is the prior).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from binoval.sbc.shard import INTERVALS
from binoval.sbc.uniformity import chi_square_test, ecdf_test, holm

COVERAGE_CI = 0.95


def select_simulations(table: pd.DataFrame, simulations: int) -> pd.DataFrame:
    """The rows of the first ``simulations`` simulations (by global index); raises if some are missing."""
    chosen = table[table["simulation"] < int(simulations)]
    present = chosen["simulation"].nunique()
    if present < int(simulations):
        raise ValueError(f"SBC shards hold {present} of the {simulations} simulations asked for (sbc.simulations)")
    return chosen.sort_values(["simulation"], kind="stable").reset_index(drop=True)


def jeffreys_interval(successes: int, trials: int, level: float = COVERAGE_CI) -> tuple[float, float]:
    """Jeffreys interval of a binomial rate: Beta(x + 1/2, n - x + 1/2) quantiles; 0 / 1 at the edges."""
    if trials == 0:
        return np.nan, np.nan
    tail = (1 - level) / 2
    a, b = successes + 0.5, trials - successes + 0.5
    low = 0.0 if successes == 0 else float(special.betaincinv(a, b, tail))  # the Beta(a, b) quantile at tail
    high = 1.0 if successes == trials else float(special.betaincinv(a, b, 1 - tail))
    return low, high


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """One row per quantity of the per-simulation ``table`` (see ``SbcSummary``)."""
    rows = []
    # one pass over the table (a mask per quantity was quadratic: 1000 quantities x 200 simulations took minutes)
    for quantity, rows_q in table.groupby("quantity", sort=False):
        ok = rows_q[rows_q["status"] == "ok"]
        u = ok["u"].to_numpy(dtype=float)
        ecdf = ecdf_test(u)
        chi2, bins = chi_square_test(u)
        row = {
            "model_id": str(rows_q["model_id"].iloc[0]),
            "quantity": quantity,
            "variable": str(rows_q["variable"].iloc[0]),
            "index": str(rows_q["index"].iloc[0]),
            "role": str(rows_q["role"].iloc[0]),
            "simulations": int(rows_q["simulation"].nunique()),
            "ranked": int(len(ok)),
            "ecdf_stat": ecdf.statistic,
            "ecdf_p": ecdf.p_value,
            "chi2_stat": chi2.statistic,
            "chi2_bins": int(bins),
            "chi2_p": chi2.p_value,
        }
        truth = ok["true_value"].to_numpy(dtype=float)
        for level in INTERVALS:
            name = f"coverage_{int(level * 100)}"
            low, high = ok[f"q{int(level * 100)}_low"].to_numpy(), ok[f"q{int(level * 100)}_high"].to_numpy()
            covered = int(((low <= truth) & (truth <= high)).sum())
            row[name] = covered / len(ok) if len(ok) else np.nan
            row[f"{name}_low"], row[f"{name}_high"] = jeffreys_interval(covered, len(ok))
        sd = ok["post_sd"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (ok["post_mean"].to_numpy(dtype=float) - truth) / sd
        z = z[np.isfinite(z)]
        row["z_mean"] = float(z.mean()) if len(z) else np.nan
        row["z_sd"] = float(z.std(ddof=1)) if len(z) > 1 else np.nan
        prior_var = float(np.var(rows_q["true_value"].to_numpy(dtype=float), ddof=1)) if len(rows_q) > 1 else np.nan
        row["contraction"] = float(1 - np.mean(sd**2) / prior_var) if len(ok) and prior_var > 0 else np.nan
        rows.append(row)
    summary = pd.DataFrame(rows)
    adjusted = holm(np.concatenate([summary["ecdf_p"].to_numpy(), summary["chi2_p"].to_numpy()]))
    m = len(summary)
    summary.insert(summary.columns.get_loc("chi2_p") + 1, "ecdf_p_holm", adjusted[:m])
    summary.insert(summary.columns.get_loc("ecdf_p_holm") + 1, "chi2_p_holm", adjusted[m:])
    return summary
