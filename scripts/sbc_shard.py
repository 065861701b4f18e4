"""Rule sbc_shard: run one shard of SBC simulations for one model (compiled once)."""

import pandas as pd

from binoval.logs import log_to
from binoval.models import GroupedCounts, ModelSpec
from binoval.sbc.shard import run_shard, sbc_sampler_settings
from binoval.schemas import BinomialData, SbcPredictive, SbcSimulations, read_table, write_table

log = log_to(snakemake.log[0])
p = snakemake.params
data = GroupedCounts.from_frame(read_table(snakemake.input.data, BinomialData))
predictive = []
table = run_shard(
    ModelSpec(**p.model),
    data,
    int(snakemake.wildcards.shard),
    p.sbc["sims_per_shard"],
    sbc_sampler_settings(p.sampler, p.sbc["sampler"]),
    p.seed,
    simulate_priors=p.sbc["simulate_priors"],
    thin=p.sbc["thin"],
    min_ranks=p.sbc["min_ranks"],
    extend_factor=p.sbc["extend_factor"],
    threads=snakemake.threads,
    predictive=predictive,
    max_group_quantities=p.sbc["max_group_quantities"],
)
write_table(
    pd.concat(predictive, ignore_index=True) if predictive else SbcPredictive.empty(),
    snakemake.output.predictive,
    SbcPredictive,
)
write_table(table, snakemake.output.table, SbcSimulations)
