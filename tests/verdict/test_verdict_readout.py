"""Unit tests of binoval.verdict.verdict, binoval.verdict.readout and binoval.verdict.report on synthetic tables and draws."""

from __future__ import annotations

import json

import arviz as az
import jsonschema
import numpy as np
import pandas as pd
import pytest
from conftest import evidence_of, fit_tables_of, loo_table_of
from scipy import special, stats

from binoval.models import FAMILIES, GroupedCounts, ModelSpec, family_of
from binoval.verdict.readout import (
    interval_summary,
    membership,
    membership_accuracy,
    model_readout,
    new_group_predictive,
    pair_probabilities,
    true_cluster_ranks,
)
from binoval.verdict.report import build_report, verdict_rst
from binoval.verdict.status import StageResult
from binoval.verdict.verdict import (
    build_verdict,
    judge_model,
    judge_stage,
    recommend,
    summary_text,
    validate_verdict,
)


def test_judge_model_uses_registered_status_functions_and_thresholds():
    stages = {"loo": {"loo": loo_table_of("m", np.full(5, -1.0))}, "fit": fit_tables_of(r_hat=1.02)}
    results = judge_model(stages, {"fit": {"r_hat_max": 1.01}})
    assert list(results) == ["fit", "loo"]  # STAGE_ORDER, not insertion order
    assert results["fit"].status == "FAIL" and "R-hat of mu is 1.020" in results["fit"].reasons[0]
    assert results["loo"].status == "PASS"
    relaxed = judge_model(stages, {"fit": {"r_hat_max": 1.05}})
    assert relaxed["fit"].status == "PASS"


def test_a_stage_that_cannot_be_judged_fails():
    result = judge_stage("fit", {"parameters": pd.DataFrame()}, {})  # missing 'sampler' table
    assert result.status == "FAIL" and "could not be evaluated" in result.reasons[0]
    result = judge_stage("no_such_stage", {}, {})
    assert result.status == "FAIL"


def _results(**statuses):
    out = {}
    for model, status in statuses.items():
        r = StageResult()
        if status == "FAIL":
            r.fail(f"{model} broke")
        elif status == "WARN":
            r.warn(f"{model} wobbled")
        out[model] = {"fit": r}
    return out


def test_verdict_accepts_unless_a_stage_fails_and_recommends_best_accepted():
    base = np.random.default_rng(0).normal(-2, 0.5, 20)
    loo = {"a": loo_table_of("a", base), "b": loo_table_of("b", base - 1.0), "c": loo_table_of("c", base + 0.5)}
    complexity = {"a": 2, "b": 2, "c": 2}
    verdict, rec = build_verdict("run", "ds", _results(a="WARN", b="PASS", c="FAIL"), loo, complexity)
    assert [verdict["models"][m]["verdict"] for m in "abc"] == ["ACCEPT", "ACCEPT", "REJECT"]
    assert verdict["overall"] == "ACCEPT"
    assert verdict["recommended_model"] == "a"  # c is better but rejected; a beats b by 20 elpd
    assert set(verdict) == {"run", "dataset", "overall", "recommended_model", "models"}
    assert set(verdict["models"]["a"]) == {"verdict", "stages"}
    json.dumps(verdict)


def _two_models(base, **statuses):
    """The verdict of models a (1 parameter) and b (2) with the same pointwise elpd ``base`` and these fit statuses."""
    loo = {m: loo_table_of(m, base) for m in statuses}
    return build_verdict("r", "d", _results(**statuses), loo, {"a": 1, "b": 2})


def test_verdict_rejects_when_every_model_fails():
    base = np.full(5, -1.0)
    verdict, rec = _two_models(base, a="FAIL", b="FAIL")
    assert verdict["overall"] == "REJECT" and verdict["recommended_model"] is None
    assert rec.reason == "no model was accepted"


