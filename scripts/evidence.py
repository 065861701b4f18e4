"""Rule evidence: the SMC log marginal likelihood of one mixture model (one K of a K choice)."""

import numpy as np

from binoval import seeds
from binoval.defaults import COMPARE, with_defaults
from binoval.logs import log_to
from binoval.loo.k_choice import evidence_table, smc_log_marginal_likelihood
from binoval.models import GroupedCounts, ModelSpec
from binoval.schemas import BinomialData, KEvidence, read_table, write_table

log = log_to(snakemake.log[0])
data = GroupedCounts.from_frame(read_table(snakemake.input.data, BinomialData))
spec = ModelSpec(**snakemake.params.model)
config_id, K = snakemake.params.mixture
smc = with_defaults(COMPARE["evidence"], snakemake.params.evidence)
seed = seeds.int_seed(snakemake.params.seed, "evidence", spec.model_id)
try:
    estimates = smc_log_marginal_likelihood(spec, data, smc["draws"], smc["chains"], seed)
except Exception:  # noqa: BLE001 - a failed SMC run leaves this K without evidence; the K choice says so
    log.exception("SMC of %s failed", spec.model_id)
    estimates = np.full(smc["chains"], np.nan)
log.info("%s: log marginal likelihood per SMC chain %s", spec.model_id, estimates)
write_table(evidence_table(spec, config_id, K, estimates, smc["draws"]), snakemake.output.evidence, KEvidence)
