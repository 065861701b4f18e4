"""Fixed cost of a table-only rule: the compare job's work in a fresh interpreter, timed by phase.

A table-only rule (compare, verdict, ...) reads a few Parquet tables and writes one; its wall time is
almost all interpreter start-up and imports. This script runs, in a fresh ``python`` each time, what
the compare rule's script does (its imports, reading nine 12-row LOO tables, ``comparison_with_k``
with its lazy imports, writing the comparison) and prints the median of each phase and of the
process's CPU time.

    python benchmarks/table_rule_cost.py --repeats 5                 # this checkout, this interpreter
    python benchmarks/table_rule_cost.py --python /other/venv/bin/python --src /other/checkout/src
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import json, sys, tempfile, time
t0 = time.perf_counter()
try:
    from binoval.loo.compare import comparison_with_k
except ImportError:  # a checkout from before the package-per-stage layout
    from binoval.compare import comparison_with_k
from binoval.schemas import Comparison, LooTable, read_table, write_table
import numpy as np, pandas as pd
t1 = time.perf_counter()
rng = np.random.default_rng(0)
tmp = tempfile.mkdtemp()
paths = {}
for m in range(9):
    elpd_i = rng.normal(-3.3, 0.8, 12)
    table = pd.DataFrame({
        "model_id": f"m{m}", "group": [str(g) for g in range(1, 13)], "n": 100, "r": 7,
        "elpd_loo_i": elpd_i, "p_loo_i": 0.5, "pareto_k": rng.uniform(0, 0.6, 12), "loo_method": "psis",
        "elpd_waic_i": elpd_i + 0.1, "p_waic_i": 0.4, "loglik_var_i": 0.3,
        "elpd_loo": elpd_i.sum(), "se_loo": 2.0, "p_loo": 6.0, "elpd_waic": elpd_i.sum() + 1.2, "se_waic": 2.0,
        "p_waic": 4.8, "total_draws": 4000,
    })
    paths[f"m{m}"] = f"{tmp}/m{m}.parquet"
    write_table(table, paths[f"m{m}"], LooTable)
t2 = time.perf_counter()
tables = {m: read_table(p, LooTable) for m, p in paths.items()}
comparison = comparison_with_k(tables, {}, {})
write_table(comparison, f"{tmp}/compare.parquet", Comparison)
t3 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "compare": t3 - t2}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--src", default=str(Path(__file__).resolve().parents[1] / "src"))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    runs = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(
            [args.python, "-c", CHILD],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONPATH": args.src, "PATH": "/usr/bin:/bin"},
        )
        phases = json.loads(out.stdout.strip().splitlines()[-1])
        phases["total"] = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        phases["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        runs.append(phases)
    version = subprocess.run(
        [
            args.python,
            "-c",
            "import sys, arviz, pymc; print(sys.version.split()[0], "
            "'arviz', arviz.__version__, 'pymc', pymc.__version__)",
        ],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": args.src},
    ).stdout.strip()
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    print(f"python {version}; median of {args.repeats} fresh interpreters")
    print(
        f"compare job: total {median['total']:.2f} s = start-up + imports {median['imports']:.2f} s "
        f"+ comparison of 9 models {median['compare']:.2f} s (+ rest: interpreter start, table set-up); "
        f"CPU time {median['cpu']:.2f} s (less sensitive than wall time to other load on the machine)"
    )


if __name__ == "__main__":
    main()
