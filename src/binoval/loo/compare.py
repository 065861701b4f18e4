"""Comparing models by expected log predictive density (LOO and WAIC).

``compare_models`` ranks every model by elpd, gives each model's difference
from the best with the paired standard error of that difference, and the
stacking weights (``arviz.compare(method="stacking")``), for both PSIS-LOO
and WAIC, from the per-group tables that ``binoval.loo.psis.loo_table`` writes.

``select_k`` chooses the number of clusters within one ``bb_mixture`` family
id: the smallest K whose elpd_loo is within the tolerance of the best K's —
the difference is below ``elpd_tolerance`` or below ``se_tolerance`` paired
standard errors (config ``compare``, defaults ``binoval.defaults.COMPARE``) —
and says why in words.
The same tolerance drives the simplicity rule of the verdict
(``within_tolerance``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from binoval.defaults import COMPARE, with_defaults
from binoval.loo.waic import WAIC_VARIANCE_MAX

CRITERIA = ("loo", "waic")


def paired_difference(better: np.ndarray, worse: np.ndarray) -> tuple[float, float]:
    """elpd(better) - elpd(worse) and the se of that difference, sqrt(N var(pointwise differences))."""
    d = np.asarray(better, dtype=float) - np.asarray(worse, dtype=float)
    return float(d.sum()), float(np.sqrt(len(d) * np.var(d, ddof=1))) if len(d) > 1 else 0.0


def within_tolerance(diff: float, se: float, tolerance: Mapping[str, float] | None = None) -> bool:
    """Is an elpd difference small: below ``elpd_tolerance`` or below ``se_tolerance`` standard errors?"""
    t = with_defaults(COMPARE, tolerance)
    return bool(diff < t["elpd_tolerance"] or diff < t["se_tolerance"] * se)


def tolerance_rule(tolerance: Mapping[str, float] | None = None) -> str:
    """The tolerance of ``within_tolerance`` in words (config ``compare`` over ``binoval.defaults.COMPARE``)."""
    t = with_defaults(COMPARE, tolerance)
    return (
        f"Differences below {t['elpd_tolerance']:g}, or below {t['se_tolerance']:g} paired standard errors, "
        "are within tolerance (config `compare`)."
    )


def _pointwise(table: pd.DataFrame, ic: str) -> np.ndarray:
    return table.sort_values("group")[f"elpd_{ic}_i"].to_numpy(dtype=float)


def elpd_data(table: pd.DataFrame, ic: str):
    """An ``arviz.ELPDData`` (pointwise) rebuilt from a stored LOO table, for ``az.compare``.

    For ``ic = "waic"`` the pointwise WAIC values take the place of the LOO
    ones (no Pareto k); ``az.compare`` then weighs the models by WAIC.
    """
    import arviz as az
    import xarray as xr

    from binoval.loo.psis import k_threshold

    table = table.sort_values("group")
    first = table.iloc[0]
    coords = {"group": table["group"].to_numpy()}
    pointwise = xr.DataArray(table[f"elpd_{ic}_i"].to_numpy(dtype=float), dims=["group"], coords=coords)
    good_k = k_threshold(int(first["total_draws"]))
    if ic == "loo":
        pareto_k = xr.DataArray(table["pareto_k"].to_numpy(dtype=float), dims=["group"], coords=coords)
        warning = bool((table["pareto_k"] > good_k).any())
    else:
        pareto_k = None
        warning = bool((table["loglik_var_i"] > WAIC_VARIANCE_MAX).any())
    return az.ELPDData(
        elpd=float(first[f"elpd_{ic}"]),
        se=float(first[f"se_{ic}"]),
        p=float(first[f"p_{ic}"]),
        n_samples=int(first["total_draws"]),
        n_data_points=len(table),
        scale="log",
        warning=warning,
        good_k=good_k,
        elpd_i=pointwise,
        pareto_k=pareto_k,
    )


def compare_models(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per (criterion, model): rank, elpd, se, p, elpd_diff, dse, stacking weight, warning.

    ``elpd_diff`` and ``dse`` are relative to the criterion's best model
    (rank 0), computed from the pointwise values of the two models.
    """
    import warnings

    import arviz as az

    rows = []
    for ic in CRITERIA:
        if len(tables) >= 2:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                comp = az.compare({m: elpd_data(t, ic) for m, t in tables.items()}, method="stacking", round_to="none")
            weights = comp["weight"].to_dict()
        else:
            weights = {m: 1.0 for m in tables}
        totals = {m: float(t[f"elpd_{ic}"].iloc[0]) for m, t in tables.items()}
        ordered = sorted(totals, key=lambda m: -totals[m])
        best = ordered[0]
        for rank, model_id in enumerate(ordered):
            table = tables[model_id]
            diff, dse = paired_difference(_pointwise(tables[best], ic), _pointwise(table, ic))
            if ic == "loo":
                from binoval.loo.psis import k_threshold

                warning = bool((table["pareto_k"] > k_threshold(int(table["total_draws"].iloc[0]))).any())
            else:
                warning = bool((table["loglik_var_i"] > WAIC_VARIANCE_MAX).any())
            rows.append(
                {
                    "criterion": ic,
                    "model_id": model_id,
                    "rank": rank,
                    "elpd": totals[model_id],
                    "se": float(table[f"se_{ic}"].iloc[0]),
                    "p": float(table[f"p_{ic}"].iloc[0]),
                    "elpd_diff": diff,
                    "dse": dse,
                    "weight": float(weights[model_id]),
                    "warning": warning,
                }
            )
    return pd.DataFrame(rows)


