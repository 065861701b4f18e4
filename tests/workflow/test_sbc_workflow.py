"""The sbc_shard / sbc_summary rules end to end on a tiny config; raising sbc.simulations reruns only new shards."""

import re

import pytest
import yaml
from conftest import REPO, run_snakemake


def tiny_config(simulations: int) -> dict:
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    models = {mid: {**spec, "enabled": mid == "pooled"} for mid, spec in default["models"].items()}
    return {
        "models": models,
        "sbc": {
            "simulations": simulations,
            "sims_per_shard": 2,
            "sampler": {"chains": 2, "draws": 100, "tune": 100},
            "min_ranks": 50,
        },
    }


@pytest.mark.workflow
def test_sbc_rules_and_incremental_simulations(tmp_path):
    from binoval.sbc.check import sbc_status
    from binoval.schemas import SbcPredictive, SbcSimulations, SbcSummary, read_table

    target = "results/hospital12/sbc/pooled.parquet"
    run_snakemake(tmp_path, tiny_config(4), target)
    base = tmp_path / "results" / "hospital12" / "sbc"
    shard_files = ["0.parquet", "0_predictive.parquet", "1.parquet", "1_predictive.parquet"]
    assert sorted(p.name for p in (base / "shards" / "pooled").iterdir()) == shard_files
    summary = read_table(base / "pooled.parquet", SbcSummary)
    simulations = read_table(base / "simulations" / "pooled.parquet", SbcSimulations)
    assert list(summary["quantity"]) == ["p", "log_likelihood"]
    assert sorted(simulations["simulation"].unique()) == [0, 1, 2, 3]
    predictive = read_table(base / "predictive" / "pooled.parquet", SbcPredictive)
    assert len(predictive) == 4 * 11 and sorted(predictive["simulation"].unique()) == [0, 1, 2, 3]
    assert (base / "plots" / "pooled_ecdf.png").stat().st_size > 1000
    assert (base / "plots" / "pooled_ranks.png").stat().st_size > 1000
    log = (tmp_path / "logs" / "hospital12" / "sbc_shard" / "pooled" / "1.log").read_text()
    assert re.search(r"shard 1: 2/2 simulations done \(0 failed\), elapsed [\d.]+ s, ETA 0\.0 s", log)
    status = sbc_status({"summary": summary, "simulations": simulations}, {})
    assert status.status != "PASS" and any("only 4 successful" in r for r in status.reasons), status.reasons

    dry = run_snakemake(tmp_path, tiny_config(6), target, "-n")
    jobs = dict(re.findall(r"^(sbc_\w+)\s+(\d+)\s*$", dry.stdout, flags=re.M))
    assert jobs == {"sbc_shard": "1", "sbc_summary": "1"}, dry.stdout
    assert "shards/pooled/2.parquet" in dry.stdout

    shards = base / "shards" / "pooled"
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in shards.iterdir()}
    run_snakemake(tmp_path, tiny_config(6), target)
    after = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in shards.iterdir()}
    assert sorted(after) == [*shard_files, "2.parquet", "2_predictive.parquet"]
    assert all(after[name] == before[name] for name in before)  # old shards untouched
    simulations = read_table(base / "simulations" / "pooled.parquet", SbcSimulations)
    assert sorted(simulations["simulation"].unique()) == [0, 1, 2, 3, 4, 5]
    predictive = read_table(base / "predictive" / "pooled.parquet", SbcPredictive)
    assert sorted(predictive["simulation"].unique()) == [0, 1, 2, 3, 4, 5]
