"""Rule sensitivity: power-scaling prior and likelihood sensitivity of one fit; tables and plot (no refits)."""

from binoval.io import read_fit
from binoval.logs import log_to
from binoval.models import GroupedCounts, ModelSpec, build_model
from binoval.predictive.posterior import fit_error
from binoval.schemas import BinomialData, SensitivitySequence, SensitivityTable, read_table, write_table
from binoval.sensitivity.plots import plot_powerscale_sequence
from binoval.sensitivity.powerscale import components, powerscale_sequence, sensitivity_table

log = log_to(snakemake.log[0])
p = snakemake.params
spec = ModelSpec(**p.model)
data = GroupedCounts.from_frame(read_table(snakemake.input.data, BinomialData))
idata = read_fit(snakemake.input.idata)
error = fit_error(idata)
if error:  # nothing to reweight: empty tables; the stage reports the failed fit
    log.warning("%s: the fit failed, no sensitivity: %s", spec.model_id, error)
    table, sequence = SensitivityTable.empty(), SensitivitySequence.empty()
else:
    model = build_model(spec, data)
    densities = components(spec, data, idata, model)  # the fit's log prior group and its log-likelihood
    table = sensitivity_table(spec, data, idata, threshold=p.threshold, model=model, densities=densities)
    sequence = powerscale_sequence(spec, data, idata, model=model, densities=densities)
plot_powerscale_sequence(sequence, snakemake.output.plot, title=f"{spec.model_id}: posterior under power-scaling")
write_table(sequence, snakemake.output.sequence, SensitivitySequence)
write_table(table, snakemake.output.table, SensitivityTable)
log.info("%s:\n%s", spec.model_id, table.to_string())
