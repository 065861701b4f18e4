"""A main fit that raises: that model's fit stage FAILs with the error, the other models still reach the verdict."""

import json
import os

import pytest
from conftest import run_snakemake, tiny_config

pytestmark = pytest.mark.workflow

SUPPORT = os.path.join(os.path.dirname(os.path.dirname(__file__)), "support", "fail_fit")


def test_failed_fit_is_a_fail_with_its_error_and_the_run_completes(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([SUPPORT, os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("BINOVAL_TEST_FAIL_FIT", "hier_logit")
    config = tiny_config(("pooled", "hier_logit"), data_conditional=True)
    config["sbc"]["simulations"] = 2
    run_snakemake(tmp_path, config)
    verdict = json.loads((tmp_path / "results" / "tiny" / "verdict.json").read_text())
    failed = verdict["models"]["hier_logit"]
    assert failed["verdict"] == "REJECT"
    assert failed["stages"]["fit"]["status"] == "FAIL"
    assert any("injected initialisation failure" in reason for reason in failed["stages"]["fit"]["reasons"])
    assert failed["stages"]["sbc"]["status"] in ("PASS", "WARN", "FAIL")  # SBC does not use the main fit
    posterior_sbc = failed["stages"]["posterior_sbc"]  # reference draws come from the failed fit
    assert posterior_sbc["status"] == "FAIL"
    assert any("the observed fit failed" in reason for reason in posterior_sbc["reasons"])
    assert failed["stages"]["sensitivity"]["status"] == "FAIL"
    assert set(verdict["models"]) == {"pooled", "hier_logit"}
    pooled = verdict["models"]["pooled"]["stages"]
    assert set(pooled) == {"prior_predictive", "sbc", "fit", "ppc", "posterior_sbc", "sensitivity", "loo"}
    assert not any("injected" in reason for stage in pooled.values() for reason in stage["reasons"])
    assert any("the fit produced no draws" in reason for reason in failed["stages"]["loo"]["reasons"])
    assert verdict["recommended_model"] != "hier_logit"
