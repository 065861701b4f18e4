"""bb_mixture's Dirichlets through PyMC's simplex transform or as normalised Gamma variables, with each mass matrix.

The two parameterisations are the same model: w ~ Dirichlet(1, ..., 1) and gaps ~ Dirichlet(1, ..., 1) (the
ordered means mu = cumulative sums of the gaps) either sampled through PyMC's simplex transform (``simplex``,
written out here as binoval declared it before issue 17's sixth steps) or as w = g / sum(g), g_k ~ Gamma(1, 1),
and gaps = e / sum(e), e_j ~ Exponential(1) (``gamma``, the family's ``declare`` now). Each is fitted with nutpie on
one thread, with a diagonal and a low-rank mass matrix, to hospital12 at the fit stage's settings (4 x 1000 draws
after 1000 warm-up) and to hospital12 with its counts doubled at the SBC settings (2 x 500 after 300; a stand-in for
posterior SBC, which fits the observed data plus a replicate), ``--seeds`` seeds each. Printed per K, case,
parameterisation and mass matrix: mean seconds per fit, the median (smallest) over seeds of the smallest bulk ESS
of w, mu and kappa, leapfrog steps per draw, divergences, and the median effective draws per second.

    PYTHONPATH=src python benchmarks/mixture_parameterisation.py --K 1 2 3 4 --seeds 4
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from binoval.data.grouped import load_dataset
from binoval.fit.nutpie_cache import compile_nutpie_model
from binoval.fit.sampler import with_data
from binoval.mcmc import rhat_and_ess_bulk
from binoval.models import FAMILIES, GroupedCounts, build_model, expand_models
from binoval.models.bb_mixture import CLUSTER_DIM, observe_beta_binomial_mixture


def with_simplex_transform(data: GroupedCounts, K: int):
    """bb_mixture_k<K> as declared before the Gamma parameterisation: Dirichlets through PyMC's simplex transform."""
    import pymc as pm
    import pytensor.tensor as pt

    from binoval.models.base import GROUP_DIM, N_DATA, R_DATA, container_values
    from binoval.models.priors import make_rv

    priors = FAMILIES["bb_mixture"].default_priors
    with pm.Model(coords={GROUP_DIM: list(data.groups), CLUSTER_DIM: list(range(1, K + 1))}) as model:
        containers = {name: pm.Data(name, values, dims=GROUP_DIM) for name, values in container_values(data).items()}
        n, r_observed = containers[N_DATA], containers[R_DATA]
        if K == 1:
            w = pm.Deterministic("w", pt.ones(1), dims=CLUSTER_DIM)
        else:
            w = pm.Dirichlet("w", a=np.full(K, float(priors["w"]["a"])), dims=CLUSTER_DIM)
        gaps = pm.Dirichlet("mu_gaps", a=np.ones(K + 1))
        mu = pm.Deterministic("mu", pt.cumsum(gaps)[:K], dims=CLUSTER_DIM)
        kappa = make_rv("kappa", priors["kappa"], dims=CLUSTER_DIM)
        observe_beta_binomial_mixture(n, r_observed, w, mu * kappa, (1.0 - mu) * kappa)
    return model


def fit_stats(compiled, data, chains, draws, tune, mass_matrix, seed):
    import nutpie

    start = time.perf_counter()
    trace = nutpie.sample(
        with_data(compiled, data),
        draws=draws,
        tune=tune,
        chains=chains,
        cores=1,
        seed=seed,
        progress_bar=False,
        target_accept=0.95,
        adaptation=mass_matrix,
    )
    seconds = time.perf_counter() - start
    posterior = np.concatenate(
        [trace.posterior[name].values.reshape(chains, draws, -1) for name in ("w", "mu", "kappa")], axis=-1
    )
    _, ess = rhat_and_ess_bulk(posterior)
    stats = trace.sample_stats
    return seconds, float(np.nanmin(ess)), float(stats["n_steps"].values.mean()), int(stats["diverging"].values.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--K", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--seeds", type=int, default=4)
    args = parser.parse_args()
    data = GroupedCounts.from_frame(load_dataset("hospital12"))
    doubled = GroupedCounts(data.groups, 2 * data.n, 2 * data.r)
    cases = (("hospital12, 4 x 1000", data, 4, 1000, 1000), ("doubled, 2 x 500", doubled, 2, 500, 300))
    print(
        "| K | data, draws | parameterisation | mass matrix | s per fit | smallest ESS | steps per draw "
        "| divergences | ESS per s |"
    )
    print("|---:|---|---|---|---:|---:|---:|---:|---:|")
    for K in args.K:
        spec = expand_models({"bb_mixture": {"family": "bb_mixture", "K": [K]}})[f"bb_mixture_k{K}"]
        models = {"simplex": with_simplex_transform(data, K), "gamma": build_model(spec, data)}
        compiled = {name: compile_nutpie_model(model) for name, model in models.items()}
        for label, case_data, chains, draws, tune in cases:
            for name in models:
                for mass_matrix in ("diag", "low_rank"):
                    runs = np.array(
                        [
                            fit_stats(compiled[name], case_data, chains, draws, tune, mass_matrix, seed)
                            for seed in range(args.seeds)
                        ]
                    )
                    seconds, ess = runs[:, 0], runs[:, 1]
                    print(
                        f"| {K} | {label} | {name} | {mass_matrix} | {seconds.mean():.2f} | {np.median(ess):.0f} "
                        f"({ess.min():.0f}) | {runs[:, 2].mean():.1f} | {int(runs[:, 3].sum())} "
                        f"| {np.median(ess / seconds):.0f} |",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
