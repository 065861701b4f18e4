"""``read_table`` checks a table's structure (columns, dtypes, missing values) and names what is wrong."""

import numpy as np
import pandas as pd
import pytest
from conftest import fit_tables_of

from binoval.schemas import BinomialData, SamplerDiagnostics, read_table, write_table


def sampler_rows() -> pd.DataFrame:
    return fit_tables_of(ebfmi=(1.0, np.nan))["sampler"]


def test_a_written_table_reads_back_unchanged(tmp_path):
    written = write_table(sampler_rows(), tmp_path / "t.parquet", SamplerDiagnostics)
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.parquet", SamplerDiagnostics), written)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t.drop(columns=["draws"]), "column 'draws' is missing"),
        (lambda t: t.assign(extra=1), "column 'extra' is not in the schema"),
        (lambda t: t.assign(draws=t["draws"].astype(float)), "column 'draws' has dtype float64, expected int64"),
        (lambda t: t.assign(backend=[None, "nutpie"]), "column 'backend' has missing values"),
    ],
)
def test_a_table_of_the_wrong_shape_is_refused_with_the_file_and_column(tmp_path, change, message):
    change(sampler_rows()).to_parquet(tmp_path / "t.parquet")
    with pytest.raises(ValueError, match=rf"t\.parquet: {message} \(schema SamplerDiagnostics\)"):
        read_table(tmp_path / "t.parquet", SamplerDiagnostics)


def test_extra_columns_are_kept_where_the_schema_is_not_strict(tmp_path):
    table = pd.DataFrame({"group": ["a", "b"], "n": [10, 20], "r": [1, 2], "true_cluster": [1, 2]})
    write_table(table, tmp_path / "d.parquet", BinomialData)
    assert list(read_table(tmp_path / "d.parquet", BinomialData).columns) == ["group", "n", "r", "true_cluster"]


def test_value_checks_run_when_a_table_is_written(tmp_path):
    import pandera.errors

    with pytest.raises(pandera.errors.SchemaError):
        write_table(sampler_rows().assign(draws=-1), tmp_path / "t.parquet", SamplerDiagnostics)
    assert not (tmp_path / "t.parquet").exists()
