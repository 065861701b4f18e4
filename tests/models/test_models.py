import json

import numpy as np
import pymc as pm
import pytest
from conftest import json_from_a_new_process

from binoval.models import FAMILIES, R_VAR, GroupedCounts, ModelSpec, build_model, expand_models

DATA = GroupedCounts(groups=("a", "b", "c", "d", "e"), n=np.array([10, 50, 1, 200, 30]), r=np.array([0, 20, 1, 37, 30]))

CASES = {
    "pooled": ({"family": "pooled"}, {"p": ()}),
    "unpooled": ({"family": "unpooled"}, {"p": (5,)}),
    "hier_logit": (
        {"family": "hier_logit", "parameterization": "noncentered"},
        {"mu": (), "tau": (), "z": (5,), "theta": (5,), "p": (5,)},
    ),
    "hier_logit_centered": (
        {"family": "hier_logit", "parameterization": "centered"},
        {"mu": (), "tau": (), "theta": (5,), "p": (5,)},
    ),
    "beta_binomial": ({"family": "beta_binomial"}, {"mu": (), "kappa": (), "p": (5,)}),
    "mix_k1": ({"family": "bb_mixture", "K": 1}, {"w": (1,), "mu": (1,), "kappa": (1,)}),
    "mix_k3": ({"family": "bb_mixture", "K": 3}, {"w": (3,), "mu": (3,), "kappa": (3,)}),
    "glmm": (
        {"family": "glmm", "formula": "r ~ (1 | group)"},
        {"Intercept": (), "sigma_group": (1,), "u_group": (5, 1), "theta": (5,), "p": (5,)},
    ),
    "logit_t": ({"family": "logit_t"}, {"mu": (), "tau": (), "nu": (), "z": (5,), "theta": (5,), "p": (5,)}),
}


def spec_for(model_id):
    raw, _ = CASES[model_id]
    specs = expand_models({model_id: raw})
    return next(iter(specs.values()))


@pytest.fixture(scope="module")
def prior_draws():
    draws = {}
    for model_id in CASES:
        model = build_model(spec_for(model_id), DATA)
        draws[model_id] = (model, pm.sample_prior_predictive(draws=300, model=model, random_seed=1))
    return draws


@pytest.mark.parametrize("model_id", sorted(CASES))
def test_variables_shapes_and_group_dimension(model_id, prior_draws):
    model, idata = prior_draws[model_id]
    _, shapes = CASES[model_id]
    for name, shape in shapes.items():
        assert idata.prior[name].shape[2:] == shape, name
        if shape == (5,) and name != "w":
            assert idata.prior[name].dims[2:] == ("group",) or idata.prior[name].dims[2:] == ("cluster",)
    if "p" in shapes and shapes["p"] == (5,):
        assert list(idata.prior["p"].coords["group"].values) == list(DATA.groups)
    assert idata.prior_predictive[R_VAR].shape[2:] == (5,)
    assert model.named_vars[R_VAR] in model.observed_RVs


@pytest.mark.parametrize("model_id", sorted(CASES))
def test_prior_draws_are_valid(model_id, prior_draws):
    _, idata = prior_draws[model_id]
    r = idata.prior_predictive[R_VAR].values
    assert np.all((r >= 0) & (r <= DATA.n))
    if "p" in idata.prior:
        p = idata.prior["p"].values
        assert np.all((p >= 0) & (p <= 1))
    for name in ("tau", "kappa"):
        if name in idata.prior:
            assert np.all(idata.prior[name].values > 0)
    if "w" in idata.prior:
        np.testing.assert_allclose(idata.prior["w"].values.sum(axis=-1), 1.0)


@pytest.mark.parametrize("model_id", ["mix_k1", "mix_k3"])
def test_mixture_means_are_ordered_in_prior_draws(model_id, prior_draws):
    _, idata = prior_draws[model_id]
    mu = idata.prior["mu"].values.reshape(-1, idata.prior["mu"].shape[-1])
    assert np.all(np.diff(mu, axis=1) > 0)
    assert np.all((mu > 0) & (mu < 1))


def test_mixture_means_are_uniform_order_statistics(prior_draws):
    _, idata = prior_draws["mix_k3"]
    mu = idata.prior["mu"].values.reshape(-1, 3)
    # order statistics of 3 uniforms have means 1/4, 2/4, 3/4
    np.testing.assert_allclose(mu.mean(axis=0), [0.25, 0.5, 0.75], atol=0.04)


def test_mixture_log_likelihood_marginalises_assignments():
    """The mixture's logp equals log sum_k w_k BetaBinomial(r | n, alpha_k, beta_k), computed by hand."""
    from scipy.special import betaln, gammaln, logsumexp

    model = build_model(spec_for("mix_k3"), DATA)
    point = {
        "w_unnormalised_log__": np.log([0.7, 1.3, 0.4]),
        "mu_gaps_unnormalised_log__": np.log([0.5, 0.3, 1.1, 0.2]),
        "kappa_log__": np.log([5.0, 20.0, 8.0]),
    }
    logp = model.compile_fn(
        model.logp(vars=[model[R_VAR]], sum=False)[0], inputs=model.value_vars, on_unused_input="ignore"
    )(point)
    deterministic = model.replace_rvs_by_values([model["w"], model["mu"], model["kappa"]])
    values = model.compile_fn(deterministic, inputs=model.value_vars, on_unused_input="ignore")(point)
    w, mu, kappa = values
    a, b = mu * kappa, (1 - mu) * kappa
    n, r = DATA.n[:, None], DATA.r[:, None]
    log_bb = gammaln(n + 1) - gammaln(r + 1) - gammaln(n - r + 1) + betaln(r + a, n - r + b) - betaln(a, b)
    np.testing.assert_allclose(logp, logsumexp(np.log(w) + log_bb, axis=1), rtol=1e-6)


