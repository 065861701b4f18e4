"""Time and peak memory of every stage as the number of groups grows (issue 18).

For each group count G: a seeded logit-normal dataset (``binoval.data.synthetic.simulate_logit_normal_counts``,
n from 20 to 2000 per group), a fresh working directory, and one cold ``snakemake --cores 2`` of the workflow with
only ``hier_logit`` enabled and otherwise the default config (``--simulations`` and ``--models`` change that).
Per run it records the whole run's wall time, its peak memory as the largest single process (``/usr/bin/time -v``
when present, else the largest job) and as the largest sum over all processes at once (jobs side by side, polled),
and per rule the wall seconds summed over its jobs and its largest resident memory, from the run's own benchmark
files (``run_profile.job_rows``).

    python benchmarks/group_scaling.py --groups 12 100 1000 --json scaling.json
    python benchmarks/group_scaling.py --groups 10000 --keep /tmp/g10000      # the long one, kept for a look

After the run it builds the HTML report a user opens (``snakemake --report report.html``) and records its size.
The markdown table goes to standard output; ``--json`` also writes every number.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from run_profile import job_rows  # noqa: E402
from workflow_command import default_config, snakemake_command  # noqa: E402

from binoval import resources  # noqa: E402
from binoval.data.synthetic import simulate_logit_normal_counts  # noqa: E402

#: Rules shown as columns, in pipeline order; the others are summed into "other".
STAGES = (
    "fit",
    "prior_predictive",
    "sbc_shard",
    "sbc_summary",
    "posterior_sbc_shard",
    "posterior_sbc_summary",
    "ppc",
    "loo",
    "sensitivity",
    "report",
)


def overlay(data_path: Path, run: str, models: list[str], simulations: int | None, groups: int) -> dict:
    """The config overlay of one run: the dataset (of ``groups`` groups), only ``models`` enabled, and optionally fewer
    simulations."""
    configured = default_config()["models"]
    unknown = set(models) - set(configured)
    if unknown:
        raise SystemExit(f"--models: {sorted(unknown)} are not models of config/config.yaml ({sorted(configured)})")
    config = {
        "dataset": str(data_path),
        "run": run,
        "models": {mid: {**spec, "enabled": mid in models} for mid, spec in configured.items()},
    }
    if simulations is not None:  # shards of at most the simulations asked for (a shard runs all of its simulations)
        defaults = default_config()
        for section in ("sbc", "posterior_sbc"):
            per_shard = min(simulations, resources.sims_per_shard(defaults[section]["sims_per_shard"], groups))
            config[section] = {"simulations": simulations, "sims_per_shard": per_shard}
    return config


def peak_rss_mb(stderr: str) -> float | None:
    """The largest resident set of the whole run from GNU time's ``-v`` report (kB), in MB."""
    for line in stderr.splitlines():
        if "Maximum resident set size" in line:
            return int(line.rsplit(":", 1)[1]) / 1024
    return None


def run_once(groups: int, seed: int, workdir: Path, models: list[str], simulations: int | None, cores: int) -> dict:
    """One cold run on ``groups`` groups in ``workdir``; returns its wall time, peak memory and per-rule costs."""
    data_path = workdir / f"groups{groups}.csv"
    simulate_logit_normal_counts(groups, seed).to_csv(data_path, index=False)
    run = f"groups{groups}"
    command = snakemake_command(workdir, cores=cores, overlay=overlay(data_path, run, models, simulations, groups))
    timer = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []
    start = time.perf_counter()
    done, tree_peak_mb = run_watching_memory(timer + command)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        tail = "\n".join(done.stderr.splitlines()[-30:])
        raise SystemExit(f"the run on {groups} groups failed (exit {done.returncode}); its last lines:\n{tail}")
    jobs = job_rows(workdir / "results" / run)
    by_rule = jobs.groupby("rule").agg(wall_s=("wall_s", "sum"), max_rss_mb=("max_rss_mb", "max"), jobs=("job", "size"))
    report_mb, report_s = html_report(workdir, cores)
    return {
        "groups": groups,
        "wall_s": wall,
        "peak_rss_mb": peak_rss_mb(done.stderr) or float(jobs["max_rss_mb"].max()),
        "peak_total_rss_mb": tree_peak_mb,
        "largest_job_rss_mb": float(jobs["max_rss_mb"].max()),
        "report_mb": report_mb,
        "html_report_s": report_s,
        "rules": {rule: row._asdict() for rule, row in zip(by_rule.index, by_rule.itertuples(index=False))},
    }


