"""K-fold cross-validation by groups of rows: the new-groups task where a data row is not a group of its own.

A glmm's rows are cells (``sex`` x ``edu``) whose rates share the effects of their levels; a new group is a new
level of the grouping factor with all of its rows, so the fit's rows own no parameter to integrate out and PSIS
has nothing to stand on. ``kfold_elpd`` holds out whole levels instead (``loo.kfold``: ``k`` folds of the levels
of ``by``, by default the family's own grouping factor, ``Family.kfold_by``) through ArviZ's ``loo_kfold``, with
a sampling wrapper on the compiled sampler: a fold's rows are left out by giving them no trials (n = 0), so the
data keep their shapes and one compiled model serves every fold, and each held-out row is scored from the refit
by its family (``Family.heldout_log_density``: for a level with no rows left its effects are drawn from their
population in every draw, so the average over draws integrates them out).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from binoval.models import GroupedCounts, ModelSpec, family_of

#: Seed indices of K-fold's refits and of its random assignment of levels to folds (apart from exact refits').
FOLD_SEED_BASE, ASSIGNMENT_SEED_INDEX = 1_000_000, 2_000_000


def kfold_groups(spec: ModelSpec, data: GroupedCounts, by: str | None) -> np.ndarray | None:
    """The level of each row that K-fold holds out together: covariate ``by``, or the family's choice; None when
    the family needs no K-fold (each row is a group) and no ``by`` is configured."""
    column = by or family_of(spec).kfold_by(spec)
    if column is None:
        return None
    if column not in data.covariates:
        known = ", ".join(sorted(data.covariates)) or "none"
        raise ValueError(f"config key loo.kfold.by: the data have no column {column!r} (columns: {known})")
    return np.asarray(data.covariates[column]).astype(str)


def kfold_elpd(
    spec: ModelSpec, data: GroupedCounts, idata, levels: np.ndarray, k: int, settings, seed: int
) -> dict[str, tuple[float, float]]:
    """elpd and p of each row under K-fold cross-validation by ``levels`` (see the module doc): group -> (elpd, p).

    ``k`` is capped at the number of levels (k equal to it is leave-one-level-out).
    """
    import warnings

    import arviz_stats
    import xarray as xr
    from arviz_stats.loo import SamplingWrapper

    from binoval import seeds
    from binoval.fit.sampler import CompiledSampler
    from binoval.models import build_model

    family = family_of(spec)

    class CompiledSamplerWrapper(SamplingWrapper):
        """ArviZ's refitting interface on one compiled model: held-out rows get n = 0."""

        def __init__(self):
            super().__init__(model=None, idata_orig=idata)
            self.sampler = CompiledSampler(build_model(spec, data), settings)
            self.folds_done = 0

        def sel_observations(self, idx):
            held_out = np.atleast_1d(np.asarray(idx, dtype=int))
            n, r = data.n.copy(), data.r.copy()
            n[held_out], r[held_out] = 0, 0
            return GroupedCounts(data.groups, n, r, data.covariates), held_out

        def sample(self, modified_observed_data):
            self.folds_done += 1
            index = FOLD_SEED_BASE + self.folds_done
            return self.sampler.fit(modified_observed_data, seeds.int_seed(seed, "loo", spec.model_id, index))

        def get_inference_data(self, fitted_model):
            return fitted_model.idata

        def log_likelihood__i(self, excluded_obs, idata__i):
            rng = seeds.rng(seed, "loo", spec.model_id, FOLD_SEED_BASE + self.folds_done)
            posterior = idata__i.posterior
            shape = (posterior.sizes["chain"], posterior.sizes["draw"])
            values = [
                np.asarray(family.heldout_log_density(spec, idata__i, data, data.groups[i], rng)).reshape(shape)
                for i in excluded_obs
            ]
            groups = [data.groups[i] for i in excluded_obs]
            return xr.DataArray(np.stack(values, axis=-1), dims=("chain", "draw", "group"), coords={"group": groups})

    folds = min(int(k), len(np.unique(levels)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = arviz_stats.loo_kfold(
            idata,
            CompiledSamplerWrapper(),
            pointwise=True,
            var_name="r",
            k=folds,
            group_by=levels,
            seed=seeds.int_seed(seed, "loo", spec.model_id, ASSIGNMENT_SEED_INDEX),
        )
    elpd = result.elpd_i.to_series()
    p = result.p_kfold_i.to_series()
    return {str(group): (float(elpd[group]), float(p[group])) for group in elpd.index}


def kfold_settings(loo: Mapping) -> tuple[int, str | None]:
    """(k, by) of config ``loo.kfold`` over the defaults."""
    from binoval.defaults import LOO

    merged = {**LOO["kfold"], **(loo.get("kfold") or {})}
    return int(merged["k"]), merged["by"]