def test_simplicity_rule_prefers_simpler_model_within_tolerance():
    base = np.random.default_rng(1).normal(-2, 0.5, 20)
    loo = {"simple": loo_table_of("simple", base - 0.05), "complex": loo_table_of("complex", base)}
    rec = recommend(["simple", "complex"], loo, {"simple": 1, "complex": 5})
    assert rec.model_id == "simple" and "simplest accepted model" in rec.reason
    # far outside tolerance: the better model wins despite complexity
    loo["simple"] = loo_table_of("simple", base - 0.5)
    rec = recommend(["simple", "complex"], loo, {"simple": 1, "complex": 5})
    assert rec.model_id == "complex"
    # a zero tolerance: only the best is a candidate
    loo["simple"] = loo_table_of("simple", base - 0.05)
    assert (
        recommend(
            ["simple", "complex"], loo, {"simple": 1, "complex": 5}, {"elpd_tolerance": 0, "p_worse_max": 0}
        ).model_id
        == "complex"
    )


def test_recommendation_is_made_on_the_configured_task_and_says_so():
    """Models ranked on new groups and on new trials of the same groups can disagree; ``compare.task`` decides."""
    import pandas as pd

    base = np.random.default_rng(2).normal(-2, 0.5, 20)
    trials = np.random.default_rng(3).normal(-0.5, 0.1, 6)
    loo = {
        "a": pd.concat([loo_table_of("a", base), loo_table_of("a", trials - 1.0, task="same_groups", units=[50] * 6)]),
        "b": pd.concat(
            [loo_table_of("b", base - 10.0 / 20), loo_table_of("b", trials, task="same_groups", units=[50] * 6)]
        ),
    }
    tolerance = {"elpd_tolerance": 0, "p_worse_max": 0}
    rec = recommend(["a", "b"], loo, {"a": 2, "b": 2}, tolerance)
    assert rec.model_id == "a" and "on the new_groups task" in rec.reason
    rec = recommend(["a", "b"], loo, {"a": 2, "b": 2}, {**tolerance, "task": "same_groups"})
    assert rec.model_id == "b" and "on the same_groups task" in rec.reason
    # a model without the task is no candidate on it
    rec = recommend(["a", "b"], {"a": loo["a"], "b": loo["b"][loo["b"]["task"] == "same_groups"]}, {"a": 2, "b": 2})
    assert rec.model_id == "a"


