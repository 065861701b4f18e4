"""Pandera schemas for every table passed between rules, and their I/O.

Tables are Parquet files. ``write_table`` validates before writing (atomically)
and ``read_table`` validates after reading, so a rule never consumes a table
of the wrong shape.
"""

from __future__ import annotations

import os

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from .io import atomic_path


class BinomialData(pa.DataFrameModel):
    """Grouped binomial data: ``r`` successes out of ``n`` trials per ``group``.

    Extra columns (e.g. ``true_cluster`` in simulated data) are kept.
    """

    group: Series[str] = pa.Field(unique=True, str_length={"min_value": 1})
    n: Series[int] = pa.Field(ge=1)
    r: Series[int] = pa.Field(ge=0)

    @pa.dataframe_check(error="r must not exceed n")
    def r_at_most_n(cls, df: pd.DataFrame) -> Series[bool]:
        return df["r"] <= df["n"]

    @pa.dataframe_check(error="at least 2 groups are needed")
    def at_least_two_groups(cls, df: pd.DataFrame) -> bool:
        return len(df) >= 2

    class Config:
        strict = False
        coerce = False


class ParameterDiagnostics(pa.DataFrameModel):
    """One row per scalar posterior quantity (``variable`` at ``index``).

    ``mean``/``sd`` summarise the posterior; ``hdi_low``/``hdi_high`` bound its
    94% highest-density interval; ``mcse_*`` are Monte Carlo standard errors of
    the mean and sd estimates; ``ess_bulk``/``ess_tail`` are effective sample
    sizes; ``r_hat`` is the rank-normalised split R-hat. ``free`` marks
    sampled parameters (as opposed to deterministic transforms).
    """

    model_id: Series[str]
    variable: Series[str]
    index: Series[str] = pa.Field(nullable=False)
    free: Series[bool]
    mean: Series[float] = pa.Field(nullable=True)
    sd: Series[float] = pa.Field(nullable=True, ge=0)
    hdi_low: Series[float] = pa.Field(nullable=True)
    hdi_high: Series[float] = pa.Field(nullable=True)
    mcse_mean: Series[float] = pa.Field(nullable=True, ge=0)
    mcse_sd: Series[float] = pa.Field(nullable=True, ge=0)
    ess_bulk: Series[float] = pa.Field(nullable=True, ge=0)
    ess_tail: Series[float] = pa.Field(nullable=True, ge=0)
    r_hat: Series[float] = pa.Field(nullable=True)

    class Config:
        strict = True


class SamplerDiagnostics(pa.DataFrameModel):
    """One row per chain of a fit.

    ``divergences`` counts divergent transitions after warm-up; ``ebfmi`` is the
    energy Bayesian fraction of missing information (low values, < 0.3, mean
    the sampler explores the energy distribution poorly); ``treedepth_hits``
    counts draws that hit the maximum tree depth. ``wall_time_s`` is the whole
    fit's sampling time (same on every row); ``error`` is empty unless the fit
    failed, in which case there is a single row with ``chain = -1``.
    """

    model_id: Series[str]
    chain: Series[int] = pa.Field(ge=-1)
    draws: Series[int] = pa.Field(ge=0)
    tune: Series[int] = pa.Field(ge=0)
    divergences: Series[int] = pa.Field(ge=0)
    ebfmi: Series[float] = pa.Field(nullable=True)
    treedepth_hits: Series[int] = pa.Field(ge=0)
    max_treedepth: Series[int] = pa.Field(ge=0)
    mean_treedepth: Series[float] = pa.Field(nullable=True)
    step_size: Series[float] = pa.Field(nullable=True)
    wall_time_s: Series[float] = pa.Field(ge=0)
    backend: Series[str]
    error: Series[str]

    class Config:
        strict = True


