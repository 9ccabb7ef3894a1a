"""Loaders for the upstream observed-data files: policy, mobility, cases, vaccinations, climate.

Each loader reads one family of real upstream CSV layouts and returns a tidy daily DataFrame with a
canonical ``region`` code and a ``date`` column (``datetime64[ns]``). Codes follow OxCGRT: a nation
is its ISO 3166-1 alpha-3 code (``USA``, ``DEU``), a sub-national region ``<ISO2>_<code>``
(``US_CA``). Any problem with a file (missing columns, unparsable dates, non-numeric values, a file
cut mid-row, a known layout with no data rows) raises :class:`DatasetError` naming the file and
what is wrong. :func:`to_weekly` turns any of these daily frames into Monday-labelled weeks.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.errors import SocialTwinError
from simulator.regions import NATION, region_table, resolve_region

MOBILITY_CATEGORIES: tuple[str, ...] = (
    "retail_and_recreation",
    "grocery_and_pharmacy",
    "parks",
    "transit_stations",
    "workplaces",
    "residential",
)

POLICY_INDICATORS: dict[str, str] = {
    "C1": "c1_school_closing",
    "C2": "c2_workplace_closing",
    "C3": "c3_cancel_public_events",
    "C4": "c4_restrictions_on_gatherings",
    "C5": "c5_close_public_transport",
    "C6": "c6_stay_at_home_requirements",
    "C7": "c7_restrictions_on_internal_movement",
    "C8": "c8_international_travel_controls",
    "E1": "e1_income_support",
    "E2": "e2_debt_contract_relief",
    "H1": "h1_public_information_campaigns",
    "H2": "h2_testing_policy",
    "H3": "h3_contact_tracing",
    "H6": "h6_facial_coverings",
    "H7": "h7_vaccination_policy",
    "H8": "h8_protection_of_elderly_people",
}
"""OxCGRT indicator code -> canonical column name."""

POLICY_INDICES: dict[str, tuple[str, ...]] = {
    "stringency_index": (
        "StringencyIndex",
        "StringencyIndex_Average",
        "StringencyIndexForDisplay",
        "StringencyIndex_Average_ForDisplay",
    ),
    "government_response_index": (
        "GovernmentResponseIndex",
        "GovernmentResponseIndex_Average",
        "GovernmentResponseIndexForDisplay",
        "GovernmentResponseIndex_Average_ForDisplay",
    ),
    "containment_health_index": (
        "ContainmentHealthIndex",
        "ContainmentHealthIndex_Average",
        "ContainmentHealthIndexForDisplay",
        "ContainmentHealthIndex_Average_ForDisplay",
    ),
    "economic_support_index": (
        "EconomicSupportIndex",
        "EconomicSupportIndexForDisplay",
        "EconomicSupportIndex_ForDisplay",
    ),
}
"""Canonical index name -> upstream column names, most preferred first (raw before display)."""

# Which version of a v1 indicator stands for "the policy": classic (no suffix), then the majority
# version M, then C8's EV, then the everyone version E (codebook, "Getting started").
_VARIANT_RANK = {"": 0, "M": 1, "EV": 2, "E": 3}
_INDICATOR_COLUMN = re.compile(r"^(?P<code>[CEH]\d)(?P<variant>M|EV|E|NV|V)?_(?P<label>.+)$")
_JURISDICTION_RANK = {"TOTAL": 0, "WIDE": 1, "ALL": 1, "GOV": 2}
_WIDE_DATE_COLUMN = re.compile(r"^\d{2}[A-Z][a-z]{2}\d{4}$")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TEMPERATURE_COLUMNS = tuple(f"{month} Temp AVG / F" for month in _MONTHS)
_OWID_MOBILITY_KEYWORDS = {
    "retail": "retail_and_recreation",
    "grocery": "grocery_and_pharmacy",
    "park": "parks",
    "transit": "transit_stations",
    "workplace": "workplaces",
    "residential": "residential",
}


class DatasetError(SocialTwinError, ValueError):
    """An observed-data file is missing, malformed or not of the expected layout."""


@dataclass(frozen=True)
class Layout:
    """One upstream file layout the loaders understand.

    Attributes:
        name: short layout name, e.g. ``oxcgrt_classic``.
        kind: what the file holds: ``policy``, ``policy_indices``, ``mobility``, ``cases``,
            ``vaccinations`` or ``temperature``.
        loader: the function that reads a file of this layout.
        matches: predicate on the set of header columns.

    """

    name: str
    kind: str
    loader: Callable[[Path], pd.DataFrame]
    matches: Callable[[set[str]], bool]


# ---------------------------------------------------------------------------------------------
# Reading and validation shared by every loader


def _header(path: Path) -> list[str]:
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


def _require(path: Path, header: Iterable[str], required: Sequence[str], layout: str) -> None:
    missing = [name for name in required if name not in set(header)]
    if missing:
        raise DatasetError(
            f"{path}: missing column(s) {', '.join(map(repr, missing))} for the {layout} layout; "
            f"expected columns: {', '.join(required)}"
        )


def _read(
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


def _numeric(frame: pd.DataFrame, columns: Iterable[str], path: Path) -> None:
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


def _dates(values: pd.Series, path: Path, column: str) -> pd.Series:
    """Parse ``YYYY-MM-DD`` or ``YYYYMMDD`` dates; anything else is an error naming the line."""
    text = values.astype("string").str.strip()
    compact = text.dropna().str.fullmatch(r"\d{8}").all()
    parsed = pd.to_datetime(text, format="%Y%m%d" if compact else "ISO8601", errors="coerce")
    bad = parsed.isna()
    if bad.any():
        lines = (bad[bad].index[:3] + 2).tolist()
        examples = text[bad].fillna("<empty>").unique()[:3].tolist()
        raise DatasetError(
            f"{path}: column {column!r} has unparsable dates {examples} (first at line(s) "
            f"{lines}); expected YYYY-MM-DD or YYYYMMDD"
        )
    return parsed.dt.normalize().astype("datetime64[ns]")


def _ymd_dates(frame: pd.DataFrame, path: Path) -> pd.Series:
    """Dates of an Opportunity Insights file: a ``date`` column or ``year``/``month``/``day``."""
    if "date" in frame:
        return _dates(frame["date"], path, "date")
    parts = frame[["year", "month", "day"]].copy()
    _numeric(parts, ["year", "month", "day"], path)
    parsed = pd.to_datetime(parts, errors="coerce")
    if parsed.isna().any():
        line = int(parsed.isna().idxmax()) + 2
        raise DatasetError(f"{path}: invalid year/month/day at line {line}")
    return parsed.astype("datetime64[ns]")


def _date_columns(header: Iterable[str]) -> list[str]:
    names = set(header)
    return ["year", "month", "day"] if {"year", "month", "day"} <= names - {"date"} else ["date"]


def _check_unique(frame: pd.DataFrame, path: Path) -> None:
    duplicated = frame.duplicated(["region", "date"])
    if duplicated.any():
        first = frame.loc[duplicated].iloc[0]
        raise DatasetError(
            f"{path}: duplicate rows for region {first['region']} on {first['date']:%Y-%m-%d}"
        )


def _finish(
    frame: pd.DataFrame, path: Path, layout: str, columns: Sequence[str], **attrs: object
) -> pd.DataFrame:
    """Sort, reject duplicate (region, date) rows, and attach ``layout`` and ``source`` attrs."""
    frame = frame.loc[:, ["region", "date", *columns]].astype({"region": str})
    frame = frame.sort_values(["region", "date"])
    _check_unique(frame, path)
    frame = frame.reset_index(drop=True)
    frame.attrs.update(layout=layout, source=str(path), **attrs)
    return frame


def _blank(values: pd.Series) -> pd.Series:
    return values.isna() | (values.astype("string").str.strip() == "")


@lru_cache(maxsize=1)
def country_codes() -> pd.DataFrame:
    """ISO 3166-1 alpha-2 -> alpha-3 codes shipped in ``calibration/data/country_codes.csv``."""
    path = resources.files("calibration") / "data" / "country_codes.csv"
    with path.open() as handle:
        return pd.read_csv(handle, keep_default_na=False, dtype=str)


def _iso3(iso2: pd.Series) -> pd.Series:
    table = country_codes()
    return iso2.str.strip().str.upper().map(dict(zip(table["iso2"], table["iso3"], strict=True)))


def _us_region(names: pd.Series) -> pd.Series:
    """Map US state names, abbreviations or codes to registry codes (NaN when unknown)."""
    lookup = {}
    for name in names.dropna().unique():
        candidate = str(name).removesuffix(" State")
        try:
            lookup[name] = resolve_region(candidate)
        except KeyError:
            continue
    return names.map(lookup)


def _drop_unmapped(frame: pd.DataFrame, labels: pd.Series) -> tuple[pd.DataFrame, list[str]]:
    unmapped = sorted(labels[frame["region"].isna()].dropna().astype(str).unique())
    return frame[frame["region"].notna()].copy(), unmapped


# ---------------------------------------------------------------------------------------------
# OxCGRT policy


def _oxcgrt_columns(header: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Pick the indicator and flag columns: canonical name -> upstream column."""
    best: dict[tuple[str, bool], tuple[int, str]] = {}
    for column in header:
        match = _INDICATOR_COLUMN.match(column)
        if not match or match["code"] not in POLICY_INDICATORS:
            continue
        rank = _VARIANT_RANK.get(match["variant"] or "")
        if rank is None:
            continue
        key = (match["code"], match["label"] == "Flag")
        if key not in best or rank < best[key][0]:
            best[key] = (rank, column)
    indicators = {
        POLICY_INDICATORS[code]: best[(code, False)][1]
        for code in POLICY_INDICATORS
        if (code, False) in best
    }
    flags = {
        f"{code.lower()}_flag": best[(code, True)][1]
        for code in POLICY_INDICATORS
        if (code, True) in best
    }
    return indicators, flags


