"""Rule compare: rank all models per task by LOO and WAIC, stacking weights, mixture K choice on evidence."""

import pandas as pd

from binoval.logs import log_to
from binoval.loo.compare import comparison_with_k
from binoval.schemas import Comparison, KEvidence, LooTable, read_table, write_table

log = log_to(snakemake.log[0])
tables = {
    model_id: read_table(path, LooTable) for model_id, path in zip(snakemake.params.model_ids, snakemake.input.loo)
}
evidence = [read_table(path, KEvidence) for path in snakemake.input.evidence]
evidence = pd.concat(evidence, ignore_index=True) if evidence else None
mixtures = {m: tuple(v) for m, v in snakemake.params.mixtures.items()}
comparison = comparison_with_k(tables, mixtures, snakemake.params.tolerance, evidence)
log.info("comparison:\n%s", comparison.to_string())
write_table(comparison, snakemake.output.comparison, Comparison)
