"""How often the verdict is wrong: false rejections of correctly specified models, and power against wrong ones.

For every default model, datasets it generated itself: ``--datasets`` from its own prior predictive and as many
from its posterior predictive given hospital12 (each from one posterior draw), on hospital12's groups and trials.
For each, what the workflow runs on data (``binoval.verdict.calibration.CheckRunner``: the prior predictive check,
the fit, extended while short of its targets, and the posterior predictive check, judged by each stage's own
status function at the default thresholds). A correct model should be ACCEPTED: the share REJECTED is the false-
reject rate, reported per stage, for the two predictive checks together (what ``verdict.false_reject_rate``
bounds) and for all three.

Misspecified pairs (power, ``--datasets`` each):
* ``pooled`` on overdispersed data, hospital12's groups and trials, logit rates ~ Normal(mu, tau) with mu and tau
  fixed at the reference posterior means of BRIEF (mu = logit(0.0718), tau = 0.451), and at tau = 0.3 and 0.6
  (how power grows with overdispersion); and on hier_logit's posterior predictive given hospital12 (tau drawn
  from its posterior, so some datasets are barely overdispersed);
* ``bb_mixture_k1`` on clearly clustered data: fresh simulations of the three-cluster design of agents25
  (25 agents x 100 trials; Beta(2,10) x 8, Beta(7,7) x 10, Beta(15,3) x 7);
* ``hier_logit`` on data with one outlying group: hier_logit's posterior predictive given hospital12, with the
  group of median size given a rate of 0.35 (about 4 between-group SDs above the population on the logit scale);
* ``unpooled`` with a prior far from the data: p ~ Beta(20, 2) (prior mean 0.91) on hier_logit's posterior
  predictive given hospital12 (rates near 0.07).

Mixtures with K >= 2 fit slowly (several seconds per dataset at 4 x 1000 draws), so they get ``--mixture-datasets``.
Results: a CSV of every dataset's statuses and one of the rates with 95% Wilson intervals.

Usage (from the repository root, environment active):
    python benchmarks/verdict_calibration.py                                  # 100 datasets per cell, 40 for K >= 2
    python benchmarks/verdict_calibration.py --datasets 20 --models pooled hier_logit --jobs 2
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

#: Seeds far from the bundled datasets' and the tests'.
SEED = 515_000
#: hier_logit's population on hospital12 (BRIEF, reference run: p_pop = 0.0718, tau = 0.451).
REFERENCE_MU, REFERENCE_TAU = float(np.log(0.0718 / (1 - 0.0718))), 0.451
OVERDISPERSION_TAUS = (0.3, REFERENCE_TAU, 0.6)
OUTLIER_RATE = 0.35
FAR_PRIOR = {"p": {"dist": "Beta", "alpha": 20.0, "beta": 2.0}}


def default_models() -> dict:
    from binoval.defaults import MODELS
    from binoval.models import expand_models

    return expand_models(MODELS)


def hospital12():
    from binoval.data.grouped import load_dataset
    from binoval.models import GroupedCounts

    return GroupedCounts.from_frame(load_dataset("hospital12"))


def datasets(kind: str, count: int) -> tuple[str, object, np.ndarray, str]:
    """(model id, template data, datasets (count, groups), what generated them) for one cell."""
    from binoval.data.synthetic import AGENTS25_DESIGN, simulate_clustered_counts
    from binoval.models import GroupedCounts
    from binoval.verdict.calibration import posterior_datasets, prior_datasets

    specs = default_models()
    data = hospital12()
    source, _, model_id = kind.partition(":")
    if source == "prior":
        return model_id, data, prior_datasets(specs[model_id], data, count, SEED), "own prior predictive"
    if source == "posterior":
        return model_id, data, posterior_datasets(specs[model_id], data, count, SEED), "own posterior predictive"
    if source == "overdispersed_tau":
        tau = float(model_id)
        rng = np.random.default_rng(SEED + int(1000 * tau))
        rates = 1.0 / (1.0 + np.exp(-rng.normal(REFERENCE_MU, tau, size=(count, len(data.n)))))
        return "pooled", data, rng.binomial(data.n, rates), f"hier_logit, mu = logit(0.0718), tau = {tau}"
    overdispersed = posterior_datasets(specs["hier_logit"], data, count, SEED + 1)
    if source == "overdispersed":
        return "pooled", data, overdispersed, "hier_logit posterior predictive (hospital12)"
    if source == "outlier":
        median = int(np.argsort(data.n)[len(data.n) // 2])
        rng = np.random.default_rng(SEED + 2)
        with_outlier = overdispersed.copy()
        with_outlier[:, median] = rng.binomial(data.n[median], OUTLIER_RATE, size=count)
        return (
            "hier_logit",
            data,
            with_outlier,
            f"hier_logit posterior predictive, group {data.groups[median]} at rate 0.35",
        )
    if source == "far_prior":
        return "unpooled_far_prior", data, overdispersed, "hier_logit posterior predictive (hospital12)"
    if source == "clustered":
        frames = [simulate_clustered_counts(AGENTS25_DESIGN, 100, SEED + 10 + i) for i in range(count)]
        template = GroupedCounts.from_frame(frames[0][["group", "n", "r"]])
        return "bb_mixture_k1", template, np.stack([f["r"].to_numpy() for f in frames]), "three-cluster design"
    raise ValueError(f"unknown cell {kind!r}")


def run_cell(kind: str, count: int) -> pd.DataFrame:
    """Every dataset of one cell through ``CheckRunner``: one row per dataset."""
    from binoval.models import expand_models
    from binoval.verdict.calibration import CheckRunner

    model_id, template, simulated, origin = datasets(kind, count)
    specs = {**default_models(), **expand_models({"unpooled_far_prior": {"family": "unpooled", "priors": FAR_PRIOR}})}
    start = time.perf_counter()
    runner = CheckRunner(specs[model_id], template, seed=SEED)
    rows = []
    for i, r in enumerate(simulated):
        rows.append({"cell": kind, "model_id": model_id, "data": origin, "dataset": i, **runner.judge(r, i)})
    elapsed = time.perf_counter() - start
    print(f"{kind}: {count} datasets in {elapsed:.0f} s", flush=True)
    return pd.DataFrame(rows)


def cells(models: list[str], datasets: int, mixture_datasets: int, power: bool) -> list[tuple[str, int]]:
    out = []
    for model_id in models:
        count = mixture_datasets if model_id.startswith("bb_mixture") and model_id != "bb_mixture_k1" else datasets
        out += [(f"prior:{model_id}", count), (f"posterior:{model_id}", count)]
    if power:
        out += [(f"overdispersed_tau:{tau}", datasets) for tau in OVERDISPERSION_TAUS]
        out += [(kind, datasets) for kind in ("overdispersed", "clustered", "outlier", "far_prior")]
    return out


def main() -> None:
    from binoval.verdict.calibration import rejection_rates

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=100)
    parser.add_argument("--mixture-datasets", type=int, default=40)
    parser.add_argument("--models", nargs="*", default=None, help="model ids (default: every default model)")
    parser.add_argument("--no-power", action="store_true", help="skip the misspecified pairs")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    models = args.models or list(default_models())
    todo = cells(models, args.datasets, args.mixture_datasets, not args.no_power)
    todo.sort(key=lambda cell: -cell[1] * (8 if "mixture" in cell[0] else 1))  # long cells first
    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = pd.concat(list(pool.map(run_cell, *zip(*todo))), ignore_index=True)
    args.out.mkdir(parents=True, exist_ok=True)
    rows.to_csv(args.out / "verdict_calibration_datasets.csv", index=False)
    rates = rejection_rates(rows, ["cell", "model_id", "data"])
    rates.to_csv(args.out / "verdict_calibration.csv", index=False)
    pd.set_option("display.width", 200)
    print(rates.drop(columns=["data"]).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"total {time.perf_counter() - start:.0f} s with {args.jobs} processes")


if __name__ == "__main__":
    main()
