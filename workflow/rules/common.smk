# Helpers shared by every rule file: config checks, paths, per-rule config slices.
from binoval.config import ConfigError, check_config, load_schema, model_slice
from binoval.data import resolve_dataset, run_name


def checked_model_specs(config):
    """Check the config; on a problem print one line naming the key and stop."""
    schema = os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml")
    try:
        return check_config(config, load_schema(schema))
    except ConfigError as err:
        sys.exit(f"binoval: invalid config: {err}")


def model_id_pattern(specs):
    """A regex matching exactly the configured model ids (longest first)."""
    return "|".join(sorted(map(re.escape, specs), key=len, reverse=True))


def run_dir():
    return run_name(config["dataset"], config.get("run"))


def results(path):
    """Path of an output under results/<run>/."""
    return f"results/{run_dir()}/{path}"


def logs(path):
    """Path of a log under logs/<run>/ (outside results/, so a failed run writes nothing there)."""
    return f"logs/{run_dir()}/{path}"


def dataset_csv():
    return str(resolve_dataset(config["dataset"]))


def model_params(wildcards):
    """The config slice of one model: its family, priors (merged with defaults) and options."""
    return model_slice(config, wildcards.model_id, MODEL_SPECS)


def all_targets():
    return expand(
        [results("fits/{model_id}.nc"), results("diagnostics/{model_id}_parameters.parquet"),
         results("sbc/{model_id}.parquet")],
        model_id=list(MODEL_SPECS),
    )
