"""Where a finished run's time went: one row per rule from the run's own benchmark files.

Snakemake writes a benchmark table per job (``results/<run>/benchmarks/<rule>.tsv`` for a rule with one job,
``benchmarks/<rule>/<wildcards...>.tsv`` otherwise; see ``benchmarks()`` in workflow/rules/common.smk). This
script reads them all and prints, per rule: the number of jobs, the wall seconds summed over jobs, their mean
and largest, the CPU seconds summed, the largest resident memory, and the **fixed-cost estimate**: the wall time
of the rule's quickest job. Every job of a rule pays the same start-up (interpreter, imports, compiling its
model), and the quickest job does little besides, so its time bounds the fixed cost per job from above;
``jobs x fixed`` is then what start-up costs the rule at most. Rules come in order of total wall time.

    python benchmarks/run_profile.py results/hospital12              # a markdown table
    python benchmarks/run_profile.py results/hospital12 --json profile.json

Wall seconds summed over jobs is the CPU-side cost of a run; the run's own wall time is shorter when jobs ran side
by side (``--cores``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

#: Columns of Snakemake's benchmark tables this profile reads.
COLUMNS = {"s": "wall_s", "cpu_time": "cpu_s", "max_rss": "max_rss_mb"}


def job_rows(run_dir: Path) -> pd.DataFrame:
    """One row per job: its rule (the first path part under ``benchmarks/``), wildcards, wall and CPU seconds,
    peak resident memory (MB)."""
    root = run_dir / "benchmarks"
    rows = []
    for path in sorted(root.rglob("*.tsv")):
        relative = path.relative_to(root).with_suffix("")
        rule, wildcards = relative.parts[0], "/".join(relative.parts[1:])
        table = pd.read_csv(path, sep="\t")
        last = table.iloc[-1]  # one line per repeat; Snakemake writes one unless told otherwise
        rows.append({"rule": rule, "job": wildcards, **{new: float(last[old]) for old, new in COLUMNS.items()}})
    if not rows:
        raise SystemExit(f"no benchmark files under {root}: is {run_dir} a finished run's results/<run>/ folder?")
    return pd.DataFrame(rows)


def rule_profile(jobs: pd.DataFrame) -> pd.DataFrame:
    """Per rule: jobs, total / mean / max wall seconds, total CPU seconds, peak memory, fixed-cost estimate."""
    grouped = jobs.groupby("rule")
    profile = pd.DataFrame(
        {
            "jobs": grouped.size(),
            "total_s": grouped["wall_s"].sum(),
            "mean_s": grouped["wall_s"].mean(),
            "max_s": grouped["wall_s"].max(),
            "cpu_s": grouped["cpu_s"].sum(),
            "max_rss_mb": grouped["max_rss_mb"].max(),
            "fixed_s": grouped["wall_s"].min(),
        }
    )
    profile["fixed_total_s"] = profile["jobs"] * profile["fixed_s"]
    return profile.sort_values("total_s", ascending=False).reset_index()


def markdown(profile: pd.DataFrame) -> str:
    """The profile as a markdown table, with a total row."""
    header = "| rule | jobs | total s | mean s | max s | CPU s | max RSS MB | fixed s (quickest job) | jobs x fixed s |"
    lines = [header, "|---|" + "---:|" * 8]
    for row in profile.itertuples():
        lines.append(
            f"| {row.rule} | {row.jobs} | {row.total_s:.0f} | {row.mean_s:.1f} | {row.max_s:.1f} | {row.cpu_s:.0f} "
            f"| {row.max_rss_mb:.0f} | {row.fixed_s:.1f} | {row.fixed_total_s:.0f} |"
        )
    total, fixed = profile["total_s"].sum(), profile["fixed_total_s"].sum()
    lines.append(
        f"| **all** | {profile['jobs'].sum()} | {total:.0f} | | | {profile['cpu_s'].sum():.0f} "
        f"| {profile['max_rss_mb'].max():.0f} | | {fixed:.0f} ({fixed / total:.0%}) |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a finished run's results/<run>/ folder")
    parser.add_argument("--json", type=Path, help="also write the profile as JSON records here")
    args = parser.parse_args(argv)
    profile = rule_profile(job_rows(args.run_dir))
    print(markdown(profile))
    if args.json:
        args.json.write_text(json.dumps(profile.to_dict("records"), indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
