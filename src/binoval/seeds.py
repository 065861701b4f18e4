"""Deterministic random streams.

Every stream is derived from (config seed, stage, model id, index) and
nothing else, so results do not depend on time, ``--cores`` or the order
in which Snakemake schedules jobs.
"""

from __future__ import annotations

import zlib

import numpy as np

STAGES = {
    "fit": 1,
    "prior_predictive": 2,
    "sbc": 3,
    "ppc": 4,
    "loo": 5,
    "report": 6,
    "data": 7,
    "evidence": 8,
    "calibration": 9,
    "posterior_sbc": 10,
    "sensitivity": 11,
    "sbc_groups": 12,
}


def _text_key(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def seed_sequence(seed: int, stage: str, model_id: str = "", index: int = 0) -> np.random.SeedSequence:
    """The ``SeedSequence`` for one stream: stage, model and index (shard or simulation)."""
    return np.random.SeedSequence([int(seed), STAGES[stage], _text_key(model_id), int(index)])


def rng(seed: int, stage: str, model_id: str = "", index: int = 0) -> np.random.Generator:
    """A NumPy generator for one stream."""
    return np.random.default_rng(seed_sequence(seed, stage, model_id, index))


def int_seed(seed: int, stage: str, model_id: str = "", index: int = 0) -> int:
    """A 32-bit integer seed for one stream (for samplers that take an int)."""
    return int(seed_sequence(seed, stage, model_id, index).generate_state(1, dtype=np.uint32)[0])
