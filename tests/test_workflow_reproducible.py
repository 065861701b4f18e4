"""Same config, different --cores: identical tables and draws."""

import arviz as az
import numpy as np
import pandas as pd
import pytest

from conftest import run_snakemake

pytestmark = pytest.mark.workflow


def _is_timing(column: str) -> bool:
    return "time" in column or column.endswith("_s")


def test_other_core_count_gives_identical_outputs(tiny_run, tmp_path):
    reference, config = tiny_run
    run_snakemake(tmp_path, config, cores=1)
    tables = sorted((reference / "results").rglob("*.parquet"))
    assert tables
    for path in tables:
        other = tmp_path / path.relative_to(reference)
        left, right = pd.read_parquet(path), pd.read_parquet(other)
        timing = [c for c in left.columns if _is_timing(c)]
        pd.testing.assert_frame_equal(left.drop(columns=timing), right.drop(columns=timing), obj=str(path.name))
        if not timing:
            assert path.read_bytes() == other.read_bytes(), f"{path.name} differs byte-wise"
    for path in sorted((reference / "results").rglob("*.nc")):
        left, right = az.from_netcdf(path), az.from_netcdf(tmp_path / path.relative_to(reference))
        for group in ("posterior", "posterior_predictive", "log_likelihood"):
            for var in left[group].data_vars:
                np.testing.assert_array_equal(left[group][var].values, right[group][var].values)
    for path in sorted((reference / "results").rglob("*.json")):
        assert path.read_text() == (tmp_path / path.relative_to(reference)).read_text()
