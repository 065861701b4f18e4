"""How often the K choice is right on data nobody looked at: fresh seeded simulations with and without clusters.

For each kind (``clustered``: the three-cluster design of agents25, 25 groups of 100 trials; ``one population``:
25 groups from one Beta(4, 12) population), simulate ``--datasets`` datasets with fresh seeds, estimate the SMC
marginal likelihood of bb_mixture K = 1..4 on each (as rule ``evidence`` does), and report P(K >= 2 | data),
the chosen K (posterior median) and whether the conclusions are right: "clusters exist" exactly when they were
simulated, and the chosen K equal to the simulated number of clusters.

Usage (from the repository root, environment active):
    python benchmarks/k_choice_accuracy.py                     # 5 datasets of each kind, SMC 2000 x 2
    python benchmarks/k_choice_accuracy.py --datasets 10 --draws 1000
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from binoval.data.synthetic import AGENTS25_DESIGN, simulate_clustered_counts
from binoval.loo.k_choice import choose_k, evidence_table, k_posterior, smc_log_marginal_likelihood
from binoval.models import GroupedCounts, expand_models

KINDS = {"clustered": (AGENTS25_DESIGN, 3), "one population": (((4.0, 12.0, 25),), 1)}
#: Seeds far from the bundled datasets' (20240601, 20240602) and the tests'.
FIRST_SEED = 777_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=5)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--chains", type=int, default=2)
    args = parser.parse_args()
    specs = expand_models({"m": {"family": "bb_mixture", "K": [1, 2, 3, 4]}})
    rows = []
    for kind, (design, true_k) in KINDS.items():
        for i in range(args.datasets):
            seed = FIRST_SEED + 100 * i + (0 if kind == "clustered" else 50)
            frame = simulate_clustered_counts(design, 100, seed)
            data = GroupedCounts.from_frame(frame[["group", "n", "r"]])
            start = time.perf_counter()
            evidence = pd.concat(
                [
                    evidence_table(
                        spec,
                        "m",
                        spec.options["K"],
                        smc_log_marginal_likelihood(spec, data, args.draws, args.chains, seed),
                        args.draws,
                    )
                    for spec in specs.values()
                ]
            )
            posterior = k_posterior(evidence)
            chosen, _ = choose_k(posterior)
            p_clusters = float(posterior["p_clusters"].iloc[0])
            rows.append(
                {
                    "kind": kind,
                    "seed": seed,
                    "P(K>=2)": round(p_clusters, 3),
                    "P(K) by K": " ".join(f"{p:.2f}" for p in posterior.sort_values("K")["p_k"]),
                    "chosen K": chosen,
                    "clusters right": (p_clusters > 0.5) == (true_k > 1),
                    "K right": chosen == true_k,
                    "seconds": round(time.perf_counter() - start, 1),
                }
            )
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    print(table.groupby("kind")[["clusters right", "K right"]].mean().to_string())


if __name__ == "__main__":
    main()
