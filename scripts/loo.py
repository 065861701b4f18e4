"""Rule loo: each task's PSIS-LOO and WAIC of one model, high-k observations refitted exactly."""

from binoval.defaults import LOO, with_defaults
from binoval.fit.sampler import SamplerSettings
from binoval.io import read_fit
from binoval.logs import log_to
from binoval.loo.kfold import kfold_elpd, kfold_groups, kfold_settings
from binoval.loo.psis import exact_loo, flagged_points, loo_table
from binoval.models import GroupedCounts, ModelSpec
from binoval.schemas import BinomialData, LooTable, read_table, write_table

log = log_to(snakemake.log[0])
data = GroupedCounts.from_frame(read_table(snakemake.input.data, BinomialData))
idata = read_fit(snakemake.input.idata)
spec = ModelSpec(**snakemake.params.model)
settings = with_defaults(LOO, snakemake.params.loo)
sampler = SamplerSettings.from_config(snakemake.params.sampler)
k, by = kfold_settings(settings)
levels = kfold_groups(spec, data, by) if "posterior" in idata.children else None
kfold = None
if levels is not None:
    log.info("%s: new groups by %d-fold cross-validation over %d levels", spec.model_id, k, len(set(levels)))
    kfold = kfold_elpd(spec, data, idata, levels, k, sampler, snakemake.params.seed)
table = loo_table(idata, spec.model_id, data, kfold=kfold)
flagged = flagged_points(table)
log.info("%s: %d point(s) with high Pareto k on the compared tasks: %s", spec.model_id, len(flagged), flagged)
if settings["reloo"] and flagged:
    refit = flagged[: settings["reloo_max_refits"]]
    log.info("exact refits without %s", refit)
    exact = exact_loo(spec, data, refit, sampler, snakemake.params.seed)
    table = loo_table(idata, spec.model_id, data, exact=exact, kfold=kfold)
write_table(table, snakemake.output.loo, LooTable)
