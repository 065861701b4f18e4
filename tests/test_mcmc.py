"""binoval.mcmc's one-pass diagnostics give ArviZ's numbers."""

import arviz as az
import numpy as np
import pytest

from binoval import mcmc


def seeded_draws(seed, chains=4, draws=500, quantities=40):
    """AR(1) chains from nearly independent to very sticky, a heavy-tailed one, a chain stuck apart, a constant."""
    rng = np.random.default_rng(seed)
    phi = np.linspace(0.0, 0.995, quantities)
    noise = rng.standard_normal((chains, draws, quantities))
    x = np.empty_like(noise)
    x[:, 0] = noise[:, 0]
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    x[..., 1] = rng.standard_cauchy((chains, draws))
    x[0, :, 2] += 5.0  # one chain elsewhere: R-hat must see it
    x[..., 3] = 0.25  # constant
    x[..., 4] = rng.integers(0, 3, (chains, draws))  # ties
    return x


def arviz_values(x, function, **kwargs):
    return np.asarray(function(x, chain_axis=0, draw_axis=1, **kwargs), dtype=float)


def ess_bulk(x):
    return mcmc.rhat_and_ess_bulk(x)[1]


def rhat_rank(x):
    return mcmc.rhat_and_ess_bulk(x)[0]


def ess_mean(x):
    return mcmc.ess_of_chains(mcmc.split_chains(x))


CASES = [
    (ess_bulk, az.ess, {"method": "bulk"}),
    (mcmc.ess_tail, az.ess, {"method": "tail", "prob": mcmc.TAIL_PROBABILITY}),
    (ess_mean, az.ess, {"method": "mean"}),
    (rhat_rank, az.rhat, {}),
    (mcmc.mcse_mean, az.mcse, {"method": "mean"}),
    (mcmc.mcse_sd, az.mcse, {"method": "sd"}),
]


