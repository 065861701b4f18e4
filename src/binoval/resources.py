"""What each job asks a cluster for (``mem_mb``, ``runtime`` in minutes), from the size of its data.

A job's cost grows with the number of groups G, not always linearly (a shard's memory is mostly the interpreter,
compiled model and allocator at 1000 groups, the draws at 10 000). Each rule's cost is the broken line through its
measured points, times ``HEADROOM``; SBC shards are sized per simulation. A retried job (Snakemake's ``--retries``;
the slurm profile retries once) asks for ``attempt`` times as much.

Where the points come from: at 12 groups, the largest job of each rule in the default run on hospital12
(``benchmarks/run_profile.py``, benchmarks/README.md: the mixtures' jobs, the costliest families there); at 1000 and 10 000 groups,
each rule's job in a cold run of hier_logit on synthetic groups with the default config (``benchmarks/group_scaling.py``,
benchmarks/README.md, "SBC at many groups"; at 10 000 with 4 SBC simulations, the run with the fit's thinned draws at 9a4b9d3, which
shared the machine with a CI run: its times are upper bounds). Where a
rule costs less at 1000 groups of hier_logit than at 12 of the mixtures, the line stays at the 12-group figure. A
family that costs far more per group than hier_logit (the mixtures at 1000 groups were not measured) can exceed its
request: a retry asks for twice as much.

This module imports nothing heavy: the Snakefile reads it while planning.
"""

from __future__ import annotations

import bisect
import math

#: Requests are this many times the measured cost: jobs vary with the data and the simulated datasets, and a job
#: killed for its memory or time loses its work.
HEADROOM = 2.0

#: Peak resident memory in MB per rule, measured at some numbers of groups: {groups: MB}.
MEMORY_MB = {
    "fit": {12: 530, 1000: 1460, 10_000: 15_600},
    "sbc_shard": {12: 530, 1000: 1600, 10_000: 3200},
    "posterior_sbc_shard": {12: 530, 1000: 1500, 10_000: 2650},
    "prior_predictive": {12: 440, 1000: 540, 10_000: 1540},
    "ppc": {12: 280, 1000: 470, 10_000: 1950},
    "loo": {12: 500, 1000: 1510, 10_000: 5220},
    "evidence": {12: 380, 1000: 800},  # 1000 groups: not in the default run, an estimate from the arrays it holds
    "sensitivity": {12: 420, 1000: 680, 10_000: 1910},
    "sbc_summary": {12: 280, 1000: 280, 10_000: 280},
    "posterior_sbc_summary": {12: 280, 1000: 280, 10_000: 280},
    "report": {12: 420, 1000: 560, 10_000: 1990},
}

#: Wall seconds of one job per rule, measured at some numbers of groups: {groups: s}; for SBC shards, seconds per
#: simulation (at 12 groups the slowest family's, the mixtures'; at 1000 the largest of hier_logit's: 5.8 prior and
#: 6.3 posterior with n 20-2000 per group, 3.2 on the SBC detection design's n 15-50, benchmarks/sbc_group_subset.py)
#: and the start-up of the shard in ``SHARD_START_S``.
SECONDS = {
    "fit": {12: 35, 1000: 95, 10_000: 1620},
    "sbc_shard": {12: 2.3, 1000: 6.3, 10_000: 212},
    "posterior_sbc_shard": {12: 1.8, 1000: 6.3, 10_000: 167},
    "prior_predictive": {12: 14, 1000: 6, 10_000: 31},
    "ppc": {12: 8, 1000: 7, 10_000: 25},
    "loo": {12: 15, 1000: 15, 10_000: 104},
    "evidence": {12: 14, 1000: 120},  # 1000 groups: an estimate, as its memory
    "sensitivity": {12: 9, 1000: 5, 10_000: 17},
    "sbc_summary": {12: 9, 1000: 4, 10_000: 6},
    "posterior_sbc_summary": {12: 9, 1000: 4, 10_000: 4},
    "report": {12: 14, 1000: 4, 10_000: 9},
}
SHARD_START_S = 25


