"""SBC at many groups: a seeded, stratified subset of group rates plus pooled summaries (``sbc.max_group_quantities``),
recorded per quantity in the tables, and plots whose size does not grow with the groups."""

import numpy as np
import pandas as pd
import pytest

from binoval.data.synthetic import simulate_logit_normal_counts
from binoval.models import FAMILIES, GroupedCounts, ModelSpec, build_model
from binoval.sbc.plots import GROUP_PANELS, WORST_GROUPS, panels, plot_ecdf_difference, plot_rank_histograms
from binoval.sbc.posterior import PosteriorShardRunner
from binoval.sbc.shard import ShardRunner, sbc_sampler_settings
from binoval.sbc.simulate import POOLED_SUMMARIES, group_subset, sbc_quantities
from binoval.sbc.summary import summarise
from binoval.schemas import SbcSimulations, SbcSummary

HIER = ModelSpec("hier_logit", "hier_logit", FAMILIES["hier_logit"].default_priors, {"parameterization": "noncentered"})


def counts(groups: int, seed: int = 7) -> GroupedCounts:
    return GroupedCounts.from_frame(simulate_logit_normal_counts(groups, seed, n_low=5, n_high=60))


def test_group_subset_is_stratified_by_trials_and_seeded():
    trials = np.random.default_rng(0).integers(1, 1000, size=997)
    subset = group_subset(trials, 50, np.random.default_rng(1))
    assert len(subset) == 50 and len(set(subset)) == 50 and (np.diff(subset) > 0).all()
    # one group from each fiftieth of the groups sorted by trials: the picks' trial ranks fall one per stratum
    rank_of = np.empty(len(trials), dtype=int)
    rank_of[np.argsort(trials, kind="stable")] = np.arange(len(trials))
    strata = np.searchsorted(np.cumsum([len(r) for r in np.array_split(np.arange(997), 50)]), rank_of[subset], "right")
    assert sorted(strata) == list(range(50))
    np.testing.assert_array_equal(subset, group_subset(trials, 50, np.random.default_rng(1)))
    assert not np.array_equal(subset, group_subset(trials, 50, np.random.default_rng(2)))


def test_quantities_rank_every_group_up_to_the_limit_then_a_subset_and_summaries():
    data = counts(30)
    model = build_model(HIER, data)
    every = sbc_quantities(model, HIER, max_group_quantities=30)
    assert [q.role for q in every].count("group") == 30 and "group_pooled" not in {q.role for q in every}
    some = sbc_quantities(model, HIER, max_group_quantities=8, rng=np.random.default_rng(3))
    roles = [q.role for q in some]
    assert roles.count("group_subset") == 8
    assert [q.label for q in some if q.role == "group_pooled"] == [f"{s}(p)" for s in POOLED_SUMMARIES]
    assert [q.label for q in some][:2] == ["mu", "tau"] and some[-1].role == "log_likelihood"
    with pytest.raises(ValueError, match="random generator"):
        sbc_quantities(model, HIER, max_group_quantities=8)


@pytest.fixture(scope="module")
def subset_runner():
    settings = sbc_sampler_settings({}, {"draws": 200, "tune": 200})
    return ShardRunner(HIER, counts(40), settings, seed=11, sims_per_shard=3, max_group_quantities=6)


def test_a_shard_ranks_the_subset_and_the_pooled_summaries_of_the_true_rates(subset_runner):
    table = subset_runner.run(0)
    SbcSimulations.validate(table)
    assert (table[table["simulation"] == 0]["role"] == "group_subset").sum() == 6
    truths = subset_runner.simulate_truths(0, 1, np.random.default_rng(5))
    one = subset_runner.run_simulation(0, 0, truths, np.random.SeedSequence(6)).set_index("quantity")
    p = truths["p"][0]
    assert one.loc["mean(p)", "true_value"] == pytest.approx(p.mean())
    assert one.loc["sd(p)", "true_value"] == pytest.approx(p.std())
    subset = one[one["role"] == "group_subset"]
    np.testing.assert_allclose(subset["true_value"], p[[subset_runner.data.groups.index(g) for g in subset["index"]]])
    ok = table[table["status"] == "ok"]
    assert ok["u"].between(0, 1).all() and len(ok) == len(table)
    summary = summarise(table)
    SbcSummary.validate(summary)
    assert dict(zip(summary["quantity"], summary["role"]))["mean(p)"] == "group_pooled"
    assert list(summary["quantity"]) == list(dict.fromkeys(table["quantity"]))


def test_prior_and_posterior_sbc_and_every_shard_rank_the_same_groups(subset_runner):
    import xarray as xr

    again = ShardRunner(
        HIER, subset_runner.data, subset_runner.settings, seed=11, sims_per_shard=3, max_group_quantities=6
    )
    labels = [q.label for q in subset_runner.quantities]
    assert [q.label for q in again.quantities] == labels
    posterior = xr.Dataset({"p": (("chain", "draw", "group"), np.full((1, 2, 40), 0.3))})
    failed_fit = PosteriorShardRunner(
        HIER,
        subset_runner.data,
        subset_runner.settings,
        11,
        3,
        max_group_quantities=6,
        posterior=posterior,
        fit_error="no fit",
    )
    assert [q.label for q in failed_fit.quantities] == labels
    other_seed = ShardRunner(
        HIER, subset_runner.data, subset_runner.settings, seed=12, sims_per_shard=3, max_group_quantities=6
    )
    assert [q.label for q in other_seed.quantities] != labels


