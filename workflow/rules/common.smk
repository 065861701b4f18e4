# Helpers for the rule files; config and data checks, paths, per-rule config slices.
from binoval.config import ConfigError, check_config, load_schema, model_slice
from binoval.data.grouped import DataError, parse_grouped_csv, resolve_dataset, run_name
from binoval.models.formula import FormulaError, check_columns, parse_formula
from binoval.data.trials import check_trial_header
import math
from binoval.defaults import POSTERIOR_SBC, SAMPLER_INHERITED_BY_SBC, SBC, SENSITIVITY, THRESHOLDS, with_defaults
from binoval.loo.tasks import LOG_LIKELIHOOD_VARS
from binoval import resources as job_cost

#: The number of groups of the dataset, counted while planning (check_dataset); job resources are sized by it.
PLANNED_GROUPS = {}
#: Priority of the jobs that take long (SBC shards, and fits, which the posterior SBC shards wait for) over the many
#: short table jobs: the long ones start as soon as they can and the short ones fill the cores at the end, instead of
#: a mixture's shard starting last and running alone (benchmarks/README.md, issue 17 tenth steps). Fits get no more than the shards,
#: so a two-thread fit never takes both cores from shards that could start (issue 17 ninth steps).
LONG_JOB_PRIORITY = 1
#: Groups assumed for resources when trial-level input has not been aggregated yet (the first run).
UNKNOWN_GROUPS = 1000


def checked_model_specs(config):
    """Check the config; on a problem print one line naming the key and stop."""
    schema = os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml")
    try:
        return check_config(config, load_schema(schema))
    except ConfigError as err:
        sys.exit(f"binoval: invalid config: {err}")


def check_dataset(config, specs):
    """Check the dataset (and that model formulas name its columns) before any job runs.

    On a problem print one line naming the file, row and column (or config key) and stop.
    """
    try:
        if config.get("trials"):
            check_trial_header(resolve_dataset(config["dataset"]), config["trials"]["group_by"])
            available = {"group", *config["trials"]["group_by"]}
        else:
            parsed = parse_grouped_csv(resolve_dataset(config["dataset"]), config.get("columns"))
            available = set(parsed)
            PLANNED_GROUPS["groups"] = len(parsed["group"])
        for spec in specs.values():
            if "formula" in spec.options:
                try:
                    check_columns(parse_formula(spec.options["formula"]), available)
                except FormulaError as err:
                    raise DataError(f"config key models.{spec.model_id}.formula: {err}") from None
    except DataError as err:
        sys.exit(f"binoval: invalid data: {err}")


def model_id_pattern(specs):
    """A regex matching exactly the configured model ids (longest first)."""
    return "|".join(sorted(map(re.escape, specs), key=len, reverse=True))


def run_dir():
    return run_name(config["dataset"], config.get("run"))


def results(path):
    """Path of an output under results/<run>/."""
    return f"results/{run_dir()}/{path}"


# Logs and benchmarks of a job share one pattern: <rule>.log / <rule>.tsv for a rule with one job,
# <rule>/<wildcard values joined by />.log / .tsv otherwise (fit/{model_id}, sbc_shard/{model_id}/{shard}).


def logs(path):
    """Path of a log under logs/<run>/ (outside results/, so a failed run writes nothing there)."""
    return f"logs/{run_dir()}/{path}"


def benchmarks(path):
    """Path of a benchmark (Snakemake's timing and memory table of a job) under results/<run>/benchmarks/."""
    return results(f"benchmarks/{path}")


def dataset_source():
    """The dataset file as given: grouped counts, or trial records when `trials` is set."""
    return str(resolve_dataset(config["dataset"]))


def grouped_csv():
    """The grouped CSV that validate_data reads: the dataset itself or the aggregated trials."""
    return results("data/aggregated.csv") if config.get("trials") else dataset_source()


def data_columns():
    """Column mapping for validate_data (aggregated trials already use group, n, r)."""
    return {"group": "group", "n": "n", "r": "r"} if config.get("trials") else config["columns"]


def convergence_targets():
    """The fit rule's slice of thresholds.fit: the R-hat and ESS targets it extends fits to meet."""
    from binoval.fit.check import CONVERGENCE_TARGETS

    fit_thresholds = (config.get("thresholds") or {}).get("fit") or {}
    return {key: fit_thresholds[key] for key in CONVERGENCE_TARGETS if key in fit_thresholds}


