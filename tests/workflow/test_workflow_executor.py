"""The tiny workflow through Snakemake's cluster-generic executor equals a local run."""

import arviz as az
import numpy as np
import pandas as pd
import pytest
from conftest import REPO, run_snakemake, tiny_config

pytestmark = pytest.mark.workflow

PROFILE = REPO / "profiles" / "local-cluster"


def _fit_outputs(workdir, model_id):
    results = workdir / "results" / "tiny"
    posterior = az.from_netcdf(results / "fits" / f"{model_id}.nc").posterior
    params = pd.read_parquet(results / "diagnostics" / f"{model_id}_parameters.parquet")
    return posterior, params


def test_cluster_generic_executor_matches_local_run(tmp_path, monkeypatch):
    config = tiny_config(("pooled", "hier_logit"))
    local, cluster = tmp_path / "local", tmp_path / "cluster"
    local.mkdir(), cluster.mkdir()
    run_snakemake(local, config, "--until", "fit")

    jobs = cluster / "jobs"
    monkeypatch.setenv("BINOVAL_CLUSTER_JOBS", str(jobs))
    run_snakemake(
        cluster,
        config,
        "--until",
        "fit",
        "--executor",
        "cluster-generic",
        "--cluster-generic-submit-cmd",
        f"python3 {PROFILE / 'submit.py'}",
        "--cluster-generic-status-cmd",
        f"python3 {PROFILE / 'status.py'}",
        "--jobs",
        "2",
        "--latency-wait",
        "10",
        "--max-status-checks-per-second",
        "5",
    )
    # every job went through a submitted job script and exited 0
    exits = sorted(jobs.glob("*.exit"))
    assert len(exits) >= 3  # validate_data + one fit per model
    assert all(path.read_text().strip() == "0" for path in exits)

    for model_id in ("pooled", "hier_logit"):
        post_local, params_local = _fit_outputs(local, model_id)
        post_cluster, params_cluster = _fit_outputs(cluster, model_id)
        for var in post_local.data_vars:
            np.testing.assert_array_equal(post_local[var].values, post_cluster[var].values)
        pd.testing.assert_frame_equal(params_local, params_cluster)