def write_table(df: pd.DataFrame, path: str | os.PathLike, schema: type[pa.DataFrameModel]) -> pd.DataFrame:
    """Validate ``df`` against ``schema`` and write it to ``path`` as Parquet, atomically."""
    validated = schema.validate(df.reset_index(drop=True))
    with atomic_path(path) as tmp:
        validated.to_parquet(tmp, index=False)
    return validated


def read_table(path: str | os.PathLike, schema: type[pa.DataFrameModel]) -> pd.DataFrame:
    """Read a Parquet table and validate it against ``schema``."""
    return schema.validate(pd.read_parquet(path))


# ---- issue 5: LOO / comparison tables --------------------------------------------------------


class LooTable(pa.DataFrameModel):
    """PSIS-LOO and WAIC of one model, one row per group (``binoval.loo.loo_table``).

    Pointwise: ``elpd_loo_i`` (PSIS or, where ``loo_method`` is ``exact``, an
    exact leave-one-group-out refit), ``p_loo_i``, ``pareto_k``,
    ``elpd_waic_i``, ``p_waic_i`` and ``loglik_var_i`` (variance of the
    pointwise log-likelihood over draws; WAIC is unreliable above 0.4).
    Totals repeated on every row: ``elpd_loo``, ``se_loo``, ``p_loo``,
    ``elpd_waic``, ``se_waic``, ``p_waic``; ``total_draws`` is S (0 and every
    figure NaN when the fit produced no draws).
    """

    model_id: Series[str]
    group: Series[str] = pa.Field(unique=True)
    n: Series[int] = pa.Field(ge=1)
    r: Series[int] = pa.Field(ge=0)
    elpd_loo_i: Series[float] = pa.Field(nullable=True)
    p_loo_i: Series[float] = pa.Field(nullable=True)
    pareto_k: Series[float] = pa.Field(nullable=True)
    loo_method: Series[str] = pa.Field(isin=["psis", "exact"])
    elpd_waic_i: Series[float] = pa.Field(nullable=True)
    p_waic_i: Series[float] = pa.Field(nullable=True, ge=0)
    loglik_var_i: Series[float] = pa.Field(nullable=True, ge=0)
    elpd_loo: Series[float] = pa.Field(nullable=True)
    se_loo: Series[float] = pa.Field(nullable=True)
    p_loo: Series[float] = pa.Field(nullable=True)
    elpd_waic: Series[float] = pa.Field(nullable=True)
    se_waic: Series[float] = pa.Field(nullable=True)
    p_waic: Series[float] = pa.Field(nullable=True)
    total_draws: Series[int] = pa.Field(ge=0)

    class Config:
        strict = True


class Comparison(pa.DataFrameModel):
    """All models compared, one row per (``criterion`` loo|waic, ``model_id``).

    ``rank`` 0 is the best; ``elpd_diff``/``dse`` are the difference from the
    best and its paired standard error; ``weight`` the stacking weight;
    ``warning`` flags unreliable estimates (high Pareto k / WAIC variance).
    Mixture models carry their config id (``mixture``), ``K`` and whether
    that K was chosen (``k_selected``, with ``k_reason``); others have
    ``mixture`` empty and ``K`` 0.
    """

    criterion: Series[str] = pa.Field(isin=["loo", "waic"])
    model_id: Series[str]
    rank: Series[int] = pa.Field(ge=0)
    elpd: Series[float] = pa.Field(nullable=True)
    se: Series[float] = pa.Field(nullable=True)
    p: Series[float] = pa.Field(nullable=True)
    elpd_diff: Series[float] = pa.Field(nullable=True)
    dse: Series[float] = pa.Field(nullable=True)
    weight: Series[float] = pa.Field(ge=0, le=1.000001)
    warning: Series[bool]
    mixture: Series[str]
    K: Series[int] = pa.Field(ge=0)
    k_selected: Series[bool]
    k_reason: Series[str]

    class Config:
        strict = True

    @pa.dataframe_check(error="each (criterion, model_id) appears once")
    def unique_rows(cls, df: pd.DataFrame) -> bool:
        return not df.duplicated(["criterion", "model_id"]).any()
