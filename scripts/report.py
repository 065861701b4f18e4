"""Rule report: report.md with the verdict first, then every stage's figures, read-outs and plots."""

import json
from pathlib import Path

from binoval import seeds
from binoval.io import read_fit, write_text
from binoval.logs import log_to
from binoval.models import ModelSpec
from binoval.predictive.levels import with_fail_levels
from binoval.schemas import BinomialData, Comparison, LooTable, PriorPredictiveDraws, SbcPredictive, read_table
from binoval.verdict.calibration import prior_self_rejection, sbc_predictive_rejection
from binoval.verdict.readout import model_readout
from binoval.verdict.report import build_report, stage_plot_paths

log = log_to(snakemake.log[0])
p = snakemake.params
verdict = json.loads(Path(snakemake.input.verdict).read_text())
notes = json.loads(Path(snakemake.input.notes).read_text())
frame = read_table(snakemake.input.data, BinomialData)
loo_tables = {m: read_table(path, LooTable) for m, path in zip(p.model_ids, snakemake.input.loo)}
readouts = {}
for model_id, path in zip(p.model_ids, snakemake.input.fits):
    spec = ModelSpec(model_id, **p.models[model_id])
    idata = read_fit(path, groups=["posterior"])
    if "posterior" not in idata.children or not idata.posterior.sizes.get("draw"):
        log.warning("%s: no posterior draws (failed fit); no read-out", model_id)
        continue
    readouts[model_id] = model_readout(spec, idata, frame, p.readout, seeds.rng(p.seed, "report", model_id))
thresholds = with_fail_levels(p.thresholds, p.false_reject_rate)
calibration = {}
for model_id, draws_path, sbc_path in zip(p.model_ids, snakemake.input.prior_draws, snakemake.input.sbc_predictive):
    prior_draws = read_table(draws_path, PriorPredictiveDraws)
    sbc = read_table(sbc_path, SbcPredictive)
    calibration[model_id] = {
        "prior": prior_self_rejection(prior_draws, thresholds["prior_predictive"]),
        "sbc": sbc_predictive_rejection(sbc, prior_draws, thresholds) if len(sbc) else None,
    }
plot_dir = Path(snakemake.output.plots)
plot_dir.mkdir(parents=True, exist_ok=True)
markdown = build_report(
    verdict,
    notes["reason"],
    read_table(snakemake.input.comparison, Comparison),
    loo_tables,
    readouts,
    snakemake.output.md,
    plot_dir,
    stage_plot_paths(dict(snakemake.input.items())),
    p.readout.get("new_group_n"),
    tolerance=p.tolerance,
    calibration=calibration,
    false_reject_rate=p.false_reject_rate,
)
write_text(markdown, snakemake.output.md)
