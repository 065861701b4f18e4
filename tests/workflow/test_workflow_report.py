"""Workflow test: report.md and the Snakemake HTML report show every plot a stage draws, on the shared tiny run."""

from __future__ import annotations

import html
import json
import re

import pytest
from conftest import TINY_RUN_MODELS, run_snakemake

from binoval.verdict.report import STAGE_TITLES

pytestmark = pytest.mark.workflow

#: Stages that draw plots per model, and the directory (under results/<run>/) each writes them to.
PER_MODEL_PLOTS = {"prior_predictive": "prior_predictive", "sbc": "sbc/plots", "ppc": "ppc"}


def _plots(workdir):
    out = workdir / "results" / "tiny"
    return out, sorted(path.relative_to(out).as_posix() for path in out.rglob("*.png"))


def test_report_md_references_every_plot_the_stages_draw(tiny_run):
    workdir, _ = tiny_run
    out, plots = _plots(workdir)
    md = (out / "report.md").read_text()
    for stage, directory in PER_MODEL_PLOTS.items():
        for model_id in TINY_RUN_MODELS:
            drawn = [p for p in plots if p.startswith(f"{directory}/{model_id}_")]
            assert drawn, f"{stage} drew no plot for {model_id}"
            section = md[md.index(f"### {STAGE_TITLES[stage]}\n") :]
            section = section[section.index(f"#### {model_id}: ") :]
            for path in drawn:
                assert f"![{stage} {model_id}]({path})" in section.split("\n### ", 1)[0], path
    unreferenced = [p for p in plots if f"]({p})" not in md]
    assert not unreferenced, f"plots missing from report.md: {unreferenced}"


@pytest.fixture(scope="module")
def html_report(tiny_run, tmp_path_factory):
    """The text of ``snakemake --report`` on the tiny run."""
    workdir, config = tiny_run
    path = tmp_path_factory.mktemp("html_report") / "report.html"
    run_snakemake(workdir, config, "--report", str(path))
    return path.read_text()


def test_html_report_has_a_category_per_stage(tiny_run, html_report):
    workdir, _ = tiny_run
    text = html_report
    categories = json.loads(re.search(r"var categories = (\{.*?\});\n", text).group(1))
    for stage in PER_MODEL_PLOTS:
        assert set(categories[STAGE_TITLES[stage]]) == set(TINY_RUN_MODELS), stage
    assert categories[STAGE_TITLES["loo"]]["all models"], "no LOO plots (comparison, Pareto k)"
    registered = {path for subcategories in categories.values() for paths in subcategories.values() for path in paths}
    _, plots = _plots(workdir)
    missing = [p for p in plots if f"results/tiny/{p}" not in registered]
    assert not missing, f"plots missing from the HTML report: {missing}"


def test_html_front_page_is_the_compact_verdict_with_findings_below(tiny_run, html_report):
    workdir, _ = tiny_run
    verdict = json.loads((workdir / "results" / "tiny" / "verdict.json").read_text())
    front = json.loads(re.search(r"var workflow_desc = (\".*?\");\n", html_report).group(1))
    table = front[front.index("<table") : front.index("</table>")]
    below = front[front.index("</table>") :]
    for model_id, model in verdict["models"].items():
        assert f"<td>{model_id}</td>" in table
        for stage, result in model["stages"].items():
            assert f'<span class="binoval-{result["status"].lower()}">{result["status"]}</span>' in table
            for reason in result["reasons"]:
                finding = reason.startswith(("FAIL: ", "WARN: "))
                text = html.escape(reason.split(": ", 1)[1] if finding else reason, quote=False)
                assert text not in table
                if finding:
                    assert f"{stage}: {text}" in below[below.index(f"<strong>{model_id}</strong>") :]
