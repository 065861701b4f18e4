"""SBC detects what it should: a prior mismatch FAILs, the matched setup PASSes.

hier_logit on 6 small groups; 200 simulations each at fixed seeds with small
fits (the SBC defaults, 2 chains x 500 draws). Simulating tau from HalfNormal(3) while fitting
HalfNormal(1) puts true values where the fitted prior has little mass, so the
posteriors of tau (and of the rates) are pulled in: their ranks pile up.
One compiled model serves both setups (only the simulating model differs).
"""

import numpy as np
import pytest

from binoval.models import FAMILIES, GroupedCounts, ModelSpec
from binoval.sbc.check import sbc_status
from binoval.sbc.shard import ShardRunner, sbc_sampler_settings
from binoval.sbc.summary import summarise

DATA = GroupedCounts(tuple("abcdef"), np.array([15, 20, 25, 30, 40, 50]), np.array([1, 3, 2, 6, 5, 9]))
SIMS = 200


@pytest.fixture(scope="module")
def runner():
    spec = ModelSpec(
        "hier_logit", "hier_logit", FAMILIES["hier_logit"].default_priors, {"parameterization": "noncentered"}
    )
    settings = sbc_sampler_settings({}, {})  # the SBC defaults: 2 chains x 500 draws, 300 tuning steps
    return ShardRunner(spec, DATA, settings, seed=2022, sims_per_shard=SIMS)


def status_of(runner):
    table = runner.run(0)
    summary = summarise(table)
    return sbc_status({"summary": summary, "simulations": table}, {}), summary


def test_matched_priors_pass(runner):
    status, summary = status_of(runner)
    assert status.status == "PASS", status.reasons
    assert summary["ecdf_p_holm"].min() > 0.05


def test_simulating_tau_from_a_wider_prior_fails(runner):
    status, summary = status_of(runner.simulating_from({"tau": {"dist": "HalfNormal", "sigma": 3.0}}))
    assert status.status == "FAIL", status.reasons
    assert any("ranks of tau are not uniform" in reason for reason in status.reasons)
    tau = summary.set_index("quantity").loc["tau"]
    assert tau["z_mean"] < 0  # the fitted posterior of tau sits below the truth
