"""The verdict rule's inputs: stage tables named by (stage, model id, table key), parsed back into the layout."""

import importlib

from binoval.verdict.verdict import (
    INPUT_SEPARATOR,
    STAGE_CHECKS,
    STAGE_ORDER,
    report_path,
    stage_table_paths,
    table_input_name,
)


def test_input_names_split_back_whatever_the_model_id():
    layout = {
        "loo": {"a__b": {"loo": "results/r/loo/a__b.parquet"}},
        "fit": {
            "a__b": {"parameters": "results/r/diagnostics/a__b_parameters.parquet", "sampler": "s1.parquet"},
            "m_k2": {"parameters": "p2.parquet", "sampler": "s2.parquet"},
        },
    }
    inputs = {"data": "results/r/data/data.parquet"}
    for stage, per_model in layout.items():
        for model_id, keys in per_model.items():
            inputs.update({table_input_name(stage, model_id, key): path for key, path in keys.items()})
    parsed = stage_table_paths(inputs)
    assert parsed == layout
    assert list(parsed) == ["fit", "loo"]  # STAGE_ORDER, not input order
    assert list(parsed["fit"]) == ["a__b", "m_k2"]  # models in input order


def test_stage_names_and_table_keys_never_hold_the_separator():
    assert all(INPUT_SEPARATOR not in stage for stage in STAGE_ORDER)
    for stage in STAGE_ORDER:
        keys = importlib.import_module(STAGE_CHECKS[stage]).TABLE_SCHEMAS
        assert all(INPUT_SEPARATOR not in key for key in keys), stage
    assert table_input_name("prior_predictive", "hier_logit", "prior_predictive") == (
        "prior_predictive__hier_logit__prior_predictive"
    )


def test_report_is_beside_the_verdict():
    assert report_path("results/hospital12/verdict.json") == "results/hospital12/report.md"
