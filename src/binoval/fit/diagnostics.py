"""MCMC diagnostics of a fit, as tables.

Per scalar posterior quantity: posterior mean, sd and 94% HDI; rank-normalised
split R-hat (values above 1.01 mean the chains disagree); bulk and tail
effective sample sizes (how many independent draws the chains are worth for
the centre and for the 11%/89% quantiles, ArviZ 1.x's default); Monte Carlo
standard errors of the mean and sd. These are ArviZ's numbers, computed for all
scalars of a variable at once (``binoval.mcmc``). Per chain: divergent transitions, E-BFMI, tree-depth saturation.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd
import xarray as xr

from binoval import mcmc

SAMPLE_DIMS = ("chain", "draw")
HDI_PROB = 0.94


def _flatten(ds, var: str) -> pd.Series:
    """A variable of a per-quantity statistic dataset as a Series indexed by its cell label."""
    da = ds[var]
    if da.ndim == 0:
        return pd.Series([float(da.values)], index=[""])
    values = da.values.reshape(-1)
    coord_values = [da.coords[d].values for d in da.dims]
    labels = [",".join(str(coord_values[axis][i]) for axis, i in enumerate(cell)) for cell in np.ndindex(*da.shape)]
    return pd.Series(values.astype(float), index=labels)


def _per_scalar(posterior, statistic, names: tuple[str, ...]) -> dict[str, xr.Dataset]:
    """``statistic`` (draws (chain, draw, quantity) -> one array per name, ``binoval.mcmc``) of every scalar of
    every variable of ``posterior``: per name, a dataset of the variables' shapes."""
    out = {name: {} for name in names}
    for var, da in posterior.data_vars.items():
        da = da.transpose(*SAMPLE_DIMS, ...)
        values = statistic(da.values.reshape(da.shape[0], da.shape[1], -1))
        values = values if isinstance(values, tuple) else (values,)
        coords = {d: da.coords[d] for d in da.dims[2:] if d in da.coords}
        for name, value in zip(names, values, strict=True):
            out[name][var] = xr.DataArray(value.reshape(da.shape[2:]), dims=da.dims[2:], coords=coords)
    return {name: xr.Dataset(variables) for name, variables in out.items()}


def _convergence_statistics(posterior) -> dict:
    """Bulk and tail ESS and rank-normalised R-hat of every scalar of ``posterior``, as datasets (ArviZ's numbers,
    computed for all scalars of a variable at once: ``binoval.mcmc``)."""
    statistics = {
        **_per_scalar(posterior, mcmc.rhat_and_ess_bulk, ("r_hat", "ess_bulk")),
        **_per_scalar(posterior, mcmc.ess_tail, ("ess_tail",)),
    }
    return {name: statistics[name] for name in ("ess_bulk", "ess_tail", "r_hat")}


def judged_posterior(idata, exclude: Collection[str] = ()) -> xr.Dataset:
    """The posterior whose quantities are summarised and judged: every variable but ``exclude`` (a family's
    ``auxiliary_variables``, sampling devices whose scale no data inform, e.g. ``bb_mixture``'s unnormalised Gamma
    variables: the weights and means made from them are judged instead)."""
    posterior = idata["posterior"].to_dataset()
    return posterior.drop_vars([name for name in exclude if name in posterior.data_vars])


