"""Reading and validating upstream CSV files: the checks every loader of the data layer shares.

Each loader reads one family of upstream layouts into a tidy daily frame with a canonical
``region`` code and a ``date`` column (``datetime64[ns]``). Any problem with a file (missing
columns, unparsable dates, non-numeric values, a file cut mid-row, a known layout with no data
rows, a value outside its column's domain) raises :class:`DatasetError` naming the file and what
is wrong.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.errors import SocialTwinError


class DatasetError(SocialTwinError, ValueError):
    """An observed-data file is missing, malformed or not of the expected layout."""


Domain = tuple[float | None, float | None]
"""The values a column can take: lowest and highest (``None``: unbounded); always finite."""


def read_header(path: Path) -> list[str]:
    """Column names of a CSV file, after checking it exists, is not empty and is not cut mid-row.

    A file cut mid-row (an interrupted download) has a last line without its newline and with fewer
    fields than the header; every upstream file ends with a newline.
    """
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise DatasetError(f"{path}: empty file (0 bytes)")
    with path.open("rb") as handle:
        first = handle.readline()
        handle.seek(max(0, size - 65536))
        tail = handle.read()
    header = next(csv.reader([first.decode("utf-8-sig", errors="replace").rstrip("\r\n")]))
    if not tail.endswith(b"\n") and b"\n" in tail:
        last = tail.rsplit(b"\n", 1)[-1].decode("utf-8", errors="replace").rstrip("\r")
        fields = next(csv.reader([last]), [])
        if len(fields) < len(header):
            raise DatasetError(
                f"{path}: truncated file: the last line has {len(fields)} of {len(header)} fields "
                "and no line end (an interrupted download?)"
            )
    return [name.strip() for name in header]


def require_columns(
    path: Path, header: Iterable[str], required: Sequence[str], layout: str
) -> None:
    """Raise a :class:`DatasetError` naming the columns of ``required`` missing from ``header``."""
    missing = [name for name in required if name not in set(header)]
    if missing:
        raise DatasetError(
            f"{path}: missing column(s) {', '.join(map(repr, missing))} for the {layout} layout; "
            f"expected columns: {', '.join(required)}"
        )


def read_columns(
    path: Path,
    usecols: Sequence[str],
    *,
    text: Sequence[str] = (),
    na_values: Sequence[str] = (),
    keep_default_na: bool = True,
    row_filter: Callable[[pd.DataFrame], pd.Series] | None = None,
) -> pd.DataFrame:
    """Read the named columns; ``text`` columns stay strings; ``row_filter`` runs per chunk."""
    options = {
        "usecols": list(dict.fromkeys(usecols)),
        "dtype": dict.fromkeys(text, str),
        "na_values": list(na_values) or None,
        "keep_default_na": keep_default_na,
        "low_memory": False,
        "encoding": "utf-8-sig",
    }
    try:
        if row_filter is None:
            frame = pd.read_csv(path, **options)
        else:
            chunks = pd.read_csv(path, chunksize=500_000, **options)
            frame = pd.concat([chunk[row_filter(chunk)] for chunk in chunks])
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DatasetError(f"{path}: cannot be parsed as CSV: {exc}") from exc
    if frame.empty:
        raise DatasetError(f"{path}: no data rows (only a header, or every row was filtered out)")
    return frame


def to_numeric(frame: pd.DataFrame, columns: Iterable[str], path: Path) -> None:
    """Convert ``columns`` to float in place; non-numeric entries are an error naming the line."""
    for column in columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values):
            frame[column] = values.astype(float)
            continue
        stripped = values.astype("string").str.strip()
        converted = pd.to_numeric(stripped, errors="coerce")
        bad = converted.isna() & stripped.notna() & (stripped != "")
        if bad.any():
            lines = (bad[bad].index[:3] + 2).tolist()
            examples = stripped[bad].unique()[:3].tolist()
            raise DatasetError(
                f"{path}: column {column!r} has non-numeric values {examples} "
                f"(first at line(s) {lines})"
            )
        frame[column] = converted.astype(float)


_DATE_FORMATS = ((r"\d{8}", "%Y%m%d"), (r"\d{2}-\d{2}-\d{4}", "%d-%m-%Y"))
"""Date spellings other than ISO 8601 that upstream files use, by the pattern that tells them."""


def parse_dates(values: pd.Series, path: Path, column: str) -> pd.Series:
    """Parse dates; anything that is not a date is an error naming the line.

    Accepted: ``YYYY-MM-DD`` (ISO 8601), ``YYYYMMDD`` (OxCGRT) and ``DD-MM-YYYY`` (some copies
    of Our World in Data's grapher exports), one spelling per column.
    """
    text = values.astype("string").str.strip()
    present = text.dropna()
    spelling = next((fmt for pattern, fmt in _DATE_FORMATS
                     if len(present) and present.str.fullmatch(pattern).all()), "ISO8601")
    parsed = pd.to_datetime(text, format=spelling, errors="coerce")
    bad = parsed.isna()
    if bad.any():
        lines = (bad[bad].index[:3] + 2).tolist()
        examples = text[bad].fillna("<empty>").unique()[:3].tolist()
        raise DatasetError(
            f"{path}: column {column!r} has unparsable dates {examples} (first at line(s) "
            f"{lines}); expected YYYY-MM-DD, YYYYMMDD or DD-MM-YYYY"
        )
    return parsed.dt.normalize().astype("datetime64[ns]")


def ymd_dates(frame: pd.DataFrame, path: Path) -> pd.Series:
    """Dates of an Opportunity Insights file: a ``date`` column or ``year``/``month``/``day``."""
    if "date" in frame:
        return parse_dates(frame["date"], path, "date")
    parts = frame[["year", "month", "day"]].copy()
    to_numeric(parts, ["year", "month", "day"], path)
    parsed = pd.to_datetime(parts, errors="coerce")
    if parsed.isna().any():
        line = int(parsed.isna().idxmax()) + 2
        raise DatasetError(f"{path}: invalid year/month/day at line {line}")
    return parsed.astype("datetime64[ns]")


def date_columns(header: Iterable[str]) -> list[str]:
    """The date columns of an Opportunity Insights file: ``date`` or ``year``/``month``/``day``."""
    names = set(header)
    return ["year", "month", "day"] if {"year", "month", "day"} <= names - {"date"} else ["date"]


def check_unique(frame: pd.DataFrame, path: Path) -> None:
    """Raise a :class:`DatasetError` when a region has two rows for one date."""
    duplicated = frame.duplicated(["region", "date"])
    if duplicated.any():
        first = frame.loc[duplicated].iloc[0]
        raise DatasetError(
            f"{path}: duplicate rows for region {first['region']} on {first['date']:%Y-%m-%d}"
        )


def check_domains(frame: pd.DataFrame, path: Path, domains: Mapping[str, Domain],
                  named: Mapping[str, str] | None = None, when: str = "date") -> None:
    """Raise a :class:`DatasetError` at the first value outside its column's domain.

    The message names the file, the column (as the file names it, through ``named``), the
    region and the date (or month), and what is allowed. Missing values (NaN) are not checked.

    Args:
        frame: rows with ``region`` and ``when``, in the order to report them.
        path: the file, for the message.
        domains: column -> (lowest, highest); columns absent from ``frame`` are skipped.
        named: column -> its name in the file, when the loader renamed it.
        when: the column saying when a row is: ``date`` or ``month``.
    """
    for column, (low, high) in domains.items():
        if column not in frame:
            continue
        values = frame[column].to_numpy(dtype=float)
        bad = np.isinf(values)
        if low is not None:
            bad |= values < low
        if high is not None:
            bad |= values > high
        if bad.any():
            row = int(np.argmax(bad))
            value, at = values[row], frame[when].iloc[row]
            problem = "is not a finite number" if np.isinf(value) else "is out of range"
            date = f"{at:%Y-%m-%d}" if when == "date" else f"month {int(at)}"
            raise DatasetError(
                f"{path}: column {(named or {}).get(column, column)!r}, region "
                f"{frame['region'].iloc[row]}, {date}: {value:g} {problem} (allowed: "
                f"{_described(low, high)})")


def _described(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"a number from {low:g} to {high:g}"
    if low is not None:
        return f"a finite number of at least {low:g}"
    return "a finite number" if high is None else f"a finite number of at most {high:g}"


def finish(
    frame: pd.DataFrame, path: Path, layout: str, columns: Sequence[str], *,
    domains: Mapping[str, Domain] | None = None, named: Mapping[str, str] | None = None,
    **attrs: object,
) -> pd.DataFrame:
    """Sort, refuse duplicate (region, date) rows and values outside their domain, add attrs.

    Args:
        frame: the loader's rows.
        path: the file.
        layout: the ``layout`` attr.
        columns: the value columns kept.
        domains: the values each column can take (see :func:`check_domains`).
        named: column -> its name in the file, for messages.
        attrs: more attrs (``source`` is the path).
    """
    frame = frame.loc[:, ["region", "date", *columns]].astype({"region": str})
    frame = frame.sort_values(["region", "date"])
    check_unique(frame, path)
    frame = frame.reset_index(drop=True)
    check_domains(frame, path, domains or {}, named)
    frame.attrs.update(layout=layout, source=str(path), **attrs)
    return frame


def is_blank(values: pd.Series) -> pd.Series:
    """True where a value is missing or only white space."""
    return values.isna() | (values.astype("string").str.strip() == "")



def drop_unmapped(frame: pd.DataFrame, labels: pd.Series) -> tuple[pd.DataFrame, list[str]]:
    """Rows whose ``region`` is known, and the sorted ``labels`` of the rows dropped."""
    unmapped = sorted(labels[frame["region"].isna()].dropna().astype(str).unique())
    return frame[frame["region"].notna()].copy(), unmapped


_WIDE_DATE_COLUMN = re.compile(r"^\d{2}[A-Z][a-z]{2}\d{4}$")


def wide_date_columns(header: Iterable[str]) -> list[str]:
    """The day columns (``01Jan2020``) of a wide OxCGRT time-series file, in file order."""
    return [column for column in header if _WIDE_DATE_COLUMN.match(column)]


def melt_wide(frame: pd.DataFrame, ids: Sequence[str], days: Sequence[str], name: str
              ) -> pd.DataFrame:
    """A wide time series (one column per day) as rows: ``ids``, ``date`` and ``name``."""
    long = frame.melt(id_vars=list(ids), value_vars=list(days), var_name="Date", value_name=name)
    long["date"] = pd.to_datetime(long["Date"], format="%d%b%Y").astype("datetime64[ns]")
    return long.drop(columns="Date")
