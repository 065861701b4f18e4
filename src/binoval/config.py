"""Checking the workflow config and slicing it for the rules.

``check_config`` validates the config against the JSON schema and then checks
what a schema cannot express (prior specs per family, expanded model ids).
Errors are one line naming the config key.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from binoval.defaults import PRIOR_PREDICTIVE, VERDICT
from binoval.models import ModelSpec, expand_models
from binoval.models.priors import PriorSpecError
from binoval.predictive.levels import merged_prior_predictive, minimum_prior_draws, with_fail_levels
from binoval.sbc.simulate import check_simulate_priors


class ConfigError(ValueError):
    """A config that cannot be run; the message names the key."""


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


#: Snakemake's ``--config key='{a: 1}'`` reads the values inside the braces as text (YAML's base loader), so a nested
#: number or boolean given on the command line arrives as a string.
COMMAND_LINE_TEXT_HINT = (
    "a value nested in --config key='{...}' reaches the workflow as text; give nested keys in an overlay file: "
    "--configfile my.yaml"
)


def _yaml_reads_as(value: Any, expected: str | list[str]) -> bool:
    """Whether ``value`` is text that YAML reads as one of the ``expected`` JSON types: what Snakemake's ``--config``
    makes of a nested number or boolean."""
    if not isinstance(value, str):
        return False
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return False
    is_type = jsonschema.Draft202012Validator.TYPE_CHECKER.is_type  # the config schema's own meaning of each type
    return any(is_type(parsed, name) for name in ([expected] if isinstance(expected, str) else expected))


def _describe(error: jsonschema.ValidationError) -> str:
    """One line for a schema violation, naming the config key."""
    key = _key(error.absolute_path)
    v = error.validator
    if v == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        where = f"{key}.{extra[0]}" if error.absolute_path else extra[0]
        if allowed:
            return f"config key {where}: unknown key; expected one of {', '.join(allowed)}"
        return f"config key {where}: unknown key"
    if v == "required":
        missing = error.message.split("'")[1]
        where = f"{key}.{missing}" if error.absolute_path else missing
        return f"config key {where}: required but missing"
    if v == "enum":
        return f"config key {key}: {error.instance!r} is not allowed; expected one of {', '.join(map(str, error.validator_value))}"
    if v == "type":
        message = f"config key {key}: expected {error.validator_value}, got {type(error.instance).__name__} {error.instance!r}"
        if _yaml_reads_as(error.instance, error.validator_value):
            message += f" ({COMMAND_LINE_TEXT_HINT})"
        return message
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[v]
        return f"config key {key}: {error.instance!r} is out of range; expected {op} {error.validator_value}"
    if v == "not":
        name = next(iter(error.validator_value.get("required", [])), "this key")
        return f"config key {key}.{name}: not allowed for this model family"
    if v == "oneOf" and error.absolute_path and error.absolute_path[-1] == "K":
        return f"config key {key}: expected an integer from 1 to 10 or a list of them, got {error.instance!r}"
    if v == "pattern":
        return f"config key {key}: {error.instance!r} does not match the pattern {error.validator_value}"
    return f"config key {key}: {error.message}"


def load_schema(path: str | Path) -> dict:
    return yaml.safe_load(Path(path).read_text())


def check_config(config: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, ModelSpec]:
    """Validate ``config``; return the expanded model specs. Raises ``ConfigError``."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), e.path))
    if errors:
        error = jsonschema.exceptions.best_match(errors, key=jsonschema.exceptions.by_relevance())
        # best_match descends into oneOf/anyOf contexts; keep the deepest concrete error
        raise ConfigError(_describe(error))
    try:
        specs = expand_models(config["models"])
        check_simulate_priors((config.get("sbc") or {}).get("simulate_priors"), specs, config["models"])
    except (PriorSpecError, ValueError) as err:
        raise ConfigError(str(err)) from None
    if not specs:
        raise ConfigError("config key models: every model is disabled; enable at least one")
    check_prior_draws(config)
    return specs


def check_prior_draws(config: Mapping[str, Any]) -> None:
    """``prior_predictive.draws`` must resolve the prior predictive FAIL level (``minimum_prior_draws``)."""
    rate = (config.get("verdict") or {}).get("false_reject_rate", VERDICT["false_reject_rate"])
    thresholds = merged_prior_predictive(with_fail_levels(config.get("thresholds"), rate)["prior_predictive"])
    draws = (config.get("prior_predictive") or {}).get("draws", PRIOR_PREDICTIVE["draws"])
    needed = minimum_prior_draws(thresholds)
    if draws < needed:
        raise ConfigError(
            f"config key prior_predictive.draws: {draws} draws cannot resolve the prior predictive FAIL level "
            f"{thresholds['p_value_fail']:.3g} (no p-value is below 1 / (1 + draws)); use at least {needed}"
        )


def model_slice(model_id: str, specs: Mapping[str, ModelSpec]) -> dict:
    """Everything a per-model rule depends on: the model's spec (priors merged with defaults)."""
    spec = specs[model_id]
    return {"model_id": spec.model_id, "family": spec.family, "priors": spec.priors, "options": spec.options}
