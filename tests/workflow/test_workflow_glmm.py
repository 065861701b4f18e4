"""Workflow test: a binomial GLMM (covariates from data columns) through every stage to the verdict and report.

census14 with the example's varying-intercept model ``r | trials(n) ~ sex + (1 | edu)`` at tiny settings
(centred, so both parameterizations of the family run through a workflow somewhere in the suite).
The covariate columns must survive validate_data into the fit: the sex effect is well identified even
from 2 x 150 draws (reference analysis of census14: 1.37).
"""

from __future__ import annotations

import json

import pytest
from conftest import run_snakemake, tiny_config

from binoval.schemas import ParameterDiagnostics, read_table
from binoval.verdict.verdict import validate_verdict

pytestmark = pytest.mark.workflow

GLMM = {"sex_edu": {"family": "glmm", "formula": "r | trials(n) ~ sex + (1 | edu)", "parameterization": "centered"}}


@pytest.fixture(scope="module")
def glmm_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("glmm_run")
    config = tiny_config((), dataset="census14", run="glmm")
    config["models"].update(GLMM)
    config["sampler"] = {"chains": 2, "draws": 150, "tune": 150}
    config["sbc"].update(simulations=2, sims_per_shard=2)
    run_snakemake(workdir, config)
    return workdir / "results" / "glmm"


def test_every_stage_judges_the_glmm(glmm_run):
    verdict = json.loads((glmm_run / "verdict.json").read_text())
    validate_verdict(verdict)
    assert list(verdict["models"]) == ["sex_edu"]
    stages = verdict["models"]["sex_edu"]["stages"]
    assert set(stages) == {"prior_predictive", "sbc", "fit", "ppc", "loo"}
    assert all(stage["reasons"] for stage in stages.values())
    assert "sex_edu" in (glmm_run / "report.md").read_text()


def test_covariates_reach_the_fit(glmm_run):
    parameters = read_table(glmm_run / "diagnostics" / "sex_edu_parameters.parquet", ParameterDiagnostics)
    sex = parameters[(parameters["variable"] == "b") & (parameters["index"] == "sex[male]")]
    assert len(sex) == 1 and 1.2 < float(sex["mean"].iloc[0]) < 1.55
    edu = parameters[parameters["variable"] == "u_edu"]
    assert len(edu) == 7  # one intercept per education level


def test_new_groups_are_new_education_levels_by_kfold(glmm_run):
    """A glmm row is a cell, not a group: the new-groups task holds out whole education levels (5-fold over the 7
    levels, ArviZ's loo_kfold on one compiled model), and the comparison and the recommendation use it."""
    from binoval.loo.psis import task_table
    from binoval.schemas import Comparison, LooTable

    table = read_table(glmm_run / "loo" / "sex_edu.parquet", LooTable)
    new = task_table(table, "new_groups")
    assert len(new) == 14 and (new["loo_method"] == "kfold").all()
    assert new["elpd_loo"].iloc[0] == pytest.approx(new["elpd_loo_i"].sum())
    assert new["pareto_k"].isna().all() and new["elpd_waic"].isna().all()
    # predicting a new level is harder than predicting a cell whose level the fit has seen
    conditional = task_table(table, "conditional")
    assert new["elpd_loo"].iloc[0] < conditional["elpd_loo"].iloc[0]
    comparison = read_table(glmm_run / "compare.parquet", Comparison)
    loo = comparison[(comparison["task"] == "new_groups") & (comparison["criterion"] == "loo")]
    assert list(loo["model_id"]) == ["sex_edu"] and loo["method"].iloc[0] == "kfold(14)"
    assert set(comparison[comparison["task"] == "new_groups"]["criterion"]) == {"loo"}  # no WAIC for K-fold
    verdict = json.loads((glmm_run / "verdict.json").read_text())
    assert verdict["recommended_model"] in (None, "sex_edu")
    reasons = " ".join(verdict["models"]["sex_edu"]["stages"]["loo"]["reasons"])
    assert "K-fold cross-validation of 14 point(s)" in reasons