#: From this many groups a fit job runs its chains in parallel: sampling 4 x 2000 iterations of hier_logit then
#: takes about as long as compiling the model (10-15 s), and it grows with the groups while compiling does not.
THREADED_GROUPS = 300


def fit_threads(groups: int, chains: int) -> int:
    """Threads of a fit job: 1 below ``THREADED_GROUPS`` groups (two one-thread jobs side by side beat one job on
    two threads while compiling dominates), else one per chain."""
    return 1 if int(groups) < THREADED_GROUPS else max(1, int(chains))


#: ``sbc.sims_per_shard`` and ``posterior_sbc.sims_per_shard`` ``auto``: simulations per shard job while fits run on one
#: thread (fewer than ``THREADED_GROUPS`` groups), and from there on. A shard job pays a fixed cost (interpreter,
#: imports, one compile from the caches: 2-5 s on our 2-core machine) that 200 simulations amortise better than 100
#: when a simulation costs 0.03-0.4 s (hospital12's families): the default run's 36 shard jobs became 18 and its job
#: time fell from 752 to 714 s (benchmarks/README.md, issue 17 tenth steps). Once a fit takes two threads, a stage with one shard
#: per model leaves it waiting for a core while that shard runs alone (a one-model run at 1000 groups with shards of
#: 200 ran prior SBC, the fit and posterior SBC one after the other: benchmarks/README.md, issue 17 fourth steps), so from
#: ``THREADED_GROUPS`` groups shards stay at 100, two per stage at the default 200 simulations. Both divide the default
#: number of simulations, so no simulation is run for nothing.
AUTO_SIMS_PER_SHARD = {"one_thread_fits": 200, "threaded_fits": 100}


def sims_per_shard(setting: int | str, groups: int) -> int:
    """Simulations per SBC shard job: ``setting`` when it is a number, for ``auto`` the ``AUTO_SIMS_PER_SHARD`` size of
    data with ``groups`` groups (it does not depend on the number of simulations, so raising it only adds shards)."""
    if setting != "auto":
        return int(setting)
    fits = "one_thread_fits" if int(groups) < THREADED_GROUPS else "threaded_fits"
    return AUTO_SIMS_PER_SHARD[fits]


def _line(measured: dict[int, float], groups: int) -> float:
    """The value at ``groups`` of the broken line through the ``measured`` points ({groups: value}; beyond the last,
    its last segment continued; below the first, the first value), never below a measured value at fewer groups:
    requests never shrink as data grow."""
    points = sorted(measured.items())
    g = max(int(groups), points[0][0])  # below the fewest groups measured: that job's cost
    floor = max(v for a, v in points if a <= g)
    segment = min(max(bisect.bisect_right([a for a, _ in points], g) - 1, 0), len(points) - 2)
    (g0, v0), (g1, v1) = points[segment], points[segment + 1]
    return max(floor, v0 + (v1 - v0) * (g - g0) / (g1 - g0))


def mem_mb(rule: str, groups: int, attempt: int = 1) -> int:
    """Memory to request for a job of ``rule`` on ``groups`` groups, in MB (rounded up to 100 MB)."""
    return int(math.ceil(_line(MEMORY_MB[rule], groups) * HEADROOM * max(1, attempt) / 100) * 100)


def runtime_min(rule: str, groups: int, simulations: int = 1, attempt: int = 1) -> int:
    """Minutes to request for a job of ``rule`` on ``groups`` groups (``simulations`` per shard for SBC shards);
    at least 5."""
    seconds = _line(SECONDS[rule], groups) * max(1, int(simulations))
    if rule.endswith("sbc_shard"):
        seconds += SHARD_START_S
    return max(5, int(math.ceil(seconds * HEADROOM * max(1, attempt) / 60)))
