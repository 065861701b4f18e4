"""Posterior SBC speed: binoval's compile-once posterior SBC vs simuk's ``SBC(method="posterior")``.

Fits hier_logit (non-centred, default priors) to hospital12 once (the observed fit, ``binoval.defaults.SAMPLER``),
then runs posterior SBC from that fit's posterior, in one process, on one core and at the same sampler settings
(the SBC fit settings ``sbc_sampler_settings(SAMPLER, {})``: 2 chains x 500 draws, 300 tuning steps, target_accept
0.95, max_treedepth 10; nutpie with the numba backend on both sides, since PyMC 6's ``pm.sample`` picks nutpie for
this model):

(a) binoval: ``PosteriorShardRunner`` compiles the model once and fits every augmented dataset through
    ``with_data``, one chain at a time (``threads=1``). Seconds per simulation are the wall time of one shard
    divided by its simulations: reference draws, replicates, the fit (and any extension), diagnostics, thinning,
    ranks, log-likelihood, intervals. The compile is one-off per shard and stated apart; "sampling" is the mean
    ``wall_time_s`` of the fits (``nutpie.sample`` only).
(b) simuk ``SBC(model, method="posterior", trace=...)``: per simulation it calls ``augment_observed``,
    ``update_data``, ``pm.observe`` (a new model) and ``pm.sample`` (``cores=1``), which compiles that model again,
    so everything it does is per simulation. Seconds per simulation run from the first ``augment_observed`` call to
    the end of ``run_simulations`` (which ranks every fit at the end), divided by the simulations; the posterior
    predictive draws before the first call are one-off ("setup"). "Sampling" is the ``sampling_time`` PyMC records
    per fit (``nutpie.sample`` only); the rest is mostly the rebuild and compile.

Both fit the same augmented model. The replicate of each group has the group's rate in the reference draw, and a
binomial pair sharing a rate folds exactly into one row (r + r' successes of 2n trials; ``binoval.sbc.posterior``).
binoval folds; simuk is given callbacks that do the same: ``augment_observed`` returns ``{"r": r + r'}`` and
``update_data`` sets the ``n`` container to 2n, so its model keeps the 12 rows (``pm.observe`` then conditions ``r``
on the folded counts; its log density equals binoval's folded model's). Both rank the reference draw among the new
posterior draws; simuk ranks mu, tau and z on all draws, binoval also theta, p and the log-likelihood, on thinned
draws. Reference draws differ in how they are picked (both from the same posterior).

simuk stops quietly at the first error (it logs and prints the traceback, then keeps what it has), so each run is
checked: fewer fits than simulations raises with the captured traceback. A one-simulation simuk run comes first as a
warm-up (PyTensor's and numba's compile caches warm, as a user meets the loop after a first run); it is reported but
not timed into the result. binoval's compile is measured after the observed fit compiled the same model, so warm too.

    PYTHONPATH=src python benchmarks/posterior_sbc_speed.py                     # 100 + 20 simulations
    PYTHONPATH=src python benchmarks/posterior_sbc_speed.py --ours 50 --simuk 5 --out speed.json
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import sys
import time

import numpy as np


def hier_logit_spec():
    """The default run's hier_logit: non-centred, default priors."""
    from binoval.models import FAMILIES, ModelSpec

    return ModelSpec(
        "hier_logit", "hier_logit", FAMILIES["hier_logit"].default_priors, {"parameterization": "noncentered"}
    )


def observed_fit(spec, data, seed: int):
    """The observed fit (``fit_model`` at ``SAMPLER``) as a DataTree with the posterior and observed_data groups."""
    from binoval.defaults import SAMPLER
    from binoval.fit.sampler import SamplerSettings
    from binoval.fit.stage import fit_model

    outputs = fit_model(spec, data, SamplerSettings.from_config(SAMPLER), seed)
    if "posterior" not in outputs.idata.children:
        raise RuntimeError(f"the observed fit failed: {outputs.idata['observed_data'].attrs.get('fit_error')}")
    return outputs.idata


def sbc_settings():
    """The SBC fit settings of the default run: ``SBC_SAMPLER`` plus the inherited keys of ``SAMPLER``."""
    from binoval.defaults import SAMPLER
    from binoval.sbc.shard import sbc_sampler_settings

    return sbc_sampler_settings(SAMPLER, {})


