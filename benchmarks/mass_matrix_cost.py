"""What nutpie's diagonal and low-rank mass matrices cost and buy as the number of groups grows.

Non-centred hier_logit on a seeded logit-normal dataset (``binoval.data.synthetic.simulate_logit_normal_counts``,
n from 20 to 2000 per group) of each ``--groups``, fitted at the SBC settings (2 x 500 draws after 300 warm-up, one
thread) with each mass matrix and two seeds; printed per fit: seconds, the smallest bulk ESS over mu, tau and the
group rates, and the mean leapfrog steps per draw. ``binoval.fit.sampler.LOW_RANK_MAX_PARAMETERS`` comes from it.

    PYTHONPATH=src python benchmarks/mass_matrix_cost.py --groups 100 200 300 1000
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from binoval.data.synthetic import simulate_logit_normal_counts
from binoval.fit.sampler import CompiledSampler, SamplerSettings, parameter_count
from binoval.models import FAMILIES, GroupedCounts, ModelSpec, build_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--data-seed", type=int, default=20261123)
    args = parser.parse_args()
    import arviz as az

    spec = ModelSpec(
        "hier_logit", "hier_logit", FAMILIES["hier_logit"].default_priors, {"parameterization": "noncentered"}
    )
    print("| groups | parameters | mass matrix | seed | seconds | smallest ESS | steps per draw |")
    print("|---:|---:|---|---:|---:|---:|---:|")
    for groups in args.groups:
        data = GroupedCounts.from_frame(simulate_logit_normal_counts(groups, args.data_seed))
        model = build_model(spec, data)
        for mass_matrix in ("diag", "low_rank"):
            settings = SamplerSettings(chains=2, draws=500, tune=300, mass_matrix=mass_matrix)
            sampler = CompiledSampler(model, settings, threads=1)
            for seed in args.seeds:
                start = time.perf_counter()
                fit = sampler.fit(data, seed)
                seconds = time.perf_counter() - start
                ess = az.ess(fit.idata, var_names=["mu", "tau", "p"])
                smallest = min(float(ess[name].min()) for name in ess.data_vars)
                steps = float(np.mean(fit.idata.sample_stats["n_steps"].values))
                print(
                    f"| {groups} | {parameter_count(model)} | {mass_matrix} | {seed} | {seconds:.1f} | {smallest:.0f} "
                    f"| {steps:.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
