"""Rule prior_predictive: draw datasets from one model's prior; tables of statistics and plots."""

from binoval.logs import log_to
from binoval.models import GroupedCounts, ModelSpec
from binoval.predictive.plots import plot_prior_predictive_groups, plot_statistics
from binoval.predictive.prior import prior_predictive_draws, summarise_prior_predictive
from binoval.schemas import (
    BinomialData,
    PriorPredictiveDraws,
    PriorPredictiveGroups,
    PriorPredictiveSummary,
    read_table,
    write_table,
)

log = log_to(snakemake.log[0])
data = GroupedCounts.from_frame(read_table(snakemake.input.data, BinomialData))
spec = ModelSpec(**snakemake.params.model)
r_draws = prior_predictive_draws(spec, data, snakemake.params.draws, snakemake.params.seed)
tables = summarise_prior_predictive(spec.model_id, data, r_draws)
write_table(tables.draws, snakemake.output.draws, PriorPredictiveDraws)
write_table(tables.groups, snakemake.output.groups, PriorPredictiveGroups)
plot_prior_predictive_groups(tables.groups, tables.summary, snakemake.output.plot_groups)
plot_statistics(
    tables.draws,
    tables.summary,
    snakemake.output.plot_statistics,
    f"{spec.model_id}: prior predictive statistics (red: observed)",
    value_column="quantile",
)
write_table(tables.summary, snakemake.output.summary, PriorPredictiveSummary)
log.info(
    "%s: %d prior predictive draws, %.1f%% degenerate",
    spec.model_id,
    len(r_draws),
    100 * tables.summary["degenerate_share"].iloc[0],
)
