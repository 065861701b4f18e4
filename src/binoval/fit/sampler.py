"""Fitting: compile a model once, fit it to any dataset of the same shape.

``CompiledSampler`` wraps nutpie (default) or PyMC's own NUTS. With nutpie
the model is compiled once; each new dataset is swapped in with
``with_data``, which costs milliseconds instead of a recompile.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from binoval.defaults import SAMPLER
from binoval.models import FORWARD_SAMPLING_MODE, MASS_MATRIX_ATTRIBUTE, N_DATA, R_VAR, GroupedCounts, container_values


@dataclass(frozen=True)
class SamplerSettings:
    """How to run NUTS: backend, chains, draws and tuning steps per chain, target acceptance, max tree depth and
    the mass matrix nutpie adapts (``auto``: the model's family decides, see ``mass_matrix_of``)."""

    backend: str = SAMPLER["backend"]
    chains: int = SAMPLER["chains"]
    draws: int = SAMPLER["draws"]
    tune: int = SAMPLER["tune"]
    target_accept: float = SAMPLER["target_accept"]
    max_treedepth: int = SAMPLER["max_treedepth"]
    mass_matrix: str = SAMPLER["mass_matrix"]

    @classmethod
    def from_config(cls, *layers: Mapping[str, Any] | None) -> SamplerSettings:
        """Settings from config mappings over ``binoval.defaults.SAMPLER``, later ones overriding earlier ones."""
        merged = dict(SAMPLER)
        for layer in layers:
            merged.update({k: v for k, v in (layer or {}).items() if v is not None})
        return cls(**merged)


#: The mass matrices ``sampler.mass_matrix`` may name (``auto`` aside).
MASS_MATRICES = ("diag", "low_rank")

#: The regularisation (``mass_matrix_gamma``) of nutpie's low-rank mass matrix for models with more than
#: ``LOW_RANK_REGULARISED_ABOVE`` parameters. From a window of n draws and their gradients, each coordinate scaled by
#: the diagonal estimate, nutpie estimates the covariance as C / (n gamma) + I (C: the draws' sample covariance;
#: likewise for the gradients) and corrects the diagonal along the eigenvectors whose eigenvalues fall outside
#: [1/2, 2]. With nutpie's default gamma of 1e-5 the identity barely counts, so once the parameters outnumber a
#: window's draws every noise direction of C is kept: fits cost 30-60 times the diagonal one at 300-1000 parameters
#: and mixed little better (binoval used to fall back to the diagonal above 128 parameters). gamma = 10 keeps only
#: directions that stand out from that noise, such as the one in which a non-centred hierarchy's mean moves with all
#: its z-scores. Non-centred hier_logit, 2 x 500 draws after 300 warm-up, smallest bulk ESS over mu, tau and the
#: group rates on 8 datasets drawn from the prior at 1000 groups (the SBC case; ``python
#: benchmarks/mass_matrix_cost.py``, benchmarks/README.md): gamma = 10 a median of 255 and none below 100 in 2.3 s a fit;
#: gamma = 1: 281, 12% below 100; nutpie's default: 207, 38% below 100, 20 s; the diagonal: 91, 50% below 100,
#: 0.8 s. At 3000 and 10 000 groups (one dataset): 224 in 6 s and 200 in 28 s against the diagonal's 30 in 2.7 s and
#: 59 in 15 s.
LOW_RANK_GAMMA = 10.0
#: Up to this many parameters nutpie's own regularisation is kept: there the windows hold more draws than there are
#: parameters, nutpie's default was measured fine (102 parameters: 1.0 s a fit, ESS 260-280, against the diagonal's
#: 0.7 s and 7-22), and on 12 groups gamma = 10 gained nothing (20 prior datasets: 20% of fits below 100 effective
#: draws and 120 divergences against 25% and 69).
LOW_RANK_REGULARISED_ABOVE = 128
#: Warm-up draws between two updates of the regularised low-rank matrix (nutpie's ``mass_matrix_update_freq``, 20 by
#: default). Each update decomposes the current window's draws and gradients, a cost cubic in the window's length
#: that at 1000 groups was a fifth of an SBC fit and half of the observed fit. Measured (benchmarks/README.md, "The
#: low-rank mass matrix at any size"): 16 prior datasets of 1000 groups at each of two data seeds, SBC settings, 4.9
#: and 4.7 s a fit at 20, 4.0 and 3.9 at 30, 4.1 and 3.9 at 40, median smallest ESS 267/373, 338/380, 321/388, none
#: below 100 (``python benchmarks/mass_matrix_cost.py --groups 1000 --datasets 16 --gammas 10 --update-freqs 20 30
#: 40 --target-accept 0.95 --no-diag``); fit settings (1000 warm-up) 58 s for two chains at 20, 31 s at 40. On one
#: observed 300-group dataset fitted with 24 seeds the smaller ESS of mu and tau was at least 226 at 20, 225 at 30
#: and 130 at 40 (one seed; the next lowest 206): 30 keeps 20's low tail for the same saving as 40.
LOW_RANK_UPDATE_INTERVAL = 30


def nutpie_adaptation(mass_matrix: str, model) -> dict[str, Any]:
    """The keyword arguments of ``nutpie_sample`` that choose and tune the adaptation of ``mass_matrix``
    (``MASS_MATRICES``) for ``model``, whose parameters are counted only for a low-rank matrix (counting compiles
    the model's initial point, 5-50 ms that a diagonal fit need not pay at start-up)."""
    if mass_matrix == "low_rank" and parameter_count(model) > LOW_RANK_REGULARISED_ABOVE:
        return {
            "adaptation": "low_rank",
            "mass_matrix_gamma": LOW_RANK_GAMMA,
            "mass_matrix_update_freq": LOW_RANK_UPDATE_INTERVAL,
        }
    return {"adaptation": mass_matrix}


#: Options of nutpie's adaptation that its settings hold but ``nutpie.sample`` does not take as keywords (it knows
#: them only inside its ``adapt_options``); ``nutpie_sample`` sets them.
ADAPT_OPTIONS = ("mass_matrix_update_freq", "mass_matrix_window_growth")


def nutpie_sample(compiled, **options):
    """``nutpie.sample(compiled, **options)``, which may also set ``ADAPT_OPTIONS``.

    Without those this is ``nutpie.sample`` itself. With them it does what ``nutpie.sample`` does (settings for
    ``adaptation``, seeded, updated by the keywords; the start at the origin of the unconstrained space) but edits the
    settings' ``adapt_options`` before sampling, through nutpie's own settings dictionary: nutpie 0.16 rejects those
    names as keywords. A test checks that both paths give the same draws when the options are nutpie's defaults."""
    import nutpie

    adapt = {name: options.pop(name) for name in ADAPT_OPTIONS if name in options}
    if not adapt:
        return nutpie.sample(compiled, **options)
    from nutpie import _lib
    from nutpie.sample import _BackgroundSampler

    adaptation = options.pop("adaptation", "diag")
    factories = {"diag": _lib.PyNutsSettings.Diag, "low_rank": _lib.PyNutsSettings.LowRank}
    if adaptation not in factories:
        raise ValueError(f"nutpie_sample sets {sorted(adapt)} only for the adaptations {sorted(factories)}")
    seed = options.pop("seed", None)
    cores = options.pop("cores", None) or 1
    run = {name: options.pop(name) for name in ("save_warmup", "return_raw_trace", "progress_bar") if name in options}
    settings = factories[adaptation](seed)
    renamed = {"tune": "num_tune", "draws": "num_draws", "chains": "num_chains"}
    settings.update({renamed.get(name, name): value for name, value in options.items()})
    whole = settings.as_dict()["settings"]
    whole["adapt_options"].update(adapt)
    settings.update_settings(whole)
    sampler = _BackgroundSampler(
        compiled,
        settings,
        np.zeros(compiled.n_dim),
        cores,
        progress_bar=run.get("progress_bar", False),
        save_warmup=run.get("save_warmup", True),
        return_raw_trace=run.get("return_raw_trace", False),
    )
    try:
        return sampler.wait()
    except BaseException:  # as nutpie.sample: stop the chains' threads before the error leaves
        sampler.cancel()
        raise


def mass_matrix_of(model, settings: SamplerSettings) -> str:
    """The mass matrix a fit of ``model`` adapts: ``settings.mass_matrix``, or for ``auto`` the one its family chose
    when it built the model (``Family.mass_matrix``, recorded on the model); ``diag`` with the pymc backend."""
    choice = settings.mass_matrix
    if choice not in ("auto", *MASS_MATRICES):
        raise ValueError(f"sampler.mass_matrix must be one of {', '.join(('auto', *MASS_MATRICES))}, got {choice!r}")
    if settings.backend == "pymc":
        if choice == "low_rank":
            raise ValueError(
                "sampler.mass_matrix low_rank needs the nutpie backend (PyMC's NUTS adapts a diagonal one)"
            )
        return "diag"
    if choice == "auto":
        return getattr(model, MASS_MATRIX_ATTRIBUTE, "diag")
    return choice


def parameter_count(model) -> int:
    """The number of unconstrained parameters NUTS samples (the dimension of the mass matrix)."""
    return int(sum(np.size(value) for value in model.initial_point().values()))


@dataclass
class FitResult:
    """A fit's draws (``idata``: posterior and sample_stats) and its wall time in seconds."""

    idata: Any
    wall_time_s: float


class CompiledSampler:
    """A model compiled once for repeated fits to datasets of the same shape.

    ``threads`` caps how many chains run at once (default: all); it does not
    change the draws, which depend only on the seed.
    """

    def __init__(self, model, settings: SamplerSettings, threads: int | None = None):
        if settings.backend not in ("nutpie", "pymc"):
            raise ValueError(f"sampler.backend must be 'nutpie' or 'pymc', got {settings.backend!r}")
        self.model = model
        self.settings = settings
        self.threads = max(1, min(threads or settings.chains, settings.chains))
        #: the mass matrix nutpie adapts (``MASS_MATRICES``: its ``adaptation`` of the same name)
        self.adaptation = mass_matrix_of(model, settings)
        #: how ``nutpie.sample`` is told to adapt it (``nutpie_adaptation``)
        self.adaptation_options = nutpie_adaptation(self.adaptation, model)
        self._compiled = None
        if settings.backend == "nutpie":
            from binoval.fit.nutpie_cache import compile_nutpie_model

            self._compiled = compile_nutpie_model(model)

    def fit(self, data: GroupedCounts, seed: int, settings: SamplerSettings | None = None) -> FitResult:
        """Sample the posterior given ``data``; ``seed`` fixes every random choice. ``settings`` may change the
        draws and warm-up of this fit (the backend and the compiled model stay those of the sampler)."""
        s = settings or self.settings
        start = time.perf_counter()
        if self._compiled is not None:
            compiled = with_data(self._compiled, data)
            idata = nutpie_sample(
                compiled,
                draws=s.draws,
                tune=s.tune,
                chains=s.chains,
                cores=max(1, min(self.threads, s.chains)),
                seed=int(seed),
                save_warmup=False,
                progress_bar=False,
                target_accept=s.target_accept,
                maxdepth=s.max_treedepth,
                **self.adaptation_options,
            )
        else:
            import pymc as pm

            set_observed(self.model, data)
            with self.model:
                idata = pm.sample(
                    draws=s.draws,
                    tune=s.tune,
                    chains=s.chains,
                    cores=1,
                    random_seed=int(seed),
                    target_accept=s.target_accept,
                    max_treedepth=s.max_treedepth,
                    progressbar=False,
                    compute_convergence_checks=False,
                )
        wall_time = time.perf_counter() - start
        return FitResult(idata=drop_transformed(idata), wall_time_s=wall_time)


def with_data(compiled, data: GroupedCounts):
    """nutpie's compiled model with ``data`` in its data containers (those its density reads: a family that writes
    its own likelihood may not read ``log_binomial_coefficient``, and nutpie knows only the containers it reads)."""
    used = {variable.name for variable in compiled.shared_var_keys}
    return compiled.with_data(**{name: values for name, values in container_values(data).items() if name in used})


def drop_transformed(idata):
    """Keep only the posterior and sample_stats, without unconstrained-space copies of parameters (``kappa_log__``)."""
    import xarray as xr

    posterior = idata["posterior"].to_dataset()
    transformed = [name for name in posterior.data_vars if str(name).endswith("__")]
    return xr.DataTree.from_dict(
        {"posterior": posterior.drop_vars(transformed), "sample_stats": idata["sample_stats"].to_dataset()}
    )


def set_observed(model, data: GroupedCounts) -> None:
    """Put ``data`` into the model's data containers."""
    import pymc as pm

    with model:
        pm.set_data(container_values(data))


def observed_tree(data: GroupedCounts):
    """The observed_data (``r``) and constant_data (``n``) groups of ``data``, as a DataTree."""
    import xarray as xr

    coords = {"group": list(data.groups)}
    return xr.DataTree.from_dict(
        {
            "observed_data": xr.Dataset({R_VAR: ("group", data.r)}, coords=coords),
            "constant_data": xr.Dataset({N_DATA: ("group", data.n)}, coords=coords),
        }
    )


def complete_inference_data(idata, model, data: GroupedCounts, seed: int):
    """Add log_likelihood, posterior_predictive, observed_data and constant_data.

    nutpie returns only the posterior and sample_stats; PyMC computes the
    pointwise log-likelihood of ``r`` and posterior predictive draws of ``r``
    from the same model with ``data`` in its containers.
    """
    import pymc as pm
    import xarray as xr

    set_observed(model, data)
    with model:
        log_likelihood = pm.compute_log_likelihood(
            idata, var_names=[R_VAR], extend_inferencedata=False, progressbar=False
        )
        predictive = pm.sample_posterior_predictive(
            idata,
            var_names=[R_VAR],
            random_seed=int(seed),
            progressbar=False,
            extend_inferencedata=False,
            compile_kwargs={"mode": FORWARD_SAMPLING_MODE},
        )
    groups = {name: idata[name].to_dataset() for name in idata.children}
    groups["posterior_predictive"] = predictive["posterior_predictive"].to_dataset()
    groups["log_likelihood"] = log_likelihood
    observed = observed_tree(data)
    groups.update({name: observed[name].to_dataset() for name in observed.children})
    return xr.DataTree.from_dict(groups)
