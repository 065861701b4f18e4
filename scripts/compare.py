"""Rule compare: rank all models by LOO and WAIC, stacking weights, mixture K choice."""

from binoval.logs import log_to
from binoval.loo.compare import comparison_with_k
from binoval.schemas import Comparison, LooTable, read_table, write_table

log = log_to(snakemake.log[0])
tables = {
    model_id: read_table(path, LooTable) for model_id, path in zip(snakemake.params.model_ids, snakemake.input.loo)
}
mixtures = {m: tuple(v) for m, v in snakemake.params.mixtures.items()}
comparison = comparison_with_k(tables, mixtures, snakemake.params.tolerance)
log.info("comparison:\n%s", comparison.to_string())
write_table(comparison, snakemake.output.comparison, Comparison)
