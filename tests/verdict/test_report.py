"""Unit tests of binoval.verdict.report: the compact verdict (report.md top, HTML front page), stage sections with
their plots, and the HTML report categories of the report's own plots."""

from __future__ import annotations

import docutils.core
import numpy as np
import pytest
from conftest import loo_table_of

from binoval.loo.compare import comparison_with_k
from binoval.verdict.report import (
    READOUT_CATEGORY,
    REPORT_PLOTS,
    STAGE_TITLES,
    build_report,
    model_findings,
    report_plot_category,
    report_plot_path,
    verdict_frame,
    verdict_rst,
)
from binoval.verdict.status import StageResult
from binoval.verdict.verdict import STAGE_ORDER, build_verdict

LONG = "R-hat of tau is 1.065, above 1.01, and a great deal more text that would stretch a table cell " * 3


def _stage(fail: str | None = None, warn: str | None = None, note: str = "checked") -> StageResult:
    r = StageResult()
    r.note(note)
    if warn:
        r.warn(warn)
    if fail:
        r.fail(fail)
    return r


@pytest.fixture
def verdict():
    """good passes every stage; shaky warns in sbc and loo; broken fails fit (long reason) and warns in ppc."""
    results = {
        "good": {s: _stage() for s in STAGE_ORDER},
        "shaky": {**{s: _stage() for s in STAGE_ORDER}, "sbc": _stage(warn="ranks lean"), "loo": _stage(warn="high k")},
        "broken": {**{s: _stage() for s in STAGE_ORDER}, "fit": _stage(fail=LONG), "ppc": _stage(warn="coverage low")},
    }
    base = np.random.default_rng(1).normal(-2, 0.3, 5)
    loo = {m: loo_table_of(m, base - i * 0.1) for i, m in enumerate(results)}
    return build_verdict("r", "d", results, loo, {m: 1 for m in results})


def test_every_stage_has_a_title_for_the_reader():
    assert set(STAGE_TITLES) == set(STAGE_ORDER)
    assert len(set(STAGE_TITLES.values())) == len(STAGE_TITLES)


def test_verdict_frame_is_one_short_status_per_stage(verdict):
    document, _ = verdict
    frame = verdict_frame(document)
    assert list(frame.columns) == ["model", "verdict", *(STAGE_TITLES[s] for s in STAGE_ORDER)]
    broken = frame.set_index("model").loc["broken"].tolist()
    assert broken == ["REJECT", "PASS", "PASS", "FAIL", "WARN", "PASS", "PASS", "PASS"]
    assert frame.drop(columns="model").isin(["ACCEPT", "REJECT", "PASS", "WARN", "FAIL", "-"]).all().all()


def test_findings_list_fails_before_warnings_and_leave_out_pass_notes(verdict):
    document, _ = verdict
    assert model_findings(document["models"]["good"]) == []
    assert model_findings(document["models"]["shaky"]) == [("WARN", "sbc: ranks lean"), ("WARN", "loo: high k")]
    assert model_findings(document["models"]["broken"]) == [("FAIL", f"fit: {LONG}"), ("WARN", "ppc: coverage low")]


def test_front_page_is_a_compact_table_then_the_findings_per_model(verdict):
    document, rec = verdict
    rst = verdict_rst(document, rec.reason, "results/r/report.md")
    parts = docutils.core.publish_parts(rst, writer="html", settings_overrides={"report_level": 2, "halt_level": 2})
    body = parts["html_body"]
    table = body[body.index("<table") : body.index("</table>")]
    assert LONG.strip() not in table and "coverage low" not in table
    for model_id in document["models"]:
        assert f"<td>{model_id}</td>" in table
    assert '<span class="binoval-fail">FAIL</span>' in table and '<span class="binoval-reject">REJECT</span>' in table
    # the recommendation and why come before the table; the findings after it, under their model, FAIL first
    assert body.index(f"<strong>{rec.model_id}</strong>") < body.index("<table")
    assert rec.reason in body[: body.index("<table")]
    findings = body[body.index("</table>") :]
    broken = findings.index("<strong>broken</strong>")
    assert findings.index(LONG.strip(), broken) < findings.index("coverage low", broken)
    assert findings.index("<strong>shaky</strong>") < findings.index("ranks lean") < broken
    good = findings[findings.index("<strong>good</strong>") : findings.index("<strong>shaky</strong>")]
    assert "every stage passes" in good


