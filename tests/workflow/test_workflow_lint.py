"""CI checks of the workflow itself: lint clean, and every shipped config plans without error."""

import math
import subprocess
import sys

import pytest
import yaml
from conftest import REPO, SNAKEFILE

from binoval.defaults import SBC

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


def hier_logit_overlay(path, dataset: str, simulations: int):
    """Write a config overlay at ``path``: ``dataset`` with only hier_logit enabled and ``simulations`` in both SBC
    stages; returns ``path``."""
    models = {m: {"enabled": m == "hier_logit"} for m in ("pooled", "unpooled", "hier_logit_centered", "beta_binomial")}
    path.write_text(
        yaml.safe_dump(
            {
                "dataset": dataset,
                "models": {**models, "bb_mixture": {"enabled": False}},
                "sbc": {"simulations": simulations},
                "posterior_sbc": {"simulations": simulations},
            }
        )
    )
    return path


def test_job_resources_grow_with_the_groups(tmp_path):
    """A dry-run of 1000 groups x 1000 simulations sizes every job by the data (binoval.resources): SBC shards ask
    for more memory and time than on hospital12, and fits run a thread per chain."""
    from binoval import resources
    from binoval.data.synthetic import simulate_logit_normal_counts

    simulate_logit_normal_counts(1000, 1).to_csv(tmp_path / "groups1000.csv", index=False)
    overlay = hier_logit_overlay(tmp_path / "overlay.yaml", "groups1000.csv", 1000)
    large = planned_jobs(snakemake("-n", "--configfile", str(overlay), cwd=tmp_path).stdout)
    (tmp_path / "small").mkdir()
    small = planned_jobs(snakemake("-n", cwd=tmp_path / "small").stdout)

    def field(jobs, rule, name):
        values = {job["resources"].split(f"{name}=")[1].split(",")[0] for job in jobs if job["rule"] == rule}
        assert len(values) == 1, (rule, values)
        return int(values.pop())

    per_shard = resources.sims_per_shard(SBC["sims_per_shard"], 1000)
    small_per_shard = resources.sims_per_shard(SBC["sims_per_shard"], 12)
    assert sum(job["rule"] == "sbc_shard" for job in large) == math.ceil(1000 / per_shard)
    for rule in ("sbc_shard", "posterior_sbc_shard", "fit", "loo"):
        assert field(large, rule, "mem_mb") == resources.mem_mb(rule, 1000)
        assert field(large, rule, "mem_mb") > field(small, rule, "mem_mb")
    for rule in ("fit", "loo"):
        assert field(large, rule, "runtime") >= field(small, rule, "runtime")
    for rule in ("sbc_shard", "posterior_sbc_shard"):
        assert field(large, rule, "runtime") == resources.runtime_min(rule, 1000, per_shard)
        assert field(small, rule, "runtime") == resources.runtime_min(rule, 12, small_per_shard)
        assert field(large, rule, "runtime") / per_shard > 2 * field(small, rule, "runtime") / small_per_shard
    assert [job.get("threads") for job in large if job["rule"] == "fit"] == ["2"]  # 4 chains, capped by --cores 2
    assert {job.get("threads", "1") for job in small if job["rule"] == "fit"} == {"1"}  # 1 is not printed


@pytest.mark.parametrize(
    "groups",
    [12, 1000],
    ids=["12 groups", "1000 groups"],
)
def test_auto_shards_are_sized_by_the_groups_and_not_by_the_simulations(tmp_path, groups):
    """sims_per_shard auto plans shards of 200 below 300 groups and of 100 from there on (binoval.resources), for
    prior and posterior SBC alike, whatever sbc.simulations is: raising it only adds shards."""
    from binoval import resources
    from binoval.data.synthetic import simulate_logit_normal_counts

    simulate_logit_normal_counts(groups, 1).to_csv(tmp_path / "groups.csv", index=False)
    per_shard = {12: 200, 1000: 100}[groups]
    assert resources.sims_per_shard("auto", groups) == per_shard
    planned = {}
    for simulations in (200, 1000):
        overlay = hier_logit_overlay(tmp_path / f"overlay{simulations}.yaml", "groups.csv", simulations)
        result = snakemake("-n", "--configfile", str(overlay), cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-3000:]
        jobs = planned_jobs(result.stdout)
        planned[simulations] = {
            rule: sorted(job["wildcards"] for job in jobs if job["rule"] == rule)
            for rule in ("sbc_shard", "posterior_sbc_shard")
        }
        for rule in planned[simulations]:
            assert len(planned[simulations][rule]) == math.ceil(simulations / per_shard), (rule, simulations)
    for rule in ("sbc_shard", "posterior_sbc_shard"):
        assert set(planned[200][rule]) <= set(planned[1000][rule])


def test_trial_level_input_plans_the_same_shards_before_and_after_its_aggregation(tmp_path):
    """Trial-level input's groups are unknown while a first run is planned, so sims_per_shard auto takes the size of
    UNKNOWN_GROUPS there, and keeps it once the aggregated table exists: a second run plans the same shards."""
    from binoval import resources

    configfile = str(REPO / "config" / "examples" / "agent_trials.yaml")
    per_shard = resources.sims_per_shard("auto", 1000)

    def shards():
        result = snakemake("-n", "--configfile", configfile, cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-3000:]
        return sorted(job["wildcards"] for job in planned_jobs(result.stdout) if job["rule"] == "sbc_shard")

    before = shards()
    assert len(before) == len({w.split(",")[0] for w in before}) * math.ceil(SBC["simulations"] / per_shard)
    aggregated = tmp_path / "results" / "agent_trials_cue80" / "data" / "aggregated.csv"
    aggregated.parent.mkdir(parents=True)
    aggregated.write_text("group,n,r\n" + "".join(f"a{i},10,5\n" for i in range(8)))  # 8 groups: small data
    assert shards() == before