def _index_columns(header: Sequence[str]) -> dict[str, str]:
    names = set(header)
    return {
        canonical: next(name for name in candidates if name in names)
        for canonical, candidates in POLICY_INDICES.items()
        if names.intersection(candidates)
    }


def _oxcgrt_regions(frame: pd.DataFrame) -> pd.Series:
    """Canonical region of the rows kept: one jurisdiction per region and no city rows.

    ``*_TOTAL`` rows (all policies that apply to residents, whoever set them) are preferred, then
    ``*_WIDE``/``*_ALL``, then ``*_GOV``: OxCGRT's own files use TOTAL for national and state data.
    """
    if "CityCode" in frame:
        frame = frame[_blank(frame["CityCode"])]
    region_code = frame["RegionCode"] if "RegionCode" in frame else pd.Series(pd.NA, frame.index)
    region = region_code.where(~_blank(region_code), frame["CountryCode"]).str.strip()
    if "Jurisdiction" in frame:
        suffix = frame["Jurisdiction"].astype("string").str.split("_").str[-1]
        rank = suffix.map(_JURISDICTION_RANK).fillna(len(_JURISDICTION_RANK)).astype(int)
        region = region[rank == rank.groupby(region).transform("min")]
    return region.rename("region")


def _fill_policy_gaps(frame: pd.DataFrame, indicators: Sequence[str], other: Sequence[str]) -> None:
    """Forward-fill indicator, flag and index gaps within each region, in place.

    This is what OxCGRT's ``_ForDisplay`` indices do: a missing day takes the last recorded value,
    since a policy stays in force until it is recorded as changed. Before a region's first record
    an indicator is 0, as in OxCGRT's index methodology where absent data scores zero (it matters
    for H7 and H8, added to the codebook in late 2020). A flag is blank when its indicator is 0.
    """
    columns = [*indicators, *other]
    frame[columns] = frame.groupby("region", sort=False)[columns].ffill()
    frame[list(indicators)] = frame[list(indicators)].fillna(0.0)
    for code, indicator in POLICY_INDICATORS.items():
        flag = f"{code.lower()}_flag"
        if flag in frame and indicator in frame:
            frame.loc[frame[indicator] == 0, flag] = np.nan


