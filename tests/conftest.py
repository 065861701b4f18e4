"""Shared fixtures: the repository paths and a runner for the workflow on tiny configs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "Snakefile"
DATA = Path(__file__).resolve().parent / "fixtures"

#: Sampler settings small enough for workflow tests; statistics are not judged on them.
TINY_SAMPLER = {"chains": 2, "draws": 100, "tune": 100}
#: SBC of the tiny runs: one shard of 4 simulations per model (every shard job pays start-up and a compile; the
#: tests of several shards set ``sims_per_shard`` themselves), short fits.
TINY_SBC = {"simulations": 4, "sims_per_shard": 4, "sampler": {"chains": 2, "draws": 100, "tune": 100}, "min_ranks": 20}
#: Posterior SBC of the tiny runs: one shard of 4 simulations per model, short fits.
TINY_POSTERIOR_SBC = {"simulations": 4, "sims_per_shard": 4, "sampler": {"chains": 2, "draws": 100, "tune": 100}}


def json_from_a_new_process(code: str, *args: str, env: dict | None = None):
    """Run ``code`` with ``args`` in a fresh Python (this one's ``sys.path``, ``env`` added to the environment) and
    return the JSON its last line of output prints: for what a job's process imports or caches on its own."""
    import json
    import os

    environment = {**os.environ, **(env or {})}
    environment["PYTHONPATH"] = os.pathsep.join([*sys.path, environment.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=environment, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def snakemake_command(workdir: Path, config: dict | None = None, *args: str, cores: int = 2) -> list[str]:
    """The command line that runs the workflow in ``workdir`` with ``config`` overlaid on the default config."""
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(SNAKEFILE),
        "-d",
        str(workdir),
        "--cores",
        str(cores),
        *args,
    ]
    if config is not None:  # last: --configfile takes every following word as a file
        path = workdir / "test_config.yaml"
        path.write_text(yaml.safe_dump(config))
        command += ["--configfile", str(path)]
    return command


def run_snakemake(
    workdir: Path, config: dict | None = None, *args: str, cores: int = 2, check: bool = True
) -> subprocess.CompletedProcess:
    """Run the workflow in ``workdir`` with ``config`` overlaid on the default config."""
    command = snakemake_command(workdir, config, *args, cores=cores)
    result = subprocess.run(command, capture_output=True, text=True, cwd=workdir)
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result


@pytest.fixture
def hospital12():
    from binoval.data.grouped import load_dataset

    return load_dataset("hospital12")


def scheduled_jobs(workdir: Path, config: dict | None, *args: str) -> set[tuple[str, str]]:
    """The jobs a dry-run would execute, as (rule, wildcards) pairs; ``all`` is left out."""
    result = run_snakemake(workdir, config, "-n", *args)
    jobs, rule = set(), None
    for line in result.stdout.splitlines():
        if line.startswith(("rule ", "localrule ")):
            if rule is not None:
                jobs.add((rule, ""))
            rule = line.split()[1].rstrip(":")
        elif line.strip().startswith("wildcards:") and rule is not None:
            jobs.add((rule, line.split(":", 1)[1].strip()))
            rule = None
    if rule is not None:
        jobs.add((rule, ""))
    return {job for job in jobs if job[0] != "all"}


def tiny_config(keep: tuple[str, ...], *, data_conditional: bool = False, **extra) -> dict:
    """An overlay that keeps only the model ids in ``keep`` and uses tiny sampler settings.

    The stages that condition on the observed fit, posterior SBC and sensitivity, run only with
    ``data_conditional=True`` (the shared tiny run and the tests of those stages), to keep the other runs short.
    """
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    models = {model_id: {"enabled": model_id in keep} for model_id in default["models"]}
    config = {
        "run": "tiny",
        "sampler": dict(TINY_SAMPLER),
        "models": models,
        "sbc": dict(TINY_SBC),
        "posterior_sbc": {**TINY_POSTERIOR_SBC, "enabled": data_conditional},
        "sensitivity": {"enabled": data_conditional},
        "prior_predictive": {"draws": 3000},
        "fit": {"max_extensions": 0},  # tiny fits are short by design; tests/fit tests the extensions
    }
    config.update(extra)
    return config


#: Models of the shared tiny run: one simple, one hierarchical.
TINY_RUN_MODELS = ("pooled", "hier_logit")


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One complete run of the workflow on a tiny config, shared by tests that only read it or dry-run against it."""
    workdir = tmp_path_factory.mktemp("tiny_run")
    config = tiny_config(TINY_RUN_MODELS, data_conditional=True)
    run_snakemake(workdir, config)
    return workdir, config


def assert_same_outputs(reference: Path, other: Path) -> None:
    """Every table, fit and JSON file under results/ equal in both runs (timing columns aside).

    Parquet files without timing columns must be byte-identical.
    """
    import arviz as az
    import numpy as np
    import pandas as pd

    tables = sorted((reference / "results").rglob("*.parquet"))
    assert tables
    for path in tables:
        twin = other / path.relative_to(reference)
        left, right = pd.read_parquet(path), pd.read_parquet(twin)
        timing = [c for c in left.columns if "time" in c or c.endswith("_s")]
        pd.testing.assert_frame_equal(
            left.drop(columns=timing), right.drop(columns=timing), obj=str(path.relative_to(reference))
        )
        if not timing:
            assert path.read_bytes() == twin.read_bytes(), f"{path.name} differs byte-wise"
    for path in sorted((reference / "results").rglob("*.nc")):
        left, right = az.from_netcdf(path), az.from_netcdf(other / path.relative_to(reference))
        for group in ("posterior", "posterior_predictive", "log_likelihood"):
            for var in left[group].data_vars:
                np.testing.assert_array_equal(left[group][var].values, right[group][var].values)
    for path in sorted((reference / "results").rglob("*.json")):
        assert path.read_text() == (other / path.relative_to(reference)).read_text(), path.name


def loo_table_of(
    model: str,
    values,
    *,
    task: str = "new_groups",
    k=0.1,
    var=0.1,
    method="psis",
    draws: int = 4000,
    units=None,
) -> pd.DataFrame:
    """A valid LOO table of one model with the rows of one ``task``: one point per group (g00, g01, ...) whose
    pointwise elpd values are ``values``, each standing for ``units`` observations (default 1); Pareto k ``k``,
    log-likelihood variance ``var`` and ``loo_method`` ``method`` (scalars or one per point). Totals are consistent."""
    from binoval.loo.psis import weighted_totals

    values = np.asarray(values, dtype=float)
    n = len(values)
    units = np.ones(n, dtype="int64") if units is None else np.asarray(units, dtype="int64")
    elpd, se = weighted_totals(values, units)
    var = np.broadcast_to(np.asarray(var, dtype=float), (n,))
    return pd.DataFrame(
        {
            "model_id": model,
            "task": task,
            "group": [f"g{i:02d}" for i in range(n)],
            "point": "group" if task != "same_groups" else "success",
            "units": units,
            "n": np.maximum(units, 10),
            "r": units if task == "same_groups" else 1,
            "elpd_loo_i": values,
            "p_loo_i": 0.1,
            "pareto_k": np.broadcast_to(np.asarray(k, dtype=float), (n,)),
            "loo_method": np.broadcast_to(np.asarray(method), (n,)),
            "elpd_waic_i": values - 0.01,
            "p_waic_i": var,
            "loglik_var_i": var,
            "elpd_loo": elpd,
            "se_loo": se,
            "p_loo": 0.1 * units.sum(),
            "elpd_waic": elpd - 0.01 * units.sum(),
            "se_waic": se,
            "p_waic": float((units * var).sum()),
            "total_draws": draws,
        }
    )


def fit_tables_of(r_hat=1.0, ess=1000.0, divergences=(0, 0), ebfmi=(1.0, 1.0), hits=(0, 0)) -> dict[str, pd.DataFrame]:
    """The fit stage's tables of a model "m" with a free ``mu`` (the given R-hat and bulk ESS) and a derived ``p[a]``,
    over 2 chains of 1000 draws with the given divergences, E-BFMI and tree-depth hits per chain."""

    params = pd.DataFrame(
        {
            "model_id": "m",
            "variable": ["mu", "p"],
            "index": ["", "a"],
            "free": [True, False],
            "mean": 0.0,
            "sd": 1.0,
            "hdi_low": -1.0,
            "hdi_high": 1.0,
            "mcse_mean": 0.01,
            "mcse_sd": 0.01,
            "ess_bulk": [ess, 2000.0],
            "ess_tail": [2000.0, 2000.0],
            "r_hat": [r_hat, 1.0],
        }
    )
    sampler = pd.DataFrame(
        {
            "model_id": "m",
            "chain": [0, 1],
            "draws": 1000,
            "tune": 1000,
            "divergences": list(divergences),
            "ebfmi": list(ebfmi),
            "treedepth_hits": list(hits),
            "max_treedepth": 10,
            "mean_treedepth": 3.0,
            "step_size": 0.5,
            "wall_time_s": 1.0,
            "backend": "nutpie",
            "error": "",
            "extensions": 0,
            "extended_because": "",
        }
    )
    return {"parameters": params, "sampler": sampler}


def evidence_of(mixture: str, log_ml: dict[int, list[float]]) -> pd.DataFrame:
    """A valid evidence table of the mixture models ``<mixture>_k<K>``: per K, one SMC chain per value in ``log_ml``."""
    from binoval.loo.k_choice import evidence_table
    from binoval.models import ModelSpec
    from binoval.schemas import KEvidence

    parts = [
        evidence_table(ModelSpec(f"{mixture}_k{K}", "bb_mixture", {}, {"K": K}), mixture, K, np.array(v), 2000)
        for K, v in log_ml.items()
    ]
    return KEvidence.validate(pd.concat(parts, ignore_index=True))
