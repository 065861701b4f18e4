# Helpers of the loo, compare, verdict and report rules; functions only, rules live in
# loo.smk and verdict.smk.
import os

from binoval.models import family_of
from binoval.verdict.report import PLOT_KEY
from binoval.verdict.verdict import STAGE_ORDER, table_input_name


def loo_tables(model_id):
    """The loo stage's tables for the verdict (key as binoval.loo.check.loo_status names it)."""
    return {"loo": results(f"loo/{model_id}.parquet")}


def mixture_ids():
    """Model id -> [its config id, K] for every model its family offers to the K choice (mixtures)."""
    return {m: list(choice) for m, s in MODEL_SPECS.items() if (choice := family_of(s).k_choice(s)) is not None}


def verdict_stages():
    """The stage registry: stage -> tables function, for every stage whose rules are included."""
    return {
        stage: globals()[f"{stage}_tables"]
        for stage in STAGE_ORDER
        if f"{stage}_tables" in globals() and stage_enabled(stage)
    }


def verdict_table_inputs():
    """The verdict rule's named inputs: every stage table of every model, named by table_input_name."""
    return {
        table_input_name(stage, model_id, key): path
        for stage, tables in verdict_stages().items()
        for model_id in MODEL_SPECS
        for key, path in tables(model_id).items()
    }


def layout_paths(layout):
    return sorted({p for per_model in layout.values() for keys in per_model.values() for p in keys.values()})


def stage_plot_layout():
    """{stage: {model_id: [png paths]}} from every included `<stage>_plots(model_id)`."""
    out = {}
    for stage in STAGE_ORDER:
        plots = globals().get(f"{stage}_plots")
        if plots is not None and stage_enabled(stage):
            out[stage] = {m: list(plots(m)) for m in MODEL_SPECS}
    return out


def report_plot_inputs():
    """The report rule's named plot inputs: one per png of ``stage_plot_layout()``, named as a stage table
    with key ``plot<i>`` (``binoval.verdict.report.stage_plot_paths`` reads them back in order)."""
    return {
        table_input_name(stage, model_id, f"{PLOT_KEY}{i}"): path
        for stage, per_model in stage_plot_layout().items()
        for model_id, paths in per_model.items()
        for i, path in enumerate(paths)
    }


def model_families():
    return {m: {"family": s.family, "priors": s.priors, "options": s.options} for m, s in MODEL_SPECS.items()}
