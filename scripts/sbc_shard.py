"""Rule sbc_shard: run one shard of SBC simulations for one model (compiled once)."""

import pandas as pd

from binoval.logs import log_to
from binoval.models import GroupedCounts, ModelSpec
from binoval.sbc.shard import ShardRunner, sbc_sampler_settings
from binoval.schemas import BinomialData, SbcPredictive, SbcSimulations, read_table, write_table

log = log_to(snakemake.log[0])
p = snakemake.params
data = GroupedCounts.from_frame(read_table(snakemake.input.data, BinomialData))
spec = ModelSpec(**p.model)
settings = sbc_sampler_settings(p.sampler, p.sbc["sampler"])
runner = ShardRunner(
    spec,
    data,
    settings,
    p.seed,
    p.sbc["sims_per_shard"],
    simulate_priors=p.sbc["simulate_priors"],
    thin=p.sbc["thin"],
    min_ranks=p.sbc["min_ranks"],
    extend_factor=p.sbc["extend_factor"],
    threads=snakemake.threads,
)
log.info(
    "sbc %s: compiled in %.1f s; %d test quantities; sampler %s",
    spec.model_id,
    runner.compile_time_s,
    len(runner.quantities),
    settings,
)
table = runner.run(int(snakemake.wildcards.shard))
predictive = pd.concat(runner.predictive, ignore_index=True) if runner.predictive else SbcPredictive.empty()
write_table(predictive, snakemake.output.predictive, SbcPredictive)
write_table(table, snakemake.output.table, SbcSimulations)