def convergence_table(idata, exclude: Collection[str] = ()) -> pd.DataFrame:
    """One row per scalar posterior quantity (but ``exclude``, ``judged_posterior``): ``variable``, ``index``,
    ``ess_bulk``, ``ess_tail``, ``r_hat``; what ``binoval.fit.check.convergence_shortfalls`` reads, a third of the
    cost of ``parameter_diagnostics``."""
    posterior = judged_posterior(idata, exclude)
    stats = _convergence_statistics(posterior)
    frames = []
    for var in posterior.data_vars:
        frame = pd.DataFrame({name: _flatten(ds, var) for name, ds in stats.items()})
        frame.insert(0, "index", frame.index.astype(str))
        frame.insert(0, "variable", var)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def parameter_diagnostics(
    idata,
    model_id: str,
    free_variables: set[str],
    convergence: pd.DataFrame | None = None,
    exclude: Collection[str] = (),
) -> pd.DataFrame:
    """One row per scalar posterior quantity (but ``exclude``, ``judged_posterior``) with its summary and
    convergence diagnostics.

    ``convergence``: the ``convergence_table`` of the same draws, when the caller has it; its ESS and R-hat are used
    instead of being computed again (they are two thirds of the cost: minutes on tens of thousands of scalars).
    """
    posterior = judged_posterior(idata, exclude)
    stats = {
        "mean": posterior.mean(dim=SAMPLE_DIMS),
        "sd": posterior.std(dim=SAMPLE_DIMS, ddof=1),
        **_per_scalar(posterior, mcmc.mcse_mean, ("mcse_mean",)),
        **_per_scalar(posterior, mcmc.mcse_sd, ("mcse_sd",)),
    }
    if convergence is None:
        stats.update(_convergence_statistics(posterior))
    stats.update(_per_scalar(posterior, lambda draws: mcmc.hdi(draws, HDI_PROB), ("hdi_low", "hdi_high")))
    frames = []
    for var in posterior.data_vars:
        columns = {name: _flatten(ds, var) for name, ds in stats.items()}
        frame = pd.DataFrame(columns)
        frame.insert(0, "index", frame.index.astype(str))
        frame.insert(0, "free", var in free_variables)
        frame.insert(0, "variable", var)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    if convergence is not None:
        keys = ["variable", "index"]
        table = table.merge(convergence, on=keys, how="left", validate="one_to_one")
    table.insert(0, "model_id", model_id)
    columns = [
        "model_id",
        "variable",
        "index",
        "free",
        "mean",
        "sd",
        "hdi_low",
        "hdi_high",
        "mcse_mean",
        "mcse_sd",
        "ess_bulk",
        "ess_tail",
        "r_hat",
    ]
    return table[columns]


def sampler_diagnostics(
    idata,
    model_id: str,
    tune: int,
    max_treedepth: int,
    wall_time_s: float,
    backend: str,
    extensions: int = 0,
    extended_because: str = "",
) -> pd.DataFrame:
    """One row per chain: divergences, E-BFMI, tree-depth saturation, step size, wall time, and how often and why
    the fit was extended (``binoval.fit.stage``)."""
    stats = idata["sample_stats"].to_dataset()
    diverging = stats["diverging"].values.astype(bool)
    chains, draws = diverging.shape
    depth = _tree_depth(stats)
    hits = _treedepth_hits(stats, depth, max_treedepth)
    ebfmi = mcmc.bfmi(stats["energy"].values) if "energy" in stats else np.full(chains, np.nan)
    step = stats["step_size"].values.mean(axis=1) if "step_size" in stats else np.full(chains, np.nan)
    return pd.DataFrame(
        {
            "model_id": model_id,
            "chain": np.arange(chains),
            "draws": draws,
            "tune": int(tune),
            "divergences": diverging.sum(axis=1).astype(int),
            "ebfmi": np.asarray(ebfmi, dtype=float),
            "treedepth_hits": hits.astype(int),
            "max_treedepth": int(max_treedepth),
            "mean_treedepth": depth.mean(axis=1) if depth is not None else np.nan,
            "step_size": step.astype(float),
            "wall_time_s": float(wall_time_s),
            "backend": backend,
            "error": "",
            "extensions": int(extensions),
            "extended_because": extended_because,
        }
    )


def failed_fit_diagnostics(
    model_id: str, tune: int, max_treedepth: int, wall_time_s: float, backend: str, error: str
) -> pd.DataFrame:
    """The sampler table of a fit that raised: one row, ``chain = -1``, the error message."""
    return pd.DataFrame(
        {
            "model_id": [model_id],
            "chain": [-1],
            "draws": [0],
            "tune": [int(tune)],
            "divergences": [0],
            "ebfmi": [np.nan],
            "treedepth_hits": [0],
            "max_treedepth": [int(max_treedepth)],
            "mean_treedepth": [np.nan],
            "step_size": [np.nan],
            "wall_time_s": [float(wall_time_s)],
            "backend": [backend],
            "error": [error],
            "extensions": [0],
            "extended_because": [""],
        }
    )


def _tree_depth(stats) -> np.ndarray | None:
    """Tree depth per draw: nutpie's ``depth``, PyMC's ``tree_depth``."""
    for name in ("depth", "tree_depth"):
        if name in stats:
            return stats[name].values.astype(float)
    return None


def _treedepth_hits(stats, depth, max_treedepth: int) -> np.ndarray:
    """Draws per chain whose trajectory stopped at the maximum tree depth."""
    for name in ("maxdepth_reached", "reached_max_treedepth"):
        if name in stats:
            return stats[name].values.astype(bool).sum(axis=1)
    if depth is not None:
        return (depth >= max_treedepth).sum(axis=1)
    return np.zeros(stats.sizes["chain"], dtype=int)
