"""Where a finished run's time went: one row per rule from the run's own benchmark files.

Snakemake writes a benchmark table per job (``results/<run>/benchmarks/<rule>.tsv`` for a rule with one job,
``benchmarks/<rule>/<wildcards...>.tsv`` otherwise; see ``benchmarks()`` in workflow/rules/common.smk). This
script reads them all and prints, per rule: the number of jobs, the wall seconds summed over jobs, their mean
and largest, the CPU seconds summed, the largest resident memory, and the **fixed-cost estimate**: the wall time
of the rule's quickest job. Every job of a rule pays the same start-up (interpreter, imports, compiling its
model), and the quickest job does little besides, so its time bounds the fixed cost per job from above;
``jobs x fixed`` is then what start-up costs the rule at most. Rules come in order of total wall time. A second
table sums the jobs per model (all of a model's rules), so the costliest families stand out.

    python benchmarks/run_profile.py results/hospital12              # a markdown table
    python benchmarks/run_profile.py results/hospital12 --json profile.json
    python benchmarks/run_profile.py results/hospital12 --snakemake-log .snakemake/log/<the run's>.snakemake.log

Wall seconds summed over jobs is the CPU-side cost of a run; the run's own wall time is shorter when jobs ran side
by side (``--cores``). With ``--snakemake-log`` (Snakemake writes one per run under ``.snakemake/log/``) it also
says how well the jobs filled the cores: the run's wall time from its first job's start to its last job's end,
the job-seconds in that time, the core-seconds left idle, and when fewer jobs ran than there were cores (the log
stamps whole seconds, so each figure is good to about a second per job).
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
from pathlib import Path

import numpy as np
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


#: The row of jobs that belong to no one model (data checks, compare, verdict, report).
RUN_WIDE = "(whole run)"


def model_profile(jobs: pd.DataFrame) -> pd.DataFrame:
    """Per model: its jobs across all rules, their wall seconds summed and that sum's share of all jobs' seconds.

    A job's model is its first wildcard value (every per-model rule puts ``model_id`` first); jobs without
    wildcards are ``RUN_WIDE``. Models come in order of their total."""
    model = jobs["job"].str.split("/").str[0].where(jobs["job"] != "", RUN_WIDE)
    grouped = jobs.assign(model=model).groupby("model")["wall_s"]
    profile = pd.DataFrame({"jobs": grouped.size(), "total_s": grouped.sum()})
    profile["share"] = profile["total_s"] / jobs["wall_s"].sum()
    return profile.sort_values("total_s", ascending=False).reset_index()


def model_markdown(profile: pd.DataFrame) -> str:
    lines = ["| model | jobs | total s | share |", "|---|---:|---:|---:|"]
    for row in profile.itertuples():
        lines.append(f"| {row.model} | {row.jobs} | {row.total_s:.0f} | {row.share:.0%} |")
    return "\n".join(lines)


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


_STAMP = re.compile(r"\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
_RULE = re.compile(r"(?:local)?(?:check)?rule (\w+):$")
_JOB = re.compile(r"\s+jobid: (\d+)$")
_FINISHED = re.compile(r"Finished jobid: (\d+)")
_CORES = re.compile(r"Provided cores: (\d+)")


def job_spans(log_text: str) -> tuple[pd.DataFrame, int]:
    """From a Snakemake log: one row per finished job (jobid, rule, start and end in seconds from the first
    start), and the cores the run was given."""
    stamp, rule, cores = None, None, 1
    starts, rules, ends = {}, {}, {}
    for line in log_text.splitlines():
        if match := _STAMP.match(line):
            stamp = datetime.datetime.strptime(match.group(1), "%a %b %d %H:%M:%S %Y")
        elif match := _CORES.match(line):
            cores = int(match.group(1))
        elif match := _RULE.match(line):
            rule = match.group(1)
        elif (match := _JOB.match(line)) and rule is not None:
            starts[int(match.group(1))], rules[int(match.group(1))], rule = stamp, rule, None
        elif match := _FINISHED.match(line):
            ends[int(match.group(1))] = stamp
    done = [job for job in ends if job in starts]
    if not done:
        raise SystemExit("no finished jobs in the Snakemake log: is it the log of a run that ran jobs?")
    origin = min(starts[job] for job in done)
    spans = pd.DataFrame(
        {
            "jobid": done,
            "rule": [rules[job] for job in done],
            "start_s": [(starts[job] - origin).total_seconds() for job in done],
            "end_s": [(ends[job] - origin).total_seconds() for job in done],
        }
    )
    return spans.sort_values(["start_s", "jobid"], ignore_index=True), cores


def occupancy(spans: pd.DataFrame, cores: int) -> dict:
    """How the jobs filled ``cores``: the run's wall seconds, job-seconds, idle core-seconds, and the stretches
    (start, end, jobs running) with fewer jobs running than cores."""
    wall = float(spans["end_s"].max())
    running = np.zeros(int(round(wall)), dtype=int)
    for start, end in zip(spans["start_s"], spans["end_s"]):
        running[int(start) : int(end)] += 1
    stretches = []
    for second, jobs in enumerate(running.tolist()):
        if jobs >= cores:
            continue
        if stretches and stretches[-1][1] == second and stretches[-1][2] == jobs:
            stretches[-1] = (stretches[-1][0], second + 1, jobs)
        else:
            stretches.append((second, second + 1, jobs))
    job_seconds = float((spans["end_s"] - spans["start_s"]).sum())
    return {"wall_s": wall, "job_s": job_seconds, "idle_core_s": cores * wall - job_seconds, "short": stretches}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a finished run's results/<run>/ folder")
    parser.add_argument("--json", type=Path, help="also write the profile as JSON records here")
    parser.add_argument("--snakemake-log", type=Path, help="the run's Snakemake log: also say how full the cores were")
    args = parser.parse_args(argv)
    jobs = job_rows(args.run_dir)
    profile = rule_profile(jobs)
    print(markdown(profile))
    print()
    print(model_markdown(model_profile(jobs)))
    if args.snakemake_log:
        spans, cores = job_spans(args.snakemake_log.read_text())
        filled = occupancy(spans, cores)
        print(
            f"\n{cores} cores, {filled['wall_s']:.0f} s from the first job's start to the last job's end: "
            f"{filled['job_s']:.0f} job-seconds, {filled['idle_core_s']:.0f} core-seconds idle"
        )
        for start, end, jobs in filled["short"]:
            print(f"- {start}-{end} s: {jobs} job(s) running")
    if args.json:
        args.json.write_text(json.dumps(profile.to_dict("records"), indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
