"""How fast Snakemake plans the workflow: dry-run time of the default config, and DAG growth with SBC size.

Usage (from the repository root, environment active):
    python benchmarks/dryrun_speed.py [--repeats 3]

Prints the median wall time of `snakemake -n` for the default config and for
overlays that raise `sbc.simulations` (where the config has an `sbc` section),
with the number of jobs in each DAG.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from workflow_command import default_config, snakemake_command


def dry_run(workdir: Path, overlay: dict | None) -> tuple[float, int]:
    command = snakemake_command(workdir, "-n", overlay=overlay)
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    total = re.search(r"^total\s+(\d+)", result.stdout, re.MULTILINE)
    return elapsed, int(total.group(1)) if total else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    default = default_config()
    cases = {"default config": None}
    if "sbc" in default:
        for simulations in (400, 1000, 4000):
            cases[f"sbc.simulations={simulations}"] = {"sbc": {"simulations": simulations}}
    print(f"{'case':<26}{'jobs':>8}{'median s':>12}")
    for name, overlay in cases.items():
        times, jobs = [], 0
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as tmp:
                elapsed, jobs = dry_run(Path(tmp), overlay)
                times.append(elapsed)
        print(f"{name:<26}{jobs:>8}{statistics.median(times):>12.2f}")


if __name__ == "__main__":
    main()
