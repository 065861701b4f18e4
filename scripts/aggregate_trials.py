"""Rule aggregate_trials: trial-level records -> one row per group (group, n, r, group_by columns)."""

from binoval.data.trials import aggregate_trials
from binoval.io import atomic_path
from binoval.logs import log_to

log = log_to(snakemake.log[0])
trials = snakemake.params.trials
frame = aggregate_trials(snakemake.input.records, trials["group_by"], trials["success"], trials.get("filter"))
with atomic_path(snakemake.output.csv) as tmp:
    frame.to_csv(tmp, index=False)
log.info("aggregated %d trials into %d groups", frame["n"].sum(), len(frame))
