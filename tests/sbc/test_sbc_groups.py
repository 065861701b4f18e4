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
    quantities = [("mu", "parameter")] + [(f"p[g{i}]", "group_subset") for i in range(groups)]
    quantities += [("log_likelihood", "log_likelihood")]
    rows = []
    for s in range(simulations):
        for q, role in quantities:
            u = rng.uniform()
            if bad_group is not None and q == f"p[g{bad_group}]":
                u = 0.5 + (u - 0.5) * 0.2
            rows.append({"simulation": s, "quantity": q, "role": role, "status": "ok", "u": u})
    return pd.DataFrame(rows)


def test_many_group_rates_become_a_pooled_panel_and_the_worst_groups():
    few = panels(synthetic_table(GROUP_PANELS))
    assert len(few) == GROUP_PANELS + 2
    many = panels(synthetic_table(200, bad_group=17))
    titles = [panel.title for panel in many]
    assert titles[:2] == ["mu", "log_likelihood"] and titles[2] == "200 group rates pooled"
    assert len(many) == 3 + WORST_GROUPS
    assert titles[3] == "p[g17] (worst 1)"  # the planted bad group is shown first
    assert many[2].simulations == 100 and len(many[2].u) == 200 * 100


@pytest.mark.parametrize("plot", [plot_ecdf_difference, plot_rank_histograms])
def test_sbc_plots_of_a_thousand_groups_stay_small(plot, tmp_path):
    from PIL import Image

    path = tmp_path / "plot.png"
    plot(synthetic_table(1000, simulations=50), path, title="g1000")
    width, height = Image.open(path).size
    assert height <= 3000 and width <= 3000
