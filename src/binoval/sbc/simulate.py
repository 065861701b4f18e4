"""Prior-predictive datasets for SBC, drawn from the model itself.

A simulated dataset is one joint draw of every parameter and of ``r`` from
the model's prior predictive, with the observed ``n`` per group. By default
the model that simulates is the model that is fitted. ``sbc.simulate_priors``
(``{<model_id>: {<param>: <prior spec>}}``) builds a second model with those
priors, used only to simulate: a prior-sensitivity study, and the way the
tests prove SBC catches a mismatch. Mixture means are ordered generatively
(``mu = cumsum(Dirichlet)``), so prior draws are ordered too.

This module is imported by the config check, so it imports PyMC lazily.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from binoval.models import (
    DATA_CONTAINERS,
    FAMILIES,
    FORWARD_SAMPLING_MODE,
    GROUP_DIM,
    N_DATA,
    R_VAR,
    GroupedCounts,
    ModelSpec,
    container_values,
)
from binoval.models.priors import PriorSpecError, merge_priors

#: Name of the joint log-likelihood test quantity.
LOGLIK = "log_likelihood"


def check_simulate_priors(
    simulate_priors: Mapping[str, Any] | None,
    specs: Mapping[str, ModelSpec],
    configured: Mapping[str, Any] | None = None,
) -> dict[str, dict]:
    """Check ``sbc.simulate_priors`` against the expanded model specs.

    Keys are model ids (an expanded id such as ``bb_mixture_k2``, or the
    configured id ``bb_mixture``, which then applies to every model it expands to). Each
    parameter must be one the family takes a prior for, and each spec must
    be a valid prior on that parameter's support. Returns the overrides per
    expanded model id. Keys naming a model of ``configured`` (the ``models``
    config) that is disabled are skipped, so an overlay may switch a model
    off without editing ``simulate_priors``. Raises ``PriorSpecError`` naming
    the config key.
    """
    result: dict[str, dict] = {}
    for key, overrides in (simulate_priors or {}).items():
        where = f"sbc.simulate_priors.{key}"
        targets = [mid for mid in specs if mid == key] or [mid for mid, spec in specs.items() if spec.config_id == key]
        if not targets and key in (configured or {}) and not configured[key].get("enabled", True):
            continue
        if not targets:
            raise PriorSpecError(f"config key {where}: no enabled model {key!r}; models are {', '.join(sorted(specs))}")
        if not isinstance(overrides, Mapping) or not overrides:
            raise PriorSpecError(
                f"config key {where}: expected a mapping of parameter -> prior spec, got {overrides!r}"
            )
        for model_id in targets:
            family = FAMILIES[specs[model_id].family]
            merge_priors({}, overrides, family.supports, where)  # names the bad key
            result.setdefault(model_id, {}).update({k: dict(v) for k, v in overrides.items()})
    return result


def simulation_spec(spec: ModelSpec, overrides: Mapping[str, Any] | None) -> ModelSpec:
    """The spec that simulates: ``spec`` with ``overrides`` replacing some priors."""
    if not overrides:
        return spec
    family = FAMILIES[spec.family]
    priors = merge_priors(spec.priors, overrides, family.supports, f"sbc.simulate_priors.{spec.model_id}")
    return ModelSpec(spec.model_id, spec.family, priors, dict(spec.options))


#: The roles of SBC test quantities (the ``role`` column of the SBC tables): a population-level parameter; the
#: rate of a group when every group's rate is ranked; one level of a seeded subset of a group-level variable's levels
#: (group rates ``p``, or the levels of a family's ``level_effects`` such as a GLMM's ``u_<g>``) when it has more
#: than ``sbc.max_group_quantities``; a summary of all of that variable's levels (``POOLED_SUMMARIES``); the joint
#: log-likelihood.
ROLES = ("parameter", "group", "group_subset", "group_pooled", "log_likelihood")

#: Summaries of all levels ranked alongside a subset: label -> function of the values (last axis: the levels).
POOLED_SUMMARIES = {
    "mean": lambda rates: np.mean(rates, axis=-1),
    "sd": lambda rates: np.std(rates, axis=-1),
}

#: Name of the group-level rate variable whose scalars are ranked per group (or by subset and summaries).
GROUP_RATE = "p"


@dataclass(frozen=True)
class Quantity:
    """One SBC test quantity: ``variable`` at position ``position`` (() for scalars), shown as ``label``.

    ``summary`` names a ``POOLED_SUMMARIES`` entry when the quantity is that summary of ``variable`` over its last
    axis (the groups); ``role`` is one of ``ROLES``.
    """

    label: str
    variable: str
    index: str
    position: tuple
    role: str = "parameter"
    summary: str | None = None

    def of(self, values: np.ndarray, leading: int) -> np.ndarray:
        """This quantity from an array of ``variable`` whose first ``leading`` axes are draws (or simulations)."""
        values = np.asarray(values)
        if self.summary is not None:  # over the first axis after the draws (the levels); position: the rest
            values = POOLED_SUMMARIES[self.summary](np.moveaxis(values, leading, -1))
        return values[(*(slice(None),) * leading, *self.position)]


def _depends_on_free_rv(model, var) -> bool:
    from pytensor.graph.traversal import ancestors

    free = set(model.free_RVs)
    return any(node in free for node in ancestors([var]))


def group_subset(trials: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` group positions (sorted), stratified by trials: the groups sorted by ``trials`` are cut into
    ``size`` runs of (nearly) equal length and one group is drawn at random from each run, so small and large
    groups are both represented."""
    order = np.argsort(np.asarray(trials), kind="stable")
    runs = np.array_split(order, int(size))
    return np.sort(np.array([run[rng.integers(len(run))] for run in runs], dtype=int))


