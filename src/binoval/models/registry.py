"""The one registry of model families, and what is derived from it.

``FAMILIES`` maps each family's config name to its class instance. Code
outside ``binoval.models`` asks the family (``family_of(spec)``,
``fitted_family(idata)``) instead of comparing names. ``model_schema`` is
the config schema's ``definitions.model`` section, generated from the
families' options; ``workflow/schemas/config.schema.yaml`` holds it, and
``tests/models/test_registry.py`` fails (printing the section to paste) when they disagree.

Adding a family (``logit_t`` was added this way): write ``models/<name>.py`` with a ``Family``
subclass (``declare``, ``parameter_names``, ``population_parameters``, ``population_rate_draws``
and ``marginal_log_likelihood`` or ``heldout_log_density``; override other methods where the
defaults, written for families with a rate ``p`` per group, do not fit); add it to ``FAMILIES``;
paste the schema section the registry test prints; document it in ``config/README.md``; add it
to ``CASES`` in ``tests/models/test_models.py`` and test its methods in ``tests/models/test_families.py``.
"""

from __future__ import annotations

from binoval.models.base import Family, ModelSpec
from binoval.models.bb_mixture import BetaBinomialMixture
from binoval.models.beta_binomial import BetaBinomial
from binoval.models.glmm import Glmm
from binoval.models.hier_logit import HierLogit
from binoval.models.logit_t import LogitT
from binoval.models.pooled import Pooled
from binoval.models.unpooled import Unpooled

FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (Pooled(), Unpooled(), HierLogit(), BetaBinomial(), BetaBinomialMixture(), Glmm(), LogitT())
}


def family_of(spec: ModelSpec) -> Family:
    """The family of a model spec."""
    return FAMILIES[spec.family]


def fitted_family(idata) -> Family | None:
    """The family of a fit, from the ``family`` attribute the fit stage writes on every group;
    None for InferenceData without posterior draws (nothing a family could read)."""
    if "posterior" not in idata.children:
        return None
    return FAMILIES[idata.posterior.attrs["family"]]


def model_schema(families: dict[str, Family] = FAMILIES) -> dict:
    """The JSON schema of one ``models.<id>`` entry: common keys, every family's options, and per option
    a rule that only the families accepting it may give it (and those requiring it must)."""
    properties: dict[str, dict] = {
        "family": {"type": "string", "enum": list(families)},
        "enabled": {"type": "boolean"},
        "priors": {"$ref": "#/definitions/priors"},
    }
    for family in families.values():
        for option, schema in family.option_schemas.items():
            if properties.setdefault(option, schema) != schema:
                raise ValueError(
                    f"option {option!r} of family {family.name!r} has a schema other families disagree with"
                )
    rules = []
    for option in [o for o in properties if o not in ("family", "enabled", "priors")]:
        accepting = [f.name for f in families.values() if option in f.option_schemas]
        requiring = [f.name for f in families.values() if option in f.required_options]
        rules.append(
            {
                "if": {"properties": {"family": {"enum": accepting}}},
                "then": {"required": [option]} if requiring == accepting else {},
                "else": {"not": {"required": [option]}},
            }
        )
        if requiring and requiring != accepting:
            rules.append({"if": {"properties": {"family": {"enum": requiring}}}, "then": {"required": [option]}})
    return {
        "type": "object",
        "required": ["family"],
        "properties": properties,
        "additionalProperties": False,
        "allOf": rules,
    }
