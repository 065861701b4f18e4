"""The two prediction tasks every model is scored on, never mixed, and their pointwise log-likelihoods.

Users ask two different questions of a model of grouped counts:

``new_groups``: *a group the fit has not seen* (another hospital, agent or campaign; the cluster question).
    The pointwise value is log p(r_i | population parameters of the draw), the group's own rate integrated
    out (``Family.marginal_log_likelihood``: exact for beta-binomial populations and mixtures, adaptive
    quadrature for logit populations). PSIS on it is integrated LOO (Vehtari et al. 2016): leaving group i out
    changes only how much its count tells about the population, so the importance ratios stay tame where
    those of the conditional log-likelihood (below) do not.
``same_groups``: *new trials in the groups at hand* (next year's events at these hospitals, a campaign sent
    again). Leave-one-trial-out: a group's r successes and n - r failures are exchangeable Bernoulli trials,
    so each group has two distinct pointwise values, log p(success | the group's other trials, draw) and the
    same for a failure (``Family.trial_log_likelihood``), counted r and n - r times. We chose PSIS over trials
    rather than K-fold by binomial thinning: the decomposition is exact, costs no refit and one PSIS per
    distinct value, and one trial of many barely moves the posterior, so its Pareto k stays small; thinning
    would pay K refits for a noisier estimate of the same quantity.

``conditional`` is PyMC's log-likelihood of each group's count given its own rate, the one textbooks' WAIC
and ``elpd_loo`` use. It is kept for those numbers but never ranked: it is not one task across families (a
mixture's likelihood is already marginal over the group's rate), and with one count per group its PSIS
estimate is a poor estimate of the new-groups task (high Pareto k).

The fit stores each in its ``log_likelihood`` group under ``LOG_LIKELIHOOD_VARS``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from binoval.models import R_VAR, GroupedCounts, ModelSpec, family_of

NEW_GROUPS, SAME_GROUPS, CONDITIONAL = "new_groups", "same_groups", "conditional"
#: The tasks models are compared on.
TASKS = (NEW_GROUPS, SAME_GROUPS)
#: Every task a LOO table has rows for, in table order.
TABLE_TASKS = (*TASKS, CONDITIONAL)
#: The ``log_likelihood`` variable of each task in a fit.
LOG_LIKELIHOOD_VARS = {NEW_GROUPS: "r_new_group", SAME_GROUPS: "r_trial", CONDITIONAL: R_VAR}
#: The trial outcomes of ``r_trial`` (its last dimension ``outcome``).
OUTCOME_DIM, OUTCOMES = "outcome", ("success", "failure")
#: The ``point`` of a table row that stands for a whole group (the outcomes name the others).
GROUP_POINT = "group"
#: Where an elpd came from: PSIS, an exact refit without the observation, or K-fold cross-validation.
LOO_METHODS = ("psis", "exact", "kfold")


def task_log_likelihoods(spec: ModelSpec, idata, data: GroupedCounts, rng: np.random.Generator) -> dict:
    """The pointwise log-likelihoods of the two tasks for a fit, as DataArrays (chain, draw, group[, outcome]).

    A family without a group-marginal log-likelihood (glmm: its rows own no parameter; a new level of a
    factor is scored by K-fold instead) gets no ``new_groups`` variable.
    """
    import xarray as xr

    family = family_of(spec)
    posterior = idata.posterior
    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    coords = {"chain": posterior["chain"].values, "draw": posterior["draw"].values, "group": list(data.groups)}
    out = {}
    try:
        marginal = family.marginal_log_likelihood(spec, idata, data, rng)
    except NotImplementedError:
        marginal = None
    if marginal is not None:
        out[LOG_LIKELIHOOD_VARS[NEW_GROUPS]] = xr.DataArray(
            np.asarray(marginal, dtype=float).reshape(chains, draws, -1), dims=("chain", "draw", "group"), coords=coords
        )
    trials = np.asarray(family.trial_log_likelihood(spec, idata, data), dtype=float)
    out[LOG_LIKELIHOOD_VARS[SAME_GROUPS]] = xr.DataArray(
        trials.reshape(chains, draws, len(data.groups), len(OUTCOMES)),
        dims=("chain", "draw", "group", OUTCOME_DIM),
        coords={**coords, OUTCOME_DIM: list(OUTCOMES)},
    )
    return out


def add_task_log_likelihoods(idata, spec: ModelSpec, data: GroupedCounts, rng: np.random.Generator):
    """``idata`` with the tasks' log-likelihoods (``task_log_likelihoods``) beside ``r`` in its ``log_likelihood``."""
    import xarray as xr

    groups = {name: idata[name].to_dataset() for name in idata.children}
    groups["log_likelihood"] = groups["log_likelihood"].assign(task_log_likelihoods(spec, idata, data, rng))
    return xr.DataTree.from_dict(groups)


