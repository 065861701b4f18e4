"""How SBC time grows with the number of simulations, measured end to end through the workflow.

For each simulation count (default 100 and 1000) this runs, cold, in a fresh
working directory, the SBC stage of the workflow for one model on hospital12:

    snakemake results/hospital12/sbc/<model>.parquet --cores C --configfile <overlay>

(the validated data, every ``sbc_shard`` job and the ``sbc_summary``; no fit
or other stage). It prints the wall time, the number of shards, the summed
shard and summary times from Snakemake's benchmark files (core-seconds of
work), the wall time per simulation, how many fits were extended (rerun
longer for want of effective draws) and the SBC stage status, so a fast but
failing run is visible.

Usage (from the repository root, environment active):
    python benchmarks/sbc_growth.py                          # hier_logit, 100 and 1000, SBC defaults, 2 cores
    python benchmarks/sbc_growth.py --simulations 100 400 --sampler 4x1000
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
from workflow_command import default_config, snakemake_command

from binoval.defaults import SBC
from binoval.sbc.check import sbc_status


def shard_setting(value: str) -> int | str:
    """``--sims-per-shard``: a number of simulations, or ``auto`` (the workflow sizes it by the data)."""
    return value if value == "auto" else int(value)


def overlay(model_id: str, simulations: int, sims_per_shard: int | str, sampler: dict) -> dict:
    """Config overlay: only ``model_id`` enabled, ``simulations`` SBC simulations with the given SBC sampler."""
    default = default_config()
    models = {m: {"enabled": m == model_id} for m in default["models"]}
    return {"models": models, "sbc": {"simulations": simulations, "sims_per_shard": sims_per_shard, "sampler": sampler}}


def run_sbc(model_id: str, simulations: int, sims_per_shard: int | str, sampler: dict, cores: int) -> dict:
    """Run the SBC stage cold in a temporary directory; wall time and benchmark-file totals."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        target = f"results/hospital12/sbc/{model_id}.parquet"
        config = overlay(model_id, simulations, sims_per_shard, sampler)
        command = snakemake_command(workdir, target, cores=cores, overlay=config)
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(f"snakemake failed for {simulations} simulations:\n{result.stderr[-3000:]}")
        bench = workdir / "results" / "hospital12" / "benchmarks"
        shards = [pd.read_csv(f, sep="\t")["s"].iloc[0] for f in sorted((bench / "sbc_shard" / model_id).glob("*.tsv"))]
        summary_s = pd.read_csv(bench / "sbc_summary" / f"{model_id}.tsv", sep="\t")["s"].iloc[0]
        fits = pd.read_parquet(workdir / f"results/hospital12/sbc/simulations/{model_id}.parquet")
        stage = sbc_status({"summary": pd.read_parquet(workdir / target), "simulations": fits})
        fits = fits.drop_duplicates("simulation")
    return {
        "simulations": simulations,
        "wall_s": wall,
        "shards": len(shards),
        "shard_s_total": sum(shards),
        "shard_s_mean": sum(shards) / len(shards),
        "summary_s": summary_s,
        "wall_s_per_sim": wall / simulations,
        "extended": int(fits["extended"].sum()),
        "status": stage.status,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="hier_logit")
    parser.add_argument("--simulations", type=int, nargs="+", default=[100, 1000])
    parser.add_argument(
        "--sampler",
        default="defaults",
        choices=["defaults", "4x1000"],
        help="SBC sampler: the stage defaults (2 x 500, 300 tune) or 4 chains x 1000 (1000 tune)",
    )
    parser.add_argument(
        "--sims-per-shard",
        type=shard_setting,
        default=SBC["sims_per_shard"],
        help="sbc.sims_per_shard: a number or auto (default: the config's)",
    )
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    sampler = {} if args.sampler == "defaults" else {"chains": 4, "draws": 1000, "tune": 1000}
    rows = [run_sbc(args.model, n, args.sims_per_shard, sampler, args.cores) for n in args.simulations]
    frame = pd.DataFrame(rows)
    print(
        f"SBC of {args.model} on hospital12, sampler {args.sampler}, --cores {args.cores}, "
        f"sims_per_shard {args.sims_per_shard}, cold runs"
    )
    print(frame.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        print(
            f"{last['simulations'] / first['simulations']:.0f}x the simulations took "
            f"{last['wall_s'] / first['wall_s']:.2f}x the wall time"
        )


if __name__ == "__main__":
    main()
