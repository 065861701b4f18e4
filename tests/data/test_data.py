import pandas as pd
import pandera.errors
import pytest
from conftest import DATA

from binoval.data.grouped import DataError, bundled_datasets, load_dataset, read_grouped_csv
from binoval.data.synthetic import agents25
from binoval.schemas import BinomialData

BAD = DATA / "bad"

#: each malformed file and what its one-line message must say (row/line and column where there is one)
BAD_CASES = {
    "missing_column.csv": "missing column 'r'",
    "extra_header_row.csv": "row 1 (line 2), column 'n': 'n' is not a whole number",
    "empty.csv": "file is empty",
    "header_only.csv": "header only, no data rows",
    "r_exceeds_n.csv": "row 2 (line 3), column 'r': r = 13 exceeds n = 12",
    "negative_r.csv": "row 2 (line 3), column 'r': r = -1; expected a count >= 0",
    "zero_trials.csv": "row 2 (line 3), column 'n': n = 0; expected at least 1 trial",
    "non_integer.csv": "row 1 (line 2), column 'r': 'two' is not a whole number",
    "float_count.csv": "row 1 (line 2), column 'r': '3.5' is not a whole number",
    "nan_cell.csv": "row 1 (line 2), column 'r': 'NaN' is not a whole number",
    "blank_cell.csv": "row 2 (line 3), column 'n': empty cell",
    "duplicate_group.csv": "row 3 (line 4), column 'group': duplicate group id 'a' (first at row 1)",
    "one_group.csv": "only 1 group",
    "non_utf8.csv": "line 3: byte 0xe9 is not valid UTF-8",
    "semicolon_delimiter.csv": "delimited by something other than commas",
    "int32_overflow.csv": "row 2 (line 3), column 'n': 3000000000 is too large",
    "ragged_row.csv": "row 2 (line 3): 4 fields but the header has 3",
    "empty_group_id.csv": "row 2 (line 3), column 'group': empty group id",
}


def test_corpus_is_complete():
    assert sorted(p.name for p in BAD.glob("*.csv")) == sorted(BAD_CASES)


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_bad_file_gives_one_line_message_naming_the_problem(name):
    path = BAD / name
    with pytest.raises(DataError) as err:
        read_grouped_csv(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert BAD_CASES[name] in message


def test_missing_file():
    with pytest.raises(DataError, match="nope.csv: file not found"):
        read_grouped_csv("nope.csv")


def test_column_mapping_and_extra_columns(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("hospital,trials,events,region\nx,10,1,north\ny,20,0,south\n")
    frame = read_grouped_csv(path, {"group": "hospital", "n": "trials", "r": "events"})
    assert list(frame.columns) == ["group", "n", "r", "region"]
    assert frame["n"].tolist() == [10, 20]
    with pytest.raises(DataError, match=r"missing column 'group' \(for group\); the header has 'hospital'"):
        read_grouped_csv(path)
    with pytest.raises(DataError, match="column 'events': r = 21 exceeds n = 20"):
        path.write_text("hospital,trials,events\nx,10,1\ny,20,21\n")
        read_grouped_csv(path, {"group": "hospital", "n": "trials", "r": "events"})


def test_bundled_datasets_load_with_expected_totals():
    assert {"hospital12", "census14", "agent_condition10", "agents25"} <= set(bundled_datasets())
    hospital = load_dataset("hospital12")
    assert (len(hospital), hospital["n"].sum(), hospital["r"].sum()) == (12, 2814, 208)
    census = load_dataset("census14")
    assert len(census) == 14 and set(census["sex"]) == {"female", "male"}
    assert len(load_dataset("agent_condition10")) == 10


def test_agents25_is_the_documented_simulation():
    bundled = load_dataset("agents25")
    simulated = agents25()
    pd.testing.assert_frame_equal(bundled.reset_index(drop=True), simulated, check_dtype=False)
    assert bundled.groupby("true_cluster").size().tolist() == [8, 10, 7]
    means = bundled.groupby("true_cluster")["true_p"].mean()
    assert means.is_monotonic_increasing


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"group": ["a", "b"], "n": [10, 10], "r": [11, 0]}),
        pd.DataFrame({"group": ["a", "a"], "n": [10, 10], "r": [1, 0]}),
        pd.DataFrame({"group": ["a", "b"], "n": [0, 10], "r": [0, 0]}),
        pd.DataFrame({"group": ["a", "b"], "n": [10, 10], "r": [-1, 0]}),
        pd.DataFrame({"group": ["a"], "n": [10], "r": [1]}),
        pd.DataFrame({"group": ["a", ""], "n": [10, 10], "r": [1, 0]}),
        pd.DataFrame({"group": ["a", "b"], "n": [10.5, 10.0], "r": [1, 0]}),
        pd.DataFrame({"group": ["a", "b"], "n": [10, None], "r": [1, 0]}),
        pd.DataFrame({"group": ["a", "b"], "n": [10, 10]}),
    ],
)
def test_schema_rejects_invalid_frames(frame):
    with pytest.raises((pandera.errors.SchemaError, pandera.errors.SchemaErrors)):
        BinomialData.validate(frame)


def test_schema_accepts_valid_frame():
    frame = pd.DataFrame({"group": ["a", "b"], "n": [10, 1], "r": [10, 0]})
    assert len(BinomialData.validate(frame)) == 2
