"""The workflow end to end through the fit stage, on tiny configs."""

import arviz as az
import pytest
from conftest import DATA, run_snakemake, scheduled_jobs, tiny_config

from binoval.schemas import ParameterDiagnostics, SamplerDiagnostics, read_table

pytestmark = pytest.mark.workflow


def test_fit_stage_runs_and_writes_contract_outputs(tmp_path):
    config = tiny_config(("pooled", "hier_logit", "bb_mixture"))
    config["models"]["bb_mixture"] = {"K": [2]}
    run_snakemake(tmp_path, config, "--until", "fit")
    results = tmp_path / "results" / "tiny"
    for model_id in ("pooled", "hier_logit", "bb_mixture_k2"):
        idata = az.from_netcdf(results / "fits" / f"{model_id}.nc")
        assert {
            "posterior",
            "sample_stats",
            "log_likelihood",
            "log_prior",
            "posterior_predictive",
            "observed_data",
        } <= set(idata.children)
        read_table(results / "diagnostics" / f"{model_id}_parameters.parquet", ParameterDiagnostics)
        sampler = read_table(results / "diagnostics" / f"{model_id}_sampler.parquet", SamplerDiagnostics)
        assert (sampler["error"] == "").all()
        assert (tmp_path / "logs" / "tiny" / "fit" / f"{model_id}.log").exists()
    mixture = az.from_netcdf(results / "fits" / "bb_mixture_k2.nc")
    assert {"w", "mu", "kappa"} <= set(mixture.posterior.data_vars) and mixture.posterior["mu"].sizes["cluster"] == 2
    # the mixture's log prior: kappa's Gamma, and the Dirichlet densities of w and of the gaps between the means
    log_prior = mixture.log_prior
    assert set(log_prior.data_vars) == {"kappa", "w", "mu"} and log_prior["kappa"].sizes["cluster"] == 2
    assert not (results / "fits" / "unpooled.nc").exists()
    # nothing changed: nothing to do
    assert scheduled_jobs(tmp_path, config, "--until", "fit") == set()


def test_user_csv_with_mapped_columns(tmp_path):
    csv = tmp_path / "mine.csv"
    csv.write_text("site,trials,events\nx,40,3\ny,55,9\nz,20,0\n")
    config = tiny_config(("pooled",), dataset=str(csv), columns={"group": "site", "n": "trials", "r": "events"})
    del config["run"]
    run_snakemake(tmp_path, config, "--until", "fit")
    assert (tmp_path / "results" / "mine" / "fits" / "pooled.nc").exists()


@pytest.mark.parametrize("name", ["r_exceeds_n.csv", "semicolon_delimiter.csv", "does_not_exist.csv"])
def test_bad_data_stops_before_any_job_with_one_line(tmp_path, name):
    result = run_snakemake(tmp_path, tiny_config(("pooled",), dataset=str(DATA / "bad" / name)), check=False)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("binoval: invalid data:")]
    assert len(lines) == 1 and name in lines[0]
    assert not (tmp_path / "results").exists()


def test_bad_config_stops_before_any_job_naming_the_key(tmp_path):
    config = tiny_config(("pooled",))
    config["models"]["pooled"] = {"priors": {"p": {"dist": "Beta", "alpha": -1, "beta": 1}}}
    result = run_snakemake(tmp_path, config, check=False)
    assert result.returncode != 0
    assert "binoval: invalid config: config key models.pooled.priors.p.alpha: must be > 0" in result.stderr
    assert not (tmp_path / "results").exists()


def test_a_nested_number_on_the_command_line_gets_the_overlay_hint(tmp_path):
    """``--config sbc='{simulations: 1000}'`` gives the workflow the text '1000' (Snakemake's YAML base loader)."""
    result = run_snakemake(tmp_path, tiny_config(("pooled",)), "--config", "sbc={simulations: 1000}", check=False)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("binoval: invalid config:")]
    assert len(lines) == 1, result.stderr[-2000:]
    assert "config key sbc.simulations: expected integer, got str '1000'" in lines[0] and "--configfile" in lines[0]
    assert not (tmp_path / "results").exists()


def test_trial_level_input_is_aggregated_and_kept(tmp_path):
    config = tiny_config(
        ("pooled",),
        dataset="agent_trials",
        trials={"group_by": ["model_num"], "success": 'response == "H"', "filter": "cue_proportion == 0.8"},
    )
    run_snakemake(tmp_path, config, "--until", "fit")
    aggregated = tmp_path / "results" / "tiny" / "data" / "aggregated.csv"
    assert aggregated.read_text().splitlines()[0] == "group,n,r,model_num"
    assert (tmp_path / "results" / "tiny" / "fits" / "pooled.nc").exists()


def test_formula_naming_a_missing_column_stops_the_run(tmp_path):
    config = tiny_config(("pooled",))
    config["models"]["g"] = {"family": "glmm", "formula": "r | trials(n) ~ sex + (1 | edu)"}
    result = run_snakemake(tmp_path, config, check=False)
    assert result.returncode != 0
    assert "binoval: invalid data: config key models.g.formula: column 'edu' is not in the data" in result.stderr
