"""The model families and how a configured model spec becomes a PyMC model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from binoval.defaults import MODELS
from binoval.models.base import (
    DATA_CONTAINERS,
    FORWARD_SAMPLING_MODE,
    GROUP_DIM,
    MASS_MATRIX_ATTRIBUTE,
    N_DATA,
    R_DATA,
    R_VAR,
    Family,
    GroupedCounts,
    ModelSpec,
    PosteriorArrays,
    container_values,
)
from binoval.models.formula import FormulaError, parse_formula
from binoval.models.priors import merge_priors
from binoval.models.registry import FAMILIES, family_of, fitted_family

__all__ = [
    "DATA_CONTAINERS",
    "FAMILIES",
    "FORWARD_SAMPLING_MODE",
    "Family",
    "GroupedCounts",
    "ModelSpec",
    "PosteriorArrays",
    "GROUP_DIM",
    "MASS_MATRIX_ATTRIBUTE",
    "N_DATA",
    "R_DATA",
    "R_VAR",
    "expand_models",
    "build_model",
    "container_values",
    "family_of",
    "fitted_family",
]


def in_default_order(models: Mapping[str, Any]) -> list[str]:
    """The model ids of ``models``: the default run's in its order (``binoval.defaults.MODELS``), then the others as
    given.

    Snakemake merges an overlay by putting its keys first, so an overlay that changes one default model would
    otherwise move it to the top of every table and of the report.
    """
    return [m for m in MODELS if m in models] + [m for m in models if m not in MODELS]


def expand_models(models: Mapping[str, Mapping[str, Any]]) -> dict[str, ModelSpec]:
    """Turn the ``models`` config into one ``ModelSpec`` per model id.

    Models come in ``in_default_order``. Disabled specs are dropped; a family may expand one spec into several
    (``Family.expand``: a ``bb_mixture`` spec with ``K: [1, 2]`` becomes
    ``<id>_k1`` and ``<id>_k2``). Priors are merged with the family defaults
    and checked; errors name the config key.
    """
    specs: dict[str, ModelSpec] = {}
    for model_id in in_default_order(models):
        raw = models[model_id]
        if not raw.get("enabled", True):
            continue
        family_name = raw["family"]
        if family_name not in FAMILIES:
            raise ValueError(
                f"config key models.{model_id}.family: unknown family {family_name!r}; "
                f"expected one of {', '.join(FAMILIES)}"
            )
        family = FAMILIES[family_name]
        priors = merge_priors(family.default_priors, raw.get("priors"), family.supports, f"models.{model_id}.priors")
        options = {k: raw[k] for k in family.options if k in raw}
        if "formula" in options:
            try:
                parse_formula(options["formula"])
            except FormulaError as err:
                raise ValueError(f"config key models.{model_id}.formula: {err}") from None
        for spec in family.expand(model_id, priors, options):
            if spec.model_id in specs:
                raise ValueError(f"config key models.{model_id}: model id {spec.model_id!r} is defined twice")
            specs[spec.model_id] = spec
    return specs


def build_model(spec: ModelSpec, data: GroupedCounts):
    """The PyMC model for ``spec`` with ``data`` in its data containers."""
    return family_of(spec).build(data, spec.priors, **spec.options)
