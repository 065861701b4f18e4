"""One SBC shard: ``sims_per_shard`` simulations of one model, compiled once.

Reproducibility: every random stream of a shard derives from
(seed, "sbc", model id, shard index) through ``binoval.seeds``; simulation i
of shard s has the global index ``s * sims_per_shard + i``. Every shard always
runs exactly ``sims_per_shard`` simulations, so its output depends only on
its own index and settings, never on ``sbc.simulations`` or on which other
shards exist; the summary uses the simulations with global index below
``sbc.simulations``.

Speed: the fitted model is compiled once per shard (nutpie) and each
simulated dataset is swapped in with ``with_data``; prior draws come from one
compiled PyTensor function, the log-likelihood test quantity from another,
vectorised over posterior draws.

A fit that raises is recorded as ``failed`` with its error (the true values
are kept) and the shard goes on.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from binoval import mcmc, seeds
from binoval.defaults import SAMPLER_INHERITED_BY_SBC, SBC, SBC_SAMPLER
from binoval.fit.sampler import CompiledSampler, SamplerSettings, nutpie_sample, with_data
from binoval.models import GroupedCounts, ModelSpec, PosteriorArrays, build_model, family_of
from binoval.sbc.ranks import ranks, thin_draws, thin_factor
from binoval.sbc.simulate import (
    LOGLIK,
    LogLikelihood,
    Quantity,
    free_variable_names,
    sbc_quantities,
    simulate,
    simulation_spec,
)
from binoval.sbc.uniformity import fractional_ranks

log = logging.getLogger(__name__)

#: Central posterior intervals recorded per simulation and quantity.
INTERVALS = (0.5, 0.8, 0.95)


def sbc_sampler_settings(
    global_sampler: Mapping[str, Any] | None, sbc_sampler: Mapping[str, Any] | None
) -> SamplerSettings:
    """SBC fit settings, later layers overriding earlier ones.

    The ``SAMPLER_INHERITED_BY_SBC`` keys of the top-level ``sampler``, then ``SBC_SAMPLER``, then ``sbc.sampler``.
    """
    inherited = {k: v for k, v in (global_sampler or {}).items() if k in SAMPLER_INHERITED_BY_SBC}
    return SamplerSettings.from_config(inherited, SBC_SAMPLER, sbc_sampler)


#: ``extension_draws`` asks for this many times the draws the first fit's ESS rate says ``min_ranks`` needs: the
#: bulk-ESS estimate of a 2 x 500 fit is uncertain by about a fifth, and an extension that still falls short is
#: ranked on autocorrelated draws.
EXTENSION_MARGIN = 1.5


def extension_draws(
    draws: int, ess_min: float, min_ranks: int, extend_factor: int, configured_draws: int | None = None
) -> int:
    """Draws per chain of the refit of a fit with ``draws`` per chain and smallest bulk ESS ``ess_min`` < ``min_ranks``.

    Enough for ``min_ranks`` effective draws at the first fit's effective draws per draw, with
    ``EXTENSION_MARGIN``; at least twice ``draws`` and at most ``extend_factor`` times the configured draws
    (``configured_draws``; ``draws`` when not given; a fit that started longer than configured, as posterior SBC's
    do, is not extended past that). A fit with no effective draws to speak of gets the most.
    """
    most = int(configured_draws or draws) * int(extend_factor)
    if not ess_min > 0:
        return most
    needed = math.ceil(int(draws) * EXTENSION_MARGIN * min_ranks / ess_min)
    return int(min(most, max(2 * int(draws), needed)))


def interval_columns() -> list[str]:
    return [f"q{int(level * 100)}_{side}" for level in INTERVALS for side in ("low", "high")]


@dataclass
class Draws:
    """What SBC needs from a fit: posterior arrays (chain, draw, ...), divergences, energy, sampling time."""

    posterior: dict[str, np.ndarray]
    diverging: np.ndarray
    energy: np.ndarray | None
    wall_time_s: float


def ebfmi(energy: np.ndarray) -> np.ndarray:
    """E-BFMI per chain: sum of squared energy changes over the sum of squared deviations (as ``arviz.bfmi``)."""
    return np.square(np.diff(energy, axis=1)).sum(axis=1) / (energy.shape[1] * np.var(energy, axis=1))


def _arrow_columns(batches, names: list[str], tuning: list[int]) -> dict[str, np.ndarray]:
    """Columns ``names`` of nutpie's per-chain Arrow batches as arrays (chain, draw, *shape), warm-up rows dropped.

    Each column's item shape is in its field metadata (``shape``); chains shorter than the longest are padded with NaN.
    """
    import pyarrow as pa

    chains = len(batches)
    length = max(batch.num_rows - t for batch, t in zip(batches, tuning))
    out: dict[str, np.ndarray] = {}
    for name in names:
        for chain, (batch, t) in enumerate(zip(batches, tuning)):
            column = batch.column(name)
            shape_text = (column.field.metadata or {}).get(b"shape", b"").decode()
            shape = tuple(int(size) for size in shape_text.split(",")) if shape_text else ()
            values = pa.array(column).slice(t)
            if pa.types.is_list(values.type) or pa.types.is_large_list(values.type):
                values = values.flatten()
            values = values.to_numpy(zero_copy_only=False).reshape(-1, *shape)
            if name not in out:
                fill = np.nan if values.dtype.kind == "f" else 0
                out[name] = np.full((chains, length, *shape), fill, dtype=values.dtype)
            out[name][chain, : len(values)] = values
    return out


def _nutpie_draws(trace, wall_time_s: float) -> Draws:
    """Posterior draws and the two sampler stats from nutpie's raw Arrow trace (``return_raw_trace=True``).

    Skipping nutpie's conversion to ArviZ saves about 0.09 s per fit (a third of a 4 x 1000 fit of hier_logit).
    """
    draw_batches, stat_batches = trace.get_arrow_trace()
    tuning = [int(np.asarray(stat.column("tuning").to_numpy()).sum()) for stat in stat_batches]
    names = [name for name in draw_batches[0].column_names if not name.endswith("__")]
    posterior = _arrow_columns(draw_batches, names, tuning)
    stat_names = [name for name in ("diverging", "energy") if name in stat_batches[0].column_names]
    stats = _arrow_columns(stat_batches, stat_names, tuning)
    return Draws(posterior, stats["diverging"].astype(bool), stats.get("energy"), wall_time_s)


@dataclass
class ShardRunner:
    """Compiles one model for SBC and runs its simulations."""

    spec: ModelSpec
    data: GroupedCounts
    settings: SamplerSettings
    seed: int
    sims_per_shard: int
    simulate_priors: Mapping[str, Any] | None = None
    thin: str | int = SBC["thin"]
    min_ranks: int = SBC["min_ranks"]
    extend_factor: int = SBC["extend_factor"]
    threads: int | None = None
    max_group_quantities: int | None = SBC["max_group_quantities"]
    #: the seed stream's stage (``binoval.seeds.STAGES``) and the name in log lines
    stage: ClassVar[str] = "sbc"
    #: run the posterior predictive check of each fit (``predictive_rows``)
    check_predictive: ClassVar[bool] = True
    quantities: list[Quantity] = field(init=False)
    predictive: list[pd.DataFrame] = field(init=False, default_factory=list)

    def __post_init__(self):
        start = time.perf_counter()
        #: the configured draws per chain, which ``extend_factor`` multiplies whatever draws a fit starts with
        self.configured_draws = self.settings.draws
        self.model = build_model(self.spec, self.data)
        overrides = dict(self.simulate_priors or {})
        self.sim_model = build_model(simulation_spec(self.spec, overrides), self.data) if overrides else self.model
        self.quantities = self.test_quantities()
        self.free = free_variable_names(self.model)
        self.variables = list(dict.fromkeys(q.variable for q in self.quantities if q.variable != LOGLIK))
        self.loglik = LogLikelihood(self.model)
        self.sampler = CompiledSampler(self.model, self.settings, self.threads)
        self.compile_time_s = time.perf_counter() - start

    def test_quantities(self) -> list[Quantity]:
        """The quantities ranked (``sbc_quantities``); a subset of group rates is drawn from a stream of (seed,
        "sbc_groups", model id), so every shard, and prior and posterior SBC, rank the same groups."""
        rng = seeds.rng(self.seed, "sbc_groups", self.spec.model_id)
        return sbc_quantities(self.model, self.spec, self.max_group_quantities, rng)

    def simulating_from(self, simulate_priors: Mapping[str, Any] | None) -> ShardRunner:
        """A runner sharing this one's compiled model but simulating from other priors (a cheap copy)."""
        import copy

        other = copy.copy(self)
        other.simulate_priors = dict(simulate_priors or {})
        other.sim_model = (
            build_model(simulation_spec(self.spec, other.simulate_priors), self.data)
            if other.simulate_priors
            else self.model
        )
        return other

    def run(self, shard: int, progress_every: int | None = None) -> pd.DataFrame:
        """All simulations of shard ``shard``: one row per simulation and test quantity.

        The posterior predictive check of each successful fit is kept in ``self.predictive`` (``predictive_rows``).
        """
        S = int(self.sims_per_shard)
        self.predictive = []
        root = seeds.seed_sequence(self.seed, self.stage, self.spec.model_id, shard)
        sim_seq, *fit_seqs = root.spawn(S + 1)
        truths = self.simulate_truths(shard, S, np.random.default_rng(sim_seq))
        every = progress_every or max(1, S // 10)
        start = time.perf_counter()
        frames, failed = [], 0
        for i in range(S):
            frame = self.run_simulation(i, shard * S + i, truths, fit_seqs[i])
            failed += int(frame["status"].iloc[0] == "failed")
            frames.append(frame)
            done = i + 1
            if done % every == 0 or done == S:
                elapsed = time.perf_counter() - start
                eta = elapsed / done * (S - done)
                log.info(
                    "%s %s shard %d: %d/%d simulations done (%d failed), elapsed %.1f s, ETA %.1f s",
                    self.stage,
                    self.spec.model_id,
                    shard,
                    done,
                    S,
                    failed,
                    elapsed,
                    eta,
                )
        table = pd.concat(frames, ignore_index=True)
        table.insert(1, "shard", int(shard))
        return table

    def run_simulation(
        self, i: int, simulation: int, truths: Mapping[str, np.ndarray], seq: np.random.SeedSequence
    ) -> pd.DataFrame:
        """Fit simulated dataset ``i`` of this shard and rank its true values; never raises."""
        sampler_seq, rank_seq, check_seq = seq.spawn(3)
        data = self.dataset(truths, i)
        truth = {name: truths[name][i] for name in truths}
        true_values = np.full(len(self.quantities), np.nan)
        start = time.perf_counter()
        try:
            true_values = np.array([self._true_value(q, truth, data) for q in self.quantities])
            fit = self.sample(data, int(sampler_seq.generate_state(1, dtype=np.uint32)[0]))
            checked = self._checked(fit)
            longer = self._extend_if_short(fit, checked[2], data, sampler_seq)
            if longer is not None:
                fit, checked = longer, self._checked(longer)
            frame = self._analyse(fit, data, true_values, simulation, np.random.default_rng(rank_seq), checked)
            frame["extended"] = longer is not None
            if self.check_predictive:
                check_seed = int(check_seq.generate_state(1, dtype=np.uint32)[0])
                self.predictive.append(predictive_rows(self.spec, fit.posterior, data, simulation, check_seed))
            return frame
        except Exception as err:  # noqa: BLE001 - a failed fit is a result, recorded and counted
            message = f"{type(err).__name__}: {err}".splitlines()[0] if str(err) else type(err).__name__
            log.warning("%s %s simulation %d failed: %s", self.stage, self.spec.model_id, simulation, message)
            return self._rows(simulation, "failed", message, true_values, wall_time_s=time.perf_counter() - start)

    def simulate_truths(self, shard: int, S: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """The shard's ``S`` true parameter sets and datasets (leading axis: simulation): joint prior predictive
        draws of the free and ranked variables and of ``r``."""
        return simulate(self.sim_model, self.free + self.variables, S, rng)

    def dataset(self, truths: Mapping[str, np.ndarray], i: int) -> GroupedCounts:
        """The data simulation ``i`` fits: the observed groups and trials with the simulated successes."""
        return self.data.with_successes(truths["r"][i])

    def _extend_if_short(
        self, fit: Draws, ess: np.ndarray, data: GroupedCounts, sampler_seq: np.random.SeedSequence
    ) -> Draws | None:
        """The longer refit of ``fit`` (bulk ESS ``ess`` per quantity) when it has fewer than ``min_ranks`` effective
        draws, else None.

        SBC fits are sized for about 100 nearly independent draws; a simulated
        dataset on which the sampler mixes slowly (e.g. a large simulated tau for
        the non-centred hier_logit) gets a longer run instead of being ranked on
        autocorrelated draws or judged non-converged for being short. The longer
        run's draws are ``extension_draws``: sized by the first fit's effective
        draws per draw, at most ``extend_factor`` times the configured draws (a
        fit that already had that many is not refitted). The extended fit
        replaces the first; its convergence is what gets judged.
        """
        if self.extend_factor <= 1 or not np.isfinite(ess).any() or float(np.nanmin(ess)) >= self.min_ranks:
            return None
        per_chain = extension_draws(
            self.settings.draws, float(np.nanmin(ess)), self.min_ranks, self.extend_factor, self.configured_draws
        )
        if per_chain <= self.settings.draws:  # started at the most already: a refit could be no longer
            return None
        longer = replace(self.settings, draws=per_chain)
        seed = int(sampler_seq.spawn(1)[0].generate_state(1, dtype=np.uint32)[0])
        extended = self.sample(data, seed, longer)
        extended.wall_time_s += fit.wall_time_s
        return extended

    def _checked(self, fit: Draws) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The parameter quantities' draws (chain, draw, quantity) with their R-hat and bulk ESS."""
        draws = self._posterior(fit.posterior)
        rhat, ess = mcmc.rhat_and_ess_bulk(draws)
        return draws, rhat, ess

    def sample(self, data: GroupedCounts, seed: int, settings: SamplerSettings | None = None) -> Draws:
        """Fit ``data`` with the model compiled once (nutpie: ``with_data`` and the raw trace)."""
        s = settings or self.settings
        compiled = getattr(self.sampler, "_compiled", None)
        if compiled is None:  # PyMC backend: the generic path
            fit = self.sampler.fit(data, seed, s)
            stats = fit.idata.sample_stats
            posterior = {name: fit.idata.posterior[name].values for name in fit.idata.posterior.data_vars}
            energy = stats["energy"].values if "energy" in stats else None
            return Draws(posterior, stats["diverging"].values.astype(bool), energy, fit.wall_time_s)
        start = time.perf_counter()
        trace = nutpie_sample(
            with_data(compiled, data),
            draws=s.draws,
            tune=s.tune,
            chains=s.chains,
            cores=self.sampler.threads,
            seed=int(seed),
            save_warmup=False,
            progress_bar=False,
            target_accept=s.target_accept,
            maxdepth=s.max_treedepth,
            **self.sampler.adaptation_options,
            return_raw_trace=True,
        )
        return _nutpie_draws(trace, time.perf_counter() - start)

    def _true_value(self, q: Quantity, truth, data) -> float:
        if q.variable == LOGLIK:
            return float(self.loglik(data, {name: truth[name][None] for name in self.free})[0])
        return float(q.of(truth[q.variable], leading=0))

    def _posterior(self, posterior) -> np.ndarray:
        """Posterior draws of the parameter quantities as (chain, draw, quantity)."""
        columns = []
        for q in self.quantities:
            if q.variable == LOGLIK:
                continue
            columns.append(q.of(posterior[q.variable], leading=2))
        return np.stack(columns, axis=-1).astype(float)

    def _analyse(self, fit, data, true_values, simulation, rng, checked) -> pd.DataFrame:
        """The rows of a fitted simulation; ``checked`` is the fit's ``_checked`` (draws, R-hat, ESS)."""
        draws, rhat, ess = checked
        chains, per_chain, _ = draws.shape
        ess_min = float(np.nanmin(ess)) if np.isfinite(ess).any() else np.nan
        k = thin_factor(chains * per_chain, ess_min, self.thin, self.min_ranks)
        kept = thin_draws(draws, k)
        free_kept = {name: thin_draws(np.asarray(fit.posterior[name], dtype=float), k) for name in self.free}
        kept = np.concatenate([kept, self.loglik(data, free_kept)[:, None]], axis=1)
        # parameters are summarised from all draws; the log-likelihood (evaluated at the thinned draws only) from those
        flat = draws.reshape(chains * per_chain, -1)
        summary_draws = [flat[:, j] for j in range(flat.shape[1])] + [kept[:, -1]]
        divergences = int(fit.diverging.sum())
        ebfmi_min = float(np.min(ebfmi(fit.energy))) if fit.energy is not None else np.nan
        rank = ranks(kept, true_values, rng)
        n_ranks = kept.shape[0]
        probs = [p for level in INTERVALS for p in ((1 - level) / 2, (1 + level) / 2)]
        bounds = np.array([np.quantile(d, probs) for d in summary_draws])
        return self._rows(
            simulation,
            "ok",
            "",
            true_values,
            wall_time_s=fit.wall_time_s,
            rhat_max=float(np.nanmax(rhat)) if np.isfinite(rhat).any() else np.nan,
            ess_min=ess_min,
            divergences=divergences,
            ebfmi_min=ebfmi_min,
            thin=k,
            n_ranks=float(n_ranks),
            rank=rank.astype(float),
            u=fractional_ranks(rank, np.full(len(rank), n_ranks), rng),
            post_mean=[float(np.mean(d)) for d in summary_draws],
            post_sd=[float(np.std(d, ddof=1)) for d in summary_draws],
            **{column: bounds[:, j] for j, column in enumerate(interval_columns())},
        )

    def _rows(self, simulation, status, error, true_values, wall_time_s, **values) -> pd.DataFrame:
        """One row per test quantity; ``values`` fill the columns of a fitted simulation (NaN otherwise)."""
        nan = np.full(len(self.quantities), np.nan)
        columns = {
            "model_id": self.spec.model_id,
            "simulation": int(simulation),
            "quantity": [q.label for q in self.quantities],
            "variable": [q.variable for q in self.quantities],
            "index": [q.index for q in self.quantities],
            "role": [q.role for q in self.quantities],
            "status": status,
            "error": error,
            "rhat_max": np.nan,
            "ess_min": np.nan,
            "divergences": 0,
            "ebfmi_min": np.nan,
            "wall_time_s": float(wall_time_s),
            "extended": False,
            "thin": 0,
            "n_ranks": nan,
            "rank": nan,
            "u": nan,
            "true_value": true_values.astype(float),
            "post_mean": nan,
            "post_sd": nan,
        }
        columns.update({column: nan for column in interval_columns()})
        columns.update(values)
        return pd.DataFrame(columns)


def predictive_rows(
    spec: ModelSpec, posterior: Mapping[str, np.ndarray], data: GroupedCounts, simulation: int, seed: int
) -> pd.DataFrame:
    """The posterior predictive check of one SBC fit, as the ppc stage would judge it: per statistic the simulated
    dataset's value and p-value, with the fit's 95% coverage and PIT KS p-value (``SbcPredictive``).

    Each SBC dataset comes from the model's own prior, so the share of them the check FAILs is its false-reject
    rate for this model on data like the run's (the report's verdict calibration table).
    """
    from binoval.predictive.posterior import judged_values

    judged = judged_values(spec.model_id, family_of(spec), PosteriorArrays(posterior), data, seed)
    rows = pd.DataFrame(judged.statistics, columns=["statistic", "observed", "p_value"])
    rows.insert(0, "model_id", spec.model_id)
    rows.insert(1, "simulation", int(simulation))
    rows["coverage_95"] = judged.coverage_95
    rows["pit_ks_pvalue"] = judged.pit_ks_pvalue
    return rows


def run_shard(
    spec: ModelSpec,
    data: GroupedCounts,
    shard: int,
    sims_per_shard: int,
    settings: SamplerSettings,
    seed: int,
    simulate_priors=None,
    thin=SBC["thin"],
    min_ranks: int = SBC["min_ranks"],
    extend_factor: int = SBC["extend_factor"],
    threads: int | None = None,
    predictive: list[pd.DataFrame] | None = None,
    max_group_quantities: int | None = SBC["max_group_quantities"],
) -> pd.DataFrame:
    """Compile ``spec`` once and run shard ``shard`` (see ``ShardRunner``); ``threads`` caps the chains run at once.
    The posterior predictive checks of the fits (``predictive_rows``) are appended to ``predictive`` when given."""
    runner = ShardRunner(
        spec,
        data,
        settings,
        seed,
        sims_per_shard,
        simulate_priors,
        thin,
        min_ranks,
        extend_factor,
        threads,
        max_group_quantities,
    )
    log.info(
        "sbc %s: compiled in %.1f s; %d test quantities; sampler %s",
        spec.model_id,
        runner.compile_time_s,
        len(runner.quantities),
        settings,
    )
    table = runner.run(shard)
    if predictive is not None:
        predictive.extend(runner.predictive)
    return table