def time_ours(spec, data, posterior, settings, sims: int, seed: int) -> dict:
    """binoval's posterior SBC, one shard of ``sims`` simulations on one thread.

    Returns seconds: ``compile`` (one-off per shard), ``per_sim`` (shard wall time / sims), ``sampling`` (mean
    ``nutpie.sample`` time per fit, extensions included) and ``other`` (per_sim - sampling); counts of failed and
    extended fits.
    """
    from binoval.sbc.posterior import PosteriorShardRunner

    start = time.perf_counter()
    runner = PosteriorShardRunner(spec, data, settings, seed, sims, threads=1, posterior=posterior)
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    table = runner.run(0, progress_every=sims)
    per_sim = (time.perf_counter() - start) / sims
    fits = table.drop_duplicates("simulation")
    failed = int((fits["status"] == "failed").sum())
    if failed == sims:
        raise RuntimeError(f"every binoval fit failed, e.g. {fits['error'].iloc[0]}")
    sampling = float(fits["wall_time_s"].mean())
    return {
        "simulations": sims,
        "compile_s": compile_s,
        "per_sim_s": per_sim,
        "sampling_s": sampling,
        "other_s": per_sim - sampling,
        "failed": failed,
        "extended": int(fits["extended"].sum()),
    }


def folding_callbacks(data, clock: list[float]):
    """simuk's ``augment_observed`` and ``update_data`` for binoval's folding; ``clock`` gets the time of each
    ``augment_observed`` call (the start of a simulation)."""
    import pymc as pm

    from binoval.models import N_DATA, R_VAR

    def augment_observed(model, observed_data, replicated_data, simulation_idx):
        clock.append(time.perf_counter())
        replicate = np.asarray(replicated_data[R_VAR])
        if replicate.shape != data.r.shape or np.any(replicate > data.n):
            raise ValueError(f"simulation {simulation_idx}: the replicate is not one count per group of n trials")
        return {R_VAR: observed_data[R_VAR].values + replicate}

    def update_data(model, augmented_data, simulation_idx):
        pm.set_data({N_DATA: 2 * data.n}, model=model)

    return augment_observed, update_data


def simuk_sbc(spec, data, fit, settings, sims: int, seed: int, clock: list[float]):
    """simuk's posterior SBC of a fresh hier_logit model at ``settings`` (``cores=1``), with the folding callbacks."""
    import simuk
    import xarray as xr

    from binoval.models import build_model

    trace = xr.DataTree.from_dict(
        {"posterior": fit["posterior"].to_dataset(), "observed_data": fit["observed_data"].to_dataset()}
    )
    augment_observed, update_data = folding_callbacks(data, clock)
    sample_kwargs = {
        "chains": settings.chains,
        "draws": settings.draws,
        "tune": settings.tune,
        "cores": 1,
        "nuts": {"target_accept": settings.target_accept, "max_treedepth": settings.max_treedepth},
    }
    return simuk.SBC(
        build_model(spec, data),
        method="posterior",
        trace=trace,
        num_simulations=sims,
        sample_kwargs=sample_kwargs,
        seed=seed,
        augment_observed=augment_observed,
        update_data=update_data,
        progress_bar=False,
    )


def run_checked(sbc, sims: int) -> None:
    """``sbc.run_simulations()``, raising (with simuk's traceback) unless all ``sims`` fits completed."""
    captured = io.StringIO()
    with contextlib.redirect_stderr(captured):
        sbc.run_simulations()
    if len(sbc.posteriors) != sims:
        raise RuntimeError(f"simuk completed {len(sbc.posteriors)} of {sims} simulations:\n{captured.getvalue()}")
    sys.stderr.write(captured.getvalue())


def time_simuk(spec, data, fit, settings, sims: int, seed: int) -> dict:
    """simuk's posterior SBC after a one-simulation warm-up run.

    Returns seconds: ``warmup`` (the whole one-simulation run), ``setup`` (posterior predictive draws before the
    first simulation), ``per_sim`` (first simulation to the end of ``run_simulations``, / sims), ``sampling`` (mean
    PyMC ``sampling_time`` per fit) and ``other`` (per_sim - sampling); and the sampler ``pm.sample`` used.
    """
    clock: list[float] = []
    start = time.perf_counter()
    run_checked(simuk_sbc(spec, data, fit, settings, 1, seed + 1, clock), 1)
    warmup = time.perf_counter() - start
    clock.clear()
    sbc = simuk_sbc(spec, data, fit, settings, sims, seed, clock)
    start = time.perf_counter()
    run_checked(sbc, sims)
    end = time.perf_counter()
    per_sim = (end - clock[0]) / sims
    sampling = float(np.mean([posterior.attrs["sampling_time"] for posterior in sbc.posteriors]))
    return {
        "simulations": sims,
        "warmup_s": warmup,
        "setup_s": clock[0] - start,
        "per_sim_s": per_sim,
        "sampling_s": sampling,
        "other_s": per_sim - sampling,
        "sampler": sbc.posteriors[0].attrs.get("inference_library", "?"),
    }


