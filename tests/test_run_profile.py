"""benchmarks/run_profile.py: per-rule totals and the fixed-cost estimate from a run's benchmark files."""

import importlib.util

import pytest
from conftest import REPO


@pytest.fixture(scope="module")
def run_profile():
    spec = importlib.util.spec_from_file_location("run_profile", REPO / "benchmarks" / "run_profile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def write(path, wall, cpu, rss):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{wall}\t0:00:00\t{rss}\t1\t1\t1\t0\t0\t90\t{cpu}\n")


def test_profile_per_rule(run_profile, tmp_path, capsys):
    bench = tmp_path / "benchmarks"
    write(bench / "verdict.tsv", 2.0, 1.5, 100)
    write(bench / "sbc_shard" / "pooled" / "0.tsv", 12.0, 11.0, 400)
    write(bench / "sbc_shard" / "pooled" / "1.tsv", 20.0, 19.0, 450)
    write(bench / "sbc_shard" / "hier_logit" / "0.tsv", 40.0, 39.0, 500)
    profile = run_profile.rule_profile(run_profile.job_rows(tmp_path)).set_index("rule")
    assert list(profile.index) == ["sbc_shard", "verdict"]  # by total wall time
    shard = profile.loc["sbc_shard"]
    assert (shard["jobs"], shard["total_s"], shard["max_s"], shard["fixed_s"]) == (3, 72.0, 40.0, 12.0)
    assert shard["fixed_total_s"] == 36.0 and shard["max_rss_mb"] == 500 and shard["cpu_s"] == 69.0
    run_profile.main([str(tmp_path)])
    out = capsys.readouterr().out
    assert "| sbc_shard | 3 | 72 | 24.0 | 40.0 | 69 | 500 | 12.0 | 36 |" in out
    assert "| **all** | 4 | 74 |" in out


def test_profile_per_model(run_profile, tmp_path, capsys):
    bench = tmp_path / "benchmarks"
    write(bench / "verdict.tsv", 2.0, 1.5, 100)
    write(bench / "fit" / "pooled.tsv", 6.0, 5.0, 300)
    write(bench / "sbc_shard" / "pooled" / "0.tsv", 12.0, 11.0, 400)
    write(bench / "sbc_shard" / "bb_mixture_k2" / "0.tsv", 60.0, 59.0, 500)
    profile = run_profile.model_profile(run_profile.job_rows(tmp_path)).set_index("model")
    assert list(profile.index) == ["bb_mixture_k2", "pooled", run_profile.RUN_WIDE]
    assert profile.loc["pooled", "jobs"] == 2 and profile.loc["pooled", "total_s"] == 18.0
    assert profile["share"].sum() == pytest.approx(1.0) and profile.loc["bb_mixture_k2", "share"] == pytest.approx(0.75)
    run_profile.main([str(tmp_path)])
    assert "| bb_mixture_k2 | 1 | 60 | 75% |" in capsys.readouterr().out


def test_no_benchmark_files_is_a_clear_error(run_profile, tmp_path):
    with pytest.raises(SystemExit, match="no benchmark files"):
        run_profile.job_rows(tmp_path)


SNAKEMAKE_LOG = """Provided cores: 2
Select jobs to execute...

[Tue Nov 24 20:36:42 2026]
localrule validate_data:
    jobid: 2
[Tue Nov 24 20:36:43 2026]
Finished jobid: 2 (Rule: validate_data)

[Tue Nov 24 20:36:43 2026]
localrule sbc_shard:
    jobid: 38
    wildcards: model_id=beta_binomial, shard=0
[Tue Nov 24 20:36:43 2026]
localrule fit:
    jobid: 1
[Tue Nov 24 20:36:55 2026]
Finished jobid: 1 (Rule: fit)
[Tue Nov 24 20:37:03 2026]
Finished jobid: 38 (Rule: sbc_shard)
[Tue Nov 24 20:37:03 2026]
localcheckrule check_verdict:
    jobid: 90
[Tue Nov 24 20:37:04 2026]
Finished jobid: 90 (Rule: check_verdict)
"""


def test_occupancy_from_the_snakemake_log(run_profile):
    spans, cores = run_profile.job_spans(SNAKEMAKE_LOG)
    assert cores == 2
    assert list(spans["rule"]) == ["validate_data", "fit", "sbc_shard", "check_verdict"]  # by start, then jobid
    assert list(spans["end_s"] - spans["start_s"]) == [1.0, 12.0, 20.0, 1.0]
    filled = run_profile.occupancy(spans, cores)
    assert (filled["wall_s"], filled["job_s"]) == (22.0, 34.0)
    assert filled["idle_core_s"] == 10.0  # 2 x 22 core-seconds, 34 of them busy
    assert filled["short"] == [(0, 1, 1), (13, 22, 1)]  # one job alone: validate_data, then the shard and the check


def test_a_log_without_finished_jobs_is_a_clear_error(run_profile):
    with pytest.raises(SystemExit, match="no finished jobs"):
        run_profile.job_spans("Provided cores: 2\nBuilding DAG of jobs...\n")