def load_oxcgrt(path: str | Path) -> pd.DataFrame:
    """Load an OxCGRT file in the classic ``OxCGRT_latest.csv`` or the v1 (2023) layout.

    The classic layout names indicators ``C1_School closing``; v1 files add a suffix for whom a
    policy applies to (``C1M_``, ``C8EV_``, ``H6M_``...) and name indices with ``_Average`` (and
    ``_ForDisplay`` variants); the majority (M) or EV versions are used. Dates are YYYYMMDD. Gaps
    are forward-filled within each region (see OxCGRT's ``_ForDisplay`` indices); indicators are 0
    before a region's first record.

    Args:
        path: the CSV file.

    Returns:
        One row per region and day: ``region``, ``date``, the indicators present among
        :data:`POLICY_INDICATORS` (``c1_school_closing``...), their flags (``c1_flag``...), the
        indices present among :data:`POLICY_INDICES`, ``confirmed_cases`` and ``confirmed_deaths``
        when present. ``attrs["layout"]`` is ``oxcgrt_classic`` or ``oxcgrt_v1``;
        ``attrs["jurisdictions"]`` lists the jurisdiction types kept (one per region: ``*_TOTAL``
        when the file has it, then ``*_WIDE``/``*_ALL``, then ``*_GOV``; city rows are dropped).

    Raises:
        DatasetError: the file is missing, malformed or not an OxCGRT file.

    """
    path = Path(path)
    header = _header(path)
    _require(path, header, ("CountryCode", "Date"), "OxCGRT")
    indicators, flags = _oxcgrt_columns(header)
    indices = _index_columns(header)
    if not indicators and not indices:
        raise DatasetError(
            f"{path}: no OxCGRT indicator or index columns; expected columns such as "
            "'C1_School closing' (classic), 'C1M_School closing' (v1), 'StringencyIndex' or "
            "'StringencyIndex_Average'"
        )
    cases = {
        name: column
        for name, column in (
            ("confirmed_cases", "ConfirmedCases"),
            ("confirmed_deaths", "ConfirmedDeaths"),
        )
        if column in header
    }
    sources = {**indicators, **flags, **indices, **cases}
    frame = _read_oxcgrt_rows(path, header, sources).sort_values(["region", "date"])
    _fill_policy_gaps(frame, list(indicators), [*flags, *indices])
    jurisdictions = (
        sorted(frame["Jurisdiction"].dropna().unique()) if "Jurisdiction" in frame else []
    )
    variants = {_INDICATOR_COLUMN.match(column)["variant"] for column in indicators.values()}
    layout = (
        "oxcgrt_v1" if variants - {None} else "oxcgrt_classic" if variants else "oxcgrt_indices"
    )
    return _finish(frame, path, layout, list(sources), jurisdictions=jurisdictions)


