"""binoval.loo.waic: reproduces arviz 0.23.4 ``waic`` on a real fit, and its parts behave as documented."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from binoval.loo.waic import WAIC_VARIANCE_MAX, waic

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "waic"
RTOL = 1e-10


def columns_with_variance(variances, draws: int, seed: int = 0) -> np.ndarray:
    """An array (draws, len(variances)) whose column variances (ddof 0) are exactly ``variances``."""
    z = np.random.default_rng(seed).normal(size=(draws, len(variances)))
    z = (z - z.mean(axis=0)) / z.std(axis=0)
    return -3.0 + z * np.sqrt(np.asarray(variances, dtype=float))


def test_reproduces_arviz_0_23_4_on_hospital12_hier_logit():
    ll = np.load(FIXTURE / "hospital12_hier_logit_loglik.npy")
    expected = json.loads((FIXTURE / "expected_arviz_0_23_4.json").read_text())["waic"]
    assert ll.shape == (1000, 12) and ll.dtype == np.float64

    result = waic(ll)

    assert result.elpd == pytest.approx(expected["elpd_waic"], rel=RTOL, abs=0)
    # arviz 0.23.4 took the se with ddof 0; ours uses ddof 1, as arviz 1.x's loo does
    n = expected["n_data_points"]
    assert result.se == pytest.approx(expected["se"] * np.sqrt(n / (n - 1)), rel=RTOL, abs=0)
    assert result.p == pytest.approx(expected["p_waic"], rel=RTOL, abs=0)
    np.testing.assert_allclose(result.elpd_i, expected["waic_i"], rtol=RTOL, atol=0)
    assert result.warning is expected["warning"]
    assert (result.n_samples, result.n_observations) == (expected["n_samples"], expected["n_data_points"])
    assert result.p_i.shape == (12,) and result.p == pytest.approx(result.p_i.sum(), rel=RTOL)


@pytest.mark.parametrize(
    ("variances", "draws", "warning"),
    [
        ([0.1, 0.39, 0.2], 1000, False),
        ([0.1, 0.41, 0.2], 1000, True),
        ([0.5, 0.01], 1000, True),
        ([0.01, 0.01, 0.01], 1000, False),
        # 10 draws: variance 0.38 with ddof 0 is 0.422 with ddof 1; arviz 0.23.4 uses ddof 0, so no warning
        ([0.38, 0.2], 10, False),
    ],
)
def test_warning_flags_a_column_with_loglik_variance_above_0_4(variances, draws, warning):
    assert WAIC_VARIANCE_MAX == 0.4
    result = waic(columns_with_variance(variances, draws))
    np.testing.assert_allclose(result.p_i, variances, rtol=1e-12)
    assert result.warning is warning


def test_elpd_i_is_lppd_i_minus_p_i_on_a_random_array():
    rng = np.random.default_rng(20240611)
    ll = rng.normal(-2.0, 0.7, size=(400, 7)) + rng.normal(0.0, 1.0, size=7)
    lppd_i = np.log(np.mean(np.exp(ll), axis=0))  # naive, fine at these magnitudes
    var_i = ((ll - ll.mean(axis=0)) ** 2).mean(axis=0)

    result = waic(ll)

    np.testing.assert_allclose(result.p_i, var_i, rtol=1e-12)
    np.testing.assert_allclose(result.elpd_i, lppd_i - var_i, rtol=1e-12)
    assert result.elpd == pytest.approx((lppd_i - var_i).sum(), rel=1e-12)
    assert result.p == pytest.approx(var_i.sum(), rel=1e-12)
    assert result.se == pytest.approx(np.sqrt(7 * np.var(lppd_i - var_i, ddof=1)), rel=1e-12)
    assert (result.n_samples, result.n_observations) == (400, 7)


def test_log_scale_is_numerically_stable():
    """Shifting every log-likelihood by -2000 (exp underflows to 0) shifts elpd_i by exactly -2000."""
    ll = np.random.default_rng(1).normal(-1.0, 0.5, size=(200, 3))
    base, shifted = waic(ll), waic(ll - 2000.0)
    np.testing.assert_allclose(shifted.elpd_i, base.elpd_i - 2000.0, rtol=1e-12)
    np.testing.assert_allclose(shifted.p_i, base.p_i, rtol=1e-9)
    assert np.all(np.isfinite(shifted.elpd_i))


def test_result_is_frozen_and_input_is_checked():
    result = waic(columns_with_variance([0.1, 0.2], 50))
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.elpd = 0.0
    with pytest.raises(ValueError, match="2-D"):
        waic(np.zeros(10))


def test_imports_without_arviz():
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    code = "import sys, binoval.loo.waic; print(sorted(m for m in ('arviz', 'arviz_stats', 'xarray', 'pymc') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip() == "[]"
