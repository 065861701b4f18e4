import pytest

from binoval.models.priors import POSITIVE, REAL, SIMPLEX, UNIT, PriorSpecError, check_prior, merge_priors


def test_valid_spec_passes_through():
    assert check_prior({"dist": "Normal", "mu": 0, "sigma": 1.5}, "k", REAL) == {
        "dist": "Normal",
        "mu": 0,
        "sigma": 1.5,
    }


@pytest.mark.parametrize(
    "spec, support, message",
    [
        ({"dist": "Normall", "mu": 0, "sigma": 1}, REAL, "k.dist: unknown distribution 'Normall'"),
        ({"dist": "Normal", "mu": 0}, REAL, "k.sigma: missing"),
        ({"dist": "Normal", "mu": 0, "sigma": -1}, REAL, "k.sigma: must be > 0"),
        ({"dist": "Normal", "mu": 0, "sigma": 0}, REAL, "k.sigma: must be > 0"),
        ({"dist": "Normal", "mu": 0, "sd": 1}, REAL, "k.sd: Normal takes no argument 'sd'"),
        ({"dist": "Normal", "mu": "zero", "sigma": 1}, REAL, "k.mu: expected a number"),
        (
            {"dist": "Normal", "mu": 0, "sigma": 1},
            POSITIVE,
            "Normal has real support but this parameter must be positive",
        ),
        ({"dist": "HalfNormal", "sigma": 1}, UNIT, "must be unit"),
        ({"dist": "Uniform", "lower": 0.5, "upper": 0.2}, UNIT, "lower < upper"),
        ({"dist": "Uniform", "lower": 0, "upper": 2}, UNIT, "bounds must lie in [0, 1]"),
        ({"dist": "Gamma", "alpha": 2, "beta": float("nan")}, POSITIVE, "finite number"),
        ("Normal(0, 1)", REAL, "expected a mapping"),
    ],
)
def test_invalid_specs_name_the_key(spec, support, message):
    with pytest.raises(PriorSpecError, match=None) as err:
        check_prior(spec, "k", support)
    assert message in str(err.value)
    assert str(err.value).startswith("config key k")


def test_merge_overrides_defaults_and_rejects_unknown_parameters():
    defaults = {"mu": {"dist": "Normal", "mu": 0.0, "sigma": 1.5}, "tau": {"dist": "HalfNormal", "sigma": 1.0}}
    supports = {"mu": REAL, "tau": POSITIVE}
    merged = merge_priors(defaults, {"tau": {"dist": "Exponential", "lam": 2.0}}, supports, "models.m.priors")
    assert merged["tau"] == {"dist": "Exponential", "lam": 2.0}
    assert merged["mu"] == defaults["mu"]
    with pytest.raises(PriorSpecError, match="models.m.priors.sigma: this family has no parameter"):
        merge_priors(defaults, {"sigma": {"dist": "HalfNormal", "sigma": 1}}, supports, "models.m.priors")


def test_dirichlet_concentration_must_be_positive():
    with pytest.raises(PriorSpecError, match="a: must be > 0"):
        check_prior({"dist": "Dirichlet", "a": 0}, "k", SIMPLEX)
