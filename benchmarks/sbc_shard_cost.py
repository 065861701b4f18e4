"""Where a prior SBC shard's time goes: compile, the fits, and the posterior predictive check of each fit.

Runs one shard of the SBC stage (``ShardRunner``, shard 0, the default run's seed and SBC settings, one core) for
each model named, on hospital12, and prints per model: the compile, the shard's run, and how much of the run the
per-fit posterior predictive check took (``binoval.sbc.shard.predictive_rows``: the check that calibrates the ppc
stage's verdict). The first model of a process also pays the one-off imports its check needs; name a cheap model
first (``pooled``) to keep them out of the others.

    PYTHONPATH=src python benchmarks/sbc_shard_cost.py                              # pooled, bb_mixture_k3; 200 sims
    PYTHONPATH=src python benchmarks/sbc_shard_cost.py --models pooled hier_logit --sims 100
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["pooled", "bb_mixture_k3"], help="model ids of the default run")
    parser.add_argument("--sims", type=int, default=200, help="simulations in the shard (the default run's: 200)")
    args = parser.parse_args()

    import binoval.sbc.shard as shard
    from binoval.data.grouped import load_dataset
    from binoval.defaults import DEFAULTS, MODELS
    from binoval.models import GroupedCounts, expand_models
    from binoval.sbc.shard import ShardRunner, sbc_sampler_settings

    data = GroupedCounts.from_frame(load_dataset("hospital12"))
    specs = expand_models(MODELS)
    unknown = sorted(set(args.models) - set(specs))
    if unknown:
        parser.error(f"--models: {', '.join(unknown)} not among the default run's models ({', '.join(specs)})")
    check_seconds = [0.0]
    check = shard.predictive_rows

    def timed_check(*args, **kwargs):
        start = time.perf_counter()
        try:
            return check(*args, **kwargs)
        finally:
            check_seconds[0] += time.perf_counter() - start

    shard.predictive_rows = timed_check
    print("| model | simulations | compile s | run s | predictive check s | check s per simulation |")
    print("|---|---:|---:|---:|---:|---:|")
    for model_id in args.models:
        spec = specs[model_id]
        start = time.perf_counter()
        runner = ShardRunner(spec, data, sbc_sampler_settings({}, {}), DEFAULTS["seed"], args.sims, threads=1)
        compiled = time.perf_counter() - start
        check_seconds[0] = 0.0
        start = time.perf_counter()
        runner.run(0)
        run = time.perf_counter() - start
        print(
            f"| {model_id} | {args.sims} | {compiled:.1f} | {run:.1f} | {check_seconds[0]:.2f} "
            f"| {check_seconds[0] / args.sims * 1000:.1f} ms |"
        )


if __name__ == "__main__":
    main()