def run_watching_memory(command: list[str], every_s: float = 0.5) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``command``; also return the largest sum of resident memory over it and all its descendants (jobs
    running side by side add up), in MB, polled every ``every_s`` seconds."""
    import psutil

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        root, peak = psutil.Process(process.pid), 0.0
        while process.poll() is None:
            total = 0
            try:
                for member in [root, *root.children(recursive=True)]:
                    try:
                        total += member.memory_info().rss
                    except psutil.Error:  # a job that ended between listing and reading
                        pass
            except psutil.Error:
                pass
            peak = max(peak, total / 2**20)
            time.sleep(every_s)
        out.seek(0), err.seek(0)
        done = subprocess.CompletedProcess(command, process.returncode, out.read(), err.read())
    return done, peak


def html_report(workdir: Path, cores: int) -> tuple[float, float]:
    """Build the finished run's HTML report (``snakemake --report``, what a user opens) in ``workdir``; its size in MB
    and the seconds it took."""
    path = workdir / "report.html"
    command = snakemake_command(workdir, "--report", str(path), cores=cores)
    overlay_path = workdir / "overlay.yaml"
    command += ["--configfile", str(overlay_path)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0 or not path.exists():
        tail = "\n".join(done.stderr.splitlines()[-30:])
        raise SystemExit(f"snakemake --report failed in {workdir} (exit {done.returncode}); its last lines:\n{tail}")
    return path.stat().st_size / 1e6, seconds


def markdown(results: list[dict]) -> str:
    """One row per group count: the run's wall time and peak memory, then each stage's summed job seconds."""
    header = ["groups", "whole run", "peak memory (largest job)", "peak memory (all jobs)", *STAGES, "other"]
    header += ["report size"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    for result in results:
        rules = result["rules"]
        stage_s = [rules.get(stage, {}).get("wall_s") for stage in STAGES]
        other = sum(row["wall_s"] for rule, row in rules.items() if rule not in STAGES)
        minutes, seconds = divmod(result["wall_s"], 60)
        cells = [
            str(result["groups"]),
            f"{int(minutes)} min {seconds:.0f} s",
            f"{result['peak_rss_mb'] / 1024:.2f} GB",
            f"{result['peak_total_rss_mb'] / 1024:.2f} GB",
            *("" if s is None else f"{s:.0f} s" for s in stage_s),
            f"{other:.0f} s",
            "" if result["report_mb"] is None else f"{result['report_mb']:.1f} MB",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, nargs="+", default=[12, 100, 1000])
    parser.add_argument("--models", nargs="+", default=["hier_logit"], help="model ids of config/config.yaml to run")
    parser.add_argument(
        "--simulations", type=int, default=None, help="SBC and posterior SBC simulations (default: the config's)"
    )
    parser.add_argument("--seed", type=int, default=20261123, help="seed of the synthetic datasets")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="run in this folder (one subfolder per G) and keep it")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    results = []
    for groups in args.groups:
        if args.keep:
            workdir = args.keep / f"groups{groups}"
            shutil.rmtree(workdir, ignore_errors=True)
            workdir.mkdir(parents=True)
        else:
            workdir = Path(tempfile.mkdtemp(prefix=f"binoval-groups{groups}-"))
        try:
            result = run_once(groups, args.seed, workdir, args.models, args.simulations, args.cores)
        finally:
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
        results.append(result)
        print(f"{groups} groups: {result['wall_s']:.0f} s, {result['peak_rss_mb']:.0f} MB", file=sys.stderr, flush=True)
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
