"""Workflow test: fit -> loo -> compare -> verdict -> report on hospital12 with two tiny models,
then threshold-only reruns, fail_on_reject, and the Snakemake HTML report in a headless browser."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from binoval.schemas import Comparison, LooTable, read_table
from binoval.verdict.verdict import validate_verdict

pytestmark = pytest.mark.workflow

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
MODELS = {
    "pooled": {"family": "pooled", "enabled": False},
    "unpooled": {"family": "unpooled", "enabled": False},
    "hier_logit": {"family": "hier_logit", "parameterization": "noncentered"},
    "hier_logit_centered": {"family": "hier_logit", "parameterization": "centered", "enabled": False},
    "beta_binomial": {"family": "beta_binomial", "enabled": False},
    "bb_mixture": {"family": "bb_mixture", "K": [1]},
}
CONFIG = {
    "run": "cmp",
    "sampler": {"chains": 2, "draws": 150, "tune": 150},
    "models": MODELS,
    "readout": {"new_group_n": 50, "compare_groups": [["8", "4"]]},
    "prior_predictive": {"draws": 200},
    "sbc": {
        "simulations": 2,
        "sims_per_shard": 2,
        "sampler": {"chains": 2, "draws": 100, "tune": 100},
        "min_ranks": 20,
    },
}


def _snakemake(workdir: Path, *args: str, extra: dict | None = None) -> subprocess.CompletedProcess:
    config = dict(CONFIG, **(extra or {}))
    (workdir / "cmp.yaml").write_text(yaml.safe_dump(config))
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(REPO / "Snakefile"),
        "-d",
        str(workdir),
        "--cores",
        "1",
        "--configfile",
        str(workdir / "cmp.yaml"),
        *args,
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(command, capture_output=True, text=True, cwd=workdir, env=env)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("compare_workflow")
    result = _snakemake(workdir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return workdir, result


def test_outputs_and_verdict(run):
    workdir, result = run
    out = workdir / "results" / "cmp"
    ids = ["hier_logit", "bb_mixture_k1"]
    for m in ids:
        table = read_table(out / "loo" / f"{m}.parquet", LooTable)
        assert len(table) == 12 and table["total_draws"].iloc[0] == 300
    comparison = read_table(out / "compare.parquet", Comparison)
    assert sorted(comparison["model_id"].unique()) == sorted(ids)
    assert comparison[(comparison["criterion"] == "loo")].set_index("model_id").loc["bb_mixture_k1", "k_selected"]
    verdict = json.loads((out / "verdict.json").read_text())
    validate_verdict(verdict)
    assert set(verdict["models"]) == set(ids)
    for model in verdict["models"].values():
        assert set(model["stages"]) == {"prior_predictive", "sbc", "fit", "ppc", "loo"}
    loo = comparison[comparison["criterion"] == "loo"].set_index("model_id")
    assert loo["weight"].sum() == pytest.approx(1.0, abs=1e-6)
    assert verdict["recommended_model"] in (None, *ids)


def test_the_end_of_the_run_speaks(run):
    workdir, result = run
    assert "binoval verdict for run cmp" in result.stdout
    assert "recommended model:" in result.stdout and "report: results/cmp/report.md" in result.stdout
    for m in ("hier_logit", "bb_mixture_k1"):
        assert m in result.stdout.split("binoval verdict for run cmp", 1)[1]


def test_report_markdown(run):
    workdir, _ = run
    out = workdir / "results" / "cmp"
    md = (out / "report.md").read_text()
    assert md.index("## Verdict") < md.index("## Model comparison") < md.index("## Population read-out")
    assert "ICC (latent scale" in md and "A new group of n = 50" in md and "| 8 | 4 |" in md
    assert "## Mixture read-out" in md
    for name in ("comparison", "pareto_k", "shrinkage_hier_logit", "membership_bb_mixture_k1"):
        path = out / "report" / f"{name}.png"
        assert path.stat().st_size > 2000
        assert f"report/{name}.png" in md


def _planned_rules(workdir: Path, extra: dict) -> set[str]:
    result = _snakemake(workdir, "-n", extra=extra)
    assert result.returncode == 0, result.stderr[-2000:]
    rules = set()
    for line in result.stdout.splitlines():
        line = line.strip()
        if (line.startswith("rule ") or line.startswith("localrule ")) and line.endswith(":"):
            rules.add(line.split()[1].rstrip(":"))
    return rules


def test_threshold_change_reruns_only_the_verdict_and_after(run):
    workdir, _ = run
    planned = _planned_rules(workdir, {"thresholds": {"loo": {"waic_variance_max": 0.9}}})
    assert planned == {"verdict", "report", "check_verdict", "all"}, planned
    planned = _planned_rules(workdir, {"compare": {"elpd_tolerance": 1}})
    assert planned == {"compare", "verdict", "report", "check_verdict", "all"}, planned


@pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("BINOVAL_REQUIRE_CHROMIUM"),
    reason="chromium not installed (CI installs it and sets BINOVAL_REQUIRE_CHROMIUM)",
)
def test_html_report_renders_in_headless_browser(run, tmp_path):
    workdir, _ = run
    result = _snakemake(workdir, "--report", "report.html")
    assert result.returncode == 0, result.stderr[-2000:]
    html = workdir / "report.html"
    flags = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--virtual-time-budget=10000",
        "--window-size=1280,900",
    ]
    shot = tmp_path / "shot.png"
    subprocess.run(
        flags + [f"--user-data-dir={tmp_path / 'profile1'}", f"--screenshot={shot}", html.as_uri()],
        capture_output=True,
        timeout=120,
    )
    from PIL import Image

    image = Image.open(shot).convert("L")
    low, high = image.getextrema()
    assert high - low > 100, "screenshot is blank"
    histogram = image.histogram()
    assert max(histogram) < 0.97 * sum(histogram), "screenshot is (nearly) one colour"
    dom = subprocess.run(
        flags + [f"--user-data-dir={tmp_path / 'profile2'}", "--dump-dom", html.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    verdict = json.loads((workdir / "results" / "cmp" / "verdict.json").read_text())
    # rendered (not JSON-escaped) table cells of the verdict front page
    for model_id in verdict["models"]:
        assert f"<td>{model_id}</td>" in dom
    assert f"overall <strong>{verdict['overall']}</strong>" in dom


def test_fail_on_reject_gates_the_run(run):
    workdir, _ = run
    impossible = {"thresholds": {"fit": {"ess_bulk_min_per_chain": 10**9}}, "fail_on_reject": True}
    result = _snakemake(workdir, extra=impossible)
    assert result.returncode != 0
    verdict = json.loads((workdir / "results" / "cmp" / "verdict.json").read_text())
    assert verdict["overall"] == "REJECT" and verdict["recommended_model"] is None
    assert all("bulk ESS" in " ".join(m["stages"]["fit"]["reasons"]) for m in verdict["models"].values())
    assert (workdir / "results" / "cmp" / "report.md").exists()
    assert "fail_on_reject is true" in result.stdout
    # without the gate the same verdict passes the run
    result = _snakemake(workdir, extra={**impossible, "fail_on_reject": False})
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.slow
def test_reloo_refits_flagged_groups_exactly(run):
    workdir, _ = run
    result = _snakemake(workdir, extra={"loo": {"reloo": True, "reloo_max_groups": 2}})
    assert result.returncode == 0, result.stderr[-3000:]
    table = read_table(workdir / "results" / "cmp" / "loo" / "hier_logit.parquet", LooTable)
    from binoval.loo.psis import k_threshold

    high = table["pareto_k"] > k_threshold(int(table["total_draws"].iloc[0]))
    assert high.sum() >= 1, "no high Pareto k: the case does not exercise the refits"
    assert (table["loo_method"] == "exact").sum() == min(2, int(high.sum()))
    assert set(table.loc[table["loo_method"] == "exact", "group"]) <= set(table.loc[high, "group"])
    assert table["elpd_loo"].iloc[0] == pytest.approx(table["elpd_loo_i"].sum())
