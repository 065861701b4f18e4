"""SBC speed: binoval's sharded, compile-once SBC vs the common rebuild-and-resample loop.

Runs, in one process and on the same model (hier_logit, non-centred, on
hospital12, default priors) and the same sampler settings (4 chains x 1000
draws, 1000 tuning steps, target_accept 0.95):

(a) binoval: ``ShardRunner`` compiles the model once (nutpie) and fits each
    simulated dataset with ``with_data``; the seconds per simulation include
    everything a shard does per simulation (fit, diagnostics, thinning,
    ranks, log-likelihood, intervals). Also at the SBC defaults (``binoval.defaults.SBC_SAMPLER``).
(b) the common loop, as simuk does it (0.3 on the current stack):
    ``simuk.SBC(model).run_simulations()`` calls ``pm.observe`` and
    ``pm.sample`` per simulation (rebuild and recompile every time). simuk
    stops quietly at the first error, so the count of completed simulations
    is checked; if simuk cannot run here, a faithful hand loop (build the
    model, ``pm.sample``) is used instead, and the output says so.

Prints seconds per simulation for each, the ratio, and the projected time
for 100 and 1000 simulations (shards of 100: one compile per shard plus the
measured per-simulation time; the loop: per-simulation time x N).

    PYTHONPATH=src python benchmarks/sbc_speed.py                 # 20 + 3 simulations
    PYTHONPATH=src python benchmarks/sbc_speed.py --ours 100 --loop 10   # on a quiet machine
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np


def ours(data, sampler: dict, sims: int, seed: int):
    from binoval.models import FAMILIES, ModelSpec
    from binoval.sbc.shard import ShardRunner, sbc_sampler_settings

    spec = ModelSpec(
        "hier_logit", "hier_logit", FAMILIES["hier_logit"].default_priors, {"parameterization": "noncentered"}
    )
    start = time.perf_counter()
    runner = ShardRunner(spec, data, sbc_sampler_settings({"target_accept": 0.95}, sampler), seed, sims)
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    table = runner.run(0, progress_every=sims)  # a whole shard, first (warm-up) simulation included
    per_sim = (time.perf_counter() - start) / sims
    fits = table.drop_duplicates("simulation")
    return compile_s, per_sim, float(fits["wall_time_s"].mean()), int((fits["status"] == "failed").sum())


def common_loop(data, sims: int, seed: int):
    """simuk's loop if it runs every simulation, else the hand loop; returns (label, seconds per simulation)."""
    import pymc as pm

    from binoval.models import FAMILIES, ModelSpec, build_model

    spec = ModelSpec(
        "hier_logit", "hier_logit", FAMILIES["hier_logit"].default_priors, {"parameterization": "noncentered"}
    )
    kwargs = dict(draws=1000, tune=1000, chains=4, target_accept=0.95)
    try:
        import simuk

        model = build_model(spec, data)
        sample_kwargs = dict(kwargs, progressbar=False, compute_convergence_checks=False)
        sbc = simuk.SBC(model, num_simulations=sims, sample_kwargs=sample_kwargs, seed=seed, progress_bar=False)
        start = time.perf_counter()
        sbc.run_simulations()
        elapsed = time.perf_counter() - start
        if sbc._simulations_complete != sims:  # simuk logs the error and stops instead of raising
            raise RuntimeError(f"simuk completed {sbc._simulations_complete} of {sims} simulations")
        return f"simuk {simuk.__version__} (pm.observe + pm.sample per simulation)", elapsed / sims
    except Exception as err:  # noqa: BLE001 - fall back to the equivalent hand loop
        logging.warning("simuk failed (%s: %s); timing the equivalent hand loop", type(err).__name__, err)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for _ in range(sims):
        model = build_model(spec, data)
        with model:
            draw = pm.sample_prior_predictive(draws=1, random_seed=rng)
        r = draw.prior_predictive["r"].values.reshape(-1)
        model = build_model(spec, data.with_successes(r))
        with model:
            pm.sample(**kwargs, random_seed=rng, progressbar=False, compute_convergence_checks=False)
    return "hand loop (build model + pm.sample per simulation)", (time.perf_counter() - start) / sims


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ours", type=int, default=20, help="simulations timed for binoval (per setting)")
    parser.add_argument("--loop", type=int, default=3, help="simulations timed for the common loop")
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from binoval.data.grouped import load_dataset
    from binoval.defaults import SBC_SAMPLER
    from binoval.models import GroupedCounts

    data = GroupedCounts.from_frame(load_dataset("hospital12"))
    big = {"chains": 4, "draws": 1000, "tune": 1000}
    compile_big, ours_big, fit_big, failed_big = ours(data, big, args.ours, args.seed)
    compile_def, ours_def, fit_def, failed_def = ours(data, {}, args.ours, args.seed)
    label, loop = common_loop(data, args.loop, args.seed)

    print(
        f"hier_logit on hospital12; binoval timed over {args.ours} simulations per setting, the loop over {args.loop}"
    )
    print(
        f"(a) binoval 4 x 1000 (+1000 tune):  {ours_big:.3f} s/simulation (sampling {fit_big:.3f} s), "
        f"compile once {compile_big:.1f} s, {failed_big} failed"
    )
    d = SBC_SAMPLER
    print(
        f"(a) binoval SBC defaults {d['chains']} x {d['draws']} (+{d['tune']} tune): {ours_def:.3f} s/simulation (sampling {fit_def:.3f} s), "
        f"compile once {compile_def:.1f} s, {failed_def} failed"
    )
    print(f"(b) {label}, 4 x 1000 (+1000 tune): {loop:.3f} s/simulation")
    print(
        f"ratio (b)/(a) at equal settings 4 x 1000: {loop / ours_big:.1f}x; "
        f"with one compile per 100 simulations amortised: {loop / (ours_big + compile_big / 100):.1f}x"
    )
    for n in (100, 1000):
        shards = int(np.ceil(n / 100))
        print(
            f"projected {n:5d} simulations: binoval 4x1000 {shards * compile_big + n * ours_big:8.0f} s, "
            f"binoval defaults {shards * compile_def + n * ours_def:8.0f} s, loop {n * loop:8.0f} s "
            f"(one core-set; shards of 100 run in parallel with more cores)"
        )


if __name__ == "__main__":
    main()
