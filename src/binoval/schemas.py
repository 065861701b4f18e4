"""Pandera schemas for every table passed between rules, and their I/O.

Tables are Parquet files. ``write_table`` validates every check of the schema
before writing (atomically); ``read_table`` checks the table's structure after
reading (columns, dtypes, missing values where none are allowed), so a rule never
consumes a table of the wrong shape. The value checks are not repeated on read:
every table was validated when it was written, and repeating them on each of the
hundred or so tables the verdict reads cost it most of its run time.
"""

from __future__ import annotations

import functools
import os

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from binoval.io import atomic_path
from binoval.loo.tasks import GROUP_POINT, LOO_METHODS, OUTCOMES, TABLE_TASKS, TASKS
from binoval.sbc.simulate import ROLES as SBC_ROLES


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
    fit's sampling time (same on every row, extensions included); ``error`` is empty unless the fit
    failed, in which case there is a single row with ``chain = -1``. ``extensions`` counts how often
    the fit stage ran the fit again with more draws because it missed the R-hat / ESS targets
    (config ``fit``), ``extended_because`` says how the run before the last missed them (both the
    same on every row).
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
    extensions: Series[int] = pa.Field(ge=0)
    extended_because: Series[str]

    class Config:
        strict = True


def write_table(df: pd.DataFrame, path: str | os.PathLike, schema: type[pa.DataFrameModel]) -> pd.DataFrame:
    """Validate ``df`` against ``schema`` and write it to ``path`` as Parquet, atomically."""
    validated = schema.validate(df.reset_index(drop=True))
    with atomic_path(path) as tmp:
        validated.to_parquet(tmp, index=False)
    return validated


def read_table(path: str | os.PathLike, schema: type[pa.DataFrameModel]) -> pd.DataFrame:
    """Read a Parquet table written by ``write_table`` and check its structure against ``schema``.

    Raises ``ValueError`` naming the file and the first column that is missing, unexpected (strict
    schemas), of the wrong dtype or has missing values where the schema allows none.
    """
    table = pd.read_parquet(path)
    problem = structure_problem(table, schema)
    if problem:
        raise ValueError(f"{path}: {problem} (schema {schema.__name__})")
    return table


@functools.cache
def _built_schema(schema: type[pa.DataFrameModel]) -> pa.DataFrameSchema:
    """``schema.to_schema()``, built once per process (pandera copies the schema on every call)."""
    return schema.to_schema()


def structure_problem(table: pd.DataFrame, schema: type[pa.DataFrameModel]) -> str | None:
    """What is wrong with ``table``'s columns for ``schema``, or None: the schema-level part of validation."""
    from pandera.engines import pandas_engine

    built = _built_schema(schema)
    columns = built.columns
    missing = [name for name in columns if name not in table.columns]
    if missing:
        return f"column {missing[0]!r} is missing"
    if built.strict:
        extra = [name for name in table.columns if name not in columns]
        if extra:
            return f"column {extra[0]!r} is not in the schema"
    for name, column in columns.items():
        if not column.dtype.check(pandas_engine.Engine.dtype(table[name].dtype)):
            return f"column {name!r} has dtype {table[name].dtype}, expected {column.dtype}"
        if not column.nullable and table[name].isna().any():
            return f"column {name!r} has missing values"
    return None


# ============================================================================
# Predictive checks: prior_predictive and ppc stages.
# Statistic names are those of binoval.predictive.statistics.STATISTIC_NAMES.
# ============================================================================

from binoval.predictive.statistics import GREATER, TWO_SIDED  # noqa: E402
from binoval.predictive.statistics import STATISTIC_NAMES as _STATISTIC_NAMES  # noqa: E402

_ALTERNATIVES = (TWO_SIDED, GREATER)


