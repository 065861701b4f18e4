"""What writing the binomial likelihood with its coefficient as data (``binoval.models.base.observe_binomial``) buys.

Non-centred hier_logit on a seeded logit-normal dataset (``simulate_logit_normal_counts``, n from 20 to 2000 per
group) of each ``--groups``, its observed ``r`` declared two ways: PyMC's ``Binomial(n, p=invlogit(theta))``, which
evaluates log C(n, r) (three log-gamma functions per group) at every gradient, and ``observe_binomial(logit_p=theta)``,
which reads it from a data container. Both are fitted with nutpie at the SBC settings (2 x 500 draws after 300
warm-up, diagonal mass matrix, one thread) with the same seeds; printed per fit: seconds, leapfrog steps per draw,
microseconds per gradient, and whether the draws of ``mu`` are identical (the two densities differ by a constant).

    PYTHONPATH=src python benchmarks/binomial_density_cost.py --groups 12 100 1000 10000
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from binoval.data.synthetic import simulate_logit_normal_counts
from binoval.models import FAMILIES, GroupedCounts, ModelSpec, build_model


def with_pymc_binomial(data: GroupedCounts):
    """hier_logit (non-centred) as ``binoval.models.hier_logit`` declared it before ``observe_binomial``."""
    import pymc as pm

    priors = FAMILIES["hier_logit"].default_priors
    with pm.Model(coords={"group": list(data.groups)}) as model:
        n = pm.Data("n", data.n, dims="group")
        r_observed = pm.Data("r_observed", data.r, dims="group")
        mu = pm.Normal("mu", priors["mu"]["mu"], priors["mu"]["sigma"])
        tau = pm.HalfNormal("tau", priors["tau"]["sigma"])
        z = pm.Normal("z", 0.0, 1.0, dims="group")
        theta = pm.Deterministic("theta", mu + tau * z, dims="group")
        p = pm.Deterministic("p", pm.math.invlogit(theta), dims="group")
        pm.Binomial("r", n=n, p=p, observed=r_observed, dims="group")
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, nargs="+", default=[12, 100, 1000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--data-seed", type=int, default=20261123)
    args = parser.parse_args()
    import nutpie

    spec = ModelSpec(
        "hier_logit", "hier_logit", FAMILIES["hier_logit"].default_priors, {"parameterization": "noncentered"}
    )
    print("| groups | likelihood | seed | seconds | steps per draw | microseconds per gradient | same draws |")
    print("|---:|---|---:|---:|---:|---:|---|")
    for groups in args.groups:
        data = GroupedCounts.from_frame(simulate_logit_normal_counts(groups, args.data_seed))
        models = {"pm.Binomial": with_pymc_binomial(data), "observe_binomial": build_model(spec, data)}
        compiled = {name: nutpie.compile_pymc_model(model) for name, model in models.items()}
        for seed in args.seeds:
            mu = {}
            for name, model in compiled.items():
                start = time.perf_counter()
                trace = nutpie.sample(
                    model, chains=2, draws=500, tune=300, cores=1, seed=seed, progress_bar=False, adaptation="diag"
                )
                seconds = time.perf_counter() - start
                mu[name] = trace.posterior["mu"].values
                steps = float(np.mean(trace.sample_stats["n_steps"].values))
                gradients = float(np.sum(trace.sample_stats["n_steps"].values)) * 800 / 500  # warm-up at that rate
                same = "" if name == "pm.Binomial" else str(np.allclose(mu[name], mu["pm.Binomial"], atol=1e-8))
                print(
                    f"| {groups} | {name} | {seed} | {seconds:.2f} | {steps:.1f} | {seconds / gradients * 1e6:.1f} "
                    f"| {same} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
