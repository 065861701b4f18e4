"""Rule loo: PSIS-LOO and WAIC of one model from its stored log-likelihood (optionally exact refits)."""

import arviz as az

from binoval.defaults import LOO, with_defaults
from binoval.fit.sampler import SamplerSettings
from binoval.logs import log_to
from binoval.loo.psis import exact_loo, flagged_groups, loo_table
from binoval.models import GroupedCounts, ModelSpec
from binoval.schemas import BinomialData, LooTable, read_table, write_table

log = log_to(snakemake.log[0])
data = GroupedCounts.from_frame(read_table(snakemake.input.data, BinomialData))
idata = az.from_netcdf(snakemake.input.idata)
spec = ModelSpec(**snakemake.params.model)
settings = with_defaults(LOO, snakemake.params.loo)
table = loo_table(idata, spec.model_id, data)
flagged = flagged_groups(table)
log.info(
    "%s: elpd_loo %.2f, %d group(s) with high Pareto k: %s",
    spec.model_id,
    table["elpd_loo"].iloc[0],
    len(flagged),
    flagged,
)
if settings["reloo"] and flagged:
    refit = flagged[: settings["reloo_max_groups"]]
    log.info("exact leave-one-group-out refits for %s", refit)
    exact = exact_loo(spec, data, refit, SamplerSettings.from_config(snakemake.params.sampler), snakemake.params.seed)
    table = loo_table(idata, spec.model_id, data, exact=exact)
write_table(table, snakemake.output.loo, LooTable)
