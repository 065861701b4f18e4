"""Valid but awkward data: every model runs; problems show as WARN/FAIL, never as crashes."""

import json

import numpy as np
import pytest
from conftest import run_snakemake, tiny_config

pytestmark = pytest.mark.workflow

ALL_MODELS = ("pooled", "unpooled", "hier_logit", "hier_logit_centered", "beta_binomial", "bb_mixture")


def write_csv(path, n, r):
    lines = ["group,n,r"] + [f"g{i:03d},{a},{b}" for i, (a, b) in enumerate(zip(n, r))]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_and_check(tmp_path, csv, models):
    config = tiny_config(models, dataset=str(csv))
    if "bb_mixture" in models:
        config["models"]["bb_mixture"] = {"K": [2]}
    run_snakemake(tmp_path, config)
    results = tmp_path / "results" / "tiny"
    assert (results / "fits").is_dir()
    verdict_path = results / "verdict.json"
    if verdict_path.exists():
        verdict = json.loads(verdict_path.read_text())
        for model_id, entry in verdict["models"].items():
            assert entry["verdict"] in ("ACCEPT", "REJECT")
            for stage in entry["stages"].values():
                assert stage["status"] in ("PASS", "WARN", "FAIL")
                if stage["status"] != "PASS":
                    assert stage["reasons"], f"{model_id}: a {stage['status']} needs reasons"
    return results


def test_mixed_edge_cases_in_one_dataset(tmp_path):
    """Zero-count, all-success and single-trial groups next to a group of 100000 trials."""
    n = [1, 1, 5, 40, 40, 100000, 20, 3]
    r = [0, 1, 5, 0, 40, 5210, 7, 1]
    run_and_check(tmp_path, write_csv(tmp_path / "mixed.csv", n, r), ("pooled", "hier_logit", "bb_mixture"))


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, n, r",
    [
        ("all_zero", [30] * 10, [0] * 10),
        ("all_success", [30] * 10, [30] * 10),
        ("single_trials", [1] * 12, [0, 1] * 6),
        (
            "widely_varying_n",
            [1, 10, 100, 1000, 10000, 100000, 3, 30, 300, 3000],
            [0, 2, 9, 120, 980, 10150, 1, 4, 31, 290],
        ),
    ],
)
def test_edge_dataset_every_model(tmp_path, name, n, r):
    run_and_check(tmp_path, write_csv(tmp_path / f"{name}.csv", n, r), ALL_MODELS)


@pytest.mark.slow
def test_many_groups(tmp_path):
    rng = np.random.default_rng(5)
    n = rng.integers(5, 400, size=240)
    r = rng.binomial(n, rng.beta(2, 20, size=240))
    run_and_check(tmp_path, write_csv(tmp_path / "many.csv", n, r), ALL_MODELS)
