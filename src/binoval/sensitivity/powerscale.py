"""Prior and likelihood sensitivity of one fit by power-scaling (Kallioinen, Paananen, Bürkner & Vehtari 2023).

Power-scaling a component of the posterior p(theta | y) ~ p(theta) p(y | theta) raises it to a power alpha:
p(theta)^alpha p(y | theta) for the prior, p(theta) p(y | theta)^alpha for the likelihood. Alpha near 1
perturbs the posterior a little; how far a quantity's posterior moves tells how much it depends on that
component. No refit is needed: the scaled posterior is the fitted one reweighted by importance weights
proportional to exp((alpha - 1) log component), Pareto-smoothed (PSIS).

What is scaled:

* the **prior** is the joint log density of the population-level parameters only (``prior_variables``):
  those the family takes a prior for (``mu``, ``tau``, ``kappa``, ``w``, glmm's ``Intercept``, ``b`` and
  varying-effect sds) and other top-level parameters with a fixed prior (the Dirichlet prior of the gaps between
  the mixture means, the generative prior of the ordered means). Where a family samples a parameter through
  auxiliary variables (``bb_mixture``'s Dirichlet weights and gaps, as normalised Gamma variables), the density
  scaled is that of the parameter (``Family.derived_log_prior``), not of the auxiliaries. The population
  distribution of the group-level effects (``z``, ``theta``, ``p``, glmm's ``z_<g>``) is left alone: scaling it
  would change the model's structure (how strongly groups are pooled), not the prior, and priorsense's advice
  for hierarchical models is to scale the top-level priors. ``unpooled`` has no population: its per-group ``p``
  take the configured prior and are scaled. The density is PyMC's
  ``compute_log_prior`` in the **constrained space** of the parameters (the values a user reads, without
  the Jacobian of the sampler's transforms), as priorsense's ``lprior``;
* the **likelihood** is the model's own likelihood of the observed counts, ``log_likelihood["r"]`` summed
  over groups (for mixtures the likelihood with assignments marginalised).

Numbers reported:

* ``prior`` / ``likelihood`` sensitivity: arviz-stats' ``psense``: the cumulative Jensen-Shannon distance
  (CJS, between 0 and 1) between the posterior of a quantity and its power-scaled posterior at alpha = 0.99 and
  1.01, divided by |log2 alpha| and averaged over the two: the rate at which the posterior moves per doubling of
  the power. Above 0.05 a quantity is sensitive to that component;
* ``diagnosis``: "prior-data conflict" when both are at or above the threshold (the prior and the data pull
  the posterior different ways), "prior dominates" when only the prior sensitivity is (an informative prior
  and data that say little about the quantity), else "none" (priorsense's ``psense_summary`` rule);
* ``pareto_k_prior`` / ``pareto_k_likelihood``: the Pareto k of the importance ratios of the scaled component
  (the larger of its values at the two alphas). Above 0.7 the weights have too heavy a tail and the
  sensitivity values are unreliable. The weights do not depend on the quantity, so every row of a component
  shows the same k. A
  component constant over the draws (a flat prior such as Beta(1, 1)) is not changed by scaling: its
  sensitivity is 0 and its k is -inf, as for constant columns in ``binoval.loo.psis``.

This module imports PyMC and arviz-stats inside its functions only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from binoval.defaults import THRESHOLDS
from binoval.models import GROUP_DIM, R_VAR, GroupedCounts, ModelSpec, build_model, family_of

#: The two components that are power-scaled.
COMPONENTS = ("prior", "likelihood")
#: The powers of the sensitivity's finite difference (priorsense's and arviz-stats' default).
FINITE_DIFFERENCE_ALPHAS = (0.99, 1.01)
#: The powers of the sequence plot: log-spaced from 1/2 to 2, with 1 in the middle.
SEQUENCE_ALPHAS = tuple(float(a) for a in 2.0 ** np.linspace(-1.0, 1.0, 9))
#: The sensitivity above which a quantity counts as sensitive (``thresholds.sensitivity.threshold``).
SENSITIVE = THRESHOLDS["sensitivity"]["threshold"]
#: The diagnoses, worst first.
CONFLICT, PRIOR_DOMINATES, NO_ISSUE = "prior-data conflict", "prior dominates", "none"
DIAGNOSES = (CONFLICT, PRIOR_DOMINATES, NO_ISSUE)
#: The group rate variable whose values for a few groups are reported.
GROUP_RATE = "p"
SAMPLE_DIMS = ("chain", "draw")
#: The fit's group of the log prior densities that are power-scaled (ArviZ's name for it; ``log_prior_dataset``).
LOG_PRIOR_GROUP = "log_prior"
#: Central interval of the sequence table (its lower and upper quantiles).
SEQUENCE_QUANTILES = (0.05, 0.95)
#: Columns of the sensitivity table, in order.
TABLE_COLUMNS = (
    "model_id",
    "quantity",
    "variable",
    "index",
    "prior",
    "likelihood",
    "diagnosis",
    "pareto_k_prior",
    "pareto_k_likelihood",
)
#: Columns of the sequence table, in order.
SEQUENCE_COLUMNS = (
    "model_id",
    "component",
    "alpha",
    "quantity",
    "variable",
    "index",
    "mean",
    "sd",
    "q05",
    "q95",
    "pareto_k",
)


# -- what is scaled -----------------------------------------------------------------------------------


def level_dims(data: GroupedCounts) -> set[str]:
    """Dimensions whose entries are groups or levels of a grouping factor: ``group`` and the data's covariates
    (glmm names the levels of a varying factor by the factor's column). A variable with one of them is group-level."""
    return {GROUP_DIM, *map(str, data.covariates)}


def prior_variables(spec: ModelSpec, data: GroupedCounts, model=None) -> list[str]:
    """The free random variables whose prior is power-scaled, in the model's order.

    A free variable is scaled when it is population-level (none of its dimensions is a group or a level of a
    grouping factor, ``level_dims``) or when the spec gives its prior by name (``unpooled``'s per-group ``p``:
    the family has no population). Group-level effects (``z``, centred ``theta``, ``beta_binomial``'s ``p``,
    glmm's ``z_<g>`` / ``u_<g>``) are not: their distribution is the population, part of the model's structure.
    """
    model = build_model(spec, data) if model is None else model
    levels = level_dims(data)
    auxiliary = set(family_of(spec).auxiliary_variables(**spec.options))
    names = []
    for rv in model.free_RVs:
        dims = model.named_vars_to_dims.get(rv.name) or ()
        if rv.name not in auxiliary and (rv.name in spec.priors or not levels.intersection(dims)):
            names.append(rv.name)
    return names


def log_prior_dataset(spec: ModelSpec, data: GroupedCounts, idata, model=None):
    """The log prior density of each power-scaled parameter at each posterior draw: the fit's ``log_prior`` group.

    An xarray Dataset with one variable per ``prior_variables`` name, elementwise as PyMC's ``compute_log_prior``
    gives it (the **constrained space**: the parameters' own values, no Jacobian of the sampler's transforms), and
    one per parameter the family's auxiliary variables stand for (``Family.derived_log_prior``: ``bb_mixture``'s
    Dirichlet densities of ``w`` and of the gaps between the means, as ``w`` and ``mu``), each (chain, draw).
    ``idata``: the fit (a DataTree read from the stored NetCDF will do); its posterior must hold every free
    variable of the model, as fits from ``binoval.fit.stage`` do.
    """
    import pymc as pm
    import xarray as xr

    model = build_model(spec, data) if model is None else model
    posterior = idata["posterior"]
    coords = {dim: posterior[dim].values for dim in SAMPLE_DIMS}
    names = prior_variables(spec, data, model)
    dataset = xr.Dataset(coords=coords)
    if names:
        computed = pm.stats.compute_log_prior(
            idata, var_names=names, model=model, extend_inferencedata=False, progressbar=False
        )
        dataset = xr.Dataset({name: computed[name].variable for name in names}, coords=computed.coords)
    derived = family_of(spec).derived_log_prior(posterior, spec.priors, **spec.options)
    clash = sorted(set(derived) & set(names))
    if clash:
        raise ValueError(f"{spec.model_id}: a derived log prior has the name of a scaled free variable: {clash}")
    for name, values in derived.items():
        dataset[name] = xr.DataArray(np.asarray(values, dtype=float), dims=SAMPLE_DIMS, coords=coords)
    return dataset


def with_log_prior(idata, spec: ModelSpec, data: GroupedCounts, model=None):
    """``idata`` (a DataTree) with its ``LOG_PRIOR_GROUP`` group, ``log_prior_dataset``, as the fit stage stores it."""
    idata[LOG_PRIOR_GROUP] = log_prior_dataset(spec, data, idata, model)
    return idata


def log_prior_draws(log_prior):
    """The joint log prior that power-scaling scales at each draw: the variables of a ``log_prior_dataset`` (the
    fit's ``log_prior`` group) summed, a DataArray (chain, draw) named ``log_prior``."""
    return _sum_to_draws(log_prior, list(log_prior.data_vars)).rename("log_prior")


def log_likelihood_draws(idata):
    """The model's own log-likelihood of the observed counts at each posterior draw: ``log_likelihood["r"]``
    summed over groups, a DataArray (chain, draw) named ``log_likelihood``."""
    return _sum_to_draws(idata["log_likelihood"], [R_VAR]).rename("log_likelihood")


def _sum_to_draws(dataset, names):
    total = 0
    for name in names:
        values = dataset[name]
        total = total + values.sum(dim=[d for d in values.dims if d not in SAMPLE_DIMS])
    return total.transpose(*SAMPLE_DIMS).astype(float)


def components(spec: ModelSpec, data: GroupedCounts, idata, model=None) -> dict:
    """The log density of each component at each draw: {"prior": ``log_prior_draws``, "likelihood": ...}.

    The log prior is the fit's ``log_prior`` group; a fit stored without one (written before binoval stored it)
    has it computed here (``log_prior_dataset``)."""
    if LOG_PRIOR_GROUP in idata.children:
        log_prior = idata[LOG_PRIOR_GROUP].to_dataset()
    else:
        log_prior = log_prior_dataset(spec, data, idata, model)
    return {"prior": log_prior_draws(log_prior), "likelihood": log_likelihood_draws(idata)}


# -- what is reported ----------------------------------------------------------------------------------


def reported_groups(data: GroupedCounts) -> list[str]:
    """The groups whose rate is reported: smallest n, largest n, lowest and highest observed r / n (first of
    ties), without repeats, in that order."""
    proportion = data.r / data.n
    picks = [np.argmin(data.n), np.argmax(data.n), np.argmin(proportion), np.argmax(proportion)]
    return list(dict.fromkeys(data.groups[int(i)] for i in picks))


def quantities(spec: ModelSpec, data: GroupedCounts, model=None) -> list:
    """The quantities of the table (``binoval.sbc.simulate.Quantity``): every scalar of every population-level
    parameter the family reports (``sbc_quantities``: constants such as ``w`` when K = 1 left out; variables with a
    group or level dimension left out), then the rate ``p`` of the ``reported_groups`` when ``p`` is per group."""
    from binoval.sbc.simulate import LOGLIK, Quantity, sbc_quantities

    model = build_model(spec, data) if model is None else model
    levels = level_dims(data)
    chosen = []
    for quantity in sbc_quantities(model, spec):
        dims = model.named_vars_to_dims.get(quantity.variable) or ()
        if quantity.variable != LOGLIK and not levels.intersection(dims):
            chosen.append(quantity)
    if tuple(model.named_vars_to_dims.get(GROUP_RATE) or ()) == (GROUP_DIM,):
        for group in reported_groups(data):
            position = (data.groups.index(group),)
            chosen.append(Quantity(f"{GROUP_RATE}[{group}]", GROUP_RATE, group, position))
    return chosen


def quantity_draws(idata, chosen) -> dict[str, np.ndarray]:
    """Draws (chain, draw) of each quantity, keyed by its label."""
    posterior = idata["posterior"]
    out = {}
    for quantity in chosen:
        values = posterior[quantity.variable].transpose(*SAMPLE_DIMS, ...).values
        out[quantity.label] = np.asarray(values[(slice(None), slice(None), *quantity.position)], dtype=float)
    return out


def diagnose(prior: float, likelihood: float, threshold: float = SENSITIVE) -> str:
    """priorsense's diagnosis: both sensitivities at or above ``threshold``: prior-data conflict; the prior's
    only: the prior dominates; else none."""
    if prior >= threshold:
        return CONFLICT if likelihood >= threshold else PRIOR_DOMINATES
    return NO_ISSUE


# -- importance weights --------------------------------------------------------------------------------


def _is_constant(values) -> bool:
    """True when a log density does not vary over the draws (scaling it changes nothing)."""
    values = np.asarray(values, dtype=float)
    return bool(np.ptp(values) <= 1e-12 * max(1.0, float(np.max(np.abs(values)))))


def pareto_k(log_density, alpha: float) -> float:
    """Pareto k of the importance ratios exp((alpha - 1) log_density) of power-scaling a component by ``alpha``
    (PSIS, arviz-stats' ``psislw``, with the relative tail ESS of the component as r_eff); -inf when the ratios
    are constant (alpha = 1 or a constant component). Above 0.7 the reweighted estimates are unreliable."""
    if alpha == 1 or _is_constant(log_density):
        return float("-inf")
    import arviz_stats  # noqa: F401 - registers the .azstats accessor

    r_eff = float(log_density.azstats.ess(sample_dims=list(SAMPLE_DIMS), method="tail", relative=True))
    log_ratio = (alpha - 1.0) * log_density
    _, k = (-log_ratio).azstats.psislw(dim=list(SAMPLE_DIMS), r_eff=min(max(r_eff, 1e-3), 1.0))
    return float(k)


def power_scale_weights(log_density, alpha: float) -> np.ndarray:
    """Normalised Pareto-smoothed importance weights (chain, draw) of power-scaling a component by ``alpha``
    (arviz-stats' ``power_scale_lw``, as ``psense`` computes them); uniform when the ratios are constant."""
    shape = log_density.shape
    if alpha == 1 or _is_constant(log_density):
        return np.full(shape, 1.0 / np.prod(shape))
    import arviz_stats  # noqa: F401 - registers the .azstats accessor

    log_weights = log_density.azstats.power_scale_lw(alpha=alpha, dim=list(SAMPLE_DIMS)).values
    weights = np.exp(log_weights - np.max(log_weights))
    return weights / weights.sum()


# -- the two tables ------------------------------------------------------------------------------------


def _sensitivities(draws: dict[str, np.ndarray], log_density, group: str, alphas) -> dict[str, float]:
    """arviz-stats' ``psense`` of every quantity for one component (0 for every quantity when the component is
    constant: scaling it leaves the posterior as it is)."""
    if _is_constant(log_density):
        return dict.fromkeys(draws, 0.0)
    import xarray as xr
    from arviz_stats import psense

    coords = {dim: log_density[dim].values for dim in SAMPLE_DIMS}
    posterior = xr.Dataset({label: (SAMPLE_DIMS, values) for label, values in draws.items()}, coords=coords)
    density = xr.Dataset({"component": log_density.drop_vars(list(log_density.coords))}, coords=coords)
    tree = xr.DataTree.from_dict({"posterior": posterior, f"log_{group}": density})
    result = psense(tree, group=group, alphas=tuple(alphas), sample_dims=list(SAMPLE_DIMS))
    return {label: float(result[label]) for label in draws}


def sensitivity_table(
    spec: ModelSpec,
    data: GroupedCounts,
    idata,
    threshold: float = SENSITIVE,
    alphas: tuple[float, float] = FINITE_DIFFERENCE_ALPHAS,
    model=None,
    densities=None,
) -> pd.DataFrame:
    """One row per quantity (``quantities``) with its prior and likelihood sensitivity, the diagnosis at
    ``threshold`` and the Pareto k of each component's weights (columns ``TABLE_COLUMNS``; see the module doc).
    ``model`` and ``densities`` (``components``) are built when not given."""
    model = build_model(spec, data) if model is None else model
    densities = components(spec, data, idata, model) if densities is None else densities
    chosen = quantities(spec, data, model)
    draws = quantity_draws(idata, chosen)
    values, ks = {}, {}
    for group, log_density in densities.items():
        values[group] = _sensitivities(draws, log_density, group, alphas)
        ks[group] = max(pareto_k(log_density, alpha) for alpha in alphas)
    rows = [
        {
            "model_id": spec.model_id,
            "quantity": q.label,
            "variable": q.variable,
            "index": q.index,
            "prior": values["prior"][q.label],
            "likelihood": values["likelihood"][q.label],
            "diagnosis": diagnose(values["prior"][q.label], values["likelihood"][q.label], threshold),
            "pareto_k_prior": ks["prior"],
            "pareto_k_likelihood": ks["likelihood"],
        }
        for q in chosen
    ]
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, probs) -> np.ndarray:
    """Quantiles of weighted draws: the weighted ECDF through the midpoints of each draw's weight, interpolated
    (with equal weights, the Hazen definition of a sample quantile)."""
    order = np.argsort(values)
    values, weights = values[order], weights[order] / weights.sum()
    cdf = np.cumsum(weights) - 0.5 * weights
    return np.interp(probs, cdf, values)