class PriorPredictiveSummary(pa.DataFrameModel):
    """Contract table ``prior_predictive/<model_id>.parquet``: one row per test statistic.

    ``observed`` is the statistic of the data; ``mean``, ``lower_99``/``upper_99``
    summarise its prior predictive distribution over ``draws`` datasets (central
    99% interval); ``quantile`` is the observed value's mid-rank quantile among the
    draws (ties count half); ``inside_99`` says whether that quantile lies in
    [0.005, 0.995] (so an observed value tied with an interval end is judged by
    its mid-rank, not by the tie); ``alternative``, ``p_greater_eq``, ``p_less_eq``
    and ``p_value`` as in ``PPCStatistics``, over the prior predictive draws;
    ``degenerate_share`` (same on every row) is the share of draws in which every
    group is at 0 or every group at n.
    """

    model_id: Series[str]
    statistic: Series[str] = pa.Field(isin=list(_STATISTIC_NAMES), unique=True)
    observed: Series[float]
    mean: Series[float]
    lower_99: Series[float]
    upper_99: Series[float]
    quantile: Series[float] = pa.Field(ge=0, le=1)
    inside_99: Series[bool]
    alternative: Series[str] = pa.Field(isin=list(_ALTERNATIVES))
    p_greater_eq: Series[float] = pa.Field(ge=0, le=1)
    p_less_eq: Series[float] = pa.Field(ge=0, le=1)
    p_value: Series[float] = pa.Field(ge=0, le=1)
    draws: Series[int] = pa.Field(ge=1)
    degenerate_share: Series[float] = pa.Field(ge=0, le=1)

    @pa.dataframe_check(error="lower_99 must not exceed upper_99")
    def ordered_interval(cls, df: pd.DataFrame) -> Series[bool]:
        return df["lower_99"] <= df["upper_99"]

    class Config:
        strict = True


class PriorPredictiveDraws(pa.DataFrameModel):
    """``prior_predictive/<model_id>_draws.parquet``: every statistic of every prior predictive draw."""

    model_id: Series[str]
    draw: Series[int] = pa.Field(ge=0, unique=True)
    total_successes: Series[float] = pa.Field(ge=0)
    pooled_proportion: Series[float] = pa.Field(ge=0, le=1)
    sd_proportion: Series[float] = pa.Field(ge=0)
    var_proportion: Series[float] = pa.Field(ge=0)
    chi2_overdispersion: Series[float] = pa.Field(ge=0)
    min_proportion: Series[float] = pa.Field(ge=0, le=1)
    max_proportion: Series[float] = pa.Field(ge=0, le=1)
    n_zero: Series[float] = pa.Field(ge=0)
    n_full: Series[float] = pa.Field(ge=0)
    cv_proportion: Series[float] = pa.Field(ge=0)
    max_gap: Series[float] = pa.Field(ge=0)
    degenerate: Series[bool]

    class Config:
        strict = True


class PriorPredictiveGroups(pa.DataFrameModel):
    """``prior_predictive/<model_id>_groups.parquet``: prior predictive proportions per group.

    ``q05``..``q95`` are quantiles of r/n over the draws, ``p_zero`` the prior
    predictive probability of r = 0, ``observed_quantile`` the mid-rank quantile of
    the observed r among the draws.
    """

    model_id: Series[str]
    group: Series[str] = pa.Field(unique=True)
    n: Series[int] = pa.Field(ge=1)
    r: Series[int] = pa.Field(ge=0)
    observed_proportion: Series[float] = pa.Field(ge=0, le=1)
    q05: Series[float] = pa.Field(ge=0, le=1)
    q25: Series[float] = pa.Field(ge=0, le=1)
    median: Series[float] = pa.Field(ge=0, le=1)
    q75: Series[float] = pa.Field(ge=0, le=1)
    q95: Series[float] = pa.Field(ge=0, le=1)
    p_zero: Series[float] = pa.Field(ge=0, le=1)
    observed_quantile: Series[float] = pa.Field(ge=0, le=1)

    class Config:
        strict = True


