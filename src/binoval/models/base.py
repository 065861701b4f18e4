"""What every model family shares: the data it sees and how it is built.

A family is a set of default priors (with the support each parameter needs)
plus a ``declare`` method that adds the family's parameters and the
likelihood of ``r`` to a model that already holds the observed data in
``pm.Data`` containers ``n`` and ``r_observed``. Because the data live in
containers, one compiled model serves the observed fit and every simulated
dataset (swap them with ``nutpie``'s ``with_data`` or ``pm.set_data``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

#: Names of the data containers every model declares.
N_DATA, R_DATA = "n", "r_observed"
#: Name of the observed random variable (and so of the log-likelihood and
#: posterior predictive variables).
R_VAR = "r"
GROUP_DIM = "group"
#: How a family with varying effects may write them: z-scores times the sd (non-centred) or drawn directly (centred).
PARAMETERIZATIONS = ("noncentered", "centered")


def is_centered(parameterization: str) -> bool:
    """True for ``centered``, False for ``noncentered``; anything else is an error naming the choices."""
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(f"parameterization must be one of {PARAMETERIZATIONS}, got {parameterization!r}")
    return parameterization == "centered"


@dataclass(frozen=True)
class GroupedCounts:
    """Grouped binomial data: ``r[i]`` successes out of ``n[i]`` trials in ``groups[i]``.

    ``covariates`` holds the data's other columns (e.g. ``sex``, ``edu``) for
    families that use them; they never change between simulated datasets.
    """

    groups: tuple[str, ...]
    n: np.ndarray
    r: np.ndarray
    covariates: Mapping[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> "GroupedCounts":
        return cls(
            groups=tuple(str(g) for g in df["group"]),
            n=df["n"].to_numpy(dtype="int64"),
            r=df["r"].to_numpy(dtype="int64"),
            covariates={str(c): df[c].to_numpy() for c in df.columns if c not in ("group", "n", "r")},
        )

    def with_successes(self, r: np.ndarray) -> "GroupedCounts":
        """The same groups, trials and covariates with other success counts (a simulated dataset)."""
        return GroupedCounts(self.groups, self.n, np.asarray(r, dtype="int64"), self.covariates)


@dataclass(frozen=True)
class ModelSpec:
    """A model as configured: its id, family, checked priors and family options."""

    model_id: str
    family: str
    priors: dict[str, dict]
    options: dict[str, Any] = field(default_factory=dict)


class Family:
    """Base class of a model family. Subclasses set the class attributes and ``declare``."""

    name: ClassVar[str]
    #: prior spec per parameter, used where the config gives none
    default_priors: ClassVar[dict[str, dict]]
    #: support per parameter that takes a prior (see ``binoval.models.priors``)
    supports: ClassVar[dict[str, str]]
    #: options the family accepts in its config spec, besides family/priors/enabled
    options: ClassVar[tuple[str, ...]] = ()

    def build(self, data: GroupedCounts, priors: Mapping[str, dict], **options):
        """Return a ``pm.Model`` of ``data`` with the given (checked) priors."""
        import pymc as pm


        with pm.Model(coords={GROUP_DIM: list(data.groups)}) as model:
            n = pm.Data(N_DATA, data.n, dims=GROUP_DIM)
            r_observed = pm.Data(R_DATA, data.r, dims=GROUP_DIM)
            self.declare(model, data, n, r_observed, priors, **options)
        return model

    def declare(self, model, data, n, r_observed, priors: Mapping[str, dict], **options) -> None:
        raise NotImplementedError

    def parameter_names(self, **options) -> list[str]:
        """Posterior variables a user reads (the contract names), in display order."""
        raise NotImplementedError
