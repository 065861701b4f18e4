"""What writing the binomial likelihood with its coefficient as data (``binoval.models.base.observe_binomial``) buys.

Non-centred hier_logit on a seeded logit-normal dataset (``simulate_logit_normal_counts``, n from 20 to 2000 per
group) of each ``--groups``, its observed ``r`` declared two ways: PyMC's ``Binomial(n, p=invlogit(theta))``, which
evaluates log C(n, r) (three log-gamma functions per group) at every gradient, and ``observe_binomial(logit_p=theta)``,
which reads it from a data container. Both are fitted with nutpie at the SBC settings (2 x 500 draws after 300
warm-up, the default target acceptance and tree depth, diagonal mass matrix, one thread) with the same seeds; printed
per fit: seconds, leapfrog steps per draw, microseconds per gradient, and the smallest bulk ESS of mu and tau. The two
densities differ by a constant, so the chains differ only by rounding (which NUTS amplifies over a long chain).

    PYTHONPATH=src python benchmarks/binomial_density_cost.py --groups 12 100 1000 10000
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from binoval.data.synthetic import simulate_logit_normal_counts
from binoval.defaults import SAMPLER
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
    import arviz as az
    import nutpie

    spec = ModelSpec(
        "hier_logit", "hier_logit", FAMILIES["hier_logit"].default_priors, {"parameterization": "noncentered"}
    )
    print("| groups | likelihood | seed | seconds | steps per draw | microseconds per gradient | ESS of mu, tau |")
    print("|---:|---|---:|---:|---:|---:|---|")
    for groups in args.groups:
        data = GroupedCounts.from_frame(simulate_logit_normal_counts(groups, args.data_seed))
        models = {"pm.Binomial": with_pymc_binomial(data), "observe_binomial": build_model(spec, data)}
        compiled = {name: nutpie.compile_pymc_model(model) for name, model in models.items()}
        for seed in args.seeds:
            for name, model in compiled.items():
                start = time.perf_counter()
                trace = nutpie.sample(
                    model,
                    chains=2,
                    draws=500,
                    tune=300,
                    cores=1,
                    seed=seed,
                    progress_bar=False,
                    adaptation="diag",
                    target_accept=SAMPLER["target_accept"],
                    maxdepth=SAMPLER["max_treedepth"],
                )
                seconds = time.perf_counter() - start
                ess = az.ess(trace, var_names=["mu", "tau"])
                steps = float(np.mean(trace.sample_stats["n_steps"].values))
                gradients = float(np.sum(trace.sample_stats["n_steps"].values)) * 800 / 500  # warm-up at that rate
                print(
                    f"| {groups} | {name} | {seed} | {seconds:.2f} | {steps:.1f} | {seconds / gradients * 1e6:.1f} "
                    f"| {float(ess['mu']):.0f}, {float(ess['tau']):.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