class PPCStatistics(pa.DataFrameModel):
    """Contract table ``ppc/<model_id>.parquet``: one row per test statistic.

    ``mean`` and ``lower_95``/``upper_95`` summarise the statistic over the
    ``draws`` replicated datasets; ``p_greater_eq`` = P(T_rep >= T_obs) and
    ``p_less_eq`` = P(T_rep <= T_obs), each ``(1 + count) / (1 + draws)`` (ties
    counted in both tails); ``p_value`` is the p-value in the statistic's
    ``alternative`` (``binoval.predictive.statistics.Statistic``): the upper tail
    for ``greater``, min(1, 2 min of both) for ``two-sided``. Not yet corrected
    for multiplicity (the check applies Holm over the judged statistics). Empty
    when the fit failed (see the calibration table's ``fit_error``).
    """

    model_id: Series[str]
    statistic: Series[str] = pa.Field(isin=list(_STATISTIC_NAMES), unique=True)
    observed: Series[float]
    mean: Series[float]
    lower_95: Series[float]
    upper_95: Series[float]
    alternative: Series[str] = pa.Field(isin=list(_ALTERNATIVES))
    p_greater_eq: Series[float] = pa.Field(ge=0, le=1)
    p_less_eq: Series[float] = pa.Field(ge=0, le=1)
    p_value: Series[float] = pa.Field(ge=0, le=1)
    draws: Series[int] = pa.Field(ge=1)

    class Config:
        strict = True


class PPCGroups(pa.DataFrameModel):
    """``ppc/<model_id>_groups.parquet``: per group, central 50/90/95% posterior
    predictive intervals of r (attainable counts), whether the observed r is
    inside each, the predictive mean of r and the randomised PIT value."""

    model_id: Series[str]
    group: Series[str] = pa.Field(unique=True)
    n: Series[int] = pa.Field(ge=1)
    r: Series[int] = pa.Field(ge=0)
    observed_proportion: Series[float] = pa.Field(ge=0, le=1)
    mean: Series[float] = pa.Field(ge=0)
    lower_50: Series[int] = pa.Field(ge=0)
    upper_50: Series[int] = pa.Field(ge=0)
    inside_50: Series[bool]
    lower_90: Series[int] = pa.Field(ge=0)
    upper_90: Series[int] = pa.Field(ge=0)
    inside_90: Series[bool]
    lower_95: Series[int] = pa.Field(ge=0)
    upper_95: Series[int] = pa.Field(ge=0)
    inside_95: Series[bool]
    pit: Series[float] = pa.Field(ge=0, le=1)

    @pa.dataframe_check(
        error="intervals must be nested: lower_95 <= lower_90 <= lower_50 <= upper_50 <= upper_90 <= upper_95"
    )
    def nested_intervals(cls, df: pd.DataFrame) -> Series[bool]:
        return (
            (df["lower_95"] <= df["lower_90"])
            & (df["lower_90"] <= df["lower_50"])
            & (df["lower_50"] <= df["upper_50"])
            & (df["upper_50"] <= df["upper_90"])
            & (df["upper_90"] <= df["upper_95"])
        )

    class Config:
        strict = True
        ordered = True


class PPCCalibration(pa.DataFrameModel):
    """``ppc/<model_id>_calibration.parquet``: one row per model.

    ``coverage_50/90/95`` are the shares of groups whose observed r lies inside
    its central predictive interval; ``pit_ks_statistic``/``pit_ks_pvalue`` test
    the randomised PIT values for uniformity (exact Kolmogorov-Smirnov, i.e. the
    ECDF simultaneous band). ``draws`` replicated datasets, ``copies`` per posterior
    draw (``Family.replicate_groups``: each group's count from its own rate in the draw).
    When the fit failed, ``fit_error`` holds its error, ``draws`` and ``copies`` are 0 and the other
    numbers are missing.
    """

    model_id: Series[str] = pa.Field(unique=True)
    draws: Series[int] = pa.Field(ge=0)
    groups: Series[int] = pa.Field(ge=1)
    coverage_50: Series[float] = pa.Field(ge=0, le=1, nullable=True)
    coverage_90: Series[float] = pa.Field(ge=0, le=1, nullable=True)
    coverage_95: Series[float] = pa.Field(ge=0, le=1, nullable=True)
    pit_ks_statistic: Series[float] = pa.Field(ge=0, le=1, nullable=True)
    pit_ks_pvalue: Series[float] = pa.Field(ge=0, le=1, nullable=True)
    copies: Series[int] = pa.Field(ge=0)
    fit_error: Series[str]

    class Config:
        strict = True


# ---- LOO / comparison tables --------------------------------------------------------------------


