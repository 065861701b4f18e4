# binoval: validate hierarchical models of grouped binomial data.
# Run `snakemake --cores N`; see README.md and config/README.md.
import os
import re
import sys

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config", "config.yaml")


include: "workflow/rules/common.smk"


MODEL_SPECS = checked_model_specs(config)
validate(config, "workflow/schemas/config.schema.yaml")
check_dataset(config, MODEL_SPECS)


wildcard_constraints:
    model_id=model_id_pattern(MODEL_SPECS),


include: "workflow/rules/data.smk"
include: "workflow/rules/fit.smk"
include: "workflow/rules/prior_predictive.smk"
include: "workflow/rules/ppc.smk"
include: "workflow/rules/sbc.smk"
include: "workflow/rules/posterior_sbc.smk"
include: "workflow/rules/sensitivity.smk"
include: "workflow/rules/loo.smk"
include: "workflow/rules/verdict.smk"  # keep last: collects every stage's <stage>_tables


rule all:
    default_target: True
    input:
        all_targets(),