def model_params(wildcards):
    """The config slice of one model: its family, priors (merged with defaults) and options."""
    return model_slice(wildcards.model_id, MODEL_SPECS)


def all_targets():
    per_model = [
        results("fits/{model_id}.nc"),
        results("diagnostics/{model_id}_parameters.parquet"),
        results("prior_predictive/{model_id}.parquet"),
        results("ppc/{model_id}.parquet"),
        results("sbc/{model_id}.parquet"),
    ]
    if stage_enabled("posterior_sbc"):
        per_model.append(results("posterior_sbc/{model_id}.parquet"))
    if stage_enabled("sensitivity"):
        per_model.append(results("sensitivity/{model_id}.parquet"))
    return expand(per_model, model_id=list(MODEL_SPECS)) + [
        results("verdict.json"),
        results("report.md"),
        results("verdict.checked"),
    ]


#: Stages a config may leave out (`<stage>.enabled: false`), with the defaults of their sections.
OPTIONAL_STAGES = {"posterior_sbc": POSTERIOR_SBC, "sensitivity": SENSITIVITY}


def stage_enabled(stage):
    """False only for an optional stage whose config section says `enabled: false`."""
    if stage not in OPTIONAL_STAGES:
        return True
    return bool(with_defaults(OPTIONAL_STAGES[stage], config.get(stage))["enabled"])


def registered_plots(rule, model_id):
    """One model's outputs of ``rule`` (a ``rules.<name>`` proxy) that are marked with report(): the stage's plots.

    The proxy's ``output`` drops the flags, the rule's own keeps them (with wildcard constraints); same order.
    """
    from snakemake.io import is_flagged

    marked = [is_flagged(path, "report") for path in rule.rule.output]
    return [expand(path, model_id=model_id)[0] for path, plot in zip(rule.output, marked) if plot]


# Tables each stage's status is computed from at verdict time (keys as in binoval.<stage package>.check).


def fit_tables(model_id):
    """Tables the fit status needs (keys of checks.fit.fit_status)."""
    return {
        "parameters": results(f"diagnostics/{model_id}_parameters.parquet"),
        "sampler": results(f"diagnostics/{model_id}_sampler.parquet"),
    }


def prior_predictive_tables(model_id):
    """Tables the prior predictive status needs (keys of checks.predictive.prior_predictive_status)."""
    return {
        "prior_predictive": results(f"prior_predictive/{model_id}.parquet"),
        "draws": results(f"prior_predictive/{model_id}_draws.parquet"),
    }


def prior_predictive_plots(model_id):
    """The prior predictive plots of one model for report.md: the outputs rule prior_predictive marks with report()."""
    return registered_plots(rules.prior_predictive, model_id)


def ppc_tables(model_id):
    """Tables the ppc status needs (keys of checks.predictive.ppc_status)."""
    return {
        "ppc": results(f"ppc/{model_id}.parquet"),
        "ppc_groups": results(f"ppc/{model_id}_groups.parquet"),
        "ppc_calibration": results(f"ppc/{model_id}_calibration.parquet"),
    }


def ppc_plots(model_id):
    """The posterior predictive plots of one model for report.md: the outputs rule ppc marks with report()."""
    return registered_plots(rules.ppc, model_id)


# SBC: settings and shard count (sbc.smk).


def data_groups():
    """The dataset's groups: counted while planning, or for trial-level input the rows of a previous run's
    aggregation, else UNKNOWN_GROUPS."""
    if "groups" not in PLANNED_GROUPS:
        aggregated = grouped_csv()
        PLANNED_GROUPS["groups"] = UNKNOWN_GROUPS
        if config.get("trials") and os.path.exists(aggregated):
            with open(aggregated) as rows:
                PLANNED_GROUPS["groups"] = sum(1 for _ in rows) - 1  # less the header
    return PLANNED_GROUPS["groups"]


def sharding_groups():
    """The groups `sims_per_shard: auto` sizes SBC shards by: the dataset's, counted while planning; for trial-level
    input always UNKNOWN_GROUPS, also once aggregated, so that every run plans the same shards as the first."""
    return UNKNOWN_GROUPS if config.get("trials") else data_groups()


def shard_size(section):
    """Simulations per shard of an SBC config section (`sims_per_shard`, `auto` resolved by binoval.resources)."""
    return job_cost.sims_per_shard(section["sims_per_shard"], sharding_groups())


def fit_threads():
    """Threads of a fit job: one per chain when the data are large enough for sampling to outweigh compiling."""
    return job_cost.fit_threads(data_groups(), int(config["sampler"]["chains"]))