@dataclass(frozen=True)
class TaskPoints:
    """One task's distinct pointwise values: a log-likelihood column per point and how many observations it is.

    ``log_likelihood``: (chain, draw, point); ``groups`` and ``points`` (``group``, ``success`` or ``failure``)
    name each column; ``units`` counts the identical observations a column stands for (1 for a group; r or
    n - r trials). Points with no observation are left out.
    """

    task: str
    log_likelihood: np.ndarray
    groups: list[str]
    points: list[str]
    units: np.ndarray


def task_points(idata, task: str, data: GroupedCounts) -> TaskPoints | None:
    """The points of ``task`` in a fit, or None when the fit has no log-likelihood for it."""
    name = LOG_LIKELIHOOD_VARS[task]
    if "log_likelihood" not in idata.children or name not in idata.log_likelihood:
        return None
    values = idata.log_likelihood[name]
    groups = [str(g) for g in values.coords["group"].values]
    position = {g: i for i, g in enumerate(data.groups)}
    n = np.array([data.n[position[g]] for g in groups])
    r = np.array([data.r[position[g]] for g in groups])
    if task != SAME_GROUPS:
        array = values.transpose("chain", "draw", "group").values
        return TaskPoints(task, array, groups, [GROUP_POINT] * len(groups), np.ones(len(groups), dtype="int64"))
    array = values.transpose("chain", "draw", "group", OUTCOME_DIM).values
    counts = np.stack([r, n - r], axis=1)
    keep = [(i, j) for i in range(len(groups)) for j in range(len(OUTCOMES)) if counts[i, j] > 0]
    return TaskPoints(
        task,
        np.stack([array[:, :, i, j] for i, j in keep], axis=-1),
        [groups[i] for i, _ in keep],
        [OUTCOMES[j] for _, j in keep],
        np.array([counts[i, j] for i, j in keep], dtype="int64"),
    )


def left_out_data(data: GroupedCounts, group: str, point: str) -> GroupedCounts:
    """The data of an exact refit without one observation, same shapes (so one compiled model serves every refit).

    A group (``new_groups``) is left out by giving it no trials (n = 0, r = 0: its likelihood is 1, and its
    own parameters follow the population); a trial (``same_groups``) by taking one success or failure off.
    """
    i = data.groups.index(group)
    n, r = data.n.copy(), data.r.copy()
    if point == GROUP_POINT:
        n[i], r[i] = 0, 0
    elif point == OUTCOMES[0]:
        n[i], r[i] = n[i] - 1, r[i] - 1
    elif point == OUTCOMES[1]:
        n[i] = n[i] - 1
    else:
        raise ValueError(f"unknown point {point!r}; expected {GROUP_POINT!r} or one of {OUTCOMES}")
    return GroupedCounts(data.groups, n, r, data.covariates)


def heldout_log_density(
    spec: ModelSpec, refit, data: GroupedCounts, group: str, point: str, rng: np.random.Generator
) -> np.ndarray:
    """log p(the left-out observation | draw of the refit without it), one value per draw.

    A left-out group is scored by its family (``Family.heldout_log_density``: from the population given the
    refit's draw); a left-out trial by the family's one-trial density given the group's other trials.
    """
    family = family_of(spec)
    if point == GROUP_POINT:
        return np.asarray(family.heldout_log_density(spec, refit, data, group, rng), dtype=float)
    i = data.groups.index(group)
    return np.asarray(family.trial_log_likelihood(spec, refit, data), dtype=float)[:, i, OUTCOMES.index(point)]
