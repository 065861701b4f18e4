"""CI checks of the workflow itself: lint clean, and every shipped config plans without error."""

import subprocess
import sys

import pytest
from conftest import REPO, SNAKEFILE

pytestmark = pytest.mark.workflow

CONFIGS = [None, *sorted((REPO / "config" / "examples").glob("*.yaml"))]


def snakemake(*args, cwd):
    command = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "-d", str(cwd), "--cores", "2", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd)


def test_lint_has_no_findings(tmp_path):
    result = snakemake("--lint", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


@pytest.mark.parametrize("configfile", CONFIGS, ids=lambda p: "default" if p is None else p.name)
def test_dry_run_plans_the_whole_workflow(tmp_path, configfile):
    args = ["-n"] + (["--configfile", str(configfile)] if configfile else [])
    result = snakemake(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    for rule in ("validate_data", "fit", "verdict", "report"):
        assert f"rule {rule}:" in result.stdout or f"localrule {rule}:" in result.stdout, rule
    assert not (tmp_path / "results").exists()


def planned_jobs(dry_run_stdout: str) -> list[dict[str, str]]:
    """Each job a dry-run prints, as its fields (rule, log, benchmark, wildcards, ...)."""
    jobs = []
    for line in dry_run_stdout.splitlines():
        if line.startswith(("rule ", "localrule ")):
            jobs.append({"rule": line.split()[1].rstrip(":")})
        elif jobs and line.startswith("    ") and ": " in line:
            field, value = line.strip().split(": ", 1)
            jobs[-1][field] = value
    return jobs


def test_every_job_logs_and_benchmarks_by_one_pattern(tmp_path):
    """logs/<run>/<rule>[/<wildcard values>].log and results/<run>/benchmarks/<rule>[/<wildcard values>].tsv."""
    result = snakemake("-n", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = [job for job in planned_jobs(result.stdout) if job["rule"] != "all"]
    assert {"fit", "sbc_shard", "compare", "check_verdict"} <= {job["rule"] for job in jobs}
    for job in jobs:
        values = [pair.split("=", 1)[1] for pair in job.get("wildcards", "").split(", ") if pair]
        stem = "/".join([job["rule"], *values])
        assert job.get("log") == f"logs/hospital12/{stem}.log", job
        assert job.get("benchmark") == f"results/hospital12/benchmarks/{stem}.tsv", job