def memory_of(rule_name):
    """The mem_mb of a job of rule_name, sized by the data's groups (binoval.resources); more on a retry."""
    return lambda wildcards, attempt: job_cost.mem_mb(rule_name, data_groups(), attempt)


def runtime_of(rule_name, simulations=1):
    """The runtime (minutes) of a job of rule_name (binoval.resources); SBC shards by their simulations."""
    return lambda wildcards, attempt: job_cost.runtime_min(rule_name, data_groups(), simulations, attempt)


def sbc_config():
    """The `sbc` config section over its defaults (binoval.defaults.SBC)."""
    return with_defaults(SBC, config.get("sbc"))


def sbc_shard_count():
    c = sbc_config()
    return math.ceil(int(c["simulations"]) / shard_size(c))


def sbc_shard_params(wildcards):
    """The SBC settings a shard depends on (not sbc.simulations), with this model's simulate_priors only."""
    c = sbc_config()
    from binoval.sbc.simulate import check_simulate_priors

    overrides = check_simulate_priors(c.get("simulate_priors"), MODEL_SPECS).get(wildcards.model_id, {})
    return {
        "sims_per_shard": shard_size(c),
        "sampler": c.get("sampler") or {},
        "thin": c["thin"],
        "min_ranks": int(c["min_ranks"]),
        "extend_factor": int(c["extend_factor"]),
        "simulate_priors": overrides,
        "max_group_quantities": int(c["max_group_quantities"]),
    }


def sbc_inherited_sampler():
    """The global sampler keys SBC fits inherit (backend, target_accept, max_treedepth)."""
    return {k: v for k, v in config["sampler"].items() if k in SAMPLER_INHERITED_BY_SBC}


def sbc_tables(model_id):
    """Tables sbc_status (binoval.sbc.check) needs, by key."""
    return {
        "summary": results(f"sbc/{model_id}.parquet"),
        "simulations": results(f"sbc/simulations/{model_id}.parquet"),
    }


def sbc_plots(model_id):
    """The SBC plots of one model for report.md: the outputs rule sbc_summary marks with report()."""
    return registered_plots(rules.sbc_summary, model_id)


# Posterior SBC: settings and shard count (posterior_sbc.smk); thinning and extension as for prior SBC.


def posterior_sbc_config():
    """The `posterior_sbc` config section over its defaults (binoval.defaults.POSTERIOR_SBC)."""
    return with_defaults(POSTERIOR_SBC, config.get("posterior_sbc"))


def posterior_sbc_shard_count():
    c = posterior_sbc_config()
    return math.ceil(int(c["simulations"]) / shard_size(c))


def posterior_sbc_shard_params():
    """What a posterior SBC shard depends on (not posterior_sbc.simulations); thin, min_ranks, extend_factor and
    max_group_quantities are prior SBC's (`sbc`)."""
    c, prior = posterior_sbc_config(), sbc_config()
    return {
        "sims_per_shard": shard_size(c),
        "sampler": c.get("sampler") or {},
        "thin": prior["thin"],
        "min_ranks": int(prior["min_ranks"]),
        "extend_factor": int(prior["extend_factor"]),
        "max_group_quantities": int(prior["max_group_quantities"]),
    }


def posterior_sbc_tables(model_id):
    """Tables posterior_sbc_status (binoval.sbc.check) needs, by key."""
    return {
        "summary": results(f"posterior_sbc/{model_id}.parquet"),
        "simulations": results(f"posterior_sbc/simulations/{model_id}.parquet"),
    }


def posterior_sbc_plots(model_id):
    """The posterior SBC plots of one model for report.md: the outputs rule posterior_sbc_summary marks with report()."""
    return registered_plots(rules.posterior_sbc_summary, model_id)


# Prior sensitivity (sensitivity.smk).


def sensitivity_threshold():
    """thresholds.sensitivity.threshold over its default."""
    return with_defaults(THRESHOLDS["sensitivity"], (config.get("thresholds") or {}).get("sensitivity"))["threshold"]


def sensitivity_tables(model_id):
    """Tables sensitivity_status (binoval.sensitivity.check) needs, by key."""
    return {"sensitivity": results(f"sensitivity/{model_id}.parquet")}


def sensitivity_plots(model_id):
    """The sensitivity plot of one model for report.md: the outputs rule sensitivity marks with report()."""
    return registered_plots(rules.sensitivity, model_id)
