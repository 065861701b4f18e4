"""Reading grouped binomial data: bundled datasets and user CSV files.

The reader parses the CSV itself rather than trusting a generic parser, so
every problem is reported in one line naming the file, the row (and its line
in the file) and the column, with what was expected.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: Counts must fit a 32-bit signed integer: some numeric backends use int32.
MAX_COUNT = 2**31 - 1
REQUIRED = ("group", "n", "r")


class DataError(ValueError):
    """Input data that cannot be used; the message says where and why."""


def bundled_datasets() -> dict[str, Path]:
    """Names of the datasets shipped with binoval and their CSV paths (trial-level ones under ``trials/``)."""
    folder = resources.files("binoval.data") / "datasets"
    found = {}
    for sub in (folder, folder / "trials"):
        found.update({Path(p.name).stem: Path(str(p)) for p in sub.iterdir() if p.name.endswith(".csv")})
    return found


def resolve_dataset(dataset: str) -> Path:
    """The CSV path for ``dataset``: a bundled name (e.g. ``hospital12``) or a path."""
    bundled = bundled_datasets()
    if dataset in bundled:
        return bundled[dataset]
    return Path(dataset)


def run_name(dataset: str, run: str | None) -> str:
    """The results folder name: ``run`` if given, else the dataset's stem."""
    return run if run else Path(dataset).stem


def _parse_count(text: str, where: str, column: str) -> int:
    value = text.strip()
    if value == "":
        raise DataError(f"{where}, column '{column}': empty cell; expected a whole number")
    sign = value[1:] if value[:1] in "+-" else value
    if not sign.isdigit() or not sign.isascii():
        raise DataError(
            f"{where}, column '{column}': {text!r} is not a whole number; expected a non-negative integer count"
        )
    number = int(value)
    if abs(number) > MAX_COUNT:
        raise DataError(f"{where}, column '{column}': {number} is too large; counts must be at most {MAX_COUNT}")
    return number


def parse_grouped_csv(path: str | Path, columns: Mapping[str, str] | None = None) -> dict[str, list]:
    """Parse and check a CSV of grouped binomial data, without pandas.

    ``columns`` maps binoval's names (``group``, ``n``, ``r``) to the file's
    column names. Returns the columns as lists keyed by ``group``, ``n``, ``r``
    and the file's other column names. Raises ``DataError`` with a one-line
    message naming the file, row, line and column on any problem. Cheap enough
    to run when the workflow starts.
    """
    path = Path(path)
    columns = {key: (columns or {}).get(key, key) for key in REQUIRED}
    if not path.is_file():
        raise DataError(f"{path}: file not found; expected a CSV with columns {','.join(columns.values())}")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError(
            f"{path}: line {line}: byte 0x{raw[err.start]:02x} is not valid UTF-8; save the file as UTF-8"
        ) from None
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows:
        raise DataError(f"{path}: file is empty; expected a header line with columns {','.join(columns.values())}")
    header = [cell.strip() for cell in rows[0]]
    for key, name in columns.items():
        if name not in header:
            hint = ""
            if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
                hint = (
                    " (the header looks delimited by something other than commas; binoval reads comma-separated files)"
                )
            raise DataError(
                f"{path}: missing column '{name}' (for {key}); the header has {', '.join(repr(h) for h in header)}{hint}"
            )
    if len(set(header)) != len(header):
        duplicate = next(h for h in header if header.count(h) > 1)
        raise DataError(f"{path}: line 1: column '{duplicate}' appears twice in the header")
    if len(rows) == 1:
        raise DataError(f"{path}: header only, no data rows; expected one row per group")

    position = {name: header.index(name) for name in header}
    records: dict[str, list] = {name: [] for name in header}
    first_seen: dict[str, int] = {}
    line_numbers = _data_line_numbers(text)
    for row_number, row in enumerate(rows[1:], start=1):
        where = f"{path}: row {row_number} (line {line_numbers[row_number - 1]})"
        if len(row) != len(header):
            raise DataError(f"{where}: {len(row)} fields but the header has {len(header)}")
        group = row[position[columns["group"]]].strip()
        if group == "":
            raise DataError(f"{where}, column '{columns['group']}': empty group id")
        if group in first_seen:
            raise DataError(
                f"{where}, column '{columns['group']}': duplicate group id {group!r} (first at row {first_seen[group]})"
            )
        first_seen[group] = row_number
        n = _parse_count(row[position[columns["n"]]], where, columns["n"])
        r = _parse_count(row[position[columns["r"]]], where, columns["r"])
        if n < 1:
            raise DataError(f"{where}, column '{columns['n']}': n = {n}; expected at least 1 trial")
        if r < 0:
            raise DataError(f"{where}, column '{columns['r']}': r = {r}; expected a count >= 0")
        if r > n:
            raise DataError(f"{where}, column '{columns['r']}': r = {r} exceeds n = {n}; expected 0 <= r <= n")
        for name in header:
            records[name].append(row[position[name]].strip())
        records[columns["group"]][-1], records[columns["n"]][-1], records[columns["r"]][-1] = group, n, r
    if len(first_seen) < 2:
        raise DataError(f"{path}: only 1 group; at least 2 groups are needed")
    parsed = {key: records[name] for key, name in columns.items()}
    parsed.update(
        {name: values for name, values in records.items() if name not in columns.values() and name not in REQUIRED}
    )
    return parsed


def read_grouped_csv(path: str | Path, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read a CSV of grouped binomial data into a frame with columns ``group, n, r``.

    Other columns are kept (numeric where every value is numeric). Raises
    ``DataError`` as ``parse_grouped_csv`` does.
    """
    import pandas as pd

    parsed = parse_grouped_csv(path, columns)
    frame = pd.DataFrame(
        {
            "group": pd.Series(parsed.pop("group"), dtype=str),
            "n": pd.Series(parsed.pop("n"), dtype="int64"),
            "r": pd.Series(parsed.pop("r"), dtype="int64"),
        }
    )
    for name, raw in parsed.items():
        values = pd.Series(raw, dtype=str)
        numeric = pd.to_numeric(values, errors="coerce")
        frame[name] = values if numeric.isna().any() else numeric
    return frame


def _data_line_numbers(text: str) -> list[int]:
    """File line number of each non-blank data row (quoted newlines are rare; ignore them)."""
    lines = [i for i, line in enumerate(text.splitlines(), start=1) if line.strip(" ,\t")]
    return lines[1:]


def load_dataset(dataset: str, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read and validate ``dataset`` (a bundled name or a CSV path)."""
    from binoval.schemas import BinomialData

    frame = read_grouped_csv(resolve_dataset(dataset), columns)
    return BinomialData.validate(frame)