@pytest.mark.parametrize(("ours", "theirs", "kwargs"), CASES, ids=[c[0].__name__ for c in CASES])
@pytest.mark.parametrize(("seed", "chains", "draws"), [(0, 4, 500), (1, 2, 101), (2, 4, 7), (3, 1, 300)])
def test_the_same_numbers_as_arviz(ours, theirs, kwargs, seed, chains, draws, monkeypatch):
    x = seeded_draws(seed, chains, draws)
    monkeypatch.setattr(mcmc, "BLOCK_VALUES", chains * draws * 7)  # several blocks, the last one short
    expected = arviz_values(x, theirs, **kwargs)
    np.testing.assert_allclose(ours(x), expected, rtol=1e-9, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize(("seed", "chains", "draws"), [(0, 4, 500), (1, 2, 101), (2, 4, 7), (3, 1, 300)])
@pytest.mark.parametrize("prob", [0.94, 0.5, 0.999])
def test_hdi_and_bfmi_are_arvizs(seed, chains, draws, prob):
    """The fit's HDI and E-BFMI (ArviZ's ``hdi``, method nearest, and ``bfmi``), without importing arviz-stats."""
    import arviz_stats
    import xarray as xr

    x = seeded_draws(seed, chains, draws)
    dataset = xr.Dataset({"theta": (("chain", "draw", "i"), x)})
    expected = arviz_stats.hdi(dataset, prob=prob)["theta"]
    lower, upper = mcmc.hdi(x, prob)
    np.testing.assert_array_equal(lower, expected.sel(ci_bound="lower").values)
    np.testing.assert_array_equal(upper, expected.sel(ci_bound="upper").values)
    if draws > 1:
        energy = xr.Dataset({"energy": (("chain", "draw"), x[..., 6] + x[..., 20])})
        np.testing.assert_allclose(mcmc.bfmi(energy["energy"].values), arviz_stats.bfmi(energy)["energy"].values)


def test_the_hdi_of_a_quantity_with_missing_draws_comes_from_its_other_draws():
    x = seeded_draws(8, 2, 300, 6)
    x[0, :40, 2] = np.nan
    lower, upper = mcmc.hdi(x, 0.9)
    kept = x[..., 2][~np.isnan(x[..., 2])]
    (expected_lower,), (expected_upper,) = mcmc.hdi(kept.reshape(1, -1, 1), 0.9)
    assert (lower[2], upper[2]) == (expected_lower, expected_upper)
    np.testing.assert_array_equal(mcmc.hdi(np.delete(x, 2, axis=2), 0.9)[0], np.delete(lower, 2))


def test_a_quantity_with_a_missing_draw_is_nan_and_the_others_are_not():
    x = seeded_draws(4)
    x[1, 10, 7] = np.nan
    for function in (ess_bulk, mcmc.ess_tail, rhat_rank, mcmc.mcse_mean, mcmc.mcse_sd):
        values = function(x)
        assert np.isnan(values[7]) and np.isfinite(np.delete(values, [3, 7])).all(), function.__name__


def test_sticky_chains_are_worth_few_draws_and_stuck_chains_fail_rhat():
    x = seeded_draws(5)
    rhat, ess = mcmc.rhat_and_ess_bulk(x)
    assert ess[0] > 1000 and ess[-1] < 100
    assert rhat[2] > 1.1 and rhat[0] < 1.01


def test_the_tail_probability_is_arvizs_default():
    """The tables' ess_tail came from ``az.ess(dataset, method="tail")`` before: the same numbers."""
    import xarray as xr

    x = seeded_draws(6, 4, 300, 12)
    dataset = xr.Dataset({"theta": (("chain", "draw", "i"), x)})
    np.testing.assert_allclose(mcmc.ess_tail(x), az.ess(dataset, method="tail")["theta"].values, rtol=1e-9)


def test_the_fit_tables_hold_arvizs_diagnostics():
    """``fit.diagnostics``' parameter and convergence tables: per scalar, what ArviZ computes per variable."""
    import xarray as xr

    from binoval.fit.diagnostics import convergence_table, parameter_diagnostics

    x = seeded_draws(7, 4, 200, 6)
    posterior = xr.Dataset(
        {
            "p": (("chain", "draw", "group"), x[..., :5], {}),
            "mu": (("chain", "draw"), x[..., 5]),
        },
        coords={"group": list("abcde")},
    )
    idata = xr.DataTree.from_dict({"posterior": posterior})
    table = parameter_diagnostics(idata, "m", {"mu"}).set_index(["variable", "index"])
    joined = parameter_diagnostics(idata, "m", {"mu"}, convergence_table(idata)).set_index(["variable", "index"])
    expected = {
        "ess_bulk": az.ess(posterior, method="bulk"),
        "ess_tail": az.ess(posterior, method="tail"),
        "r_hat": az.rhat(posterior),
        "mcse_mean": az.mcse(posterior, method="mean"),
        "mcse_sd": az.mcse(posterior, method="sd"),
        "hdi_low": az.hdi(posterior, prob=0.94).sel(ci_bound="lower"),
        "hdi_high": az.hdi(posterior, prob=0.94).sel(ci_bound="upper"),
    }
    for column, dataset in expected.items():
        np.testing.assert_allclose(table.loc[("mu", ""), column], float(dataset["mu"]), rtol=1e-9, equal_nan=True)
        got = table.loc["p"].loc[list("abcde"), column].to_numpy(dtype=float)
        np.testing.assert_allclose(got, dataset["p"].values, rtol=1e-9, equal_nan=True)
        np.testing.assert_allclose(joined[column].to_numpy(dtype=float), table[column].to_numpy(dtype=float))


@pytest.mark.parametrize("kind", ["continuous", "ties", "infinite", "missing"])
def test_average_ranks_are_scipys(kind):
    """binoval.mcmc.average_ranks, which rank-normalises the draws of every fit, ranks as
    scipy.stats.rankdata(method="average") does: ties share the mean of their ranks, a column with NaN is NaN."""
    from scipy import stats

    from binoval.mcmc import average_ranks

    rng = np.random.default_rng(7)
    for _ in range(200):
        n, q = int(rng.integers(1, 70)), int(rng.integers(1, 5))
        if kind == "continuous":
            x = rng.normal(size=(n, q))
        else:
            x = rng.integers(-2, 3, size=(n, q)).astype(float)
            if kind == "infinite":
                x[x == 2], x[x == -2] = np.inf, -np.inf
            if kind == "missing":
                x[rng.random((n, q)) < 0.1] = np.nan
        np.testing.assert_array_equal(average_ranks(x), stats.rankdata(x, axis=0, method="average"))
