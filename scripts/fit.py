"""Rule fit: fit one model to the observed data; write InferenceData and diagnostics."""

from binoval.fit.sampler import SamplerSettings
from binoval.fit.stage import fit_model
from binoval.io import write_netcdf
from binoval.logs import log_to
from binoval.models import GroupedCounts, ModelSpec
from binoval.schemas import BinomialData, ParameterDiagnostics, SamplerDiagnostics, read_table, write_table

log = log_to(snakemake.log[0])
data = GroupedCounts.from_frame(read_table(snakemake.input.data, BinomialData))
spec = ModelSpec(**snakemake.params.model)
settings = SamplerSettings.from_config(snakemake.params.sampler)
outputs = fit_model(
    spec,
    data,
    settings,
    snakemake.params.seed,
    threads=snakemake.threads,
    extension=snakemake.params.extension,
    thresholds=snakemake.params.targets,
)
write_table(outputs.parameters, snakemake.output.parameters, ParameterDiagnostics)
write_table(outputs.sampler, snakemake.output.sampler, SamplerDiagnostics)
write_netcdf(outputs.idata, snakemake.output.idata)
