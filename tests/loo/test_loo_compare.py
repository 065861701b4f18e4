"""Unit tests of binoval.loo.psis, binoval.loo.check and binoval.loo.compare on synthetic draws (no sampling)."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from binoval.loo.check import loo_status
from binoval.loo.compare import (
    compare_models,
    comparison_with_k,
    k_selection,
    paired_difference,
    select_k,
    within_tolerance,
)
from binoval.loo.psis import k_threshold, loo_table
from binoval.models import GroupedCounts, ModelSpec
from binoval.schemas import Comparison, LooTable


def _idata(posterior: dict, loglik: np.ndarray, groups):
    """InferenceData with 2 chains from scalar draws and a log-likelihood (draws, groups)."""
    half = loglik.shape[0] // 2

    def split(a):
        a = np.asarray(a)
        return a[: 2 * half].reshape(2, half, *a.shape[1:])

    return az.from_dict(
        {"posterior": {k: split(v) for k, v in posterior.items()}, "log_likelihood": {"r": split(loglik)}},
        coords={"group": list(groups)},
        dims={"r": ["group"]},
    )


def _pooled_case(p_draws, data: GroupedCounts):
    loglik = stats.binom.logpmf(data.r[None, :], data.n[None, :], p_draws[:, None])
    return _idata({"p": p_draws}, loglik, data.groups)


DATA = GroupedCounts(("a", "b", "c", "d"), np.array([20, 50, 100, 40]), np.array([2, 9, 11, 30]))


def test_k_threshold_formula():
    assert k_threshold(4000) == pytest.approx(min(1 - 1 / np.log10(4000), 0.7))
    assert k_threshold(400) == pytest.approx(1 - 1 / np.log10(400))  # 0.616 < 0.7
    assert k_threshold(10**6) == 0.7
    assert k_threshold(10**6, cap=0.9) == pytest.approx(1 - 1 / 6)


def test_loo_table_totals_and_waic_identities():
    rng = np.random.default_rng(1)
    idata = _pooled_case(rng.beta(53, 400, size=2000), DATA)
    table = LooTable.validate(loo_table(idata, "pooled", DATA))
    ll = idata.log_likelihood["r"].stack(s=("chain", "draw")).transpose("s", ...).values
    lppd = special.logsumexp(ll, axis=0) - np.log(ll.shape[0])
    var = ll.var(axis=0)
    assert np.allclose(table["elpd_waic_i"], lppd - var)
    assert table["elpd_waic"].iloc[0] == pytest.approx((lppd - var).sum())
    assert table["p_waic"].iloc[0] == pytest.approx(var.sum())
    assert table["elpd_loo"].iloc[0] == pytest.approx(table["elpd_loo_i"].sum())
    assert table["se_loo"].iloc[0] == pytest.approx(np.sqrt(4 * table["elpd_loo_i"].var(ddof=1)))
    assert table["p_loo"].iloc[0] == pytest.approx(table["p_loo_i"].sum())
    # LOO never predicts better than the in-sample lppd
    assert (table["elpd_loo_i"] <= lppd + 1e-9).all()
    # group d (30/40) is far from the pooled rate: its log-likelihood varies most
    assert table.loc[table["loglik_var_i"].idxmax(), "group"] == "d"
    assert table["total_draws"].iloc[0] == 2000


def test_loo_table_exact_override_changes_totals():
    rng = np.random.default_rng(2)
    idata = _pooled_case(rng.beta(53, 400, size=400), DATA)
    base = loo_table(idata, "m", DATA)
    exact = loo_table(idata, "m", DATA, exact={"d": -50.0})
    assert exact.set_index("group").loc["d", "loo_method"] == "exact"
    assert exact.set_index("group").loc["d", "elpd_loo_i"] == -50.0
    assert exact["elpd_loo"].iloc[0] == pytest.approx(
        base["elpd_loo"].iloc[0] - base.set_index("group").loc["d", "elpd_loo_i"] - 50.0
    )


def _table(k, var=0.1, elpd=-10.0, method="psis", draws=4000, model="m"):
    n = len(k)
    return pd.DataFrame(
        {
            "model_id": model,
            "group": [f"g{i}" for i in range(n)],
            "n": 10,
            "r": 1,
            "elpd_loo_i": elpd / n,
            "p_loo_i": 0.1,
            "pareto_k": k,
            "loo_method": method,
            "elpd_waic_i": elpd / n,
            "p_waic_i": var,
            "loglik_var_i": var,
            "elpd_loo": elpd,
            "se_loo": 1.0,
            "p_loo": 0.1 * n,
            "elpd_waic": elpd,
            "se_waic": 1.0,
            "p_waic": var * n,
            "total_draws": draws,
        }
    )


@pytest.mark.parametrize(
    "table, thresholds, status, fragment",
    [
        (_table([0.1, 0.2, 0.3]), {}, "PASS", "0/3 Pareto k > 0.70"),
        (_table([0.1, 0.8, 0.3]), {}, "WARN", "Pareto k above 0.70 for 1/3 groups (g1; max 0.80"),
        (_table([0.1, 0.65, 0.3], draws=400), {}, "WARN", "Pareto k above 0.62 for 1/3 groups"),
        (_table([0.1, 0.8, 0.3], method="exact"), {}, "PASS", "exact leave-one-group-out refits for 3 group(s)"),
        (_table([0.9, 0.8, 0.3]), {"k_high_share_fail": 0.5}, "FAIL", "share 67% > 50%"),
        (_table([0.1, 0.2, 0.3], var=0.5), {}, "WARN", "WAIC is unreliable"),
        (_table([0.1, 0.2, 0.3], var=0.5), {"waic_variance_max": 0.6}, "PASS", "elpd_loo -10.00"),
        (_table([0.1, 0.2, 0.3], elpd=-np.inf), {}, "FAIL", "log-likelihood is broken"),
    ],
)
def test_loo_status(table, thresholds, status, fragment):
    result = loo_status({"loo": table}, thresholds)
    assert result.status == status, result.reasons
    assert any(fragment in r for r in result.reasons), result.reasons


# -- comparison ---------------------------------------------------------------------------------


def test_paired_difference_and_tolerance():
    a, b = np.array([-1.0, -2.0, -3.0]), np.array([-1.5, -2.5, -4.0])
    diff, se = paired_difference(a, b)
    assert diff == pytest.approx(2.0)
    assert se == pytest.approx(np.sqrt(3 * np.var([0.5, 0.5, 1.0], ddof=1)))
    assert within_tolerance(3.9, 0.1)
    assert within_tolerance(7.0, 4.0)  # 7 < 2 * 4
    assert not within_tolerance(7.0, 3.0)
    assert not within_tolerance(5.0, 1.0, {"elpd_tolerance": 4, "se_tolerance": 2})
    assert within_tolerance(5.0, 1.0, {"elpd_tolerance": 6})


def _pointwise_table(model, values, k=0.1):
    values = np.asarray(values, dtype=float)
    t = _table([k] * len(values), model=model)
    t["elpd_loo_i"] = values
    t["elpd_waic_i"] = values - 0.01
    t["elpd_loo"] = values.sum()
    t["elpd_waic"] = values.sum() - 0.01 * len(values)
    t["se_loo"] = t["se_waic"] = np.sqrt(len(values) * values.var(ddof=1))
    return t


def _family(seed, offsets):
    rng = np.random.default_rng(seed)
    base = rng.normal(-3, 1, size=30)
    return {m: _pointwise_table(m, base + off + rng.normal(0, 0.05, size=30)) for m, off in offsets.items()}


def test_select_k_prefers_smallest_within_tolerance():
    # K=2 is best; K=3 is 0.3 worse; K=1 is 15 worse (far outside tolerance)
    tables = _family(0, {"mix_k1": -0.5, "mix_k2": 0.0, "mix_k3": -0.01})
    tables["mix_k1"]["elpd_loo_i"] -= np.linspace(0, 1, 30)
    tables["mix_k1"]["elpd_loo"] = tables["mix_k1"]["elpd_loo_i"].sum()
    chosen, reason = select_k(tables, {"mix_k1": 1, "mix_k2": 2, "mix_k3": 3})
    assert chosen == "mix_k2", reason
    assert "highest elpd_loo" in reason


def test_select_k_takes_smaller_k_within_tolerance():
    tables = _family(1, {"mix_k1": -0.05, "mix_k2": 0.0, "mix_k3": 0.02})
    chosen, reason = select_k(tables, {"mix_k1": 1, "mix_k2": 2, "mix_k3": 3})
    assert chosen == "mix_k1"
    assert "K=1 is the smallest K within tolerance of the best K=3" in reason
    # a zero tolerance keeps the best K
    chosen, _ = select_k(tables, {"mix_k1": 1, "mix_k2": 2, "mix_k3": 3}, {"elpd_tolerance": 0, "se_tolerance": 0})
    assert chosen == "mix_k3"


def test_compare_models_ranks_weights_and_schema():
    tables = _family(2, {"good": 0.0, "bad": -0.5, "mix_k1": -0.2, "mix_k2": -0.25})
    comp = comparison_with_k(tables, {"mix_k1": ("mix", 1), "mix_k2": ("mix", 2)})
    Comparison.validate(comp)
    loo = comp[comp["criterion"] == "loo"].set_index("model_id")
    assert loo.loc["good", "rank"] == 0 and loo.loc["bad", "rank"] == 3
    assert loo.loc["good", "elpd_diff"] == 0
    assert loo.loc["bad", "elpd_diff"] == pytest.approx(
        tables["good"]["elpd_loo"].iloc[0] - tables["bad"]["elpd_loo"].iloc[0]
    )
    assert loo["weight"].sum() == pytest.approx(1.0, abs=1e-6)
    assert loo.loc["good", "weight"] > 0.5
    assert loo.loc["mix_k1", "k_selected"] and not loo.loc["mix_k2", "k_selected"]
    assert loo.loc["good", "mixture"] == "" and loo.loc["good", "K"] == 0
    assert set(comp["criterion"]) == {"loo", "waic"}


def test_compare_flags_high_pareto_k():
    tables = {
        "a": _pointwise_table("a", np.full(10, -1.0), k=0.9),
        "b": _pointwise_table("b", np.full(10, -1.2) + np.arange(10) * 0.01),
    }
    comp = compare_models(tables)
    assert comp.set_index(["criterion", "model_id"]).loc[("loo", "a"), "warning"]
    assert not comp.set_index(["criterion", "model_id"]).loc[("loo", "b"), "warning"]


def test_k_selection_per_family_id():
    tables = _family(3, {"x_k1": 0.0, "x_k2": 0.0, "y_k1": 0.0})
    sel = k_selection(tables, {"x_k1": ("x", 1), "x_k2": ("x", 2), "y_k1": ("y", 1)})
    assert sel.groupby("mixture")["selected"].sum().to_dict() == {"x": 1, "y": 1}


# -- slow: reference figures and exact refits ---------------------------------------------------

REFERENCE_PRIORS = {
    "mu": {"dist": "Normal", "mu": -2.5123056239761148, "sigma": 1.0},
    "tau": {"dist": "HalfNormal", "sigma": 1.0},
}


def _hospital12():
    from binoval.data.grouped import read_grouped_csv, resolve_dataset

    return GroupedCounts.from_frame(read_grouped_csv(resolve_dataset("hospital12")))


@pytest.mark.slow
def test_reference_loo_waic_of_hospital12():
    """Reference analysis of hospital12: elpd_loo -38.41 (se 2.29), p_loo 7.84; elpd_waic -36.37 (1.85), p_waic 5.8."""
    from binoval.fit.sampler import SamplerSettings
    from binoval.fit.stage import fit_model

    data = _hospital12()
    spec = ModelSpec("hier_logit", "hier_logit", REFERENCE_PRIORS, {"parameterization": "noncentered"})
    out = fit_model(
        spec,
        data,
        SamplerSettings.from_config({"chains": 4, "draws": 1000, "tune": 1000, "target_accept": 0.95}),
        seed=12345,
    )
    table = loo_table(out.idata, "hier_logit", data)
    first = table.iloc[0]
    # PSIS with most k high is noisy across seeds; WAIC is stable
    assert first["elpd_loo"] == pytest.approx(-38.41, abs=1.0)
    assert first["se_loo"] == pytest.approx(2.29, abs=0.4)
    assert first["p_loo"] == pytest.approx(7.84, abs=1.0)
    assert first["elpd_waic"] == pytest.approx(-36.37, abs=0.4)
    assert first["se_waic"] == pytest.approx(1.85, abs=0.3)
    assert first["p_waic"] == pytest.approx(5.80, abs=0.4)
    assert (table["pareto_k"] > k_threshold(4000)).sum() >= 3
    assert loo_status({"loo": table}, {}).status == "WARN"


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="PSIS on the conditional log-likelihood is optimistic even at k 0.52: on PyMC 6 / ArviZ 1.3 the lowest-k "
    "group is group 7 (k 0.52), PSIS -2.57 vs exact -2.75/-2.75/-2.76 on seeds 7/8/9; on the old stack it was group 1 "
    "(k 0.52), -2.89 vs -2.92. Scoring groups by their group-marginal log-likelihood (issue 14) removes the bias; "
    "strict, so this marker must go when it does",
)
def test_exact_loo_agrees_with_psis_where_k_is_low_and_replaces_it_where_high():
    """Exact leave-one-group-out refits (beta_binomial, hospital12) against PSIS and the marginal model."""
    from binoval.fit.sampler import SamplerSettings
    from binoval.fit.stage import fit_model
    from binoval.loo.psis import exact_loo
    from binoval.models import expand_models

    data = _hospital12()
    settings = SamplerSettings.from_config({"chains": 2, "draws": 1000, "tune": 500})
    spec = expand_models({"beta_binomial": {"family": "beta_binomial"}})["beta_binomial"]
    out = fit_model(spec, data, settings, seed=7)
    table = loo_table(out.idata, spec.model_id, data).set_index("group")
    low = table["pareto_k"].idxmin()
    high = table["pareto_k"].idxmax()
    exact = exact_loo(spec, data, [low, high], settings, seed=7)
    # where PSIS is reliable, the exact refit agrees with it
    assert exact[low] == pytest.approx(table.loc[low, "elpd_loo_i"], abs=0.15)
    # the beta-binomial integrates p out exactly: the K=1 mixture is the same model, marginalised,
    # so its PSIS-LOO (reliable: k small) is the reference for the held-out density of the high-k group
    mix_spec = expand_models({"m": {"family": "bb_mixture", "K": [1]}})["m_k1"]
    mix = loo_table(fit_model(mix_spec, data, settings, seed=7).idata, "m_k1", data).set_index("group")
    assert mix.loc[high, "pareto_k"] < 0.7
    assert exact[high] == pytest.approx(mix.loc[high, "elpd_loo_i"], abs=0.25)
    replaced = loo_table(out.idata, spec.model_id, data, exact=exact).set_index("group")
    assert replaced.loc[high, "loo_method"] == "exact"


def test_flagged_groups_highest_k_first():
    from binoval.loo.psis import flagged_groups

    table = _table([0.1, 0.9, 0.75, 0.5], draws=4000)
    assert flagged_groups(table) == ["g1", "g2"]


def test_failed_fit_gets_a_failing_loo_and_leaves_the_comparison():
    empty = az.from_dict({"observed_data": {"r": DATA.r}})
    table = LooTable.validate(loo_table(empty, "broken", DATA))
    assert table["total_draws"].iloc[0] == 0 and table["elpd_loo"].isna().all()
    result = loo_status({"loo": table}, {})
    assert result.status == "FAIL" and "no draws" in result.reasons[0]
    tables = _family(4, {"a": 0.0, "b": -0.1})
    tables["broken"] = table
    comp = comparison_with_k(tables, {})
    assert set(comp["model_id"]) == {"a", "b"}


def test_tolerance_rule_states_the_configured_tolerance():
    from binoval.loo.compare import tolerance_rule

    expected = "Differences below 4, or below 2 paired standard errors, are within tolerance (config `compare`)."
    assert tolerance_rule() == expected
    assert tolerance_rule({"elpd_tolerance": 2.5}).startswith("Differences below 2.5, or below 2 paired")


@pytest.mark.slow
def test_exact_loo_of_a_glmm_keeps_covariates():
    """loo.reloo with a glmm: each refit sees the other rows with their covariates, the held-out row is scored with
    its own covariates (its education level's fitted effect), and agrees with PSIS where PSIS is reliable."""
    from binoval.data.grouped import load_dataset
    from binoval.fit.sampler import SamplerSettings
    from binoval.fit.stage import fit_model
    from binoval.loo.psis import exact_loo
    from binoval.models import expand_models

    data = GroupedCounts.from_frame(load_dataset("census14"))
    spec = expand_models({"g": {"family": "glmm", "formula": "r | trials(n) ~ sex + (1 | edu)"}})["g"]
    settings = SamplerSettings.from_config({"chains": 2, "draws": 500, "tune": 500})
    table = loo_table(fit_model(spec, data, settings, seed=5).idata, spec.model_id, data).set_index("group")
    groups = ["hsgrad_f", "doctorate_m"]
    exact = exact_loo(spec, data, groups, settings, seed=5)
    assert set(exact) == set(groups) and all(np.isfinite(v) for v in exact.values())
    low = table.loc[groups, "pareto_k"].idxmin()
    assert table.loc[low, "pareto_k"] < 0.7
    assert exact[low] == pytest.approx(table.loc[low, "elpd_loo_i"], abs=1.0)
