"""The README's hospital12 LOO figures: each task's elpd for the reference hier_logit and the default run's models.

Fits, at the default sampler settings and seed 12345, hier_logit with the reference priors of BRIEF section 5
(``config/examples/hospital12_reference.yaml``) and beta_binomial, bb_mixture_k1 and hier_logit with the default
priors; scores each on every task (``loo_table``) with exact refits of the points whose Pareto k is high
(``exact_loo``, as rule ``loo`` does by default), and prints per model and task: elpd_loo (se), p_loo, the largest
Pareto k left, and how many points were refitted.

Usage (from the repository root, environment active):
    python benchmarks/hospital12_loo_figures.py
"""

from __future__ import annotations

from binoval.data.grouped import load_dataset
from binoval.fit.sampler import SamplerSettings
from binoval.fit.stage import fit_model
from binoval.loo.psis import exact_loo, flagged_points, loo_table, task_table
from binoval.loo.tasks import TABLE_TASKS
from binoval.models import GroupedCounts, expand_models

SEED = 12345
REFERENCE_PRIORS = {"mu": {"dist": "Normal", "mu": -2.5123056239761148, "sigma": 1.0}}


def main() -> None:
    data = GroupedCounts.from_frame(load_dataset("hospital12"))
    settings = SamplerSettings.from_config({})
    specs = expand_models(
        {
            "hier_logit_reference": {"family": "hier_logit", "priors": REFERENCE_PRIORS},
            "hier_logit": {"family": "hier_logit"},
            "beta_binomial": {"family": "beta_binomial"},
            "bb_mixture": {"family": "bb_mixture", "K": [1]},
        }
    )
    for model_id, spec in specs.items():
        idata = fit_model(spec, data, settings, SEED).idata
        table = loo_table(idata, model_id, data)
        flagged = flagged_points(table)
        table = loo_table(idata, model_id, data, exact=exact_loo(spec, data, flagged, settings, SEED))
        for task in TABLE_TASKS:
            rows = task_table(table, task)
            psis = rows[rows["loo_method"] == "psis"]
            first = rows.iloc[0]
            print(
                f"{model_id:22s} {task:12s} elpd_loo {first['elpd_loo']:8.2f} (se {first['se_loo']:.2f}) "
                f"p_loo {first['p_loo']:5.2f} max k {psis['pareto_k'].max():5.2f} "
                f"refitted {int((rows['loo_method'] == 'exact').sum())} "
                f"elpd_waic {first['elpd_waic']:8.2f} (se {first['se_waic']:.2f})",
                flush=True,
            )


if __name__ == "__main__":
    main()
