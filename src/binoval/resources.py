"""What each job asks a cluster for (``mem_mb``, ``runtime`` in minutes), from the size of its data.

A job's memory and time grow about linearly with the number of groups G (the posterior arrays are chains x draws x G;
a gradient costs about G). Each rule's cost is a line through two anchors, at 12 and at 1000 groups, times
``HEADROOM``; SBC shards are sized per simulation. A retried job (Snakemake's ``--retries``; the slurm profile retries once) asks for
``attempt`` times as much.

Where the anchors come from: at 12 groups, the largest job of each rule in the default run on hospital12
(``benchmarks/run_profile.py``, README); at 1000 groups, the SBC shards' seconds per simulation were measured
(``benchmarks/sbc_group_subset.py``: 17 s matched, 26 s with the wide-tau mismatch, hier_logit, one thread), the other
1000-group figures are estimates from the arrays a job holds and the gradient's cost, to be replaced by the
per-rule measurements of ``benchmarks/group_scaling.py``.

This module imports nothing heavy: the Snakefile reads it while planning.
"""

from __future__ import annotations

import math

#: Requests are this many times the measured cost: jobs vary with the data and the simulated datasets, and a job
#: killed for its memory or time loses its work.
HEADROOM = 2.0

#: Peak resident memory in MB at 12 and at 1000 groups, per rule.
MEMORY_MB = {
    "fit": (530, 1100),
    "sbc_shard": (530, 900),
    "posterior_sbc_shard": (530, 900),
    "prior_predictive": (440, 700),
    "ppc": (280, 600),
    "loo": (500, 1200),
    "evidence": (380, 800),
    "sensitivity": (420, 900),
    "sbc_summary": (280, 400),
    "posterior_sbc_summary": (280, 400),
    "report": (420, 700),
}

#: Wall seconds of one job at 12 and at 1000 groups, per rule; for SBC shards, seconds per simulation (the slowest
#: family's: mixtures at 12 groups) and the start-up of the shard in ``SHARD_START_S``.
SECONDS = {
    "fit": (35, 120),
    "sbc_shard": (2.3, 26),
    "posterior_sbc_shard": (1.8, 26),
    "prior_predictive": (14, 30),
    "ppc": (8, 20),
    "loo": (15, 300),
    "evidence": (14, 120),
    "sensitivity": (9, 40),
    "sbc_summary": (9, 15),
    "posterior_sbc_summary": (9, 15),
    "report": (14, 30),
}
SHARD_START_S = 25
#: The group counts of the two anchors.
ANCHORS = (12, 1000)


#: From this many groups a fit job runs its chains in parallel: sampling 4 x 2000 iterations of hier_logit then
#: takes about as long as compiling the model (10-15 s), and it grows with the groups while compiling does not.
THREADED_GROUPS = 300


def fit_threads(groups: int, chains: int) -> int:
    """Threads of a fit job: 1 below ``THREADED_GROUPS`` groups (two one-thread jobs side by side beat one job on
    two threads while compiling dominates), else one per chain."""
    return 1 if int(groups) < THREADED_GROUPS else max(1, int(chains))


def _line(anchors: tuple[float, float], groups: int) -> float:
    """The value at ``groups`` of the line through ``anchors`` (at ``ANCHORS`` groups), never below the first."""
    (g0, g1), (v0, v1) = ANCHORS, anchors
    return max(v0, v0 + (v1 - v0) * (int(groups) - g0) / (g1 - g0))


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