def select_k(
    tables: Mapping[str, pd.DataFrame], ks: Mapping[str, int], tolerance: Mapping[str, float] | None = None
) -> tuple[str, str]:
    """The chosen model id among mixtures of one family id (``ks``: model id -> K) and the reason in words."""
    t = with_defaults(COMPARE, tolerance)
    elpd = {m: float(tables[m]["elpd_loo"].iloc[0]) for m in ks}
    best = max(elpd, key=elpd.get)
    for model_id in sorted(ks, key=ks.get):
        if model_id == best:
            return model_id, (
                f"K={ks[best]} has the highest elpd_loo ({elpd[best]:.2f}) and no smaller K is within "
                f"{t['elpd_tolerance']:g} elpd or {t['se_tolerance']:g} se of it"
            )
        diff, se = paired_difference(_pointwise(tables[best], "loo"), _pointwise(tables[model_id], "loo"))
        if within_tolerance(diff, se, t):
            return model_id, (
                f"K={ks[model_id]} is the smallest K within tolerance of the best K={ks[best]}: elpd_loo difference "
                f"{diff:.2f} (se {se:.2f}) is below {t['elpd_tolerance']:g} or {t['se_tolerance']:g} se"
            )
    raise AssertionError("unreachable: the best K is always within tolerance of itself")


def k_selection(
    tables: Mapping[str, pd.DataFrame],
    mixtures: Mapping[str, tuple[str, int]],
    tolerance: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """K choice per mixture family id. ``mixtures``: model id -> (family id, K). One row per mixture model."""
    rows = []
    families: dict[str, dict[str, int]] = {}
    for model_id, (base, K) in mixtures.items():
        families.setdefault(base, {})[model_id] = K
    for base, ks in families.items():
        chosen, reason = select_k(tables, ks, tolerance)
        for model_id, K in ks.items():
            rows.append(
                {"mixture": base, "model_id": model_id, "K": int(K), "selected": model_id == chosen, "reason": reason}
            )
    return pd.DataFrame(rows, columns=["mixture", "model_id", "K", "selected", "reason"])


def comparable(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables whose elpd_loo and elpd_waic are finite (failed fits have none)."""
    return {
        m: t for m, t in tables.items() if np.isfinite(t["elpd_loo"].iloc[0]) and np.isfinite(t["elpd_waic"].iloc[0])
    }


def comparison_with_k(
    tables: Mapping[str, pd.DataFrame],
    mixtures: Mapping[str, tuple[str, int]],
    tolerance: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """``compare_models`` plus the mixture K choice: columns ``mixture``, ``K``, ``k_selected``, ``k_reason``.

    Models without finite elpd (failed fits) are left out of the comparison and the K choice.
    """
    tables = comparable(tables)
    if not tables:
        raise ValueError("no model has a finite elpd_loo: every fit failed")
    mixtures = {m: v for m, v in mixtures.items() if m in tables}
    comp = compare_models(tables)
    ks = k_selection(tables, mixtures, tolerance).set_index("model_id")
    comp["mixture"] = comp["model_id"].map(ks["mixture"]).fillna("")
    comp["K"] = comp["model_id"].map(ks["K"]).fillna(0).astype("int64")
    comp["k_selected"] = comp["model_id"].map(ks["selected"]).fillna(False).astype(bool)
    comp["k_reason"] = comp["model_id"].map(ks["reason"]).fillna("")
    return comp
