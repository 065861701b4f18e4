"""The fit stage: one configured model fitted to the observed data.

Produces the InferenceData (posterior, sample_stats, log_likelihood with the
conditional ``r`` and each prediction task's values (``binoval.loo.tasks``),
log_prior of the power-scaled priors (``binoval.sensitivity.powerscale``),
posterior_predictive, observed_data) and the two diagnostics tables. A fit
that raises does not stop the workflow: the stage records the error, so the
verdict can FAIL this model and still judge the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

import pandas as pd
import xarray as xr

from binoval import seeds
from binoval.defaults import FIT, with_defaults
from binoval.fit.check import convergence_shortfalls
from binoval.fit.diagnostics import (
    convergence_table,
    failed_fit_diagnostics,
    parameter_diagnostics,
    sampler_diagnostics,
)
from binoval.fit.sampler import CompiledSampler, FitResult, SamplerSettings, complete_inference_data, observed_tree
from binoval.loo.tasks import add_task_log_likelihoods
from binoval.models import GroupedCounts, ModelSpec, build_model
from binoval.models.registry import family_of
from binoval.schemas import ParameterDiagnostics
from binoval.sensitivity.powerscale import with_log_prior

log = logging.getLogger(__name__)

#: Seed stream index of extension e under (seed, "fit", model id): ``EXTENSION_STREAM + e``. Index 0 is the
#: first run, index 1 the task log-likelihoods' generator.
EXTENSION_STREAM = 100


@dataclass
class FitOutputs:
    idata: xr.DataTree
    parameters: pd.DataFrame
    sampler: pd.DataFrame


def free_variable_names(model) -> set[str]:
    return {rv.name for rv in model.free_RVs}


@dataclass
class ExtendedFit:
    """The fit that gets judged: its draws, settings and convergence table (``convergence_table``), how often it
    was extended and why."""

    result: FitResult
    settings: SamplerSettings
    convergence: pd.DataFrame
    extensions: int
    extended_because: str


def fit_until_converged(
    sampler: CompiledSampler,
    spec: ModelSpec,
    data: GroupedCounts,
    seed: int,
    extension: Mapping | None = None,
    thresholds: Mapping | None = None,
) -> ExtendedFit:
    """Fit, and while the fit misses the R-hat / ESS targets (``binoval.fit.check.convergence_shortfalls``) run it
    again with ``extend_factor`` times the draws and warm-up, at most ``max_extensions`` times (config ``fit``).

    Judged are the quantities a user reads; a family's ``auxiliary_variables`` (sampling devices) are not.
    A fit a hair short of R-hat 1.01 after 1000 draws is usually one that needs more draws, not a wrong model;
    the SBC stage treats its short fits the same way. Each run has its own seed stream (seed, "fit", model id,
    extension), so the result does not depend on anything but the config. Divergences and E-BFMI are not
    reasons to extend: they do not go away with more draws.
    """
    x = with_defaults(FIT, extension)
    settings, total_time, because = sampler.settings, 0.0, ""
    for extensions in range(int(x["max_extensions"]) + 1):
        stream = EXTENSION_STREAM + extensions if extensions else 0
        result = sampler.fit(data, seeds.int_seed(seed, "fit", spec.model_id, stream), settings)
        total_time += result.wall_time_s
        convergence = convergence_table(result.idata, family_of(spec).auxiliary_variables(**spec.options))
        shortfalls = convergence_shortfalls(convergence, settings.chains, thresholds)
        log.info(
            "sampled %s: %d chains x %d draws in %.2f s%s",
            spec.model_id,
            settings.chains,
            settings.draws,
            result.wall_time_s,
            f"; short of the targets: {'; '.join(shortfalls)}" if shortfalls else "",
        )
        if not shortfalls or extensions == int(x["max_extensions"]):
            break
        because = f"{settings.draws} draws per chain: {'; '.join(shortfalls)}"
        factor = int(x["extend_factor"])
        settings = replace(settings, draws=settings.draws * factor, tune=settings.tune * factor)
    result.wall_time_s = total_time
    return ExtendedFit(result, settings, convergence, extensions, because)


def thinned_to(idata, draws: int):
    """``idata`` with every group's draws thinned evenly to about ``draws`` per chain (every k-th, k = its draws //
    ``draws``); unchanged when it has no more than that.

    An extended fit stores the configured number of draws per chain, not the extension's: the later stages (PPC,
    LOO, posterior SBC) hold arrays of draws x groups, which at thousands of groups an extension would multiply by
    ``extend_factor`` (or its square), while every k-th draw of a chain that needed extending keeps nearly all of its
    effective draws.
    """
    k = int(idata["posterior"].sizes["draw"]) // max(1, int(draws))
    if k <= 1:
        return idata
    groups = {}
    for name in idata.children:
        dataset = idata[name].to_dataset()
        groups[name] = dataset.isel(draw=slice(None, None, k)) if "draw" in dataset.dims else dataset
    return xr.DataTree.from_dict(groups)


def fit_model(
    spec: ModelSpec,
    data: GroupedCounts,
    settings: SamplerSettings,
    seed: int,
    threads: int | None = None,
    extension: Mapping | None = None,
    thresholds: Mapping | None = None,
) -> FitOutputs:
    """Fit ``spec`` to ``data`` (``threads`` chains at once), extended while it misses ``thresholds`` (config
    ``fit``: ``fit_until_converged``); on failure return outputs that carry the error."""
    start = time.perf_counter()
    try:
        model = build_model(spec, data)
        sampler = CompiledSampler(model, settings, threads)
        log.info("compiled %s (%s) in %.1f s", spec.model_id, settings.backend, time.perf_counter() - start)
        fit = fit_until_converged(sampler, spec, data, seed, extension, thresholds)
        used = fit.settings
        # judged on every draw of the (possibly extended) fit: each divergence counts, R-hat and ESS as sampled
        auxiliary = family_of(spec).auxiliary_variables(**spec.options)
        free = free_variable_names(model)
        parameters = parameter_diagnostics(fit.result.idata, spec.model_id, free, fit.convergence, auxiliary)
        chains = sampler_diagnostics(
            fit.result.idata,
            spec.model_id,
            used.tune,
            used.max_treedepth,
            fit.result.wall_time_s,
            used.backend,
            fit.extensions,
            fit.extended_because,
        )
        stored = thinned_to(fit.result.idata, settings.draws)
        idata = complete_inference_data(stored, model, data, seeds.int_seed(seed, "ppc", spec.model_id))
        idata = add_task_log_likelihoods(idata, spec, data, seeds.rng(seed, "fit", spec.model_id, 1))
        idata = with_log_prior(idata, spec, data, model)
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
