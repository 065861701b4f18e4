"""Where a mixture SBC fit's time goes: warm-up vs kept draws, leapfrog steps per draw, ESS, extensions.

For each K, simulates ``--sims`` datasets from bb_mixture_k<K>'s prior on hospital12 (the SBC stage's
seeds, shard 0) and fits each once with the model compiled once (nutpie, one core), at the SBC
defaults or the settings given. Prints per K and setting: seconds per fit, gradient evaluations in
warm-up and in the kept draws, leapfrog steps per kept draw, the median smallest bulk ESS of the
SBC test quantities, the share of fits that SBC would extend (smallest ESS below ``min_ranks``),
the quantity that most often has the smallest ESS, and divergences.

    PYTHONPATH=src python benchmarks/mixture_sbc_cost.py                      # K = 3, 4 at the SBC defaults
    PYTHONPATH=src python benchmarks/mixture_sbc_cost.py --K 3 --tune 300 150 --target-accept 0.95 0.8
    PYTHONPATH=src python benchmarks/mixture_sbc_cost.py --K 1 2 3 4 --sims 40 --mass-matrix diag low_rank
"""

from __future__ import annotations

import argparse
import collections
import itertools
import logging
import time

import numpy as np


def measure(runner, truths, sims: int, tune: int, target_accept: float, mass_matrix: str) -> dict:
    import nutpie

    from binoval.mcmc import rhat_and_ess_bulk
    from binoval.models import N_DATA, R_DATA

    compiled = runner.sampler._compiled
    labels = [q.label for q in runner.quantities if q.variable != "log_likelihood"]
    warmup_grads = kept_grads = divergences = 0
    ess_min, worst = [], collections.Counter()
    start = time.perf_counter()
    for i in range(sims):
        data = runner.dataset(truths, i)
        trace = nutpie.sample(
            compiled.with_data(**{N_DATA: data.n, R_DATA: data.r}),
            draws=runner.settings.draws,
            tune=tune,
            chains=runner.settings.chains,
            cores=1,
            seed=i,
            progress_bar=False,
            target_accept=target_accept,
            maxdepth=runner.settings.max_treedepth,
            adaptation=mass_matrix,
            save_warmup=True,
        )
        warmup_grads += int(trace.warmup_sample_stats["n_steps"].values.sum())
        kept_grads += int(trace.sample_stats["n_steps"].values.sum())
        divergences += int(trace.sample_stats["diverging"].values.sum())
        posterior = {name: trace.posterior[name].values for name in trace.posterior.data_vars}
        _, ess = rhat_and_ess_bulk(runner._posterior(posterior))
        ess_min.append(float(np.nanmin(ess)))
        worst[labels[int(np.nanargmin(ess))]] += 1
    seconds = (time.perf_counter() - start) / sims
    kept_draws = runner.settings.chains * runner.settings.draws
    return {
        "s_per_fit": seconds,
        "warmup_grads": warmup_grads / sims,
        "kept_grads": kept_grads / sims,
        "steps_per_draw": kept_grads / sims / kept_draws,
        "ess_min_median": float(np.median(ess_min)),
        "extended": float(np.mean(np.array(ess_min) < runner.min_ranks)),
        "worst": worst.most_common(1)[0][0],
        "divergences": divergences,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--K", type=int, nargs="+", default=[3, 4])
    parser.add_argument("--sims", type=int, default=20)
    parser.add_argument("--tune", type=int, nargs="+", default=None, help="warm-up steps (default: the SBC default)")
    parser.add_argument("--target-accept", type=float, nargs="+", default=None)
    parser.add_argument(
        "--mass-matrix",
        nargs="+",
        default=["auto"],
        choices=["auto", "diag", "low_rank"],
        help="auto: the family's choice (Family.mass_matrix)",
    )
    args = parser.parse_args()
    logging.getLogger("pymc").setLevel(logging.ERROR)

    from binoval import seeds
    from binoval.data.grouped import load_dataset
    from binoval.defaults import SAMPLER, SBC_SAMPLER
    from binoval.models import FAMILIES, GroupedCounts, expand_models
    from binoval.sbc.shard import ShardRunner, sbc_sampler_settings

    data = GroupedCounts.from_frame(load_dataset("hospital12"))
    tunes = args.tune or [SBC_SAMPLER["tune"]]
    accepts = args.target_accept or [SAMPLER["target_accept"]]
    print(
        "| K | tune | target_accept | mass matrix | s/fit | warm-up grads | kept grads | steps/draw | ESS min (median) "
        "| extended | smallest ESS most often | divergences |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for K in args.K:
        spec = expand_models({"bb_mixture": {"family": "bb_mixture", "K": [K]}})[f"bb_mixture_k{K}"]
        runner = ShardRunner(spec, data, sbc_sampler_settings({}, {}), 1, args.sims, threads=1)
        rng = np.random.default_rng(seeds.seed_sequence(1, "sbc", spec.model_id, 0))
        truths = runner.simulate_truths(0, args.sims, rng)
        chosen = FAMILIES["bb_mixture"].mass_matrix(K=K)
        matrices = [chosen if choice == "auto" else choice for choice in args.mass_matrix]
        measure(runner, truths, 1, tunes[0], accepts[0], matrices[0])  # first call: nutpie's start-up
        for tune, accept, mass_matrix in itertools.product(tunes, accepts, matrices):
            m = measure(runner, truths, args.sims, tune, accept, mass_matrix)
            print(
                f"| {K} | {tune} | {accept} | {mass_matrix} | {m['s_per_fit']:.2f} "
                f"| {m['warmup_grads']:.0f} | {m['kept_grads']:.0f} | {m['steps_per_draw']:.1f} "
                f"| {m['ess_min_median']:.0f} | {m['extended']:.0%} | {m['worst']} | {m['divergences']} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