def _read_oxcgrt_rows(path: Path, header: Sequence[str], sources: dict[str, str]
                      ) -> pd.DataFrame:
    """Rows of an OxCGRT file with canonical ``region``, ``date`` and the ``sources`` columns.

    ``sources`` maps canonical names to the file's column names; their values must be numeric.
    """
    ids = [name for name in ("RegionCode", "Jurisdiction", "CityCode") if name in header]
    frame = _read(path, ["CountryCode", "Date", *ids, *sources.values()],
                  text=["CountryCode", "Date", *ids])
    _numeric(frame, sources.values(), path)
    region = _oxcgrt_regions(frame)
    frame = frame.loc[region.index].assign(region=region)
    frame = frame.rename(columns={v: k for k, v in sources.items()})
    frame["date"] = _dates(frame["Date"], path, "Date")
    return frame


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def load_oxcgrt_indices(path: str | Path, index: str | None = None) -> pd.DataFrame:
    """Load the OxCGRT v1 policy indices, in long form or as an official wide timeseries file.

    The long form has one row per jurisdiction and day (``CountryCode``, ``RegionCode``,
    ``Jurisdiction``, ``Date``, ``StringencyIndex``...). The wide timeseries files of
    OxCGRT/covid-policy-dataset (``OxCGRT_timeseries_<Index>_v1.csv``) have one column per day
    (``01Jan2020``...) and hold one index, named by ``index`` or else by the file name. Gaps are
    forward-filled within a region.

    Args:
        path: the CSV file.
        index: for a wide file, the index it holds (``StringencyIndex`` or ``stringency_index``).

    Returns:
        ``region``, ``date`` and the canonical index columns present (``stringency_index``...).

    Raises:
        DatasetError: the file is missing or malformed, or the index of a wide file is unknown.

    """
    path = Path(path)
    header = _header(path)
    wide_dates = [column for column in header if _WIDE_DATE_COLUMN.match(column)]
    if not wide_dates:
        indices = _index_columns(header)
        _require(path, header, ("CountryCode", "Date"), "OxCGRT indices")
        if not indices:
            raise DatasetError(
                f"{path}: no index columns; expected one of "
                f"{', '.join(names[0] for names in POLICY_INDICES.values())}"
            )
        frame = _read_oxcgrt_rows(path, header, indices)
        layout = "oxcgrt_indices_long"
    else:
        match = re.search(r"timeseries_([A-Za-z]+?)(?:_v\d+)?$", path.stem)
        index_name = _snake(index or (match[1] if match else ""))
        if index_name not in POLICY_INDICES:
            raise DatasetError(
                f"{path}: wide timeseries file whose index is unknown; pass index= one of "
                f"{', '.join(POLICY_INDICES)} or keep the official file name"
            )
        _require(path, header, ("CountryCode",), "OxCGRT timeseries")
        ids = [name for name in ("RegionCode", "Jurisdiction", "CityCode") if name in header]
        frame = _read(path, ["CountryCode", *ids, *wide_dates], text=["CountryCode", *ids])
        _numeric(frame, wide_dates, path)
        region = _oxcgrt_regions(frame)
        frame = pd.concat([region, frame.loc[region.index, wide_dates]], axis=1)
        frame = frame.melt(
            id_vars=["region"], value_vars=wide_dates, var_name="Date", value_name=index_name
        )
        frame["date"] = pd.to_datetime(frame["Date"], format="%d%b%Y").astype("datetime64[ns]")
        indices = {index_name: index_name}
        layout = "oxcgrt_timeseries"
    frame = frame.sort_values(["region", "date"])
    frame[list(indices)] = frame.groupby("region", sort=False)[list(indices)].ffill()
    return _finish(frame, path, layout, list(indices))


# ---------------------------------------------------------------------------------------------
# Mobility