def sbc_quantities(
    model,
    spec: ModelSpec,
    max_group_quantities: int | None = None,
    rng: np.random.Generator | None = None,
) -> list[Quantity]:
    """Every scalar of every non-group parameter, group rates ``p``, then the joint log-likelihood.

    Group rates: each group's when there are at most ``max_group_quantities`` groups (None: no limit); otherwise
    the rates of ``max_group_quantities`` groups drawn with ``rng`` (``group_subset``, stratified by the groups'
    trials) and the ``POOLED_SUMMARIES`` of all group rates. The family's ``level_effects`` (a GLMM's ``u_<g>``, one
    row per level of factor g) are treated alike when they have more levels than ``max_group_quantities``: a subset
    of levels, stratified by level order, every effect of each, and the summaries across all levels per effect.
    Group-level latent variables other than ``p`` (``z``, ``theta``) are left out: ``theta`` is a monotone transform
    of ``p`` (identical ranks) and ``z`` is a nuisance of the parameterisation. Constants (``w`` when K = 1) are
    left out too.
    """
    family = FAMILIES[spec.family]
    names = family.parameter_names(**spec.options)
    level_effects = set(family.level_effects(**spec.options))
    quantities: list[Quantity] = []
    for name in names:
        var = model[name]
        dims = model.named_vars_to_dims.get(name, ()) or ()
        if GROUP_DIM in dims and name != GROUP_RATE:
            continue
        if not _depends_on_free_rv(model, var):
            continue
        if not dims:
            quantities.append(Quantity(name, name, "", ()))
            continue
        coords = [list(model.coords[d]) for d in dims]
        positions = list(np.ndindex(*[len(c) for c in coords]))
        is_group_rate = name == GROUP_RATE and dims == (GROUP_DIM,)
        levels = len(coords[0])
        subset = (
            (is_group_rate or name in level_effects)
            and max_group_quantities is not None
            and levels > int(max_group_quantities)
        )
        role = "group_subset" if subset else "group" if is_group_rate else "parameter"
        if subset:
            if rng is None:
                raise ValueError("sbc_quantities: a subset of group-level quantities needs a random generator")
            order = np.asarray(model[N_DATA].get_value()) if is_group_rate else np.zeros(levels)
            effects = list(np.ndindex(*[len(c) for c in coords[1:]]))  # [()] for a vector
            positions = [(int(i), *e) for i in group_subset(order, int(max_group_quantities), rng) for e in effects]
        for position in positions:
            index = ",".join(str(coords[axis][i]) for axis, i in enumerate(position))
            quantities.append(Quantity(f"{name}[{index}]", name, index, tuple(position), role))
        if subset:
            what = f"{levels} groups" if is_group_rate else f"{levels} levels of {dims[0]}"
            for position in effects:
                effect = ",".join(str(coords[axis + 1][i]) for axis, i in enumerate(position))
                for summary in POOLED_SUMMARIES:
                    label = f"{summary}({name}[{effect}])" if effect else f"{summary}({name})"
                    index = f"{summary} of {what}" + (f", {effect}" if effect else "")
                    quantities.append(Quantity(label, name, index, position, "group_pooled", summary))
    quantities.append(Quantity(LOGLIK, LOGLIK, "", (), "log_likelihood"))
    return quantities


