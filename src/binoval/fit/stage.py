"""The fit stage: one configured model fitted to the observed data.

Produces the InferenceData (posterior, sample_stats, log_likelihood with the
conditional ``r`` and each prediction task's values (``binoval.loo.tasks``),
posterior_predictive, observed_data) and the two diagnostics tables. A fit
that raises does not stop the workflow: the stage records the error, so the
verdict can FAIL this model and still judge the others.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import pandas as pd
import xarray as xr

from binoval import seeds
from binoval.fit.diagnostics import failed_fit_diagnostics, parameter_diagnostics, sampler_diagnostics
from binoval.fit.sampler import CompiledSampler, SamplerSettings, complete_inference_data, observed_tree
from binoval.loo.tasks import add_task_log_likelihoods
from binoval.models import GroupedCounts, ModelSpec, build_model
from binoval.schemas import ParameterDiagnostics

log = logging.getLogger(__name__)


@dataclass
class FitOutputs:
    idata: xr.DataTree
    parameters: pd.DataFrame
    sampler: pd.DataFrame


def free_variable_names(model) -> set[str]:
    return {rv.name for rv in model.free_RVs}


def fit_model(
    spec: ModelSpec, data: GroupedCounts, settings: SamplerSettings, seed: int, threads: int | None = None
) -> FitOutputs:
    """Fit ``spec`` to ``data`` (``threads`` chains at once); on failure return outputs that carry the error."""
    start = time.perf_counter()
    try:
        model = build_model(spec, data)
        sampler = CompiledSampler(model, settings, threads)
        log.info("compiled %s (%s) in %.1f s", spec.model_id, settings.backend, time.perf_counter() - start)
        result = sampler.fit(data, seeds.int_seed(seed, "fit", spec.model_id))
        log.info(
            "sampled %s: %d chains x %d draws in %.2f s",
            spec.model_id,
            settings.chains,
            settings.draws,
            result.wall_time_s,
        )
        idata = complete_inference_data(result.idata, model, data, seeds.int_seed(seed, "ppc", spec.model_id))
        idata = add_task_log_likelihoods(idata, spec, data, seeds.rng(seed, "fit", spec.model_id, 1))
        parameters = parameter_diagnostics(idata, spec.model_id, free_variable_names(model))
        chains = sampler_diagnostics(
            idata, spec.model_id, settings.tune, settings.max_treedepth, result.wall_time_s, settings.backend
        )
    except Exception as err:  # noqa: BLE001 - any failure of a fit is recorded, not raised
        message = f"{type(err).__name__}: {err}".splitlines()[0]
        log.exception("fit of %s failed", spec.model_id)
        idata = observed_tree(data)
        idata["observed_data"].attrs["fit_error"] = message
        parameters = ParameterDiagnostics.empty()
        chains = failed_fit_diagnostics(
            spec.model_id, settings.tune, settings.max_treedepth, time.perf_counter() - start, settings.backend, message
        )
    for group in idata.children:
        idata[group].attrs.update({"model_id": spec.model_id, "family": spec.family})
    return FitOutputs(idata, parameters, chains)
