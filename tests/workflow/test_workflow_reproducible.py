"""Same config, different --cores: identical tables, draws and verdict; another seed changes the SBC ranks."""

import pandas as pd
import pytest
from conftest import assert_same_outputs, run_snakemake

pytestmark = pytest.mark.workflow


def test_other_core_count_gives_identical_outputs(tiny_run, tmp_path):
    reference, config = tiny_run
    run_snakemake(tmp_path, config, cores=1)
    assert_same_outputs(reference, tmp_path)


def test_another_seed_changes_the_sbc_ranks(tiny_run, tmp_path):
    reference, config = tiny_run
    target = "results/tiny/sbc/shards/pooled/0.parquet"
    run_snakemake(tmp_path, {**config, "seed": config.get("seed", 12345) + 1}, target)
    before = pd.read_parquet(reference / target)
    after = pd.read_parquet(tmp_path / target)
    assert not before["true_value"].equals(after["true_value"])
    assert not before["rank"].equals(after["rank"])