def free_variable_names(model) -> list[str]:
    return [rv.name for rv in model.free_RVs]


def simulate(sim_model, variables: list[str], draws: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``draws`` joint prior-predictive draws of ``variables`` and ``r`` (leading axis: simulation).

    One PyTensor function is compiled for all draws.
    """
    import pymc as pm

    names = list(dict.fromkeys(list(variables) + [R_VAR]))
    values = pm.draw([sim_model[name] for name in names], draws=int(draws), random_seed=rng, mode=FORWARD_SAMPLING_MODE)
    out = {name: np.asarray(value) for name, value in zip(names, values)}
    if draws == 1:
        out = {name: value[None] for name, value in out.items()}
    return out


#: Above this many groups the joint log-likelihood is compiled to machine code (PyTensor's default mode). At or
#: below it, FAST_COMPILE: NumPy where an operation has a NumPy twin and a Python loop over elements where it has
#: not (hier_logit's softplus), which costs 0.1 s a call on 1000 groups x 250 draws against 4 ms compiled; a
#: first compile on a cold cache costs up to 9 s (bb_mixture_k4), more than the loops cost at small sizes.
COMPILED_LOGLIK_ABOVE_GROUPS = 128


class LogLikelihood:
    """The joint log-likelihood of ``r`` given the free parameters, compiled once, vectorised over draws.

    ``loglik(data, values)`` takes a mapping free-variable name -> array with
    a leading axis of draws (constrained space, as stored in the posterior
    and drawn from the prior) and returns one log-likelihood per draw.
    """

    def __init__(self, model):
        import pytensor
        import pytensor.tensor as pt
        from pymc.model.transform.conditioning import remove_value_transforms
        from pytensor.graph.replace import graph_replace, vectorize_graph

        plain = remove_value_transforms(model)
        values = [plain.rvs_to_values[rv] for rv in plain.free_RVs]
        self.names = [rv.name for rv in plain.free_RVs]
        logp = plain.logp(vars=[plain[R_VAR]], jacobian=False, sum=True)
        inputs = [pt.vector(f"{name}_in", dtype="float64") for name in DATA_CONTAINERS]
        logp = graph_replace(
            logp,
            {plain[name]: new.astype(plain[name].dtype) for name, new in zip(DATA_CONTAINERS, inputs)},
            strict=False,
        )
        batched = [pt.tensor(name=f"{v.name}_draws", shape=(None, *v.type.shape), dtype=v.dtype) for v in values]
        out = vectorize_graph(logp, replace=dict(zip(values, batched)))
        groups = int(np.size(model[N_DATA].get_value()))
        self.mode = None if groups > COMPILED_LOGLIK_ABOVE_GROUPS else "FAST_COMPILE"
        self._fn = pytensor.function([*inputs, *batched], out, mode=self.mode, on_unused_input="ignore")

    def __call__(self, data: GroupedCounts, values: Mapping[str, np.ndarray]) -> np.ndarray:
        containers = container_values(data)
        args = [np.asarray(values[name], dtype="float64") for name in self.names]
        data_args = [np.asarray(containers[name], dtype="float64") for name in DATA_CONTAINERS]
        return np.asarray(self._fn(*data_args, *args), dtype=float)
