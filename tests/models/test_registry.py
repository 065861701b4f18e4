"""The registry and what is generated from it: the config schema's per-family rules."""

from __future__ import annotations

import pytest
import yaml
from conftest import REPO

from binoval.models import FAMILIES
from binoval.models.base import Family
from binoval.models.registry import model_schema

SCHEMA_PATH = REPO / "workflow" / "schemas" / "config.schema.yaml"


def test_config_schema_model_section_is_generated_from_the_registry():
    committed = yaml.safe_load(SCHEMA_PATH.read_text())["definitions"]["model"]
    expected = model_schema()
    assert committed == expected, (
        "workflow/schemas/config.schema.yaml definitions.model disagrees with the families' options; replace it with\n"
        + yaml.safe_dump({"model": expected}, sort_keys=False, default_flow_style=None, width=120)
    )


def test_schema_rules_follow_each_familys_options():
    rules = {rule["else"]["not"]["required"][0]: rule for rule in model_schema()["allOf"]}
    for option, rule in rules.items():
        accepting = [name for name, family in FAMILIES.items() if option in family.options]
        assert rule["if"]["properties"]["family"]["enum"] == accepting, option
    assert set(rules) == {option for family in FAMILIES.values() for option in family.options}


class _Sideways(Family):
    name = "sideways"
    default_priors, supports = {}, {}
    option_schemas = {"K": {"type": "string"}}


class _Needy(Family):
    name = "needy"
    default_priors, supports = {}, {}
    option_schemas = {"formula": {"type": "string", "minLength": 3}, "depth": {"type": "integer"}}
    required_options = ("depth",)


def test_a_family_that_redefines_a_shared_option_is_an_error():
    with pytest.raises(ValueError, match="option 'K' of family 'sideways'"):
        model_schema({**FAMILIES, "sideways": _Sideways()})


def test_a_new_familys_options_and_required_keys_enter_the_schema():
    import jsonschema

    schema = model_schema({**FAMILIES, "needy": _Needy()})
    schema["properties"]["priors"] = {"type": "object"}
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"family": "needy", "depth": 2, "formula": "r ~ x"})
    assert not validator.is_valid({"family": "needy"})  # depth is required
    assert not validator.is_valid({"family": "glmm", "formula": "r ~ x", "depth": 2})  # depth is needy's own
    assert not validator.is_valid({"family": "glmm"})  # glmm still requires formula
