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


# ---------------------------------------------------------------------------
# SBC (simulation-based calibration) tables: binoval.sbc
# ---------------------------------------------------------------------------


class SbcSimulations(pa.DataFrameModel):
    """One row per SBC simulation and test quantity (shards and the per-model table).

    ``simulation`` is the global index (shard * sims_per_shard + i). ``status``
    is ``ok`` or ``failed`` (``error`` holds the message; the true values are
    kept, the posterior columns are NaN). Per fit, repeated on each of its
    rows: ``rhat_max`` / ``ess_min`` (largest R-hat, smallest bulk ESS over the
    parameter quantities), ``divergences``, ``ebfmi_min`` (smallest over
    chains), ``wall_time_s`` (sampling time), ``thin`` (thinning factor) and
    ``n_ranks`` (L, the thinned draws the true value is ranked among). Per
    quantity: ``rank`` (0..L, ties broken at random), ``u`` = (rank + V)/(L + 1)
    with V ~ U(0, 1), ``true_value``, posterior ``post_mean``/``post_sd`` and
    central interval bounds ``q50_*``, ``q80_*``, ``q95_*``.
    """

    model_id: Series[str]
    shard: Series[int] = pa.Field(ge=0)
    simulation: Series[int] = pa.Field(ge=0)
    quantity: Series[str]
    variable: Series[str]
    index: Series[str]
    status: Series[str] = pa.Field(isin=["ok", "failed"])
    error: Series[str]
    rhat_max: Series[float] = pa.Field(nullable=True)
    ess_min: Series[float] = pa.Field(nullable=True)
    divergences: Series[int] = pa.Field(ge=0)
    ebfmi_min: Series[float] = pa.Field(nullable=True)
    wall_time_s: Series[float] = pa.Field(ge=0)
    thin: Series[int] = pa.Field(ge=0)
    n_ranks: Series[float] = pa.Field(nullable=True, ge=1)
    rank: Series[float] = pa.Field(nullable=True, ge=0)
    u: Series[float] = pa.Field(nullable=True, ge=0, lt=1)
    true_value: Series[float] = pa.Field(nullable=True)
    post_mean: Series[float] = pa.Field(nullable=True)
    post_sd: Series[float] = pa.Field(nullable=True, ge=0)
    q50_low: Series[float] = pa.Field(nullable=True)
    q50_high: Series[float] = pa.Field(nullable=True)
    q80_low: Series[float] = pa.Field(nullable=True)
    q80_high: Series[float] = pa.Field(nullable=True)
    q95_low: Series[float] = pa.Field(nullable=True)
    q95_high: Series[float] = pa.Field(nullable=True)

    @pa.dataframe_check(error="ok rows need a rank and u; failed rows need an error message")
    def status_consistent(cls, df: pd.DataFrame) -> Series[bool]:
        ok = df["status"] == "ok"
        return (ok & df["rank"].notna() & df["u"].notna()) | (~ok & (df["error"].str.len() > 0))

    @pa.dataframe_check(error="rank must not exceed n_ranks")
    def rank_in_range(cls, df: pd.DataFrame) -> Series[bool]:
        return df["rank"].isna() | (df["rank"] <= df["n_ranks"])

    class Config:
        strict = True


class SbcSummary(pa.DataFrameModel):
    """One row per SBC test quantity of a model: uniformity tests, coverage, z-scores, contraction.

    ``simulations`` is how many were run, ``ranked`` how many fits succeeded
    (their ranks are tested). ``ecdf_stat`` is the smallest pointwise
    two-sided binomial tail probability of the ECDF of ``u`` and ``ecdf_p`` its
    p-value under uniformity (simulated null, Säilynoja et al. 2022);
    ``chi2_*`` is the chi-square test on ``chi2_bins`` equal bins. ``*_p_holm``
    are Holm-adjusted over all of the model's quantities and both tests.
    ``coverage_<L>`` is the share of fits whose central L% interval holds the
    true value, ``coverage_<L>_low/high`` its 95% Jeffreys interval.
    ``z_mean``/``z_sd`` summarise the posterior z-scores
    (post_mean - true)/post_sd; ``contraction`` is 1 - mean posterior variance
    / variance of the true values.
    """

    model_id: Series[str]
    quantity: Series[str]
    variable: Series[str]
    index: Series[str]
    simulations: Series[int] = pa.Field(ge=0)
    ranked: Series[int] = pa.Field(ge=0)
    ecdf_stat: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    ecdf_p: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    chi2_stat: Series[float] = pa.Field(nullable=True, ge=0)
    chi2_bins: Series[int] = pa.Field(ge=0)
    chi2_p: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    ecdf_p_holm: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    chi2_p_holm: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    coverage_50: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    coverage_50_low: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    coverage_50_high: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    coverage_80: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    coverage_80_low: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    coverage_80_high: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    coverage_95: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    coverage_95_low: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    coverage_95_high: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    z_mean: Series[float] = pa.Field(nullable=True)
    z_sd: Series[float] = pa.Field(nullable=True)
    contraction: Series[float] = pa.Field(nullable=True)

    class Config:
        strict = True
