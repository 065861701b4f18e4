"""Only what a change touches reruns: each rule's params hold only its config slice."""

import copy

import pytest
from conftest import TINY_RUN_MODELS, scheduled_jobs

pytestmark = pytest.mark.workflow

FINAL = {("compare", ""), ("verdict", ""), ("report", ""), ("check_verdict", "")}
PER_MODEL_RULES = ("fit", "prior_predictive", "sbc_summary", "ppc", "posterior_sbc_summary", "sensitivity", "loo")
#: Rules that read the observed fit, so rerun with it.
AFTER_FIT = {"fit", "ppc", "posterior_sbc_shard", "posterior_sbc_summary", "sensitivity", "loo"}


def model_jobs(model_id, shards):
    jobs = {(rule, f"model_id={model_id}") for rule in PER_MODEL_RULES}
    return jobs | {
        (rule, f"model_id={model_id}, shard={s}") for s in shards for rule in ("sbc_shard", "posterior_sbc_shard")
    }


def test_nothing_changed_nothing_scheduled(tiny_run):
    workdir, config = tiny_run
    assert scheduled_jobs(workdir, config) == set()


def test_editing_one_models_priors_reruns_only_that_model_and_the_end(tiny_run):
    workdir, config = tiny_run
    changed = copy.deepcopy(config)
    changed["models"]["hier_logit"] = {"priors": {"tau": {"dist": "HalfNormal", "sigma": 0.5}}}
    assert scheduled_jobs(workdir, changed) == model_jobs("hier_logit", (0,)) | FINAL


def test_editing_a_threshold_reruns_only_the_verdict_and_report(tiny_run):
    workdir, config = tiny_run
    changed = copy.deepcopy(config)
    changed["thresholds"] = {"fit": {"divergence_rate_max": 0.01}, "ppc": {"p_value_warn": 0.2}}
    changed["verdict"] = {"false_reject_rate": 0.06}
    assert scheduled_jobs(workdir, changed) == FINAL - {("compare", "")}


def test_editing_a_convergence_target_reruns_the_fits(tiny_run):
    """The fit stage extends a fit until it meets the R-hat / ESS targets, so they are the fit rule's params."""
    workdir, config = tiny_run
    changed = copy.deepcopy(config)
    changed["thresholds"] = {"fit": {"r_hat_max": 1.05}}
    rules = {rule for rule, _ in scheduled_jobs(workdir, changed)}
    assert rules == AFTER_FIT | {rule for rule, _ in FINAL}


def test_raising_sbc_simulations_adds_only_new_shards(tiny_run):
    workdir, config = tiny_run
    changed = copy.deepcopy(config)
    changed["sbc"]["simulations"] = 2 * config["sbc"]["simulations"]  # 1 -> 2 shards per model
    expected = {("sbc_shard", f"model_id={m}, shard=1") for m in TINY_RUN_MODELS}
    expected |= {("sbc_summary", f"model_id={m}") for m in TINY_RUN_MODELS}
    assert scheduled_jobs(workdir, changed) == expected | FINAL - {("compare", "")}


def test_editing_the_sampler_reruns_fits_but_not_sbc_or_prior_predictive(tiny_run):
    workdir, config = tiny_run
    changed = copy.deepcopy(config)
    changed["sampler"]["draws"] = 120
    rules = {rule for rule, _ in scheduled_jobs(workdir, changed)}
    assert rules == AFTER_FIT | {rule for rule, _ in FINAL}


def test_editing_the_sensitivity_threshold_reruns_only_sensitivity_and_the_end(tiny_run):
    """The stored diagnosis uses thresholds.sensitivity.threshold; nothing else reruns (no refits)."""
    workdir, config = tiny_run
    changed = copy.deepcopy(config)
    changed["thresholds"] = {"sensitivity": {"threshold": 0.1, "conflict": "fail"}}
    expected = {("sensitivity", f"model_id={m}") for m in TINY_RUN_MODELS}
    assert scheduled_jobs(workdir, changed) == expected | FINAL - {("compare", "")}
