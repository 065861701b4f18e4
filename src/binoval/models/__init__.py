"""The model families and how a configured model spec becomes a PyMC model."""

from __future__ import annotations

from typing import Any, Mapping

from binoval.models.formula import FormulaError, parse_formula
from binoval.models.priors import merge_priors
from binoval.models.base import GROUP_DIM, N_DATA, R_DATA, R_VAR, Family, GroupedCounts, ModelSpec
from binoval.models.bb_mixture import BetaBinomialMixture
from binoval.models.beta_binomial import BetaBinomial
from binoval.models.glmm import Glmm
from binoval.models.hier_logit import HierLogit
from binoval.models.pooled import Pooled
from binoval.models.unpooled import Unpooled

FAMILIES: dict[str, Family] = {
    family.name: family for family in (Pooled(), Unpooled(), HierLogit(), BetaBinomial(), BetaBinomialMixture(), Glmm())
}

__all__ = [
    "FAMILIES", "Family", "GroupedCounts", "ModelSpec", "GROUP_DIM", "N_DATA", "R_DATA", "R_VAR",
    "expand_models", "build_model",
]


def expand_models(models: Mapping[str, Mapping[str, Any]]) -> dict[str, ModelSpec]:
    """Turn the ``models`` config into one ``ModelSpec`` per model id.

    Disabled specs are dropped; a ``bb_mixture`` spec with ``K: [1, 2]`` becomes
    ``<id>_k1`` and ``<id>_k2``. Priors are merged with the family defaults and
    checked; errors name the config key.
    """
    specs: dict[str, ModelSpec] = {}
    for model_id, raw in models.items():
        if not raw.get("enabled", True):
            continue
        family_name = raw["family"]
        if family_name not in FAMILIES:
            raise ValueError(f"config key models.{model_id}.family: unknown family {family_name!r}; expected one of {', '.join(FAMILIES)}")
        family = FAMILIES[family_name]
        priors = merge_priors(family.default_priors, raw.get("priors"), family.supports, f"models.{model_id}.priors")
        options = {k: raw[k] for k in family.options if k in raw}
        if "formula" in options:
            try:
                parse_formula(options["formula"])
            except FormulaError as err:
                raise ValueError(f"config key models.{model_id}.formula: {err}") from None
        if family_name == "bb_mixture":
            ks = options["K"] if isinstance(options["K"], list) else [options["K"]]
            expanded = [ModelSpec(f"{model_id}_k{k}", family_name, priors, {"K": int(k)}) for k in ks]
        else:
            expanded = [ModelSpec(model_id, family_name, priors, options)]
        for spec in expanded:
            if spec.model_id in specs:
                raise ValueError(f"config key models.{model_id}: model id {spec.model_id!r} is defined twice")
            specs[spec.model_id] = spec
    return specs


def build_model(spec: ModelSpec, data: GroupedCounts):
    """The PyMC model for ``spec`` with ``data`` in its data containers."""
    return FAMILIES[spec.family].build(data, spec.priors, **spec.options)
