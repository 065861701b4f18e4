import copy

import pytest
import yaml
from conftest import REPO

from binoval.config import ConfigError, check_config, load_schema
from binoval.models import FAMILIES

SCHEMA = load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")
DEFAULT = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def overlay(base, extra):
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = overlay(out[key], value)
        else:
            out[key] = value
    return out


def test_default_config_is_valid_and_expands_mixtures():
    specs = check_config(DEFAULT, SCHEMA)
    assert "hier_logit" in specs and specs["hier_logit"].options == {"parameterization": "noncentered"}
    ks = [spec.options["K"] for spec in specs.values() if spec.family == "bb_mixture"]
    assert ks == DEFAULT["models"]["bb_mixture"]["K"]
    assert all(f"bb_mixture_k{k}" in specs for k in ks)


@pytest.mark.parametrize("example", sorted((REPO / "config" / "examples").glob("*.yaml")), ids=lambda p: p.name)
def test_example_overlays_are_valid(example):
    check_config(overlay(DEFAULT, yaml.safe_load(example.read_text())), SCHEMA)


def test_glmm_accepts_a_parameterization():
    extra = {"models": {"g": {"family": "glmm", "formula": "r ~ (1 | group)", "parameterization": "centered"}}}
    assert check_config(overlay(DEFAULT, extra), SCHEMA)["g"].options["parameterization"] == "centered"


def test_schema_lists_exactly_the_implemented_families():
    assert set(SCHEMA["definitions"]["model"]["properties"]["family"]["enum"]) == set(FAMILIES)


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"sampler": {"drawz": 10}}, "config key sampler.drawz: unknown key"),
        ({"colour": "blue"}, "config key colour: unknown key"),
        ({"sampler": {"draws": -5}}, "config key sampler.draws: -5 is out of range; expected >= 1"),
        ({"sampler": {"draws": "many"}}, "config key sampler.draws: expected integer"),
        ({"sampler": {"target_accept": 1.5}}, "config key sampler.target_accept"),
        ({"seed": "abc"}, "config key seed: expected integer"),
        ({"models": {"m": {"family": "poisson"}}}, "config key models.m.family: 'poisson' is not allowed"),
        ({"models": {"bb_mixture": {"K": [0, 2]}}}, "config key models.bb_mixture.K"),
        ({"models": {"bb_mixture": {"K": 11}}}, "config key models.bb_mixture.K"),
        ({"models": {"m": {"family": "bb_mixture"}}}, "config key models.m.K: required but missing"),
        ({"models": {"m": {"family": "pooled", "K": 2}}}, "config key models.m.K: not allowed for this model family"),
        (
            {"models": {"m": {"family": "pooled", "parameterization": "centered"}}},
            "config key models.m.parameterization: not allowed",
        ),
        (
            {"models": {"m": {"family": "glmm", "formula": "r ~ (1 | group)", "parameterization": "sideways"}}},
            "config key models.m.parameterization",
        ),
        (
            {"models": {"hier_logit": {"priors": {"tau": {"dist": "HalfNormal", "sigma": -1}}}}},
            "config key models.hier_logit.priors.tau.sigma: must be > 0",
        ),
        (
            {"models": {"hier_logit": {"priors": {"tau": {"dist": "Normal", "mu": 0, "sigma": 1}}}}},
            "config key models.hier_logit.priors.tau.dist",
        ),
        (
            {"models": {"pooled": {"priors": {"mu": {"dist": "Beta", "alpha": 1, "beta": 1}}}}},
            "config key models.pooled.priors.mu: this family has no parameter",
        ),
        ({"models": {"bb_mixture_k2": {"family": "pooled"}}}, "defined twice"),
        ({"thresholds": {"fit": {"r_hat_max": 0.5}}}, "config key thresholds.fit.r_hat_max"),
    ],
)
def test_bad_config_is_stopped_with_the_key_named(extra, message):
    with pytest.raises(ConfigError) as err:
        check_config(overlay(DEFAULT, extra), SCHEMA)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_text_where_a_number_is_expected_says_how_to_give_nested_keys():
    """Snakemake's ``--config sbc='{simulations: 1000}'`` hands the workflow ``{'simulations': '1000'}``."""
    with pytest.raises(ConfigError) as err:
        check_config(overlay(DEFAULT, {"sbc": {"simulations": "1000"}}), SCHEMA)
    message = str(err.value)
    assert message.startswith("config key sbc.simulations: expected integer, got str '1000'")
    assert "--configfile" in message and "\n" not in message
    with pytest.raises(ConfigError) as err:  # text that is no number: no hint
        check_config(overlay(DEFAULT, {"sbc": {"simulations": "many"}}), SCHEMA)
    assert "--configfile" not in str(err.value)


def test_models_keep_the_default_order_whatever_order_an_overlay_merges_them_in():
    """Snakemake puts an overlay's keys first; the report and every table still list the default models in their
    order, then the user's own models as given."""
    models = {
        "my_logit_t": {"family": "logit_t"},
        "bb_mixture": {"family": "bb_mixture", "K": [1, 3]},
        **{key: value for key, value in DEFAULT["models"].items() if key != "bb_mixture"},
        "another": {"family": "pooled"},
    }
    specs = check_config({**DEFAULT, "models": models}, SCHEMA)
    assert list(specs) == [
        "pooled",
        "unpooled",
        "hier_logit",
        "hier_logit_centered",
        "beta_binomial",
        "bb_mixture_k1",
        "bb_mixture_k3",
        "my_logit_t",
        "another",
    ]


def test_disabling_every_model_is_an_error():
    config = copy.deepcopy(DEFAULT)
    for spec in config["models"].values():
        spec["enabled"] = False
    with pytest.raises(ConfigError, match="every model is disabled"):
        check_config(config, SCHEMA)


def test_enabled_false_drops_a_model():
    specs = check_config(overlay(DEFAULT, {"models": {"unpooled": {"enabled": False}}}), SCHEMA)
    assert "unpooled" not in specs and "pooled" in specs


def test_prior_predictive_draws_must_resolve_the_fail_level():
    """No p-value from S draws is below 1 / (1 + S): too few draws could never FAIL a prior, so the config says so."""
    with pytest.raises(ConfigError) as err:
        check_config(overlay(DEFAULT, {"prior_predictive": {"draws": 100}}), SCHEMA)
    message = str(err.value)
    assert message.startswith("config key prior_predictive.draws: 100 draws cannot resolve")
    assert "level 0.025" in message and "use at least 159" in message and "\n" not in message
    check_config(overlay(DEFAULT, {"prior_predictive": {"draws": 159}}), SCHEMA)
    # a stricter false-reject rate needs more draws; an explicit level is used as given
    with pytest.raises(ConfigError, match="use at least 399"):
        check_config(
            overlay(DEFAULT, {"verdict": {"false_reject_rate": 0.02}, "prior_predictive": {"draws": 200}}), SCHEMA
        )
    relaxed = {"thresholds": {"prior_predictive": {"p_value_fail": 0.05}}}
    check_config(overlay(DEFAULT, {**relaxed, "prior_predictive": {"draws": 100}}), SCHEMA)