def test_verdict_schema_rejects_extra_or_wrong_fields():
    good = {
        "run": "r",
        "dataset": "d",
        "overall": "ACCEPT",
        "recommended_model": "a",
        "models": {"a": {"verdict": "ACCEPT", "stages": {"fit": {"status": "PASS", "reasons": []}}}},
    }
    validate_verdict(good)
    for broken in (
        {**good, "extra": 1},
        {**good, "overall": "MAYBE"},
        {**good, "recommended_model": "zzz"},
        {**good, "overall": "REJECT"},
        {**good, "models": {"a": {"verdict": "ACCEPT", "stages": {"fitting": {"status": "PASS", "reasons": []}}}}},
        {**good, "models": {"a": {"verdict": "ACCEPT", "stages": {"fit": {"status": "OK", "reasons": []}}}}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            validate_verdict(broken)


def test_summary_and_rst_show_failing_reasons():
    base = np.full(6, -1.0) + np.arange(6) * 0.1
    verdict, rec = _two_models(base, a="PASS", b="FAIL")
    text = summary_text(verdict, rec.reason, "results/r/report.md")
    assert "fit: b broke" in text and "recommended model: a" in text and "report: results/r/report.md" in text
    rst = verdict_rst(verdict, rec.reason, "results/r/report.md")
    assert ".. list-table::" in rst and "fit: b broke" in rst
    import docutils.core

    html = docutils.core.publish_parts(rst, writer="html")["body"]
    assert "<table" in html and "REJECT" in html


# -- read-outs ---------------------------------------------------------------------------------


def _mixture_posterior(w, mu, kappa, draws=200):
    K = len(w)

    def rep(a):
        return np.broadcast_to(np.asarray(a, dtype=float), (1, draws, K)).copy()

    return az.from_dict(
        {"posterior": {"w": rep(w), "mu": rep(mu), "kappa": rep(kappa)}},
        coords={"cluster": list(range(1, K + 1))},
        dims={"w": ["cluster"], "mu": ["cluster"], "kappa": ["cluster"]},
    )


def _membership(idata, data):
    """The membership table of a mixture fit: its family's membership draws, summarised."""
    return membership(FAMILIES["bb_mixture"].membership_draws(idata, data), data)


def test_membership_probabilities_match_bayes_rule_and_recover_simulated_clusters():
    rng = np.random.default_rng(4)
    w, mu, kappa = [0.5, 0.5], [0.1, 0.6], [50.0, 50.0]
    truth_label = np.array(["hi", "lo"])[rng.integers(0, 2, 40)]  # arbitrary labels, not ordered
    n = rng.integers(50, 200, 40)
    p = np.where(truth_label == "lo", rng.beta(5, 45, 40), rng.beta(30, 20, 40))
    r = rng.binomial(n, p)
    frame = pd.DataFrame({"group": [f"g{i}" for i in range(40)], "n": n, "r": r, "true_cluster": truth_label})
    data = GroupedCounts.from_frame(frame)
    idata = _mixture_posterior(w, mu, kappa)
    member = _membership(idata, data)
    # Bayes' rule by hand for the first group
    a = np.array(mu) * kappa
    b = (1 - np.array(mu)) * np.array(kappa)
    like = np.array(w) * stats.betabinom.pmf(r[0], n[0], a, b)
    assert member.loc[0, ["p_cluster_1", "p_cluster_2"]].to_numpy() == pytest.approx(like / like.sum())
    ranks = true_cluster_ranks(frame)
    assert set(ranks[frame["true_cluster"] == "lo"]) == {1}
    confusion, accuracy = membership_accuracy(member, ranks)
    assert accuracy == 1.0 and confusion.to_numpy().trace() == 40
    # identical clusters carry no information: probabilities 1/2, everything in cluster 1
    flat = _membership(_mixture_posterior([0.5, 0.5], [0.3, 0.3], [50, 50]), data)
    assert np.allclose(flat[["p_cluster_1", "p_cluster_2"]], 0.5)
    _, chance = membership_accuracy(flat, ranks)
    assert chance == pytest.approx((truth_label == "lo").mean())


def test_model_readout_mixture_includes_confusion_when_truth_present():
    frame = pd.DataFrame(
        {"group": ["a", "b", "c", "d"], "n": [100, 100, 100, 100], "r": [5, 8, 60, 55], "true_cluster": [2, 2, 1, 1]}
    )
    out = model_readout(
        ModelSpec("m", "bb_mixture", {}, {"K": 2}),
        _mixture_posterior([0.5, 0.5], [0.06, 0.6], [80, 80]),
        frame,
        {"compare_groups": [["c", "a"]]},
        np.random.default_rng(0),
    )
    assert out["accuracy"] == 1.0
    assert list(out["membership"]["most_likely"]) == [1, 1, 2, 2]
    assert out["pairs"].iloc[0]["p_greater"] > 0.99
    assert out["clusters"]["mu_mean"].tolist() == pytest.approx([0.06, 0.6])
    shrink = out["shrinkage"].set_index("group")
    assert shrink.loc["a", "posterior_mean"] == pytest.approx((0.06 * 80 + 5) / (80 + 100), abs=0.01)


def _new_group(spec, idata, n, rng):
    """The new-group predictive read-out from the family's population rate draws."""
    return new_group_predictive(family_of(spec).population_rate_draws(spec, idata, rng), n, rng)


def test_icc_and_new_group_predictive():
    tau = np.full((1, 500), 1.0)
    idata = az.from_dict({"posterior": {"mu": np.full((1, 500), special.logit(0.2)), "tau": tau}})
    value = interval_summary(FAMILIES["hier_logit"].derived_draws(idata)["icc"])
    assert value["mean"] == pytest.approx(1 / (1 + np.pi**2 / 3))
    pooled = az.from_dict({"posterior": {"p": np.full((1, 4000), 0.2)}})
    g = _new_group(ModelSpec("p", "pooled", {}, {}), pooled, 50, np.random.default_rng(0))
    assert g["r_mean"] == pytest.approx(10, abs=0.3) and g["p_zero"] == pytest.approx(0.8**50, abs=0.01)
    wide = _new_group(ModelSpec("h", "hier_logit", {}, {}), idata, 50, np.random.default_rng(0))
    assert wide["r_q95"] - wide["r_q05"] > g["r_q95"] - g["r_q05"]  # population spread widens the prediction


def test_pair_probabilities_and_unknown_group():
    rates = np.column_stack([np.linspace(0, 1, 100), np.full(100, 0.25)])
    pairs = pair_probabilities(rates, ["x", "y"], [["x", "y"]])
    assert pairs.iloc[0]["p_greater"] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="readout.compare_groups"):
        pair_probabilities(rates, ["x", "y"], [["x", "z"]])


def test_build_report_puts_verdict_first_and_embeds_registered_stage_plots(tmp_path):
    base = np.random.default_rng(2).normal(-2, 0.3, 4)
    loo = {"m1": loo_table_of("m1", base), "m2": loo_table_of("m2", base - 0.2)}
    verdict, rec = build_verdict("r", "d", _results(m1="PASS", m2="FAIL"), loo, {"m1": 1, "m2": 2})
    from binoval.loo.compare import comparison_with_k

    comparison = comparison_with_k(loo, {})
    plot = tmp_path / "ppc_m1.png"
    plot.write_bytes(b"\x89PNG")
    md = build_report(
        verdict,
        rec.reason,
        comparison,
        loo,
        {},
        tmp_path / "report.md",
        tmp_path / "report",
        stage_plots={"fit": {"m1": [str(plot)]}},
    )
    assert md.index("## Verdict") < md.index("## Model comparison") < md.index("## Stages")
    # the verdict table holds the statuses; the failing reason is listed under its model right below the table
    row, findings = "| m2 | REJECT | FAIL |", "- **m2**: REJECT"
    assert row in md.splitlines()
    assert md.index(row) < md.index(findings) < md.index("## Model comparison")
    assert md[md.index(findings) :].splitlines()[1] == "  - FAIL fit: m2 broke"
    assert "![fit m1](ppc_m1.png)" in md
    assert (tmp_path / "report" / "comparison.png").stat().st_size > 1000


def test_stage_tables_are_validated_on_read(tmp_path):
    from binoval.verdict.verdict import read_stage_tables

    good = loo_table_of("m", np.full(4, -1.0))
    good.to_parquet(tmp_path / "good.parquet")
    assert len(read_stage_tables("loo", {"loo": str(tmp_path / "good.parquet")})["loo"]) == 4
    good.drop(columns=["pareto_k"]).to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(ValueError, match=r"bad\.parquet: column 'pareto_k' is missing"):
        read_stage_tables("loo", {"loo": str(tmp_path / "bad.parquet")})


def test_equally_simple_candidates_are_ranked_by_elpd():
    base = np.random.default_rng(3).normal(-2, 0.5, 20)
    loo = {"a": loo_table_of("a", base - 0.1), "b": loo_table_of("b", base), "c": loo_table_of("c", base - 0.05)}
    loo["a"]["p_loo"] = 0.1  # a tiny p_loo does not make a model simpler
    rec = recommend(["a", "b", "c"], loo, {"a": 2, "b": 2, "c": 2})
    assert rec.model_id == "b"


@pytest.mark.slow
def test_mixture_membership_recovers_simulated_clusters_from_a_real_fit():
    """Simulate 30 groups from 3 well-separated beta-binomial clusters, fit bb_mixture K=3, read membership."""
    from binoval.fit.sampler import SamplerSettings
    from binoval.fit.stage import fit_model
    from binoval.models import expand_models

    rng = np.random.default_rng(11)
    labels = np.repeat(["c", "a", "b"], 10)  # labels deliberately not in rate order
    rate = {"c": 0.1, "a": 0.5, "b": 0.85}
    n = rng.integers(80, 200, 30)
    p = np.array([rng.beta(rate[label] * 60, (1 - rate[label]) * 60) for label in labels])
    frame = pd.DataFrame(
        {"group": [f"g{i:02d}" for i in range(30)], "n": n, "r": rng.binomial(n, p), "true_cluster": labels}
    )
    spec = expand_models({"mix": {"family": "bb_mixture", "K": [3]}})["mix_k3"]
    out = fit_model(
        spec,
        GroupedCounts.from_frame(frame),
        SamplerSettings.from_config({"chains": 2, "draws": 500, "tune": 500}),
        seed=3,
    )
    readout = model_readout(spec, out.idata, frame, {}, np.random.default_rng(0))
    assert readout["accuracy"] >= 0.9, readout["confusion"]
    assert readout["clusters"]["mu_mean"].to_numpy() == pytest.approx([0.1, 0.5, 0.85], abs=0.08)


def test_verdict_rst_survives_markup_in_ids_and_reasons():
    import docutils.core

    r = StageResult()
    r.fail("R-hat of p[group_1_] is 1.2 > 1.01 *bad* `x` |y|")
    verdict, rec = build_verdict("run_1", "d", {"model_a_": {"fit": r}}, {}, {"model_a_": 1})
    rst = verdict_rst(verdict, rec.reason, "report.md")
    parts = docutils.core.publish_parts(rst, writer="html", settings_overrides={"report_level": 2, "halt_level": 2})
    assert "model_a_" in parts["body"] and "p[group_1_]" in parts["body"] and "*bad*" in parts["body"]


def test_every_stage_has_a_status_function_and_table_schemas():
    """The registry resolves for every stage the verdict knows, so no stage can silently fail to load."""
    import importlib

    from binoval.verdict.verdict import STAGE_CHECKS, STAGE_ORDER, status_function

    assert set(STAGE_CHECKS) == set(STAGE_ORDER)
    for stage in STAGE_ORDER:
        assert callable(status_function(stage))
        assert importlib.import_module(STAGE_CHECKS[stage]).TABLE_SCHEMAS, stage


@pytest.mark.parametrize(
    "value, worse, expected",
    [
        (0.001, "below", "FAIL"),
        (0.03, "below", "WARN"),
        (0.2, "below", "PASS"),
        (0.6, "above", "FAIL"),
        (0.2, "above", "WARN"),
        (0.05, "above", "PASS"),
    ],
)
def test_stage_result_grade_picks_the_worst_threshold_crossed(value, worse, expected):
    fail, warn = (0.01, 0.05) if worse == "below" else (0.5, 0.1)
    result = StageResult()
    result.grade(value, "statistic x", fail, warn, worse=worse)
    assert result.status == expected
    if expected == "PASS":
        assert result.reasons == []
    else:
        crossed = fail if expected == "FAIL" else warn
        sign = "<" if worse == "below" else ">"
        assert result.reasons == [f"{expected}: statistic x {sign} {crossed}"]


def test_report_answers_the_cluster_questions_in_well_formed_tables(tmp_path):
    """The mixture section: P(K >= 2 | data), the chosen K and a table per K whose rows have as many cells as its
    header (a '|' inside a heading must not split a cell), and the P(K | data) plot."""
    import re

    from binoval.loo.compare import comparison_with_k
    from binoval.verdict.report import build_report

    base = np.random.default_rng(4).normal(-2, 0.5, 12)
    loo = {"m_k1": loo_table_of("m_k1", base), "m_k2": loo_table_of("m_k2", base - 0.05)}
    evidence = evidence_of("m", {1: [-30.0, -30.1], 2: [-25.0, -25.2]})
    comparison = comparison_with_k(loo, {"m_k1": ("m", 1), "m_k2": ("m", 2)}, evidence=evidence)
    verdict, rec = build_verdict("r", "d", _results(m_k1="PASS", m_k2="PASS"), loo, {"m_k1": 2, "m_k2": 5})
    md = build_report(verdict, rec.reason, comparison, loo, {}, tmp_path / "report.md", tmp_path / "report")
    assert "P(K >= 2 | data) = **0.99**; chosen **K = 2**" in md
    assert (tmp_path / "report" / "k_posterior.png").stat().st_size > 1000
    assert "### new_groups: LOO (drives the recommendation)" in md and "WAIC (drives" not in md
    lines = md.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|") and i + 1 < len(lines) and re.fullmatch(r"\|(---\|)+", lines[i + 1]):
            cells = len(re.split(r"(?<!\\)\|", line))
            j = i + 2
            while j < len(lines) and lines[j].startswith("|"):
                assert len(re.split(r"(?<!\\)\|", lines[j])) == cells, (line, lines[j])
                j += 1
