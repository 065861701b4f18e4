"""Rule posterior_sbc_shard: one shard of posterior SBC for one model (compiled once; reference draws from the fit)."""

from binoval.io import read_fit
from binoval.logs import log_to
from binoval.models import GroupedCounts, ModelSpec
from binoval.predictive.posterior import fit_error
from binoval.sbc.posterior import PosteriorShardRunner, effective_draws_per_draw
from binoval.sbc.shard import sbc_sampler_settings
from binoval.schemas import (
    BinomialData,
    ParameterDiagnostics,
    SamplerDiagnostics,
    SbcSimulations,
    read_table,
    write_table,
)

log = log_to(snakemake.log[0])
p = snakemake.params
data = GroupedCounts.from_frame(read_table(snakemake.input.data, BinomialData))
idata = read_fit(snakemake.input.idata)
error = fit_error(idata)
runner = PosteriorShardRunner(
    ModelSpec(**p.model),
    data,
    sbc_sampler_settings(p.sampler, p.sbc["sampler"]),
    p.seed,
    p.sbc["sims_per_shard"],
    thin=p.sbc["thin"],
    min_ranks=p.sbc["min_ranks"],
    extend_factor=p.sbc["extend_factor"],
    threads=snakemake.threads,
    max_group_quantities=p.sbc["max_group_quantities"],
    posterior=None if error else idata.posterior.to_dataset(),
    fit_error=error,
    reference_rates=effective_draws_per_draw(
        read_table(snakemake.input.parameters, ParameterDiagnostics),
        read_table(snakemake.input.sampler, SamplerDiagnostics),
    ),
)
log.info("posterior_sbc %s: compiled in %.1f s", runner.spec.model_id, runner.compile_time_s)
write_table(runner.run(int(snakemake.wildcards.shard)), snakemake.output.table, SbcSimulations)
