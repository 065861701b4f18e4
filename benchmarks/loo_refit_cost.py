"""What exact refits and K-fold cost in the loo stage: one compile, then one fit per left-out observation or fold.

Fits hier_logit to hospital12 and refits it without each of its 12 groups (``exact_loo`` on every new-groups
point, as if all 12 had a high Pareto k), then runs 5-fold cross-validation by education level for the census14
glmm ``r | trials(n) ~ sex + (1 | edu)`` (``kfold_elpd``). Prints the wall time of each part, the compile time
of one ``CompiledSampler`` and the time per refit, at the run's default sampler settings (4 x 1000 draws).

Usage (from the repository root, environment active):
    python benchmarks/loo_refit_cost.py
"""

from __future__ import annotations

import time

from binoval.data.grouped import load_dataset
from binoval.fit.sampler import CompiledSampler, SamplerSettings
from binoval.fit.stage import fit_model
from binoval.loo.kfold import kfold_elpd, kfold_groups
from binoval.loo.psis import exact_loo
from binoval.models import GroupedCounts, build_model, expand_models

SEED = 12345


def timed(label: str, function, *args):
    start = time.perf_counter()
    out = function(*args)
    print(f"{label}: {time.perf_counter() - start:.1f} s", flush=True)
    return out


def main() -> None:
    settings = SamplerSettings.from_config({})
    hospital12 = GroupedCounts.from_frame(load_dataset("hospital12"))
    spec = expand_models({"hier_logit": {"family": "hier_logit"}})["hier_logit"]
    timed("compile hier_logit once", CompiledSampler, build_model(spec, hospital12), settings)
    points = [("new_groups", group, "group") for group in hospital12.groups]
    start = time.perf_counter()
    exact_loo(spec, hospital12, points, settings, SEED)
    total = time.perf_counter() - start
    print(f"exact refits of all {len(points)} groups (one compile + {len(points)} fits): {total:.1f} s", flush=True)

    census = GroupedCounts.from_frame(load_dataset("census14"))
    glmm = expand_models({"g": {"family": "glmm", "formula": "r | trials(n) ~ sex + (1 | edu)"}})["g"]
    idata = timed("fit the census14 glmm", lambda: fit_model(glmm, census, settings, SEED).idata)
    timed("compile the glmm once", CompiledSampler, build_model(glmm, census), settings)
    levels = kfold_groups(glmm, census, None)
    timed("5-fold by edu (one compile + 5 fits)", kfold_elpd, glmm, census, idata, levels, 5, settings, SEED)


if __name__ == "__main__":
    main()
