"""The raw files the table builders read, and the check that a folder holds them all.

Paths are relative to the raw data directory (``../shared/data``); sources and licences:
``simulator/data/SOURCES.md``. :func:`check_raw_dir` runs before any builder, since the builders
rewrite the shipped tables one after the other: a folder missing a file would leave some rebuilt
and the rest not.
"""

from __future__ import annotations

from pathlib import Path

from simulator.errors import UsageError
from simulator.sources.layouts import find_raw_files
from tools.us_raw_files import ACS, ANES, BFI, BFI_DICTIONARY, DEMOGRAPHICS, MEDSL, PUMS

_WORLD = Path("world")
US_STATES = Path("population") / "oi_geoids_state_pop2019.csv"
WORLD_POLICY = _WORLD / "policy" / "OxCGRT_latest_layout_national_intl_2020-2022.csv"
OWID_METADATA = _WORLD / "epi" / "owid_country_metadata.csv"
WPP_CODES = _WORLD / "population" / "WPP2019_country_code_to_iso3_DERIVED.csv"
WPP_AGES = {sex: _WORLD / "population" / f"WPP2019_pop{sex}_5yr_age_1950-2020.csv"
            for sex in "MF"}
HOUSEHOLDS = _WORLD / "population" / "undesa_pd_2022_hh-size-composition.csv"
URBAN_SHARE = _WORLD / "population" / "API_SP.URB.TOTL.IN.ZS_DS2_en_csv_v2_5996759.csv"
BARRO_LEE = _WORLD / "population" / "BL_v3_MF.csv"
CRU_NORMALS = _WORLD / "climate" / "crucy_v4.07_tmp_normals_1991-2020_DERIVED.csv"

RAW_FILES: tuple[Path, ...] = (
    US_STATES, WORLD_POLICY, OWID_METADATA, WPP_CODES, *WPP_AGES.values(), HOUSEHOLDS,
    URBAN_SHARE, BARRO_LEE, CRU_NORMALS,
    *(Path(name) for name in (DEMOGRAPHICS, ACS, ANES, MEDSL, PUMS, BFI, BFI_DICTIONARY)),
)
"""Every file a builder reads by name; the observed tables take any policy and mobility file."""


def check_raw_dir(raw_dir: str | Path) -> Path:
    """``raw_dir`` if it holds every raw file the builders read.

    Raises:
        UsageError: the folder does not exist, or lacks a file (the first is named).
    """
    folder = Path(raw_dir)
    if not folder.is_dir():
        raise UsageError(f"--from: {raw_dir} is not a folder (allowed: a folder of raw files "
                         "such as ../shared/data)")
    missing = [path for path in RAW_FILES if not (folder / path).is_file()]
    found = find_raw_files(folder)
    missing += [Path(f"<any {kind} file>") for kind in ("policy", "mobility") if kind not in found]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise UsageError(f"--from: {raw_dir} lacks {missing[0]}{more} of the raw files the "
                         f"tables are built from; nothing was rebuilt (allowed: a folder with "
                         "the layout of ../shared/data, see simulator/data/SOURCES.md)")
    return folder
