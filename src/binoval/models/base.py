"""What every model family shares: the data it sees, and the class that knows everything about a family.

A family is one subclass of ``Family`` in its own file: its default priors (with
the support each parameter needs), the options its config spec accepts (with
their JSON schema), a ``declare`` method that adds the family's parameters and
the likelihood of ``r`` to a model that already holds the observed data in
``pm.Data`` containers ``n`` and ``r_observed``, and everything the stages ask
of a fitted family: its simplicity count, population and group rate draws,
pointwise conditional and group-marginal log-likelihoods, the held-out density
of a group the fit did not see, and (mixtures) how it replicates the same
groups. Because the data live in containers, one compiled model serves the
observed fit and every simulated dataset (swap them with ``nutpie``'s
``with_data`` or ``pm.set_data``).

Methods that read a fit take its InferenceData, or its draws as plain arrays (``PosteriorArrays``, what SBC
has of each simulated fit); draws are flattened to one leading axis of S = chains x draws samples, chain-major
(``posterior_draws``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

#: Names of the data containers every model declares: the trials and successes of each group, and log C(n, r)
#: (``log_binomial_coefficient``), which depends on the data alone (see ``observe_binomial``).
N_DATA, R_DATA, LOG_COEFFICIENT_DATA = "n", "r_observed", "log_binomial_coefficient"
DATA_CONTAINERS = (N_DATA, R_DATA, LOG_COEFFICIENT_DATA)
#: The attribute of a built ``pm.Model`` that holds its family's mass matrix (``Family.mass_matrix``).
MASS_MATRIX_ATTRIBUTE = "binoval_mass_matrix"
#: Name of the observed random variable (and so of the log-likelihood and
#: posterior predictive variables).
R_VAR = "r"
GROUP_DIM = "group"
#: PyTensor mode of the functions that draw from a model (SBC's simulations, prior and posterior predictive draws).
#: Their work is the random draws themselves, which run in NumPy in any mode, so a numba compile (0.4 s for the first
#: in a process, 1 s for a mixture, whose ``Mixture`` draw numba can only run in object mode) buys nothing: this
#: mode compiles in hundredths of a second and draws the same values, to rounding (benchmarks/README.md, issue 17, seventh steps).
FORWARD_SAMPLING_MODE = "FAST_COMPILE"
#: PyTensor's generated Python source (``config.generated_src_dir``) goes here, under PyTensor's cache directory.
GENERATED_SOURCE_DIR = "binoval_generated_src"


def draw_without_scipy_stats() -> None:
    """Have PyTensor draw half-normal and beta-binomial variables with ``binoval.distributions``' NumPy samplers.

    Outside numba (``FORWARD_SAMPLING_MODE``, and a mixture's ``Mixture`` draw, which numba runs in object mode)
    PyTensor draws these two with ``scipy.stats``, and importing it costs a job 0.7-1.5 s: every prior SBC shard and
    prior predictive job of ``hier_logit`` (its ``tau``) and ``bb_mixture`` (its components) and every mixture fit. The
    samplers draw the same values from the same generator (tests compare them with ``scipy.stats`` and whole prior
    predictive draws with PyTensor's own), so this changes no result; it applies to the whole process.
    """
    from pytensor.tensor.random.basic import BetaBinomialRV, HalfNormalRV

    from binoval.distributions import beta_binomial_draws, halfnormal_draws

    HalfNormalRV.rng_fn_scipy = classmethod(lambda cls, rng, loc, scale, size: halfnormal_draws(rng, loc, scale, size))
    BetaBinomialRV.rng_fn_scipy = classmethod(lambda cls, rng, n, a, b, size: beta_binomial_draws(rng, n, a, b, size))


def keep_generated_source_in_cache() -> None:
    """Point PyTensor's generated source at ``GENERATED_SOURCE_DIR`` beside its compile cache, unless it is set.

    PyTensor writes the Python source of every function it compiles for numba to a file it keeps (numba and
    tracebacks read it back). By default that is a new file in the system temporary directory that nothing ever
    removes: about 3400 files for a day of binoval runs. In a directory of its own the files are named by their
    content, reused by every process that compiles the same function, and pruned by PyTensor when unused.
    """
    import pytensor

    if not pytensor.config.generated_src_dir:
        pytensor.config.generated_src_dir = str(Path(pytensor.config.compiledir).parent / GENERATED_SOURCE_DIR)


#: How a family with varying effects may write them: z-scores times the sd (non-centred) or drawn directly (centred).
PARAMETERIZATIONS = ("noncentered", "centered")
#: JSON schema of the ``parameterization`` option, for every family that accepts it.
PARAMETERIZATION_SCHEMA = {"type": "string", "enum": list(PARAMETERIZATIONS)}


def is_centered(parameterization: str) -> bool:
    """True for ``centered``, False for ``noncentered``; anything else is an error naming the choices."""
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(f"parameterization must be one of {PARAMETERIZATIONS}, got {parameterization!r}")
    return parameterization == "centered"


@dataclass(frozen=True)
class GroupedCounts:
    """Grouped binomial data: ``r[i]`` successes out of ``n[i]`` trials in ``groups[i]``.

    ``covariates`` holds the data's other columns (e.g. ``sex``, ``edu``) for
    families that use them; they never change between simulated datasets.
    """

    groups: tuple[str, ...]
    n: np.ndarray
    r: np.ndarray
    covariates: Mapping[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> GroupedCounts:
        return cls(
            groups=tuple(str(g) for g in df["group"]),
            n=df["n"].to_numpy(dtype="int64"),
            r=df["r"].to_numpy(dtype="int64"),
            covariates={str(c): df[c].to_numpy() for c in df.columns if c not in ("group", "n", "r")},
        )

    def with_successes(self, r: np.ndarray) -> GroupedCounts:
        """The same groups, trials and covariates with other success counts (a simulated dataset)."""
        return GroupedCounts(self.groups, self.n, np.asarray(r, dtype="int64"), self.covariates)

    def rows(self, keep: list[int]) -> GroupedCounts:
        """The rows at positions ``keep`` (in that order), covariates included."""
        index = np.asarray(keep, dtype=int)
        return GroupedCounts(
            tuple(self.groups[i] for i in index),
            self.n[index],
            self.r[index],
            {name: np.asarray(values)[index] for name, values in self.covariates.items()},
        )

    def without(self, group: str) -> GroupedCounts:
        """Every row but ``group``'s, covariates kept (the data of a leave-one-group-out refit)."""
        return self.rows([i for i, g in enumerate(self.groups) if g != group])

    def only(self, group: str) -> GroupedCounts:
        """The one row of ``group``, covariates kept (a held-out group)."""
        return self.rows([self.groups.index(group)])


@dataclass(frozen=True)
class ModelSpec:
    """A model as configured: its id, family, checked priors and family options.

    ``config_id`` is the id under ``models:`` in the config that the spec came
    from; it differs from ``model_id`` when a family expands one config entry
    into several models (``bb_mixture`` with ``K: [1, 2]``). None means the same.
    """

    model_id: str
    family: str
    priors: dict[str, dict]
    options: dict[str, Any] = field(default_factory=dict)
    config_id: str | None = None


@dataclass(frozen=True)
class PosteriorArrays:
    """A fit's posterior draws as arrays (chain, draw, ...) by variable name, read by ``posterior_draws`` and
    ``posterior_size`` as an InferenceData's posterior is: the ``Family`` methods that read a fit accept either.
    Building an xarray tree per fit was a quarter of the time of SBC's per-fit predictive check."""

    arrays: Mapping[str, np.ndarray]


def posterior_draws(idata, name: str) -> np.ndarray:
    """Posterior draws of ``name`` as an array (S, ...) with chains stacked (chain-major)."""
    if isinstance(idata, PosteriorArrays):
        values = np.asarray(idata.arrays[name])
        return values.reshape(-1, *values.shape[2:])
    values = idata.posterior[name]
    return values.stack(sample=("chain", "draw")).transpose("sample", ...).values


def draw_categorical(probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One category index per row of ``probabilities`` (last axis: categories summing to 1).

    Inverse-CDF draw: one uniform per row compared with the cumulative sums;
    rounding that leaves the last cumulative sum just below 1 still picks a category.
    """
    cumulative = np.cumsum(probabilities, axis=-1)
    u = rng.random(cumulative.shape[:-1])[..., None]
    return np.minimum((u > cumulative).sum(axis=-1), probabilities.shape[-1] - 1)


def posterior_size(idata) -> int:
    """S, the number of posterior samples (chains x draws)."""
    if isinstance(idata, PosteriorArrays):
        chains, draws = np.shape(next(iter(idata.arrays.values())))[:2]
        return int(chains * draws)
    return int(idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"])


def binomial_logpmf(r, n, p) -> np.ndarray:
    """log Binomial(r | n, p), broadcasting (``scipy.special``: table-only jobs call it without importing
    ``scipy.stats``)."""
    from scipy import special

    n, r = np.asarray(n, dtype=float), np.asarray(r, dtype=float)
    return log_binomial_coefficient(n, r) + special.xlogy(r, p) + special.xlog1py(n - r, -np.asarray(p, dtype=float))


def log_binomial_coefficient(n, r) -> np.ndarray:
    """log C(n, r), broadcasting."""
    from scipy import special

    n, r = np.asarray(n, dtype=float), np.asarray(r, dtype=float)
    return special.gammaln(n + 1.0) - special.gammaln(r + 1.0) - special.gammaln(n - r + 1.0)


def container_values(data: GroupedCounts) -> dict[str, np.ndarray]:
    """What the data containers of a model built by ``Family.build`` hold for ``data`` (by container name).

    Every place that puts a dataset into a built model (nutpie's ``with_data``, ``pm.set_data``, the SBC
    log-likelihood) takes its values from here, so ``log_binomial_coefficient`` always matches ``n`` and ``r``.
    """
    values = (data.n, data.r, log_binomial_coefficient(data.n, data.r))
    return dict(zip(DATA_CONTAINERS, values, strict=True))


def observe_binomial(n, r_observed, *, p=None, logit_p=None):
    """Declare the observed ``R_VAR``: r ~ Binomial(n, p), the rate given as ``p`` or as ``logit_p``.

    Its log-density is written r log p + (n - r) log(1 - p) (with a logit, r logit_p - n log(1 + e^logit_p)) plus
    log C(n, r) read from the model's ``log_binomial_coefficient`` container. The value is exactly PyMC's binomial
    log-density, so every log-likelihood PyMC computes from the model is exact, but the coefficient, which depends
    on the data alone, is no longer recomputed at every gradient evaluation: three log-gamma functions per group
    were two thirds of a non-centred hier_logit gradient at 1000 groups (90 against 31 microseconds in nutpie).
    Draws of ``r`` (prior and posterior predictive) come from PyMC's ``Binomial``.
    """
    import pymc as pm
    import pytensor.tensor as pt
    from pymc.distributions.dist_math import logpow

    if (p is None) == (logit_p is None):
        raise ValueError("observe_binomial takes exactly one of p and logit_p")
    log_coefficient = pm.modelcontext(None)[LOG_COEFFICIENT_DATA]
    if logit_p is not None:

        def draw(n, logit_p, log_coefficient, size):
            return pm.Binomial.dist(n=n, logit_p=logit_p, size=size)

        def logp(value, n, logit_p, log_coefficient):
            return log_coefficient + value * logit_p - n * pt.softplus(logit_p)

        rate = logit_p
    else:

        def draw(n, p, log_coefficient, size):
            return pm.Binomial.dist(n=n, p=p, size=size)

        def logp(value, n, p, log_coefficient):
            return log_coefficient + logpow(p, value) + logpow(1.0 - p, n - value)

        rate = p
    return pm.CustomDist(R_VAR, n, rate, log_coefficient, dist=draw, logp=logp, observed=r_observed, dims=GROUP_DIM)


class Family:
    """Base class of a model family.

    A subclass sets ``name``, ``default_priors`` and ``supports`` and implements ``declare``,
    ``parameter_names``, ``population_parameters``, ``population_rate_draws`` and either
    ``marginal_log_likelihood`` or ``heldout_log_density``. Every other method has a default that
    suits families whose groups each have a rate ``p`` in the posterior and are replicated by the
    fit's own posterior predictive.
    """

    name: ClassVar[str]
    #: prior spec per parameter, used where the config gives none
    default_priors: ClassVar[dict[str, dict]]
    #: support per parameter that takes a prior (see ``binoval.models.priors``)
    supports: ClassVar[dict[str, str]]
    #: options the family accepts in its config spec (besides family/priors/enabled), each with its JSON schema;
    #: the config schema's ``definitions.model`` is generated from these (``binoval.models.registry.model_schema``)
    option_schemas: ClassVar[dict[str, dict]] = {}
    #: options the config spec must give
    required_options: ClassVar[tuple[str, ...]] = ()

    @property
    def options(self) -> tuple[str, ...]:
        """Names of the options the family accepts."""
        return tuple(self.option_schemas)

    # -- the config spec ---------------------------------------------------------------------

    def expand(self, model_id: str, priors: dict[str, dict], options: Mapping[str, Any]) -> list[ModelSpec]:
        """The models one config entry stands for: by default exactly one, with the same id."""
        return [ModelSpec(model_id, self.name, priors, dict(options), model_id)]

    def k_choice(self, spec: ModelSpec) -> tuple[str, int] | None:
        """(config id, K) when ``spec`` is one of several numbers of clusters K compared by the K choice, else None."""
        return None

    # -- the PyMC model ----------------------------------------------------------------------

    def build(self, data: GroupedCounts, priors: Mapping[str, dict], **options):
        """Return a ``pm.Model`` of ``data`` with the given (checked) priors."""
        import pymc as pm

        keep_generated_source_in_cache()
        draw_without_scipy_stats()

        with pm.Model(coords={GROUP_DIM: list(data.groups)}) as model:
            containers = {
                name: pm.Data(name, values, dims=GROUP_DIM) for name, values in container_values(data).items()
            }
            n, r_observed = containers[N_DATA], containers[R_DATA]
            self.declare(model, data, n, r_observed, priors, **options)
        setattr(model, MASS_MATRIX_ATTRIBUTE, self.mass_matrix(**options))
        return model

    def mass_matrix(self, **options) -> str:
        """The mass matrix nutpie should adapt for this family's posteriors (config ``sampler.mass_matrix: auto``):
        ``diag``, unless strong correlations between parameters are built into the parameterisation."""
        return "diag"

    def auxiliary_variables(self, **options) -> list[str]:
        """Free variables that are devices of the sampling, transformed into the parameters a user reads and sets a
        prior for (``bb_mixture``'s Gamma variables normalised to Dirichlet weights): their prior is not scaled by
        prior power-scaling (``derived_log_prior`` is, in their place), and the fit check does not judge their
        convergence (the parameters made from them are judged: ``binoval.fit.diagnostics.judged_posterior``)."""
        return []

    def derived_log_prior(self, posterior, priors: Mapping[str, dict], **options) -> dict[str, np.ndarray]:
        """The log prior density of each parameter the ``auxiliary_variables`` stand for, per draw (chain, draw) of
        ``posterior``, keyed by the parameter's name; empty when there are none."""
        return {}

    def declare(self, model, data, n, r_observed, priors: Mapping[str, dict], **options) -> None:
        """Add the family's parameters and the likelihood ``R_VAR`` of ``r_observed`` to ``model``."""
        raise NotImplementedError

    def parameter_names(self, **options) -> list[str]:
        """Posterior variables a user reads (the contract names), in display order."""
        raise NotImplementedError

    def level_effects(self, **options) -> list[str]:
        """Posterior variables (of ``parameter_names``) whose first axis indexes the levels of a grouping factor
        other than the data's groups: SBC ranks a seeded subset of their levels when there are many, as it does
        for the group rates ``p``. None by default."""
        return []

    def population_parameters(self, groups: int, **options) -> int:
        """The verdict's simplicity count: how many population-level parameters the family has
        (``groups``: the number of groups in the data, for families with one parameter per group)."""
        raise NotImplementedError

    # -- what a fit says about groups and the population ----------------------------------

    def group_rate_draws(self, spec: ModelSpec, idata, data: GroupedCounts, rng: np.random.Generator) -> np.ndarray:
        """Posterior draws of each group's rate, array (S, groups): the posterior ``p`` (a shared one repeated)."""
        return self._posterior_rates(idata, data)

    @staticmethod
    def _posterior_rates(idata, data: GroupedCounts) -> np.ndarray:
        """The posterior ``p`` as (S, groups); a shared scalar ``p`` repeated for every group."""
        p = posterior_draws(idata, "p")
        if p.ndim == 1:
            p = np.repeat(p[:, None], len(data.groups), axis=1)
        return p

    def population_rate_draws(self, spec: ModelSpec, idata, rng: np.random.Generator) -> np.ndarray | None:
        """One draw of a never-seen group's rate per posterior draw, array (S,); None when a new group's
        rate is not determined by the population alone (e.g. it depends on covariates)."""
        raise NotImplementedError

    def kfold_by(self, spec: ModelSpec) -> str | None:
        """The data column whose levels are the groups of the new-groups task when a row is not a group of its own
        (then K-fold cross-validation by its levels scores that task, ``binoval.loo.kfold``); None: rows are groups."""
        return None

    def derived_draws(self, idata) -> dict[str, np.ndarray]:
        """Draws (S,) of derived population quantities the report summarises (e.g. ``icc``); none by default."""
        return {}

    def membership_draws(self, idata, data: GroupedCounts) -> np.ndarray | None:
        """P(group i in cluster k | r_i, draw), array (S, groups, K), for families with clusters; else None."""
        return None

    def cluster_draws(self, idata) -> dict[str, np.ndarray] | None:
        """Draws (S, K) of each cluster's weight ``w``, mean ``mu`` and concentration ``kappa``;
        None for families without clusters."""
        return None

    # -- log-likelihoods and held-out densities --------------------------------------------

    def conditional_log_likelihood(self, spec: ModelSpec, idata, data: GroupedCounts) -> np.ndarray:
        """log p(r_i | the group's own rate, draw), array (S, groups): what PyMC stores as ``log_likelihood``."""
        return binomial_logpmf(data.r[None, :], data.n[None, :], self._posterior_rates(idata, data))

    def trial_log_likelihood(self, spec: ModelSpec, idata, data: GroupedCounts) -> np.ndarray:
        """log p(one trial of group i | the group's other trials, draw), array (S, groups, 2): success, failure.

        What leave-one-trial-out scores: a group's r successes and n - r failures are exchangeable Bernoulli
        trials, so each group has two distinct pointwise values. For a family whose groups have a rate ``p`` in
        the posterior they are log p and log(1 - p): the rate carries all that the other trials say. An outcome
        a group has no trial of gets a value too (it is weighted by a count of 0).
        """
        p = np.clip(self._posterior_rates(idata, data), 1e-300, np.nextafter(1.0, 0.0))
        return np.stack([np.log(p), np.log1p(-p)], axis=-1)

    def marginal_log_likelihood(
        self, spec: ModelSpec, idata, data: GroupedCounts, rng: np.random.Generator
    ) -> np.ndarray:
        """log p(r_i | population parameters of the draw), the group's own rate integrated out, array (S, groups).

        This is the pointwise value of the new-groups task (``binoval.loo.tasks``). A family whose rows own no
        parameter of their own (glmm) has none and scores left-out rows directly (``heldout_log_density``).
        """
        raise NotImplementedError(f"family {self.name!r} has no group-marginal log-likelihood")

    def heldout_log_density(
        self, spec: ModelSpec, idata, data: GroupedCounts, group: str, rng: np.random.Generator
    ) -> np.ndarray:
        """log p(r | n, draw) of ``group`` (a row of ``data``) under a refit in which it had no trials (n = 0),
        one value per draw: by default its group-marginal density given the refit's population parameters."""
        return self.marginal_log_likelihood(spec, idata, data.only(group), rng)[:, 0]

    # -- posterior predictive of the same groups -------------------------------------------

    def replicate_groups(self, idata, data: GroupedCounts, rng: np.random.Generator, copies: int = 1) -> np.ndarray:
        """Replicated counts of the same groups, array (copies x S, groups): for each posterior draw, ``copies``
        datasets in which each group's count is Binomial(n_i, p_i) with p_i that group's rate in the draw
        (``group_rate_draws``: the posterior ``p``, or for mixtures a rate drawn given the group's cluster and
        count). Several copies per draw resolve small posterior predictive p-values at no cost in fitting."""
        rates = self.group_rate_draws(None, idata, data, rng)
        counts = rng.binomial(data.n[None, None, :], np.broadcast_to(rates[None], (int(copies), *rates.shape)))
        return counts.reshape(-1, rates.shape[-1]).astype("int64", copy=False)