def test_report_md_top_is_compact_and_stage_sections_carry_each_models_plots(verdict, tmp_path):
    document, rec = verdict
    loo = {m: loo_table_of(m, np.full(5, -1.0)) for m in document["models"]}
    plots = {}
    for stage in ("prior_predictive", "sbc", "ppc"):
        plots[stage] = {}
        for model_id in document["models"]:
            path = tmp_path / stage / f"{model_id}_a.png"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(b"\x89PNG")
            plots[stage][model_id] = [str(path)]
    md = build_report(
        document,
        rec.reason,
        comparison_with_k(loo, {}),
        loo,
        {},
        tmp_path / "report.md",
        tmp_path / "report",
        stage_plots=plots,
    )
    top = md[md.index("## Verdict") : md.index("## Model comparison")]
    assert "| broken | REJECT | PASS | PASS | FAIL | WARN | PASS | PASS | PASS |" in top.splitlines()
    assert f"  - FAIL fit: {LONG}" in top.splitlines()
    assert top.index("| broken | REJECT") < top.index(f"FAIL fit: {LONG}")
    stages = md[md.index("## Stages") : md.index("## Population read-out")]
    for stage, title in (("prior_predictive", "prior predictive"), ("sbc", "SBC"), ("ppc", "posterior predictive")):
        section = stages[stages.index(f"### {title}\n") :]
        for model_id in document["models"]:
            heading = section.index(f"#### {model_id}: ")
            assert section.index(f"![{stage} {model_id}]({stage}/{model_id}_a.png)") > heading
    ppc = stages[stages.index("### posterior predictive\n") : stages.index("### LOO\n")]
    assert ppc.index("#### broken: WARN") < ppc.index("- WARN: coverage low") < ppc.index("![ppc broken]")


def test_report_plots_have_a_category_per_stage_or_read_out(tmp_path):
    assert report_plot_path(tmp_path, "comparison") == tmp_path / "comparison.png"
    assert report_plot_path(tmp_path, "shrinkage") == tmp_path / "shrinkage.png"
    assert report_plot_category("comparison") == report_plot_category("pareto_k") == STAGE_TITLES["loo"]
    assert report_plot_category("shrinkage") == report_plot_category("membership") == READOUT_CATEGORY
    assert set(REPORT_PLOTS.values()) - {None} <= set(STAGE_TITLES)
    with pytest.raises(ValueError, match="not a plot"):
        report_plot_category("trace_hier_logit")
    with pytest.raises(ValueError, match="unknown report plot"):
        report_plot_path(tmp_path, "trace")


def test_stage_plot_paths_reads_named_inputs_back_in_drawing_order():
    from binoval.verdict.report import PLOT_KEY, stage_plot_paths
    from binoval.verdict.verdict import table_input_name

    inputs = {
        table_input_name("sbc", "m__1", f"{PLOT_KEY}1"): "sbc/m__1_ranks.png",
        table_input_name("sbc", "m__1", f"{PLOT_KEY}0"): "sbc/m__1_ecdf.png",
        table_input_name("ppc", "m2", f"{PLOT_KEY}0"): "ppc/m2_pit.png",
        "verdict": "verdict.json",
    }
    assert stage_plot_paths(inputs) == {
        "sbc": {"m__1": ["sbc/m__1_ecdf.png", "sbc/m__1_ranks.png"]},
        "ppc": {"m2": ["ppc/m2_pit.png"]},
    }
