"""Synthetic grouped binomial data with a known truth.

``agents25`` follows the three-cluster design that motivates the mixture models: trained
agents whose hit rates come from Beta(2, 10) (8 agents), Beta(7, 7) (10) and
Beta(15, 3) (7), 100 trials each (true cluster means 0.17, 0.50, 0.83). The
bundled ``datasets/agents25.csv`` is ``agents25()`` written out; a test checks
that they agree. ``datasets/trials/agent_trials.csv`` is ``agent_trials()``,
a trial-level example. Regenerate both with ``python -m binoval.data.synthetic``.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources

import numpy as np
import pandas as pd

#: (alpha, beta, number of groups) per cluster of the three-cluster design.
AGENTS25_DESIGN = ((2.0, 10.0, 8), (7.0, 7.0, 10), (15.0, 3.0, 7))
AGENTS25_TRIALS = 100
AGENTS25_SEED = 20240601
AGENT_TRIALS_SEED = 20240602


def simulate_clustered_counts(
    design: Sequence[tuple[float, float, int]], trials: int, seed: int, prefix: str = "g"
) -> pd.DataFrame:
    """Groups in clusters: rate ~ Beta(alpha, beta) per group, r ~ Binomial(trials, rate).

    Returns columns ``group, n, r, true_cluster, true_p``; clusters are
    numbered 1..K in the order given (here, by increasing mean).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for cluster, (alpha, beta, count) in enumerate(design, start=1):
        for _ in range(count):
            p = rng.beta(alpha, beta)
            rows.append((cluster, p, int(rng.binomial(trials, p))))
    frame = pd.DataFrame(rows, columns=["true_cluster", "true_p", "r"])
    frame.insert(0, "group", [f"{prefix}{i:02d}" for i in range(1, len(frame) + 1)])
    frame.insert(1, "n", trials)
    frame["true_p"] = frame["true_p"].round(4)
    return frame[["group", "n", "r", "true_cluster", "true_p"]]


#: The logit-normal population of ``simulate_logit_normal_counts``: mean logit, sd of the logits, trials per group
#: spread log-uniformly between the two bounds (small clinics to large hospitals).
LOGIT_NORMAL_DESIGN = {"mu": -1.0, "tau": 0.6, "n_low": 20, "n_high": 2000}


def simulate_logit_normal_counts(groups: int, seed: int, **design: float) -> pd.DataFrame:
    """``groups`` groups with logit(p_i) ~ Normal(mu, tau) and n_i log-uniform on [n_low, n_high] (integers).

    The data of a hierarchical logit model at any size (``LOGIT_NORMAL_DESIGN``, overridden by ``design``);
    returns columns ``group, n, r, true_p``. Group names are zero-padded so they sort in order.
    """
    d = {**LOGIT_NORMAL_DESIGN, **design}
    rng = np.random.default_rng(seed)
    n = np.rint(np.exp(rng.uniform(np.log(d["n_low"]), np.log(d["n_high"]), size=int(groups)))).astype(int)
    p = 1.0 / (1.0 + np.exp(-(d["mu"] + d["tau"] * rng.standard_normal(int(groups)))))
    width = len(str(int(groups)))
    return pd.DataFrame(
        {
            "group": [f"g{i:0{width}d}" for i in range(1, int(groups) + 1)],
            "n": n,
            "r": rng.binomial(n, p),
            "true_p": p.round(6),
        }
    )


def agents25() -> pd.DataFrame:
    """The bundled ``agents25`` dataset (25 agents, 3 true clusters, 100 trials each)."""
    return simulate_clustered_counts(AGENTS25_DESIGN, AGENTS25_TRIALS, AGENTS25_SEED, prefix="agent")


def agent_trials(seed: int = AGENT_TRIALS_SEED) -> pd.DataFrame:
    """Trial-level records of 8 agents in two cue conditions, 50 trials each.

    Columns as in the raw files our users aggregate: ``model_num``,
    ``trial_index``, ``cue_location``, ``cue_proportion`` (0.5 or 0.8),
    ``delta`` (stimulus difference), ``response`` (``H`` hit or ``M`` miss).
    Each agent's hit probability on the logit scale is its own level (from
    the three-cluster design) plus 0.8 in the informative-cue condition.
    """
    rng = np.random.default_rng(seed)
    rows = []
    base = rng.beta(7.0, 7.0, size=8)
    for agent, rate in enumerate(base):
        for proportion in (0.5, 0.8):
            logit = np.log(rate / (1 - rate)) + (0.8 if proportion == 0.8 else 0.0)
            for trial in range(50):
                delta = rng.choice([0.05, 0.1, 0.2])
                hit = rng.random() < 1 / (1 + np.exp(-(logit + 2.0 * (delta - 0.1))))
                rows.append((agent, trial, rng.choice(["left", "right"]), proportion, delta, "H" if hit else "M"))
    return pd.DataFrame(
        rows, columns=["model_num", "trial_index", "cue_location", "cue_proportion", "delta", "response"]
    )


def main() -> None:
    folder = resources.files("binoval.data") / "datasets"
    agents25().to_csv(str(folder / "agents25.csv"), index=False)
    agent_trials().to_csv(str(folder / "trials" / "agent_trials.csv"), index=False)
    print(f"wrote {folder}/agents25.csv and {folder}/trials/agent_trials.csv")


if __name__ == "__main__":
    main()