def table(ours: dict, loop: dict, simuk_version: str) -> str:
    """The markdown table: seconds per simulation, split into sampling and everything else, and the one-off costs."""
    rows = [
        "| posterior SBC | simulations | s / simulation | sampling | other | one-off |",
        "|---|---:|---:|---:|---:|---|",
        f"| binoval `PosteriorShardRunner` (compiled once) | {ours['simulations']} | {ours['per_sim_s']:.3f} "
        f"| {ours['sampling_s']:.3f} | {ours['other_s']:.3f} | compile {ours['compile_s']:.1f} s per shard |",
        f'| simuk {simuk_version} `SBC(method="posterior")` (`pm.sample`, {loop["sampler"]}) '
        f"| {loop['simulations']} | {loop['per_sim_s']:.3f} | {loop['sampling_s']:.3f} | {loop['other_s']:.3f} "
        f"| setup {loop['setup_s']:.1f} s (posterior predictive draws) |",
    ]
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ours", type=int, default=100, help="simulations timed for binoval (one shard)")
    parser.add_argument("--simuk", type=int, default=20, help="simulations timed for simuk (at most 1000)")
    parser.add_argument("--shard", type=int, default=50, help="shard size the compile is amortised over")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--out", help="also write the numbers as JSON to this file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    load_start = os.getloadavg()
    wall_start = time.perf_counter()

    import simuk

    from binoval.data.grouped import load_dataset
    from binoval.models import GroupedCounts

    data = GroupedCounts.from_frame(load_dataset("hospital12"))
    spec = hier_logit_spec()
    settings = sbc_settings()
    fit = observed_fit(spec, data, args.seed)
    ours = time_ours(spec, data, fit["posterior"].to_dataset(), settings, args.ours, args.seed)
    loop = time_simuk(spec, data, fit, settings, args.simuk, args.seed)
    ratio = loop["per_sim_s"] / ours["per_sim_s"]
    amortised = loop["per_sim_s"] / (ours["per_sim_s"] + ours["compile_s"] / args.shard)
    s = settings
    print(
        f"hier_logit (non-centred) on hospital12, posterior SBC from one observed fit; both sides: "
        f"{s.chains} chains x {s.draws} draws (+{s.tune} tune), target_accept {s.target_accept}, "
        f"max_treedepth {s.max_treedepth}, one core"
    )
    print(
        f"simuk warm-up: one simulation run first ({loop['warmup_s']:.1f} s, not counted); "
        f"compile caches warm for both timed runs"
    )
    print()
    print(table(ours, loop, simuk.__version__))
    print()
    print(f"binoval: {ours['failed']} failed, {ours['extended']} extended fits of {ours['simulations']}")
    print(f"ratio simuk / binoval per simulation: {ratio:.1f}x (target >= 25x: {'met' if ratio >= 25 else 'MISSED'})")
    print(f"with binoval's compile amortised over a shard of {args.shard}: {amortised:.1f}x")
    total = time.perf_counter() - wall_start
    load_end = os.getloadavg()
    print(
        f"run took {total:.0f} s; load average (1 min) {load_start[0]:.2f} at start, {load_end[0]:.2f} at end "
        f"on {os.cpu_count()} cores"
    )
    if args.out:
        result = {
            "settings": {k: getattr(s, k) for k in ("chains", "draws", "tune", "target_accept", "max_treedepth")},
            "binoval": ours,
            "simuk": dict(loop, version=simuk.__version__),
            "ratio": ratio,
            "ratio_amortised": amortised,
            "shard": args.shard,
            "run_s": total,
            "loadavg_start": load_start,
            "loadavg_end": load_end,
        }
        with open(args.out, "w") as handle:
            json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