def test_priors_from_config_reach_the_model():
    spec = expand_models({"h": {"family": "hier_logit", "priors": {"tau": {"dist": "HalfNormal", "sigma": 0.01}}}})["h"]
    idata = pm.sample_prior_predictive(draws=500, model=build_model(spec, DATA), random_seed=2)
    assert float(idata.prior["tau"].max()) < 0.05


def test_every_family_is_tested():
    assert {raw["family"] for raw, _ in CASES.values()} == set(FAMILIES)


def test_unknown_parameterization_is_rejected():
    with pytest.raises(ValueError, match="parameterization"):
        build_model(
            ModelSpec("h", "hier_logit", FAMILIES["hier_logit"].default_priors, {"parameterization": "sideways"}), DATA
        )


def test_generated_source_goes_to_pytensors_cache_not_the_temporary_directory(monkeypatch, tmp_path):
    """PyTensor keeps a source file per numba-compiled function; left unset, they pile up in /tmp for good."""
    import tempfile
    from pathlib import Path

    import pytensor

    from binoval.models.base import GENERATED_SOURCE_DIR

    monkeypatch.setattr(pytensor.config, "generated_src_dir", "")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where PyTensor would write without the setting
    data = GroupedCounts(("a", "b"), np.array([10, 20]), np.array([3, 4]))
    model = build_model(ModelSpec("pooled", "pooled", FAMILIES["pooled"].default_priors), data)
    expected = Path(pytensor.config.compiledir).parent / GENERATED_SOURCE_DIR
    assert pytensor.config.generated_src_dir == str(expected)
    pytensor.function([], model["p"] * 2.0, mode="NUMBA")()
    assert list(tmp_path.iterdir()) == []
    assert any(expected.glob("*.py"))

    monkeypatch.setattr(pytensor.config, "generated_src_dir", str(tmp_path / "mine"))
    build_model(ModelSpec("pooled", "pooled", FAMILIES["pooled"].default_priors), data)
    assert pytensor.config.generated_src_dir == str(tmp_path / "mine")  # a user's own setting is kept


#: Draws a model's prior predictive twice in a fresh process, with binoval's samplers and with PyTensor's
#: scipy.stats ones, and prints whether the first imported scipy.stats and whether the draws are equal.
FORWARD_DRAWS_IN_A_NEW_PROCESS = """
import json, sys
import numpy as np
import pymc as pm
from binoval.models import FORWARD_SAMPLING_MODE, GroupedCounts, build_model, expand_models
data = GroupedCounts(("a", "b", "c", "d", "e"), np.array([10, 50, 1, 200, 30]), np.array([0, 20, 1, 37, 30]))
spec = next(iter(expand_models({"m": json.loads(sys.argv[1])}).values()))
model = build_model(spec, data)
names = [rv.name for rv in model.free_RVs] + ["r"]
def draws(mode):
    return pm.draw([model[name] for name in names], draws=40, random_seed=11, mode=mode)
ours = [draws(FORWARD_SAMPLING_MODE), draws(None)]
imported = "scipy.stats" in sys.modules
from scipy import stats
from pytensor.tensor.random.basic import BetaBinomialRV, HalfNormalRV
HalfNormalRV.rng_fn_scipy = classmethod(
    lambda cls, rng, loc, scale, size: stats.halfnorm.rvs(loc, scale, random_state=rng, size=size))
BetaBinomialRV.rng_fn_scipy = classmethod(
    lambda cls, rng, n, a, b, size: stats.betabinom.rvs(n, a, b, size=size, random_state=rng))
theirs = [draws(FORWARD_SAMPLING_MODE), draws(None)]
equal = all(np.array_equal(x, y) for mode_o, mode_t in zip(ours, theirs) for x, y in zip(mode_o, mode_t))
print(json.dumps([imported, equal]))
"""


@pytest.mark.parametrize(
    "raw", [{"family": "hier_logit"}, {"family": "beta_binomial"}, {"family": "bb_mixture", "K": 3}]
)
def test_forward_draws_skip_scipy_stats_and_draw_what_pytensor_draws(raw):
    """Half-normal and beta-binomial draws come from binoval.distributions: scipy.stats stays unimported, in
    FORWARD_SAMPLING_MODE and in numba (where a mixture's draw runs in object mode), and every value is the one
    PyTensor's scipy.stats samplers draw."""
    assert json_from_a_new_process(FORWARD_DRAWS_IN_A_NEW_PROCESS, json.dumps(raw)) == [False, True]
