"""The data layer: regions, the indicator catalogue, upstream loaders and the observed tables.

The simulator core and the calibration layer both read their data through this package; it
imports neither of them.
"""

from simulator.sources.climate import load_monthly_temperatures
from simulator.sources.context import CONTEXT_COLUMNS
from simulator.sources.epidemic import load_cases, load_vaccinations
from simulator.sources.indicators import POLICY_INDICATORS, POLICY_INDICES
from simulator.sources.layouts import LAYOUTS, Layout, detect_layout, find_raw_files
from simulator.sources.mobility import MOBILITY_CATEGORIES, load_mobility
from simulator.sources.observed import (
    FIRST_WEEK,
    LAST_WEEK,
    TABLE_FILES,
    ObservedData,
    load_observed,
    weekly_observed,
    world_regions,
)
from simulator.sources.oxcgrt import load_oxcgrt, load_oxcgrt_indices
from simulator.sources.reading import DatasetError
from simulator.sources.regions import (
    NATION,
    Region,
    RegionError,
    all_regions,
    get_region,
    regions_of,
    resolve_region,
)
from simulator.sources.weekly import POLICY_COLUMNS, to_weekly

__all__ = [
    "CONTEXT_COLUMNS", "DatasetError", "FIRST_WEEK", "LAST_WEEK", "LAYOUTS", "Layout",
    "MOBILITY_CATEGORIES", "NATION", "ObservedData", "POLICY_COLUMNS", "POLICY_INDICATORS",
    "POLICY_INDICES", "Region", "RegionError", "TABLE_FILES", "all_regions", "detect_layout",
    "find_raw_files", "get_region", "load_cases", "load_mobility", "load_monthly_temperatures",
    "load_observed", "load_oxcgrt", "load_oxcgrt_indices", "load_vaccinations", "regions_of",
    "resolve_region", "to_weekly", "weekly_observed", "world_regions",
]