def synthetic_table(groups: int, simulations: int = 100, bad_group: int | None = None) -> pd.DataFrame:
    """A per-simulation table of uniform ranks for mu, ``groups`` group rates and the log-likelihood; the ranks of
    group ``bad_group`` pile up in the middle."""
    rng = np.random.default_rng(groups)
    quantities = [("mu", "mu", "parameter")] + [(f"p[g{i}]", "p", "group_subset") for i in range(groups)]
    quantities += [("log_likelihood", "log_likelihood", "log_likelihood")]
    rows = []
    for s in range(simulations):
        for q, variable, role in quantities:
            u = rng.uniform()
            if bad_group is not None and q == f"p[g{bad_group}]":
                u = 0.5 + (u - 0.5) * 0.2
            rows.append({"simulation": s, "quantity": q, "variable": variable, "role": role, "status": "ok", "u": u})
    return pd.DataFrame(rows)


def test_many_group_rates_become_a_pooled_panel_and_the_worst_groups():
    few = panels(synthetic_table(GROUP_PANELS))
    assert len(few) == GROUP_PANELS + 2
    many = panels(synthetic_table(200, bad_group=17))
    titles = [panel.title for panel in many]
    assert titles[:2] == ["mu", "200 group rates pooled"] and titles[-1] == "log_likelihood"
    assert len(many) == 3 + WORST_GROUPS
    assert titles[2] == "p[g17] (worst 1)"  # the planted bad group is shown first
    assert many[1].simulations == 100 and len(many[1].u) == 200 * 100


def test_each_group_level_variable_is_pooled_on_its_own():
    table = synthetic_table(30, simulations=20)
    levels = table[table["variable"] == "p"].assign(
        quantity=lambda t: t["quantity"].str.replace("p[", "u_site[", regex=False), variable="u_site"
    )
    titles = [panel.title for panel in panels(pd.concat([table, levels], ignore_index=True))]
    assert titles.count("30 group rates pooled") == 1 and titles.count("30 u_site levels pooled") == 1
    assert len(titles) == 2 + 2 * (1 + WORST_GROUPS)
    assert all(t.startswith("u_site[") for t in titles[-WORST_GROUPS:])


GLMM_MANY = ModelSpec("glmm_sites", "glmm", FAMILIES["glmm"].default_priors, {"formula": "r ~ x + (1 + x | site)"})


def many_sites(sites: int, seed: int = 3) -> GroupedCounts:
    """Two rows per site (x = 0, 1): a varying intercept and slope over ``sites`` sites."""
    rng = np.random.default_rng(seed)
    n = rng.integers(5, 60, size=2 * sites)
    frame = pd.DataFrame(
        {
            "group": [f"s{i:03d}_{x}" for i in range(sites) for x in (0, 1)],
            "n": n,
            "r": rng.binomial(n, 0.3),
            "site": [f"s{i:03d}" for i in range(sites) for _ in (0, 1)],
            "x": [x for _ in range(sites) for x in (0, 1)],
        }
    )
    return GroupedCounts.from_frame(frame)


def test_a_glmm_effect_with_many_levels_is_ranked_by_a_subset_and_its_summaries():
    data = many_sites(60)
    model = build_model(GLMM_MANY, data)
    every = sbc_quantities(model, GLMM_MANY, max_group_quantities=200)
    u_all = [q for q in every if q.variable == "u_site"]
    assert len(u_all) == 120 and {q.role for q in u_all} == {"parameter"}
    some = sbc_quantities(model, GLMM_MANY, max_group_quantities=10, rng=np.random.default_rng(4))
    u = [q for q in some if q.variable == "u_site"]
    chosen = [q for q in u if q.role == "group_subset"]
    assert len(chosen) == 20 and len({q.position[0] for q in chosen}) == 10  # 10 sites, both effects of each
    effects = list(model.coords["site_effect"])
    pooled = [q for q in u if q.role == "group_pooled"]
    assert [q.label for q in pooled] == [f"{s}(u_site[{e}])" for e in effects for s in POOLED_SUMMARIES]
    # the summaries are over all 60 sites, per effect, for draws on leading axes
    draws = np.random.default_rng(0).normal(size=(2, 5, 60, len(effects)))
    for q in pooled:
        effect = q.position[0]
        np.testing.assert_allclose(q.of(draws, leading=2), POOLED_SUMMARIES[q.summary](draws[:, :, :, effect]))
    for q in chosen:
        np.testing.assert_array_equal(q.of(draws, leading=2), draws[:, :, q.position[0], q.position[1]])
    # the sites' subset covers their order: one from each tenth
    assert sorted(q.position[0] // 6 for q in chosen[::2]) == list(range(10))
    p = [q for q in some if q.variable == "p"]  # the 120 rows' rates: 10 by trials and the summaries
    assert [q.role for q in p] == ["group_subset"] * 10 + ["group_pooled"] * 2
    assert [q.index for q in pooled[:2]] == [
        "mean of 60 levels of site, Intercept",
        "sd of 60 levels of site, Intercept",
    ]


@pytest.mark.parametrize("plot", [plot_ecdf_difference, plot_rank_histograms])
def test_sbc_plots_of_a_thousand_groups_stay_small(plot, tmp_path):
    from PIL import Image

    path = tmp_path / "plot.png"
    plot(synthetic_table(1000, simulations=50), path, title="g1000")
    width, height = Image.open(path).size
    assert height <= 3000 and width <= 3000
