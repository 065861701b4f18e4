"""Workflow test: fit -> loo -> compare -> verdict -> report on hospital12 with two tiny models,
then threshold-only reruns, fail_on_reject, and the Snakemake HTML report in a headless browser."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import run_snakemake

from binoval.loo.psis import k_threshold, task_table
from binoval.schemas import Comparison, LooTable, read_table
from binoval.verdict.verdict import validate_verdict

pytestmark = pytest.mark.workflow

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
    # 2 x 150 draws are short of the fit check's 100 bulk and tail ESS per chain for most models: the fit stage
    # extends them (config fit.max_extensions, default 2) and stores 150 per chain, as a user's run would
    "sampler": {"chains": 2, "draws": 150, "tune": 150},
    "models": MODELS,
    "readout": {"new_group_n": 50, "compare_groups": [["8", "4"]]},
    "prior_predictive": {"draws": 3000},
    "sbc": {
        "simulations": 2,
        "sims_per_shard": 2,
        "sampler": {"chains": 2, "draws": 100, "tune": 100},
        "min_ranks": 20,
    },
    "posterior_sbc": {"enabled": False},  # tested in test_posterior_sbc_workflow.py
    "sensitivity": {"enabled": False},
}


def _snakemake(workdir: Path, *args: str, extra: dict | None = None) -> subprocess.CompletedProcess:
    return run_snakemake(workdir, dict(CONFIG, **(extra or {})), *args, check=False)


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
        assert list(dict.fromkeys(table["task"])) == ["new_groups", "same_groups", "conditional"]
        assert len(task_table(table, "new_groups")) == 12 and table["total_draws"].iloc[0] == 300
        assert task_table(table, "same_groups")["units"].sum() == table.drop_duplicates("group")["n"].sum()
        # reloo is on by default: no PSIS estimate of a compared task keeps a high Pareto k
        compared = table[table["task"] != "conditional"]
        assert not ((compared["loo_method"] == "psis") & (compared["pareto_k"] > k_threshold(300))).any()
    comparison = read_table(out / "compare.parquet", Comparison)
    assert set(comparison["task"]) == {"new_groups", "same_groups"}
    for task in ("new_groups", "same_groups"):
        part = comparison[(comparison["task"] == task) & (comparison["criterion"] == "loo")].set_index("model_id")
        assert sorted(part.index) == sorted(ids)
        assert part["weight"].sum() == pytest.approx(1.0, abs=1e-6)
        assert part.loc["bb_mixture_k1", "k_selected"]
    verdict = json.loads((out / "verdict.json").read_text())
    validate_verdict(verdict)
    assert set(verdict["models"]) == set(ids)
    for model in verdict["models"].values():
        assert set(model["stages"]) == {"prior_predictive", "sbc", "fit", "ppc", "loo"}
    # the recommendation is exercised: some model is accepted (both fit and judge well on hospital12)
    assert verdict["overall"] == "ACCEPT" and verdict["recommended_model"] in ids
    notes = json.loads((out / "verdict_notes.json").read_text())
    assert "new_groups task" in json.dumps(notes)


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
    for name in ("comparison", "pareto_k", "shrinkage", "membership"):
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


#: Eight groups near 10% and one far out at 90%: leaving the outlier out moves hier_logit's population a lot,
#: so its new-groups PSIS estimate has a high Pareto k whatever the seed.
OUTLIER_DATA = (
    "group,n,r\n" + "".join(f"g{i},100,{r}\n" for i, r in enumerate([8, 12, 10, 9, 11, 13, 7, 10])) + "out,200,180\n"
)


@pytest.mark.slow
def test_reloo_budget_refits_the_highest_k_first_and_warns_for_the_rest(tmp_path):
    from binoval.loo.check import loo_status

    (tmp_path / "outlier.csv").write_text(OUTLIER_DATA)
    config = {**CONFIG, "dataset": str(tmp_path / "outlier.csv"), "run": "outlier"}
    config["models"] = {**MODELS, "bb_mixture": {**MODELS["bb_mixture"], "enabled": False}}
    target = "results/outlier/loo/hier_logit.parquet"
    path = tmp_path / target

    run_snakemake(tmp_path, {**config, "loo": {"reloo": False}}, target)
    psis = read_table(path, LooTable)
    compared = psis[psis["task"] != "conditional"]
    high = compared[compared["pareto_k"] > k_threshold(int(psis["total_draws"].iloc[0]))]
    assert (psis["loo_method"] == "psis").all()
    assert ("new_groups", "out", "group") in set(zip(high["task"], high["group"], high["point"]))
    assert loo_status({"loo": psis}).status == "WARN"

    run_snakemake(tmp_path, {**config, "loo": {"reloo": True, "reloo_max_refits": 1}}, target)
    table = read_table(path, LooTable)
    exact = table[table["loo_method"] == "exact"]
    top = high.sort_values("pareto_k").iloc[-1]
    assert list(zip(exact["task"], exact["group"], exact["point"])) == [(top["task"], top["group"], top["point"])]
    rows = task_table(table, top["task"])
    assert rows["elpd_loo"].iloc[0] == pytest.approx((rows["elpd_loo_i"] * rows["units"]).sum())
    # the exact value is below the PSIS one: PSIS is optimistic where k is high
    before = task_table(psis, top["task"]).set_index(["group", "point"]).loc[(top["group"], top["point"]), "elpd_loo_i"]
    assert exact["elpd_loo_i"].iloc[0] < before
    reasons = " ".join(loo_status({"loo": table}).reasons)
    assert ("raise loo.reloo_max_refits" in reasons) == (len(high) > 1)
