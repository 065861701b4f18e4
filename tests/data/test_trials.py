import pandas as pd
import pytest

from binoval.data.grouped import DataError, resolve_dataset
from binoval.data.synthetic import agent_trials
from binoval.data.trials import aggregate_trials

HIT = 'response == "H"'


def test_bundled_trials_are_the_documented_simulation():
    bundled = pd.read_csv(resolve_dataset("agent_trials"))
    pd.testing.assert_frame_equal(bundled, agent_trials(), check_dtype=False)


def test_aggregation_counts_match_the_records():
    records = agent_trials()
    frame = aggregate_trials(resolve_dataset("agent_trials"), ["model_num", "cue_proportion"], HIT)
    assert len(frame) == 16 and (frame["n"] == 50).all()
    expected = records.assign(hit=records["response"] == "H").groupby(["model_num", "cue_proportion"])["hit"].sum()
    assert frame["r"].tolist() == expected.tolist()
    assert frame["group"].iloc[1] == "0_0.8"
    assert list(frame.columns) == ["group", "n", "r", "model_num", "cue_proportion"]


def test_filter_selects_one_condition():
    frame = aggregate_trials(resolve_dataset("agent_trials"), ["model_num"], HIT, "cue_proportion == 0.8")
    assert len(frame) == 8 and frame["n"].sum() == 400


@pytest.mark.parametrize(
    "group_by, success, filter_, message",
    [
        (["agent"], HIT, None, "missing column 'agent' named in config key trials.group_by"),
        (["model_num"], "responce == 'H'", None, "config key trials.success: cannot evaluate"),
        (["model_num"], "delta * 2", None, "must give true/false per row"),
        (["model_num"], HIT, "cue_proportion == 0.3", "keeps no rows"),
        (["model_num"], HIT, "cue_proportio == 0.8", "config key trials.filter: cannot evaluate"),
    ],
)
def test_bad_trial_settings_are_named(group_by, success, filter_, message):
    with pytest.raises(DataError) as err:
        aggregate_trials(resolve_dataset("agent_trials"), group_by, success, filter_)
    assert message in str(err.value)


def test_missing_group_value_names_the_row(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("model_num,response\n0,H\n,M\n")
    with pytest.raises(DataError, match="row 2 \\(line 3\\), column 'model_num': empty"):
        aggregate_trials(path, ["model_num"], HIT)