def _google_mobility(path: Path, header: list[str]) -> pd.DataFrame:
    values = [f"{category}_percent_change_from_baseline" for category in MOBILITY_CATEGORIES]
    _require(
        path, header, ["country_region_code", "sub_region_1", "date", *values], "Google mobility"
    )
    lower = [name for name in ("sub_region_2", "metro_area") if name in header]
    ids = ["country_region_code", "sub_region_1", *lower]
    if "iso_3166_2_code" in header:
        ids.append("iso_3166_2_code")

    def regional(chunk: pd.DataFrame) -> pd.Series:
        keep = pd.Series(True, index=chunk.index)
        for column in lower:
            keep &= _blank(chunk[column])
        return keep

    # keep_default_na=False: Namibia's ISO code "NA" must not become missing.
    frame = _read(
        path,
        [*ids, "date", *values],
        text=[*ids, "date"],
        keep_default_na=False,
        na_values=[""],
        row_filter=regional,
    )
    national = _blank(frame["sub_region_1"])
    iso_sub = (
        frame["iso_3166_2_code"] if "iso_3166_2_code" in frame else pd.Series(pd.NA, frame.index)
    )
    sub_code = iso_sub.where(~_blank(iso_sub)).str.strip().str.replace("-", "_", regex=False)
    frame["region"] = _iso3(frame["country_region_code"]).where(national, sub_code)
    labels = frame["country_region_code"].where(national, frame["sub_region_1"])
    frame, unmapped = _drop_unmapped(frame, labels)
    frame["date"] = _dates(frame["date"], path, "date")
    _numeric(frame, values, path)
    frame = frame.rename(columns=dict(zip(values, MOBILITY_CATEGORIES, strict=True)))
    return _finish(frame, path, "google", MOBILITY_CATEGORIES, smoothed=False, unmapped=unmapped)


def _oi_region(
    frame: pd.DataFrame, header: Sequence[str], path: Path
) -> tuple[pd.DataFrame, list[str]]:
    """Region of an Opportunity Insights row: state abbreviation or FIPS, else the US nation."""
    if "stateabbrev" in header:
        frame["region"] = _us_region(frame["stateabbrev"])
        return _drop_unmapped(frame, frame["stateabbrev"])
    if "statefips" in header:
        _numeric(frame, ["statefips"], path)
        table = region_table()
        by_fips = dict(zip(table["fips"].astype(float), table.index, strict=True))
        frame["region"] = frame["statefips"].where(frame["statefips"] > 0).map(by_fips)
        return _drop_unmapped(frame, frame["statefips"])
    frame["region"] = NATION
    return frame, []


def _oi_mobility(path: Path, header: list[str]) -> pd.DataFrame:
    values = [f"gps_{category}" for category in MOBILITY_CATEGORIES]
    if {"cityid", "countyfips"} & set(header):
        raise DatasetError(f"{path}: Opportunity Insights city or county files are not supported")
    dates = _date_columns(header)
    _require(path, header, [*dates, *values], "Opportunity Insights mobility")
    ids = [name for name in ("statefips", "stateabbrev") if name in header]
    frame = _read(
        path,
        [*dates, *ids, *values],
        text=["stateabbrev"] if "stateabbrev" in ids else (),
        na_values=["."],
    )
    frame, unmapped = _oi_region(frame, header, path)
    frame["date"] = _ymd_dates(frame, path)
    _numeric(frame, values, path)
    # Opportunity Insights publishes fractions (0.1 = +10%); the project works in percent points.
    frame[list(MOBILITY_CATEGORIES)] = frame[values].to_numpy() * 100.0
    return _finish(
        frame, path, "opportunity_insights", MOBILITY_CATEGORIES, smoothed=True, unmapped=unmapped
    )


def _owid_mobility(path: Path, header: list[str]) -> pd.DataFrame:
    date_column = "date" if "date" in header else "Day"
    found: dict[str, str] = {}
    for column in header:
        key = re.sub(r"[^a-z]+", "_", column.lower())
        for keyword, category in _OWID_MOBILITY_KEYWORDS.items():
            if keyword in key and category not in found:
                found[category] = column
    missing = [category for category in MOBILITY_CATEGORIES if category not in found]
    _require(path, header, ["Entity", "Code", date_column], "OWID mobility")
    if missing:
        raise DatasetError(
            f"{path}: missing mobility column(s) for {', '.join(missing)} in the OWID layout; "
            f"expected Entity, Code, date and the six categories {', '.join(MOBILITY_CATEGORIES)}"
        )
    frame = _read(
        path,
        ["Entity", "Code", date_column, *found.values()],
        text=["Entity", "Code", date_column],
        keep_default_na=False,
        na_values=[""],
    )
    code = frame["Code"].astype("string").str.strip()
    # OWID_* codes are OWID's own aggregates (World, continents) rather than places.
    frame["region"] = code.where(~_blank(code) & ~code.str.startswith("OWID_"))
    frame, unmapped = _drop_unmapped(frame, frame["Entity"])
    frame["date"] = _dates(frame[date_column], path, date_column)
    _numeric(frame, found.values(), path)
    frame = frame.rename(columns={column: category for category, column in found.items()})
    return _finish(frame, path, "owid", MOBILITY_CATEGORIES, smoothed=True, unmapped=unmapped)