def powerscale_sequence(
    spec: ModelSpec,
    data: GroupedCounts,
    idata,
    alphas=SEQUENCE_ALPHAS,
    model=None,
    densities=None,
) -> pd.DataFrame:
    """How each quantity's posterior moves as the prior or the likelihood is raised to a power ``alpha``.

    One row per (component, alpha, quantity) (columns ``SEQUENCE_COLUMNS``): the weighted posterior ``mean``,
    ``sd``, the 5% and 95% weighted quantiles (``q05``, ``q95``) of the quantity under the power-scaled
    posterior, and the ``pareto_k`` of that component's importance ratios at that alpha (above 0.7 the row is
    unreliable; a refit with the scaled component would be needed). At alpha = 1 the rows are the plain
    posterior. The default alphas are log-spaced from 1/2 to 2. ``model`` and ``densities`` (``components``) are
    built when not given.
    """
    model = build_model(spec, data) if model is None else model
    densities = components(spec, data, idata, model) if densities is None else densities
    chosen = quantities(spec, data, model)
    draws = {label: values.ravel() for label, values in quantity_draws(idata, chosen).items()}
    rows = []
    for group, log_density in densities.items():
        for alpha in alphas:
            weights = power_scale_weights(log_density, float(alpha)).ravel()
            k = pareto_k(log_density, float(alpha))
            for q in chosen:
                x = draws[q.label]
                mean = float(np.sum(weights * x))
                sd = float(np.sqrt(np.sum(weights * (x - mean) ** 2)))
                low, high = weighted_quantiles(x, weights, SEQUENCE_QUANTILES)
                rows.append(
                    {
                        "model_id": spec.model_id,
                        "component": group,
                        "alpha": float(alpha),
                        "quantity": q.label,
                        "variable": q.variable,
                        "index": q.index,
                        "mean": mean,
                        "sd": sd,
                        "q05": float(low),
                        "q95": float(high),
                        "pareto_k": k,
                    }
                )
    return pd.DataFrame(rows, columns=list(SEQUENCE_COLUMNS))