class LooTable(pa.DataFrameModel):
    """PSIS-LOO and WAIC of one model, one row per (``task``, ``group``, ``point``) (``binoval.loo.psis.loo_table``).

    ``task``: ``new_groups``, ``same_groups`` or ``conditional`` (``binoval.loo.tasks``). ``point`` is
    ``group`` (the group's count) or, on ``same_groups``, ``success`` / ``failure`` (one of its trials);
    ``units`` is how many observations the row stands for. Pointwise, per observation: ``elpd_loo_i``
    (PSIS or, as ``loo_method`` says, an exact refit or K-fold), ``p_loo_i``, ``pareto_k`` (-inf where the
    log-likelihood does not vary), ``elpd_waic_i``, ``p_waic_i`` and ``loglik_var_i`` (variance of the
    pointwise log-likelihood over draws; WAIC is unreliable above 0.4). The task's totals over its
    observations (rows weighted by ``units``), repeated on its rows: ``elpd_loo``, ``se_loo``, ``p_loo``,
    ``elpd_waic``, ``se_waic``, ``p_waic``; ``total_draws`` is S (0 and every figure NaN when the fit produced
    no draws).
    """

    model_id: Series[str]
    task: Series[str] = pa.Field(isin=list(TABLE_TASKS))
    group: Series[str]
    point: Series[str] = pa.Field(isin=[GROUP_POINT, *OUTCOMES])
    units: Series[int] = pa.Field(ge=1)
    n: Series[int] = pa.Field(ge=1)
    r: Series[int] = pa.Field(ge=0)
    elpd_loo_i: Series[float] = pa.Field(nullable=True)
    p_loo_i: Series[float] = pa.Field(nullable=True)
    pareto_k: Series[float] = pa.Field(nullable=True)
    loo_method: Series[str] = pa.Field(isin=list(LOO_METHODS))
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
        unique = ["task", "group", "point"]


class Comparison(pa.DataFrameModel):
    """Models compared per prediction task, one row per (``task``, ``criterion`` loo|waic, ``model_id``).

    ``rank`` 0 is the best of the task; ``elpd_diff``/``dse`` are the difference from it and its paired
    standard error over the task's ``observations``; ``p_worse`` the probability that the model predicts worse
    than the best (NaN for the best), ``diag_diff`` ArviZ's caution about that figure; ``weight`` the stacking
    weight; ``method`` which methods gave the elpd values (e.g. ``psis+exact(2)``); ``warning`` flags
    unreliable estimates left (high Pareto k / WAIC variance). Mixture models carry their config id
    (``mixture``), ``K``, the evidence about K (``log_ml`` and its Monte Carlo ``log_ml_se``, ``p_k`` =
    P(K | data), ``p_clusters`` = P(K >= 2 | data); ``binoval.loo.k_choice``) and whether that K was chosen
    (``k_selected``, with ``k_reason``); others have ``mixture`` empty, ``K`` 0 and no evidence.
    """

    task: Series[str] = pa.Field(isin=list(TASKS))
    criterion: Series[str] = pa.Field(isin=["loo", "waic"])
    model_id: Series[str]
    rank: Series[int] = pa.Field(ge=0)
    elpd: Series[float] = pa.Field(nullable=True)
    se: Series[float] = pa.Field(nullable=True)
    p: Series[float] = pa.Field(nullable=True)
    elpd_diff: Series[float] = pa.Field(nullable=True)
    dse: Series[float] = pa.Field(nullable=True)
    p_worse: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    diag_diff: Series[str]
    weight: Series[float] = pa.Field(ge=0, le=1.000001)
    observations: Series[int] = pa.Field(ge=1)
    method: Series[str]
    warning: Series[bool]
    mixture: Series[str]
    K: Series[int] = pa.Field(ge=0)
    log_ml: Series[float] = pa.Field(nullable=True)
    log_ml_se: Series[float] = pa.Field(nullable=True, ge=0)
    p_k: Series[float] = pa.Field(nullable=True, ge=0, le=1.000001)
    p_clusters: Series[float] = pa.Field(nullable=True, ge=0, le=1.000001)
    k_selected: Series[bool]
    k_reason: Series[str]

    class Config:
        strict = True
        unique = ["task", "criterion", "model_id"]


class KEvidence(pa.DataFrameModel):
    """log marginal likelihood of one mixture model, one row per SMC chain (``binoval.loo.k_choice``)."""

    model_id: Series[str]
    mixture: Series[str]
    K: Series[int] = pa.Field(ge=1)
    chain: Series[int] = pa.Field(ge=0)
    log_marginal_likelihood: Series[float] = pa.Field(nullable=True)
    draws: Series[int] = pa.Field(ge=1)

    class Config:
        strict = True