_MOBILITY_READERS: dict[str, Callable[[Path, list[str]], pd.DataFrame]] = {
    "google": _google_mobility,
    "opportunity_insights": _oi_mobility,
    "owid": _owid_mobility,
}


def _mobility_layout(header: Iterable[str]) -> str | None:
    names = set(header)
    if {"country_region_code", "sub_region_1"} <= names:
        return "google"
    if any(name.startswith("gps_") for name in names):
        return "opportunity_insights"
    if {"Entity", "Code"} <= names and any("retail" in name.lower() for name in names):
        return "owid"
    return None


def load_mobility(path: str | Path) -> pd.DataFrame:
    """Load Google COVID-19 Community Mobility data from any of its three common layouts.

    - ``google``: Google's ``Global_Mobility_Report.csv`` (or a per-country report): raw daily
      integer percent change from baseline; national rows have an empty ``sub_region_1``, regional
      rows an ISO 3166-2 code (``US-CA`` becomes ``US_CA``); county and metro rows are ignored.
    - ``opportunity_insights``: the Opportunity Insights Economic Tracker files (``gps_*`` columns
      as 7-day moving-average fractions, multiplied by 100 here); a national file, or a state file
      with ``stateabbrev`` or ``statefips``; ``date`` or ``year``/``month``/``day`` columns.
    - ``owid``: Our World in Data's ``changes-visitors-covid`` (``Entity``, ``Code``, 7-day smoothed
      percent).

    Args:
        path: the CSV file.

    Returns:
        ``region``, ``date`` and :data:`MOBILITY_CATEGORIES` in percent points.
        ``attrs["layout"]`` names the layout, ``attrs["smoothed"]`` is True for the 7-day trailing
        averages (Opportunity Insights, OWID), ``attrs["unmapped"]`` lists places without a code.

    Raises:
        DatasetError: the file is missing, malformed or of no known mobility layout.

    """
    path = Path(path)
    header = _header(path)
    layout = _mobility_layout(header)
    if layout is None:
        raise DatasetError(
            f"{path}: not a known mobility layout; expected Google's (country_region_code, "
            "sub_region_1, date, <category>_percent_change_from_baseline), Opportunity Insights' "
            "(date or year/month/day, optional statefips/stateabbrev, gps_<category>) or OWID's "
            "(Entity, Code, date, the six categories)"
        )
    return _MOBILITY_READERS[layout](path, header)


# ---------------------------------------------------------------------------------------------
# Cases, deaths, vaccinations


