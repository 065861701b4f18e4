"""Posterior SBC and sensitivity through the workflow: outputs, verdict stages, switches, incremental simulations.
(That their outputs do not depend on --cores is test_workflow_reproducible's: the shared tiny run includes them.)"""

import json
import re

import pytest
from conftest import run_snakemake, scheduled_jobs, tiny_config

pytestmark = pytest.mark.workflow

TARGET = "results/tiny/posterior_sbc/pooled.parquet"


def pooled_config(simulations: int = 4) -> dict:
    config = tiny_config(("pooled",), data_conditional=True)
    config["posterior_sbc"].update(simulations=simulations, sims_per_shard=2)
    return config


def test_tiny_run_has_both_stages_in_verdict_and_report(tiny_run):
    from binoval.schemas import SbcSimulations, SbcSummary, SensitivitySequence, SensitivityTable, read_table

    workdir, config = tiny_run
    results = workdir / "results" / "tiny"
    verdict = json.loads((results / "verdict.json").read_text())
    for model_id in config["models"]:
        if not config["models"][model_id]["enabled"]:
            continue
        stages = verdict["models"][model_id]["stages"]
        assert {"posterior_sbc", "sensitivity"} <= set(stages)
        summary = read_table(results / "posterior_sbc" / f"{model_id}.parquet", SbcSummary)
        simulations = read_table(results / "posterior_sbc" / "simulations" / f"{model_id}.parquet", SbcSimulations)
        assert summary["quantity"].iloc[-1] == "log_likelihood"
        assert sorted(simulations["simulation"].unique()) == [0, 1, 2, 3]
        assert any("posterior SBC" in reason for reason in stages["posterior_sbc"]["reasons"])
        table = read_table(results / "sensitivity" / f"{model_id}.parquet", SensitivityTable)
        assert len(table) >= 1
        read_table(results / "sensitivity" / f"{model_id}_sequence.parquet", SensitivitySequence)
        assert (results / "sensitivity" / "plots" / f"{model_id}_powerscale.png").stat().st_size > 1000
        assert (results / "posterior_sbc" / "plots" / f"{model_id}_ecdf.png").stat().st_size > 1000
    report = (results / "report.md").read_text()
    assert "### posterior SBC" in report and "### prior sensitivity" in report


def test_switches_leave_the_stages_out(tiny_run):
    workdir, config = tiny_run
    off = {**config, "posterior_sbc": {**config["posterior_sbc"], "enabled": False}, "sensitivity": {"enabled": False}}
    jobs = scheduled_jobs(workdir, off, "--forceall")
    rules = {rule for rule, _ in jobs}
    assert not rules & {"posterior_sbc_shard", "posterior_sbc_summary", "sensitivity"}
    assert {"sbc_shard", "fit", "verdict", "report"} <= rules


def test_raising_simulations_reruns_only_new_shards_and_summary(tmp_path):
    from binoval.schemas import SbcSimulations, read_table

    run_snakemake(tmp_path, pooled_config(4), TARGET)
    shards = tmp_path / "results" / "tiny" / "posterior_sbc" / "shards" / "pooled"
    assert sorted(p.name for p in shards.iterdir()) == ["0.parquet", "1.parquet"]
    dry = run_snakemake(tmp_path, pooled_config(6), TARGET, "-n", cores=1)
    jobs = dict(re.findall(r"^(posterior_sbc_\w+)\s+(\d+)\s*$", dry.stdout, flags=re.M))
    assert jobs == {"posterior_sbc_shard": "1", "posterior_sbc_summary": "1"}, dry.stdout
    assert "fit" not in re.findall(r"^(\w+)\s+\d+\s*$", dry.stdout, flags=re.M)

    before = {p.name: p.read_bytes() for p in shards.iterdir()}
    run_snakemake(tmp_path, pooled_config(6), TARGET)
    after = {p.name: p.read_bytes() for p in shards.iterdir()}
    assert sorted(after) == ["0.parquet", "1.parquet", "2.parquet"]
    assert all(after[name] == before[name] for name in before)  # old shards untouched
    simulations = read_table(
        tmp_path / "results" / "tiny" / "posterior_sbc" / "simulations" / "pooled.parquet", SbcSimulations
    )
    assert sorted(simulations["simulation"].unique()) == [0, 1, 2, 3, 4, 5]