# ---------------------------------------------------------------------------
# SBC (simulation-based calibration) tables: binoval.sbc
# ---------------------------------------------------------------------------


class SbcPredictive(pa.DataFrameModel):
    """``sbc/predictive/<model_id>.parquet`` (shards: ``sbc/shards/<model_id>/<shard>_predictive.parquet``):
    the posterior predictive check of every successful SBC fit, one row per simulation and statistic.

    ``observed`` is the statistic of the simulated dataset (a draw from the model's own prior), ``p_value`` its
    posterior predictive p-value in the statistic's alternative; ``coverage_95`` and ``pit_ks_pvalue`` (same on
    every row of a simulation) are the fit's 95% coverage and PIT KS p-value. The report judges each simulation by
    the prior and posterior predictive checks' rules: the share FAILed is their false-reject rate for this model.
    """

    model_id: Series[str]
    simulation: Series[int] = pa.Field(ge=0)
    statistic: Series[str] = pa.Field(isin=list(_STATISTIC_NAMES))
    observed: Series[float]
    p_value: Series[float] = pa.Field(ge=0, le=1)
    coverage_95: Series[float] = pa.Field(ge=0, le=1)
    pit_ks_pvalue: Series[float] = pa.Field(ge=0, le=1, nullable=True)

    class Config:
        strict = True
        unique = ["simulation", "statistic"]


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
    role: Series[str] = pa.Field(isin=list(SBC_ROLES))
    status: Series[str] = pa.Field(isin=["ok", "failed"])
    error: Series[str]
    rhat_max: Series[float] = pa.Field(nullable=True)
    ess_min: Series[float] = pa.Field(nullable=True)
    divergences: Series[int] = pa.Field(ge=0)
    ebfmi_min: Series[float] = pa.Field(nullable=True)
    wall_time_s: Series[float] = pa.Field(ge=0)
    extended: Series[bool]
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
    role: Series[str] = pa.Field(isin=list(SBC_ROLES))
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


class SensitivityTable(pa.DataFrameModel):
    """``sensitivity/<model_id>.parquet``: power-scaling sensitivity of one fit, one row per quantity
    (``binoval.sensitivity.powerscale``).

    ``prior`` / ``likelihood``: how fast the quantity's posterior moves (CJS distance per unit log2 power) when
    the population-level priors / the likelihood are raised to a power near 1; ``diagnosis`` applies the
    threshold the run was configured with; ``pareto_k_*``: Pareto k of the importance weights (above 0.7 the
    value is unreliable; -inf for a component constant over the draws).
    """

    model_id: Series[str]
    quantity: Series[str] = pa.Field(unique=True)
    variable: Series[str]
    index: Series[str]
    prior: Series[float] = pa.Field(ge=0, nullable=True)
    likelihood: Series[float] = pa.Field(ge=0, nullable=True)
    diagnosis: Series[str] = pa.Field(isin=["prior-data conflict", "prior dominates", "none"])
    pareto_k_prior: Series[float] = pa.Field(nullable=True)
    pareto_k_likelihood: Series[float] = pa.Field(nullable=True)

    class Config:
        strict = True


class SensitivitySequence(pa.DataFrameModel):
    """``sensitivity/<model_id>_sequence.parquet``: each quantity's posterior when the prior or the likelihood
    (``component``) is raised to the power ``alpha`` (1/2 to 2): weighted mean, sd, 5% and 95% quantiles, and the
    Pareto k of the weights."""

    model_id: Series[str]
    component: Series[str] = pa.Field(isin=["prior", "likelihood"])
    alpha: Series[float] = pa.Field(gt=0)
    quantity: Series[str]
    variable: Series[str]
    index: Series[str]
    mean: Series[float] = pa.Field(nullable=True)
    sd: Series[float] = pa.Field(nullable=True, ge=0)
    q05: Series[float] = pa.Field(nullable=True)
    q95: Series[float] = pa.Field(nullable=True)
    pareto_k: Series[float] = pa.Field(nullable=True)

    class Config:
        strict = True
        unique = ["component", "alpha", "quantity"]