def _daily_wide(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """``column`` as a date x region table on a complete daily calendar, gaps filled forward.

    Filling stops at each region's last report, so a series that ends is not extended.
    """
    wide = frame.pivot(index="date", columns="region", values=column).asfreq("D")
    return wide.ffill(limit_area="inside")


def _populations(regions: pd.Series) -> pd.Series:
    return regions.map(region_table()["population"]).astype(float)


def _cases_frame(frame: pd.DataFrame, path: Path, layout: str, **attrs: object) -> pd.DataFrame:
    """Cumulative ``cases``/``deaths`` -> daily increments (clipped at 0) and rates per 100k."""
    cumulative = {name: _daily_wide(frame, name) for name in ("cases", "deaths")}
    daily = {
        f"new_{name}": (wide - wide.shift(1).fillna(0.0)).clip(lower=0.0)
        for name, wide in cumulative.items()
    }
    tidy = pd.concat({name: wide.stack() for name, wide in {**cumulative, **daily}.items()}, axis=1)
    tidy = tidy[tidy[["cases", "deaths"]].notna().any(axis=1)].reset_index()
    population = _populations(tidy["region"])
    tidy["new_cases_per_100k"] = tidy["new_cases"] / population * 1e5
    tidy["new_deaths_per_100k"] = tidy["new_deaths"] / population * 1e5
    columns = [
        "cases",
        "deaths",
        "new_cases",
        "new_deaths",
        "new_cases_per_100k",
        "new_deaths_per_100k",
    ]
    return _finish(tidy, path, layout, columns, **attrs)


def load_cases(path: str | Path) -> pd.DataFrame:
    """Load cumulative COVID-19 cases and deaths and derive daily counts and rates.

    Layouts: the New York Times ``us-states.csv`` (``date, state, fips, cases, deaths``), its
    national ``us.csv`` or a national sum of states (``date, cases, deaths``), and the Opportunity
    Insights ``COVID - National - Daily.csv`` / ``COVID - State - Daily.csv`` (``case_count``,
    ``death_count``, published as 7-day moving averages: ``attrs["smoothed"]`` is True). Cumulative
    series are put on a daily calendar (gaps filled forward); daily counts are differences clipped
    at 0, since downward reporting corrections are not new cases.

    Args:
        path: the CSV file.

    Returns:
        ``region``, ``date``, ``cases`` and ``deaths`` (cumulative), ``new_cases``, ``new_deaths``,
        ``new_cases_per_100k``, ``new_deaths_per_100k`` (per 100,000 residents, using the 2019
        populations of :func:`simulator.regions.region_table`; NaN for regions not in it).

    Raises:
        DatasetError: the file is missing, malformed or of no known case layout.

    """
    path = Path(path)
    header = _header(path)
    names = set(header)
    if {"case_count", "death_count"} <= names:
        dates = _date_columns(header)
        _require(path, header, [*dates, "case_count", "death_count"], "Opportunity Insights COVID")
        ids = [name for name in ("statefips",) if name in names]
        frame = _read(path, [*dates, *ids, "case_count", "death_count"], na_values=["."])
        _numeric(frame, ["case_count", "death_count"], path)
        frame, unmapped = _oi_region(frame, header, path)
        frame["date"] = _ymd_dates(frame, path)
        frame = frame.rename(columns={"case_count": "cases", "death_count": "deaths"})
        layout = "opportunity_insights_cases"
    elif "state" in names:
        _require(path, header, ("date", "state", "cases", "deaths"), "NYT states")
        frame = _read(path, ["date", "state", "cases", "deaths"], text=["date", "state"])
        frame["region"] = _us_region(frame["state"])
        frame, unmapped = _drop_unmapped(frame, frame["state"])
        frame["date"] = _dates(frame["date"], path, "date")
        layout = "nyt_states"
    else:
        _require(path, header, ("date", "cases", "deaths"), "NYT national")
        frame = _read(path, ["date", "cases", "deaths"], text=["date"])
        frame["region"] = NATION
        frame["date"] = _dates(frame["date"], path, "date")
        unmapped = []
        layout = "nyt_national"
    _numeric(frame, ["cases", "deaths"], path)
    _check_unique(frame, path)
    smoothed = layout == "opportunity_insights_cases"
    return _cases_frame(frame, path, layout, smoothed=smoothed, unmapped=unmapped)


def load_vaccinations(path: str | Path) -> pd.DataFrame:
    """Load Our World in Data vaccinations: ``us_state_vaccinations.csv`` or ``vaccinations.csv``.

    US states are named (``location``) and mapped to registry codes (``New York State`` too);
    entries that are not states (territories, federal agencies) are dropped and listed in
    ``attrs["unmapped"]``. The country file is keyed by ``iso_code``. Values are put on a daily
    calendar and forward-filled between reports.

    Args:
        path: the CSV file.

    Returns:
        ``region``, ``date``, ``people_vaccinated_per_hundred``,
        ``people_fully_vaccinated_per_hundred``.

    Raises:
        DatasetError: the file is missing or malformed.

    """
    path = Path(path)
    header = _header(path)
    values = ["people_vaccinated_per_hundred", "people_fully_vaccinated_per_hundred"]
    key = "iso_code" if "iso_code" in header else "location"
    _require(path, header, ["date", key, *values], "OWID vaccinations")
    frame = _read(path, ["date", key, *values], text=["date", key])
    if key == "iso_code":
        code = frame["iso_code"].str.strip()
        frame["region"] = code.where(~code.str.startswith("OWID_"))
    else:
        frame["region"] = _us_region(frame["location"])
    frame, unmapped = _drop_unmapped(frame, frame[key])
    frame["date"] = _dates(frame["date"], path, "date")
    _numeric(frame, values, path)
    _check_unique(frame, path)
    tidy = pd.concat({name: _daily_wide(frame, name).stack() for name in values}, axis=1)
    tidy = tidy.dropna(how="all").reset_index()
    return _finish(tidy, path, "owid_vaccinations", values, unmapped=unmapped)


# ---------------------------------------------------------------------------------------------
# Climate


def load_monthly_temperatures(path: str | Path) -> pd.DataFrame:
    """Load monthly average temperatures per US state from the JHU county-level summaries.

    Reads ``states_only.csv`` (or ``counties.csv``, whose state rows have a FIPS code ending in
    000) of JieYingWu/COVID-19_US_County-level_Summaries: columns ``FIPS``, ``State`` and
    ``Jan Temp AVG / F`` .. ``Dec Temp AVG / F`` (NOAA climate divisional data, 2019).

    Args:
        path: the CSV file.

    Returns:
        ``region``, ``month`` (1-12) and ``temperature_f``; states whose values are blank upstream
        (DC and Hawaii) have NaN.

    Raises:
        DatasetError: the file is missing or malformed.

    """
    path = Path(path)
    header = _header(path)
    _require(path, header, ["FIPS", "State", *_TEMPERATURE_COLUMNS], "monthly temperature")
    frame = _read(path, ["FIPS", "State", *_TEMPERATURE_COLUMNS], text=["State"])
    _numeric(frame, ["FIPS", *_TEMPERATURE_COLUMNS], path)
    frame = frame[(frame["FIPS"] % 1000 == 0) & (frame["FIPS"] > 0)].copy()
    frame["region"] = _us_region(frame["State"])
    frame, unmapped = _drop_unmapped(frame, frame["State"])
    long = frame.melt(
        id_vars="region", value_vars=list(_TEMPERATURE_COLUMNS), value_name="temperature_f"
    )
    long["month"] = long["variable"].str[:3].map({name: i + 1 for i, name in enumerate(_MONTHS)})
    long = long.loc[:, ["region", "month", "temperature_f"]].sort_values(["region", "month"])
    long = long.reset_index(drop=True)
    long.attrs.update(layout="jieyingwu_climate", source=str(path), unmapped=unmapped)
    return long


# ---------------------------------------------------------------------------------------------
# Layout detection and weekly aggregation


LAYOUTS: tuple[Layout, ...] = (
    Layout(
        "oxcgrt_classic",
        "policy",
        load_oxcgrt,
        lambda names: "CountryCode" in names and "C1_School closing" in names,
    ),
    Layout(
        "oxcgrt_v1",
        "policy",
        load_oxcgrt,
        lambda names: "CountryCode" in names and bool(_oxcgrt_columns(sorted(names))[0]),
    ),
    Layout(
        "oxcgrt_indices",
        "policy_indices",
        load_oxcgrt_indices,
        lambda names: "CountryCode" in names and "Jurisdiction" in names,
    ),
    Layout(
        "opportunity_insights",
        "mobility",
        load_mobility,
        lambda names: _mobility_layout(names) == "opportunity_insights",
    ),
    Layout("google", "mobility", load_mobility, lambda names: _mobility_layout(names) == "google"),
    Layout("owid", "mobility", load_mobility, lambda names: _mobility_layout(names) == "owid"),
    Layout(
        "nyt_states",
        "cases",
        load_cases,
        lambda names: {"date", "state", "cases", "deaths"} <= names,
    ),
    Layout(
        "nyt_national",
        "cases",
        load_cases,
        lambda names: {"date", "cases", "deaths"} <= names and "state" not in names,
    ),
    Layout(
        "opportunity_insights_cases",
        "cases",
        load_cases,
        lambda names: {"case_count", "death_count"} <= names and "countyfips" not in names,
    ),
    Layout(
        "owid_vaccinations",
        "vaccinations",
        load_vaccinations,
        lambda names: {"date", "people_vaccinated_per_hundred"} <= names,
    ),
    Layout(
        "jieyingwu_climate",
        "temperature",
        load_monthly_temperatures,
        lambda names: {"FIPS", *_TEMPERATURE_COLUMNS} <= names,
    ),
)
"""Known layouts; within a kind, earlier layouts are the preferred source."""


def detect_layout(path: str | Path) -> Layout | None:
    """Recognise the :class:`Layout` of a CSV file from its header line (None if unknown)."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as handle:
            names = {name.strip() for name in next(csv.reader([handle.readline()]), [])}
    except OSError:
        return None
    return next((layout for layout in LAYOUTS if layout.matches(names)), None)


def to_weekly(
    daily: pd.DataFrame,
    how: str = "mean",
    min_days: int = 7,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Aggregate a daily ``region``/``date`` frame to weeks starting on Monday.

    Args:
        daily: a frame from one of the loaders (``region``, ``date`` and value columns).
        how: ``mean``, ``sum``, ``min``, ``max``, or ``last`` (the value on the week's last day
            present, e.g. the Sunday value of a 7-day trailing average, which equals the mean of
            that Monday-Sunday week).
        min_days: keep only weeks with at least this many days of data (7 = complete weeks).
        columns: value columns to aggregate; default every numeric column.

    Returns:
        ``region``, ``week`` (the Monday, ``datetime64[ns]``) and the aggregated columns.

    """
    if columns is None:
        columns = [
            c
            for c in daily.columns
            if c not in ("region", "date") and pd.api.types.is_numeric_dtype(daily[c])
        ]
    columns = list(columns)
    frame = daily.loc[:, ["region", "date", *columns]].sort_values(["region", "date"])
    frame["week"] = frame["date"] - pd.to_timedelta(frame["date"].dt.day_of_week, unit="D")
    days = frame.groupby(["region", "week"])["date"].nunique()
    if how == "last":
        values = frame.drop_duplicates(["region", "week"], keep="last").set_index(
            ["region", "week"]
        )
        values = values[columns]
    elif how in ("mean", "sum", "min", "max"):
        values = frame.groupby(["region", "week"])[columns].agg(how)
    else:
        raise ValueError(f"unknown aggregation {how!r}; allowed: mean, sum, min, max, last")
    weekly = values[days.reindex(values.index) >= min_days].reset_index()
    weekly["week"] = weekly["week"].astype("datetime64[ns]")
    return weekly
