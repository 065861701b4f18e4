"""Rule ppc: posterior predictive check of one fit; tables and plots."""

from binoval.io import read_fit
from binoval.logs import log_to
from binoval.predictive.plots import plot_pit, plot_ppc_groups, plot_statistics
from binoval.predictive.posterior import posterior_predictive_check
from binoval.predictive.primitives import ks_band_halfwidth
from binoval.schemas import PPCCalibration, PPCGroups, PPCStatistics, write_table

log = log_to(snakemake.log[0])
model_id = snakemake.wildcards.model_id
tables = posterior_predictive_check(model_id, read_fit(snakemake.input.idata), snakemake.params.seed)
calibration = tables.calibration.iloc[0]
plot_statistics(
    tables.replicated,
    tables.statistics,
    snakemake.output.plot_statistics,
    f"{model_id}: posterior predictive statistics (red: observed)",
)
plot_ppc_groups(tables.groups, snakemake.output.plot_groups, model_id)
plot_pit(
    tables.groups,
    ks_band_halfwidth(int(calibration["groups"])),
    calibration["pit_ks_pvalue"],
    snakemake.output.plot_pit,
    model_id,
)
write_table(tables.groups, snakemake.output.groups, PPCGroups)
write_table(tables.calibration, snakemake.output.calibration, PPCCalibration)
write_table(tables.statistics, snakemake.output.statistics, PPCStatistics)
log.info("%s: %s", model_id, calibration.to_dict())
