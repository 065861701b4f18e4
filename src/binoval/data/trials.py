"""Trial-level records aggregated into grouped binomial data.

One row per trial (e.g. ``model_num, trial_index, cue_location,
cue_proportion, delta, response``) becomes one row per group with ``n``
trials and ``r`` successes. Configured by ``trials.group_by`` (columns whose
values define a group), ``trials.success`` (a pandas expression that is true
for a success, e.g. ``response == "H"``) and an optional ``trials.filter``
(a pandas query keeping some rows, e.g. one experimental condition).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from binoval.data.grouped import DataError


def check_trial_header(path: str | Path, group_by: Sequence[str]) -> None:
    """Cheap start-up check: the file exists and its header has the ``group_by`` columns."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found; expected a CSV of trial-level records")
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        header = next(csv.reader(handle), [])
    header = [cell.strip() for cell in header]
    if not header:
        raise DataError(f"{path}: file is empty; expected a header line")
    for column in group_by:
        if column not in header:
            raise DataError(
                f"{path}: missing column '{column}' named in config key trials.group_by; the header has {', '.join(header)}"
            )


def aggregate_trials(path: str | Path, group_by: Sequence[str], success: str, filter: str | None = None):
    """Aggregate trial records into a frame with ``group, n, r`` and the ``group_by`` columns.

    The group id is the ``group_by`` values joined with ``_``. Raises
    ``DataError`` naming the file, row or config key on any problem.
    """
    import pandas as pd

    path = Path(path)
    check_trial_header(path, group_by)
    try:
        records = pd.read_csv(path, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError) as err:
        raise DataError(f"{path}: cannot read as a UTF-8 CSV: {str(err).splitlines()[0]}") from None
    if records.empty:
        raise DataError(f"{path}: header only, no trial rows")
    for column in group_by:
        missing = records[column].isna()
        if missing.any():
            row = int(missing.idxmax()) + 1
            raise DataError(f"{path}: row {row} (line {row + 1}), column '{column}': empty; every trial needs a group")
    if filter:
        try:
            records = records.query(filter)
        except Exception as err:  # noqa: BLE001 - pandas raises many kinds here
            raise DataError(f"config key trials.filter: cannot evaluate {filter!r} on {path}: {err}") from None
        if records.empty:
            raise DataError(f"config key trials.filter: {filter!r} keeps no rows of {path}")
    try:
        hits = records.eval(success)
    except Exception as err:  # noqa: BLE001
        raise DataError(f"config key trials.success: cannot evaluate {success!r} on {path}: {err}") from None
    if not isinstance(hits, pd.Series) or hits.dtype != bool:
        raise DataError(
            f"config key trials.success: {success!r} must give true/false per row, got {getattr(hits, 'dtype', type(hits))}"
        )
    grouped = records.assign(_success=hits).groupby(list(group_by), sort=True)
    frame = grouped["_success"].agg(n="size", r="sum").reset_index()
    frame.insert(0, "group", frame[list(group_by)].astype(str).agg("_".join, axis=1))
    frame["n"] = frame["n"].astype("int64")
    frame["r"] = frame["r"].astype("int64")
    return frame[["group", "n", "r", *group_by]]
