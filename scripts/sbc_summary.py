"""Rules sbc_summary and posterior_sbc_summary: pool a model's shards, test the ranks, summarise, plot."""

import pandas as pd

from binoval.logs import log_to
from binoval.sbc.plots import plot_ecdf_difference, plot_rank_histograms
from binoval.sbc.summary import select_simulations, summarise
from binoval.schemas import SbcPredictive, SbcSimulations, SbcSummary, read_table, write_table

log = log_to(snakemake.log[0])
model_id = snakemake.wildcards.model_id
label = snakemake.params.get("label", "SBC")
shards = pd.concat([read_table(path, SbcSimulations) for path in snakemake.input.shards], ignore_index=True)
table = write_table(
    select_simulations(shards, snakemake.params.simulations), snakemake.output.simulations, SbcSimulations
)
if "predictive" in snakemake.output.keys():  # prior SBC: the posterior predictive check of each fit
    predictive = pd.concat([read_table(path, SbcPredictive) for path in snakemake.input.predictive], ignore_index=True)
    predictive = predictive[predictive["simulation"] < snakemake.params.simulations]
    write_table(predictive.sort_values(["simulation"], kind="stable"), snakemake.output.predictive, SbcPredictive)
summary = write_table(summarise(table), snakemake.output.summary, SbcSummary)
title = model_id if label == "SBC" else f"{model_id} ({label})"
plot_ecdf_difference(table, snakemake.output.ecdf, title=title)
plot_rank_histograms(table, snakemake.output.ranks, title=title)
fits = table.drop_duplicates("simulation")
log.info(
    "%s %s: %d simulations, %d failed; smallest Holm-adjusted p %.3g",
    label,
    model_id,
    len(fits),
    int((fits["status"] == "failed").sum()),
    summary[["ecdf_p_holm", "chi2_p_holm"]].min().min(),
)
