"""nutpie's C callbacks cached across processes (``binoval.fit.nutpie_cache``)."""

import json
import os

import numpy as np
import pytest
from conftest import json_from_a_new_process

from binoval.fit import nutpie_cache
from binoval.models import GroupedCounts, build_model, expand_models

DATA = GroupedCounts(("a", "b", "c", "d"), np.array([10, 40, 7, 100]), np.array([2, 15, 0, 31]))

#: Compiles one model in a fresh process and prints whether each callback came from numba's cache.
COMPILE_IN_A_NEW_PROCESS = """
import json, sys
import numpy as np
from binoval.fit.nutpie_cache import compile_nutpie_model
from binoval.models import GroupedCounts, build_model, expand_models
data = GroupedCounts(("a", "b", "c", "d"), np.array([10, 40, 7, 100]), np.array([2, 15, 0, 31]))
spec = next(iter(expand_models({"m": json.loads(sys.argv[1])}).values()))
compiled = compile_nutpie_model(build_model(spec, data))
print(json.dumps([compiled.compiled_logp_func._cache_hits, compiled.compiled_expand_func._cache_hits]))
"""


def _model(raw):
    return build_model(next(iter(expand_models({"m": raw}).values())), DATA)


def _cache_hits_in_a_new_process(raw, cache_dir):
    env = {nutpie_cache.CALLBACK_DIR_ENV: str(cache_dir)}
    return json_from_a_new_process(COMPILE_IN_A_NEW_PROCESS, json.dumps(raw), env=env)


def test_a_second_process_loads_both_callbacks_from_the_cache_and_another_model_does_not(tmp_path):
    pooled, hier = {"family": "pooled"}, {"family": "hier_logit"}
    assert _cache_hits_in_a_new_process(pooled, tmp_path) == [0, 0]
    assert _cache_hits_in_a_new_process(pooled, tmp_path) == [1, 1]
    # a different model's functions get wrappers of their own: nothing stale is loaded
    assert _cache_hits_in_a_new_process(hier, tmp_path) == [0, 0]
    assert len(list(tmp_path.glob("callback_*.py"))) == 4


@pytest.mark.parametrize("raw", [{"family": "hier_logit"}, {"family": "bb_mixture", "K": 2}])
def test_the_draws_are_nutpies_own(raw, tmp_path, monkeypatch):
    """Same seed, same draws as ``nutpie.compile_pymc_model``: the wrappers compute what nutpie's do."""
    import nutpie

    monkeypatch.setenv(nutpie_cache.CALLBACK_DIR_ENV, str(tmp_path))
    model = _model(raw)
    ours, theirs = nutpie_cache.compile_nutpie_model(model), nutpie.compile_pymc_model(model)
    settings = {"draws": 100, "tune": 100, "chains": 2, "cores": 1, "seed": 5, "progress_bar": False}
    a, b = nutpie.sample(ours, **settings), nutpie.sample(theirs, **settings)
    for name in a.posterior.data_vars:
        np.testing.assert_array_equal(a.posterior[name].values, b.posterior[name].values)
    # with other data in the containers, too (the wrappers read the data through nutpie's pointers)
    data = {"n": DATA.n * 3, "r_observed": DATA.r * 2}
    a = nutpie.sample(ours.with_data(**data), **settings)
    b = nutpie.sample(theirs.with_data(**data), **settings)
    for name in a.posterior.data_vars:
        np.testing.assert_array_equal(a.posterior[name].values, b.posterior[name].values)


def test_a_function_pytensor_could_not_cache_is_compiled_by_nutpie(tmp_path, monkeypatch):
    monkeypatch.setenv(nutpie_cache.CALLBACK_DIR_ENV, str(tmp_path))

    def not_cacheable(function):
        raise nutpie_cache._NotCacheable(function)

    monkeypatch.setattr(nutpie_cache, "inner_cache_name", not_cacheable)
    compiled = nutpie_cache.compile_nutpie_model(_model({"family": "pooled"}))
    assert "shared" not in next(iter(compiled.shared_data))  # nutpie's own random keys, not ours
    assert not list(tmp_path.glob("callback_*.py"))
    from nutpie import compile_pymc

    assert compile_pymc._make_c_logp_func.__module__ == "nutpie.compile_pymc"  # nutpie is left as it was


def test_a_wrapper_module_is_written_once_and_never_rewritten(tmp_path, monkeypatch):
    """numba's cache of a wrapper is keyed by its file's time stamp: a second job must not touch the file."""
    monkeypatch.setenv(nutpie_cache.CALLBACK_DIR_ENV, str(tmp_path))
    source = "inner = None\n\ndef callback():\n    return inner\n"
    first = nutpie_cache._load_callback(source, "the function")
    (path,) = tmp_path.glob("callback_*.py")
    stamp = path.stat().st_mtime_ns
    os.utime(path, ns=(stamp - 10**9, stamp - 10**9))
    second = nutpie_cache._load_callback(source, "the function")
    assert path.stat().st_mtime_ns == stamp - 10**9
    assert first() == second() == "the function"
    assert not list(tmp_path.glob(".*.tmp"))  # no partial files left behind


#: Imports nutpie as a sampling job does, then converts a trace to ArviZ as the fit stage does.
NUTPIE_WITHOUT_ARVIZ = """
import json, sys
import pymc as pm
from binoval.fit.nutpie_cache import compile_nutpie_model
with pm.Model() as model:
    pm.Normal("x")
compiled = compile_nutpie_model(model)
import nutpie
loaded = [name for name in ("arviz", "arviz_stats", "matplotlib") if name in sys.modules]
raw = nutpie.sample(compiled, draws=20, tune=20, chains=1, seed=1, progress_bar=False, return_raw_trace=True)
still = "arviz" in sys.modules
tree = nutpie.sample(compiled, draws=20, tune=20, chains=1, seed=1, progress_bar=False)
converted = [name for name in ("arviz", "arviz_stats", "matplotlib") if name in sys.modules]
import arviz
print(json.dumps([loaded, still, converted, type(tree).__name__, tree.posterior["x"].shape[1],
                  type(arviz).__name__, sys.modules["nutpie.sample"].arviz.from_dict is arviz.from_dict]))
"""


def test_nutpie_is_imported_without_arviz_until_it_converts_a_trace(tmp_path):
    """A shard reads nutpie's raw trace and never pays ArviZ's import; the fit stage's conversion still works."""
    env = {nutpie_cache.CALLBACK_DIR_ENV: str(tmp_path)}
    loaded, still, converted, tree, draws, arviz_type, same = json_from_a_new_process(NUTPIE_WITHOUT_ARVIZ, env=env)
    assert loaded == [] and still is False
    assert converted == []  # the conversion needs arviz-base only
    assert (tree, draws, arviz_type, same) == ("DataTree", 20, "module", True)
