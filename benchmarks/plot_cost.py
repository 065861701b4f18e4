"""Time of the stage plots of a finished run: each plot function on the run's own tables, best of ``--repeats``.

Draws, for one model of a finished run, the SBC ECDF and rank plots, the PPC statistics plot (on the prior
predictive draws, as the prior predictive rule does) and the power-scaling plot, each once to warm matplotlib up
and then ``--repeats`` times into a temporary folder, and prints the best time of each.

    python benchmarks/plot_cost.py results/hospital12 --model hier_logit --sensitivity-model bb_mixture_k4
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd


def best_of(repeats: int, draw, *args) -> float:
    """The quickest of ``repeats`` calls of ``draw(*args, path)`` after one warm-up call."""
    with tempfile.TemporaryDirectory() as tmp:
        draw(*args, Path(tmp) / "warm.png")
        times = []
        for i in range(repeats):
            start = time.perf_counter()
            draw(*args, Path(tmp) / f"{i}.png")
            times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a finished run's results/<run> folder")
    parser.add_argument("--model", default="hier_logit")
    parser.add_argument("--sensitivity-model", default="bb_mixture_k4")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from binoval.predictive.plots import plot_statistics
    from binoval.sbc.plots import plot_ecdf_difference, plot_rank_histograms
    from binoval.sensitivity.plots import plot_powerscale_sequence

    sbc = pd.read_parquet(args.results / "sbc" / "simulations" / f"{args.model}.parquet")
    draws = pd.read_parquet(args.results / "prior_predictive" / f"{args.model}_draws.parquet")
    summary = pd.read_parquet(args.results / "prior_predictive" / f"{args.model}.parquet")
    sequence = pd.read_parquet(args.results / "sensitivity" / f"{args.sensitivity_model}_sequence.parquet")
    cases = {
        f"SBC ECDF difference ({args.model}, {sbc['quantity'].nunique()} panels)": (plot_ecdf_difference, sbc),
        f"SBC rank histograms ({args.model})": (plot_rank_histograms, sbc),
        f"predictive statistics ({args.model})": (lambda d, path: plot_statistics(d, summary, path, "t"), draws),
        f"power-scaling ({args.sensitivity_model})": (plot_powerscale_sequence, sequence),
    }
    for label, (draw, table) in cases.items():
        print(f"{label}: {best_of(args.repeats, draw, table):.3f} s")


if __name__ == "__main__":
    main()
