"""Only what a change touches reruns: each rule's params hold only its config slice."""

import copy

import pytest

from conftest import scheduled_jobs

pytestmark = pytest.mark.workflow


@pytest.fixture
def finished_run(tiny_run):
    return tiny_run


def test_nothing_changed_nothing_scheduled(finished_run):
    workdir, config = finished_run
    assert scheduled_jobs(workdir, config) == set()


def test_editing_one_models_priors_reruns_only_that_model(finished_run):
    workdir, config = finished_run
    changed = copy.deepcopy(config)
    changed["models"]["hier_logit"] = {"priors": {"tau": {"dist": "HalfNormal", "sigma": 0.5}}}
    jobs = scheduled_jobs(workdir, changed)
    assert jobs, "a prior change must rerun something"
    assert all("model_id=hier_logit" in wildcards for rule, wildcards in jobs if wildcards), jobs
    assert ("fit", "model_id=hier_logit") in jobs
    assert not any("model_id=pooled" in wildcards for _, wildcards in jobs)


def test_editing_a_threshold_reruns_no_model_job(finished_run):
    workdir, config = finished_run
    changed = copy.deepcopy(config)
    changed["thresholds"] = {"fit": {"r_hat_max": 1.05}}
    jobs = scheduled_jobs(workdir, changed)
    assert not any(wildcards for _, wildcards in jobs), jobs
