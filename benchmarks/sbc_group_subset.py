"""Does SBC on a subset of group rates still detect a miscalibration at many groups, and what does it cost?

The planted miscalibration of ``tests/sbc/test_sbc_detection.py`` (hier_logit fitted with tau ~ HalfNormal(1),
datasets simulated with tau ~ HalfNormal(3)) on its design of small groups (n = 15, 20, 25, 30, 40, 50, repeated)
at ``--groups`` groups, and the matched setup. For each ``--max-group-quantities`` (``all``: every group rate) one
shard of ``--sims`` simulations per setup, at the SBC defaults; printed per run: the stage's status and first
reason, the smallest Holm-adjusted p-value and the quantity it belongs to, tau's ECDF p-value and z-score mean, the
share of fits extended, the median smallest ESS and the seconds per simulation (sampling, and everything).

    PYTHONPATH=src python benchmarks/sbc_group_subset.py --groups 1000 --sims 200 --max-group-quantities 50
    PYTHONPATH=src python benchmarks/sbc_group_subset.py --groups 1000 --sims 40 --setups matched \\
        --max-group-quantities 12 50 200 all          # what the limit costs per fit
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from binoval.models import FAMILIES, GroupedCounts, ModelSpec
from binoval.sbc.check import sbc_status
from binoval.sbc.shard import ShardRunner, sbc_sampler_settings
from binoval.sbc.summary import summarise

#: Trials per group of the detection test's design, repeated to the number of groups.
DESIGN_TRIALS = (15, 20, 25, 30, 40, 50)
#: The simulating priors of each setup (``sbc.simulate_priors`` of hier_logit).
SETUPS = {"matched": {}, "wide_tau": {"tau": {"dist": "HalfNormal", "sigma": 3.0}}}


def design(groups: int, seed: int) -> GroupedCounts:
    """``groups`` groups with the detection test's trials (its counts do not matter: SBC simulates its own)."""
    n = np.resize(np.array(DESIGN_TRIALS), groups)
    r = np.random.default_rng(seed).binomial(n, 0.2)
    return GroupedCounts(tuple(f"g{i:05d}" for i in range(groups)), n, r)


def run(groups: int, sims: int, limit: int | None, setup: str, seed: int) -> dict:
    spec = ModelSpec(
        "hier_logit", "hier_logit", FAMILIES["hier_logit"].default_priors, {"parameterization": "noncentered"}
    )
    start = time.perf_counter()
    runner = ShardRunner(
        spec, design(groups, seed), sbc_sampler_settings({}, {}), seed, sims, max_group_quantities=limit
    )
    runner = runner.simulating_from(SETUPS[setup])
    compiled = time.perf_counter()
    table = runner.run(0)
    elapsed = time.perf_counter() - compiled
    summary = summarise(table)
    status = sbc_status({"summary": summary, "simulations": table}, {})
    fits = table.drop_duplicates("simulation")
    worst = summary.assign(p=np.fmin(summary["ecdf_p_holm"], summary["chi2_p_holm"])).sort_values("p").iloc[0]
    tau = summary.set_index("quantity").loc["tau"]
    return {
        "groups": groups,
        "max_group_quantities": "all" if limit is None else limit,
        "setup": setup,
        "simulations": sims,
        "quantities": int(len(summary)),
        "status": status.status,
        "first_reason": status.reasons[0] if status.reasons else "",
        "smallest_holm_p": float(worst["p"]),
        "smallest_p_quantity": str(worst["quantity"]),
        "tau_ecdf_p": float(tau["ecdf_p"]),
        "tau_z_mean": float(tau["z_mean"]),
        "extended": float(fits["extended"].mean()),
        "ess_min_median": float(fits["ess_min"].median()),
        "sampling_s_per_sim": float(fits["wall_time_s"].mean()),
        "s_per_sim": elapsed / sims,
        "compile_s": compiled - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--sims", type=int, default=200)
    parser.add_argument("--max-group-quantities", nargs="+", default=["50"], help="integers or 'all'")
    parser.add_argument("--setups", nargs="+", default=list(SETUPS), choices=list(SETUPS))
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    results = []
    for value in args.max_group_quantities:
        limit = None if value == "all" else int(value)
        for setup in args.setups:
            result = run(args.groups, args.sims, limit, setup, args.seed)
            results.append(result)
            print(json.dumps(result), flush=True)
    print()
    print(
        "| max_group_quantities | setup | status | smallest Holm p (quantity) | tau ECDF p | tau z mean | extended | "
        "ESS min median | s per simulation (sampling) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['max_group_quantities']} | {r['setup']} | {r['status']} | {r['smallest_holm_p']:.2g} "
            f"({r['smallest_p_quantity']}) | {r['tau_ecdf_p']:.2g} | {r['tau_z_mean']:+.2f} | {r['extended']:.0%} | "
            f"{r['ess_min_median']:.0f} | {r['s_per_sim']:.2f} ({r['sampling_s_per_sim']:.2f}) |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
