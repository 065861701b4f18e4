"""Rule verdict: judge every stage of every model, accept/reject, recommend; print the summary."""

import sys

from binoval.io import write_json, write_text
from binoval.logs import log_to
from binoval.models import ModelSpec, family_of
from binoval.predictive.levels import with_fail_levels
from binoval.schemas import BinomialData, read_table
from binoval.verdict.report import verdict_rst
from binoval.verdict.verdict import (
    build_verdict,
    judge_model,
    read_stage_tables,
    report_path,
    stage_table_paths,
    summary_text,
)

log = log_to(snakemake.log[0])
p = snakemake.params
groups = len(read_table(snakemake.input.data, BinomialData))
layout = stage_table_paths(dict(snakemake.input.items()))
thresholds = with_fail_levels(p.thresholds, p.false_reject_rate)
stage_results = {
    model_id: judge_model(
        {stage: read_stage_tables(stage, layout[stage][model_id]) for stage in layout},
        thresholds,
    )
    for model_id in p.models
}
loo_tables = {m: read_stage_tables("loo", keys)["loo"] for m, keys in layout.get("loo", {}).items()}
specs = {m: ModelSpec(m, **s) for m, s in p.models.items()}
complexity = {m: family_of(spec).population_parameters(groups, **spec.options) for m, spec in specs.items()}
verdict, recommendation = build_verdict(p.run, str(p.dataset), stage_results, loo_tables, complexity, p.tolerance)
report_md = report_path(snakemake.output.verdict)
summary = summary_text(verdict, recommendation.reason, report_md)
write_json(verdict, snakemake.output.verdict)
write_json({"recommended_model": recommendation.model_id, "reason": recommendation.reason}, snakemake.output.notes)
write_text(summary, snakemake.output.summary)
write_text(verdict_rst(verdict, recommendation.reason, report_md), snakemake.output.rst)
log.info("verdict:\n%s", summary)
print("\n" + summary, file=sys.__stdout__, flush=True)
