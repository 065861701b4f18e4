"""Posterior SBC: calibration of a model's inference conditional on the observed data.

Säilynoja, Schmitt, Bürkner and Vehtari (2025), "Posterior SBC: simulation-based
calibration checking conditional on data". Prior SBC averages calibration over the
whole prior; posterior SBC asks whether inference is calibrated *for data like the
run's*. For each simulation:

1. take a reference draw theta* of every latent quantity from the posterior given
   the observed data y (a draw of the stored fit; for a family whose group rates
   are integrated out of its likelihood, such as the mixture, each group's cluster
   and rate are drawn from their posterior given theta* and the group's count:
   ``Family.group_rate_draws``);
2. simulate new data y' of the same groups and trials from theta*: a replicate of
   each group with that group's rate;
3. fit the model to y and y' together, and rank theta* among the new posterior draws.

theta* is a draw from p(theta | y) and y' from p(y' | theta*), so theta* is a draw
from p(theta | y, y'): its ranks are uniform exactly when the fit of the augmented
data is calibrated.

**Folding.** The replicate of group i shares the group's rate rho_i, so
p(r_i, r'_i | rho_i) = C(n_i, r_i) C(n_i, r'_i) / C(2 n_i, r_i + r'_i) x Binomial(r_i + r'_i | 2 n_i, rho_i).
The first factor depends on neither rho_i nor any other parameter, and integrating
rho_i over any population distribution (logit-normal, beta, a mixture of betas)
keeps it a constant factor. So the posterior given (y, y') is exactly the
posterior given the folded counts: r_i + r'_i successes of 2 n_i trials in one
row per group. That holds for every family in which each row's count is binomial
given a rate the row owns or shares with nothing else (all of them: the rows of a
glmm cell share its rate in the same way). Folding keeps the observed data's shapes,
so the model compiled once per shard (``ShardRunner``) serves every simulation
through ``with_data``; no model is rebuilt or recompiled.

Reference draws are spread over the chains (simulation g uses chain g mod chains)
and drawn at random within a chain, seeded from (seed, "posterior_sbc", model id,
shard). Everything else (thinning, extension, ranks, the tables) is prior SBC's,
with one difference: every posterior SBC fit is to data like the observed, so the
observed fit says how many draws ``min_ranks`` effective draws need, and the fits
start with that many (``reference_sized_draws``) instead of finding out by an
extension each.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from binoval.models import GroupedCounts, PosteriorArrays, build_model, family_of
from binoval.sbc.shard import EXTENSION_MARGIN, ShardRunner

log = logging.getLogger(__name__)


def effective_draws_per_draw(parameters: pd.DataFrame, sampler: pd.DataFrame) -> dict[tuple[str, str], float]:
    """Per scalar of the observed fit, keyed by (variable, index): its bulk ESS per draw the fit sampled (all
    chains).

    ``parameters`` and ``sampler`` are the fit's diagnostics tables (``diagnostics/<model_id>_parameters.parquet``
    and ``_sampler.parquet``): their ESS is computed on every draw of the fit, extensions included, while the
    stored posterior may be thinned, so its own draws would overstate the rate. Empty when the fit failed.
    """
    sampled = float(sampler["draws"].sum())
    if not sampled > 0 or parameters.empty:
        return {}
    rows = zip(parameters["variable"], parameters["index"], parameters["ess_bulk"])
    return {(str(v), str(i)): float(ess) / sampled for v, i, ess in rows if np.isfinite(ess)}


def reference_sized_draws(draws: int, chains: int, per_draw: float, min_ranks: int, extend_factor: int) -> int:
    """Draws per chain of each posterior SBC fit, given the observed fit's effective draws per draw ``per_draw``.

    What ``min_ranks`` effective draws need at that rate over ``chains`` chains, with ``EXTENSION_MARGIN`` (the
    fits are to other data, observed plus replicate, and their rates scatter around the observed fit's); never
    fewer than ``draws`` and at most ``extend_factor`` times ``draws`` (1: never more). A fit that still falls
    short is extended as in prior SBC.
    """
    most = int(draws) * max(1, int(extend_factor))
    if not per_draw > 0:
        return int(draws)
    needed = math.ceil(EXTENSION_MARGIN * int(min_ranks) / (int(chains) * float(per_draw)))
    return int(min(most, max(int(draws), needed)))


def reference_positions(
    chains: int, draws: int, shard: int, S: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(chain, draw) of the reference draw of each of the shard's ``S`` simulations.

    Simulation ``g = shard * S + i`` takes chain ``g mod chains``, so every chain serves equally whatever the shard
    size; the draw within the chain is uniform at random.
    """
    simulation = int(shard) * int(S) + np.arange(int(S))
    return simulation % int(chains), rng.integers(0, int(draws), size=int(S))


def fold_replicate(data: GroupedCounts, r_new: np.ndarray) -> GroupedCounts:
    """The observed data with a same-rate replicate of each row folded in: r + r' successes of 2n trials."""
    return GroupedCounts(data.groups, 2 * data.n, data.r + np.asarray(r_new, dtype="int64"), data.covariates)


@dataclass
class PosteriorShardRunner(ShardRunner):
    """One shard of posterior SBC: ``ShardRunner`` with reference draws from ``posterior`` and folded datasets.

    ``posterior`` is the stored fit's posterior (an xarray Dataset with dims chain and draw, as in
    ``fits/<model_id>.nc``); ``data`` the observed data it was fitted to.
    """

    posterior: Any = None
    #: why the observed fit has no posterior (then every simulation is recorded as failed with this error)
    fit_error: str = ""
    #: the observed fit's effective draws per draw by (variable, index) (``effective_draws_per_draw``); empty:
    #: fits keep the configured draws
    reference_rates: Mapping[tuple[str, str], float] | None = None
    stage: ClassVar[str] = "posterior_sbc"
    check_predictive: ClassVar[bool] = False

    def __post_init__(self):
        if self.simulate_priors:
            raise ValueError("posterior SBC simulates from the posterior; simulate_priors does not apply")
        if self.posterior is None and not self.fit_error:
            raise ValueError("posterior SBC needs the posterior of the observed fit")
        if not self.fit_error:
            super().__post_init__()
            self.settings = replace(self.settings, draws=self.sized_draws())
            if self.settings.draws != self.configured_draws:
                log.info(
                    "posterior_sbc %s: %d draws per chain instead of %d (the observed fit's effective draws per draw)",
                    self.spec.model_id,
                    self.settings.draws,
                    self.configured_draws,
                )
            return
        self.model = build_model(self.spec, self.data)  # the test quantities only; nothing to compile
        self.quantities = self.test_quantities()
        self.compile_time_s = 0.0

    def sized_draws(self) -> int:
        """Draws per chain of this shard's fits: ``reference_sized_draws`` at the smallest rate among the ranked
        scalars in ``reference_rates`` (the configured draws when none is known). Quantities the fit's table has no
        row for (the joint log-likelihood, pooled summaries of a subset's group rates) do not size the fits; a fit
        they leave short is extended as any other."""
        known = self.reference_rates or {}
        rates = [known[(q.variable, q.index)] for q in self.quantities if (q.variable, q.index) in known]
        return reference_sized_draws(
            self.configured_draws,
            self.settings.chains,
            min(rates, default=math.nan),
            self.min_ranks,
            self.extend_factor,
        )

    def run(self, shard: int, progress_every: int | None = None) -> pd.DataFrame:
        """The shard's simulations (``ShardRunner.run``); all recorded as failed when the observed fit failed."""
        if not self.fit_error:
            return super().run(shard, progress_every)
        S = int(self.sims_per_shard)
        nan = np.full(len(self.quantities), np.nan)
        error = f"the observed fit failed: {self.fit_error}"
        table = pd.concat([self._rows(shard * S + i, "failed", error, nan, 0.0) for i in range(S)], ignore_index=True)
        table.insert(1, "shard", int(shard))
        return table

    def simulate_truths(self, shard: int, S: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Reference draws of the free and ranked variables, and ``r_new``: each group's replicate count.

        The replicate is simulated from every variable of the reference draws, not only the ranked ones: a
        family may read a variable it does not rank (bb_mixture_k1's constant weight ``w``).
        """
        chains, draws = int(self.posterior.sizes["chain"]), int(self.posterior.sizes["draw"])
        chain, draw = reference_positions(chains, draws, shard, S, rng)
        names = list(dict.fromkeys(self.free + self.variables))
        missing = [name for name in names if name not in self.posterior]
        if missing:
            raise ValueError(f"the stored fit of {self.spec.model_id} has no posterior draws of {', '.join(missing)}")
        reference = {str(name): np.asarray(values.values)[chain, draw] for name, values in self.posterior.items()}
        truths = {name: reference[name] for name in names}
        truths["r_new"] = self.replicate(reference, rng)
        return truths

    def replicate(self, reference: Mapping[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
        """Replicate counts (S, groups): per reference draw (``reference``: every posterior variable, leading axis
        the simulation), each group's rate given the draw and the group's count (``Family.group_rate_draws``),
        then Binomial(n_i, rate)."""
        draws = PosteriorArrays({name: np.asarray(v)[None] for name, v in reference.items()})  # one chain
        rates = family_of(self.spec).group_rate_draws(self.spec, draws, self.data, rng)
        return rng.binomial(self.data.n[None, :], rates).astype("int64")

    def dataset(self, truths: Mapping[str, np.ndarray], i: int) -> GroupedCounts:
        """Simulation ``i``'s folded data: r + r' successes of 2n trials per group."""
        return fold_replicate(self.data, truths["r_new"][i])
