"""Prior specifications: ``{dist: Normal, mu: 0, sigma: 1}`` dictionaries.

A prior spec names a PyMC distribution and its arguments, exactly as PyMC
spells them. This module checks a spec without importing PyMC (so config
validation stays fast) and turns a checked spec into a PyMC random variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Support of a parameter: the set its prior must live on.
REAL, POSITIVE, UNIT, SIMPLEX = "real", "positive", "unit", "simplex"


@dataclass(frozen=True)
class DistributionInfo:
    """What binoval knows about a PyMC distribution usable as a prior."""

    support: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    positive: tuple[str, ...] = ()  # arguments that must be > 0


DISTRIBUTIONS: dict[str, DistributionInfo] = {
    "Normal": DistributionInfo(REAL, ("mu", "sigma"), (), ("sigma",)),
    "StudentT": DistributionInfo(REAL, ("nu", "mu", "sigma"), (), ("nu", "sigma")),
    "Cauchy": DistributionInfo(REAL, ("alpha", "beta"), (), ("beta",)),
    "Logistic": DistributionInfo(REAL, ("mu", "s"), (), ("s",)),
    "HalfNormal": DistributionInfo(POSITIVE, ("sigma",), (), ("sigma",)),
    "HalfStudentT": DistributionInfo(POSITIVE, ("nu", "sigma"), (), ("nu", "sigma")),
    "HalfCauchy": DistributionInfo(POSITIVE, ("beta",), (), ("beta",)),
    "Exponential": DistributionInfo(POSITIVE, ("lam",), (), ("lam",)),
    "Gamma": DistributionInfo(POSITIVE, ("alpha", "beta"), (), ("alpha", "beta")),
    "InverseGamma": DistributionInfo(POSITIVE, ("alpha", "beta"), (), ("alpha", "beta")),
    "LogNormal": DistributionInfo(POSITIVE, ("mu", "sigma"), (), ("sigma",)),
    "Weibull": DistributionInfo(POSITIVE, ("alpha", "beta"), (), ("alpha", "beta")),
    "Beta": DistributionInfo(UNIT, ("alpha", "beta"), (), ("alpha", "beta")),
    "Uniform": DistributionInfo(UNIT, ("lower", "upper")),
    "Dirichlet": DistributionInfo(SIMPLEX, ("a",), (), ("a",)),
}


class PriorSpecError(ValueError):
    """A prior spec that cannot be used; the message names the config key."""


def check_prior(spec: Any, key: str, support: str) -> dict:
    """Check one prior spec for a parameter whose values live on ``support``.

    ``key`` is the config path used in error messages, e.g.
    ``models.hier_logit.priors.tau``. Returns the spec as a plain dict.
    """
    if not isinstance(spec, Mapping):
        raise PriorSpecError(
            f"config key {key}: expected a mapping like {{dist: Normal, mu: 0, sigma: 1}}, got {spec!r}"
        )
    spec = dict(spec)
    dist = spec.get("dist")
    if dist not in DISTRIBUTIONS:
        known = ", ".join(sorted(DISTRIBUTIONS))
        raise PriorSpecError(f"config key {key}.dist: unknown distribution {dist!r}; expected one of {known}")
    info = DISTRIBUTIONS[dist]
    if info.support != support:
        raise PriorSpecError(
            f"config key {key}.dist: {dist} has {info.support} support but this parameter must be {support}"
        )
    args = {k: v for k, v in spec.items() if k != "dist"}
    allowed = set(info.required) | set(info.optional)
    for name in args:
        if name not in allowed:
            raise PriorSpecError(
                f"config key {key}.{name}: {dist} takes no argument {name!r}; expected {', '.join(sorted(allowed))}"
            )
    for name in info.required:
        if name not in args:
            raise PriorSpecError(f"config key {key}.{name}: missing; {dist} needs {', '.join(info.required)}")
    for name, value in args.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise PriorSpecError(f"config key {key}.{name}: expected a number, got {value!r}")
        if value != value or value in (float("inf"), float("-inf")):
            raise PriorSpecError(f"config key {key}.{name}: expected a finite number, got {value!r}")
        if name in info.positive and value <= 0:
            raise PriorSpecError(f"config key {key}.{name}: must be > 0, got {value!r}")
    if dist == "Uniform":
        if not args["lower"] < args["upper"]:
            raise PriorSpecError(
                f"config key {key}: Uniform needs lower < upper, got {args['lower']} and {args['upper']}"
            )
        if args["lower"] < 0 or args["upper"] > 1:
            raise PriorSpecError(f"config key {key}: this parameter lives on (0, 1); Uniform bounds must lie in [0, 1]")
    return spec


def merge_priors(
    defaults: Mapping[str, dict], overrides: Mapping[str, Any] | None, supports: Mapping[str, str], key: str
) -> dict[str, dict]:
    """Overlay ``overrides`` on a family's ``defaults`` and check each result.

    ``key`` is the config path of the ``priors`` mapping, for error messages.
    """
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(supports))
    if unknown:
        raise PriorSpecError(
            f"config key {key}.{unknown[0]}: this family has no parameter {unknown[0]!r}; "
            f"its priors are {', '.join(sorted(supports))}"
        )
    merged = {name: dict(spec) for name, spec in defaults.items()}
    merged.update({name: dict(spec) for name, spec in overrides.items()})
    return {name: check_prior(spec, f"{key}.{name}", supports[name]) for name, spec in merged.items()}


def make_rv(name: str, spec: Mapping[str, Any], **kwargs):
    """Create the PyMC random variable ``name`` from a checked prior spec.

    Must be called inside a ``pm.Model`` context; ``kwargs`` (``dims``,
    ``shape``) pass through to the distribution.
    """
    import pymc as pm

    args = {k: v for k, v in spec.items() if k != "dist"}
    return getattr(pm, spec["dist"])(name, **args, **kwargs)


def make_dist(spec: Mapping[str, Any], **kwargs):
    """The unnamed PyMC distribution (``.dist``) for a checked prior spec."""
    import pymc as pm

    args = {k: v for k, v in spec.items() if k != "dist"}
    return getattr(pm, spec["dist"]).dist(**args, **kwargs)
