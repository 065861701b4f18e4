"""Workflow test: the prior_predictive and ppc rules on a tiny config (one model)."""

import pytest
from conftest import run_snakemake

from binoval import schemas
from binoval.predictive.check import ppc_status, prior_predictive_status

TINY = {
    "sampler": {"chains": 2, "draws": 200, "tune": 200},
    "prior_predictive": {"draws": 3000},
    "models": {
        "pooled": {"family": "pooled"},
        "unpooled": {"family": "unpooled", "enabled": False},
        "hier_logit": {"family": "hier_logit", "enabled": False},
        "hier_logit_centered": {"family": "hier_logit", "enabled": False},
        "beta_binomial": {"family": "beta_binomial", "enabled": False},
        "bb_mixture": {"family": "bb_mixture", "K": [1], "enabled": False},
    },
}


@pytest.mark.workflow
def test_prior_predictive_and_ppc_rules(tmp_path):
    base = tmp_path / "results" / "hospital12"
    targets = ["results/hospital12/prior_predictive/pooled.parquet", "results/hospital12/ppc/pooled.parquet"]
    run_snakemake(tmp_path, TINY, *targets)

    summary = schemas.read_table(base / "prior_predictive" / "pooled.parquet", schemas.PriorPredictiveSummary)
    assert summary["draws"].eq(3000).all()
    schemas.read_table(base / "prior_predictive" / "pooled_draws.parquet", schemas.PriorPredictiveDraws)
    schemas.read_table(base / "prior_predictive" / "pooled_groups.parquet", schemas.PriorPredictiveGroups)
    tables = {
        "ppc": schemas.read_table(base / "ppc" / "pooled.parquet", schemas.PPCStatistics),
        "ppc_groups": schemas.read_table(base / "ppc" / "pooled_groups.parquet", schemas.PPCGroups),
        "ppc_calibration": schemas.read_table(base / "ppc" / "pooled_calibration.parquet", schemas.PPCCalibration),
    }
    # at least 4000 replicated datasets, as many copies of each stored posterior draw as that takes; the fit stores
    # the configured draws per chain even when it was extended (the sampler table records the draws it judged)
    sampled = schemas.read_table(base / "diagnostics" / "pooled_sampler.parquet", schemas.SamplerDiagnostics)
    posterior_draws = TINY["sampler"]["chains"] * TINY["sampler"]["draws"]
    assert int(sampled["draws"].sum()) >= posterior_draws
    copies = int(tables["ppc_calibration"]["copies"].iloc[0])
    assert (
        copies == -(-4000 // posterior_draws) and tables["ppc_calibration"]["draws"].iloc[0] == copies * posterior_draws
    )
    for plot in (
        "prior_predictive/pooled_proportions.png",
        "prior_predictive/pooled_statistics.png",
        "ppc/pooled_statistics.png",
        "ppc/pooled_groups.png",
        "ppc/pooled_pit.png",
    ):
        assert (base / plot).stat().st_size > 1000, plot
    # hospital12 is overdispersed: one shared rate fails both predictive checks on chi-square
    assert prior_predictive_status({"prior_predictive": summary}, {}).status == "FAIL"
    result = ppc_status(tables, {})
    assert result.status == "FAIL" and any("chi2_overdispersion" in r for r in result.reasons)
    assert (base / "benchmarks" / "ppc" / "pooled.tsv").exists()

    # thresholds are not inputs of the stage rules: changing them reruns nothing here
    overlay = {**TINY, "thresholds": {"ppc": {"p_value_fail": 0.001}, "prior_predictive": {"p_value_warn": 0.2}}}
    dry = run_snakemake(tmp_path, overlay, "-n", *targets, cores=1)
    assert "Nothing to be done" in dry.stdout + dry.stderr

    # more prior predictive draws rerun the prior predictive only, not the fit or the ppc
    overlay["prior_predictive"] = {"draws": 3100}
    dry = run_snakemake(tmp_path, overlay, "-n", *targets, cores=1)
    out = dry.stdout + dry.stderr
    assert planned_jobs(out) == {"prior_predictive": 1}


def planned_jobs(output: str) -> dict[str, int]:
    """The 'Job stats' table of a dry-run: rule -> number of jobs."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Job stats:")) + 3
    jobs = {}
    for line in lines[start:]:
        name, _, count = line.strip().partition(" ")
        if name == "total" or not count.strip():
            break
        jobs[name] = int(count)
    return jobs
