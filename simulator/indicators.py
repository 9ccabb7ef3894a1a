"""The policy indicator catalogue, as ``simulator.indicators`` (it lives in the data layer).

The catalogue moved to :mod:`simulator.sources.indicators`; this name is kept for the modules of
:mod:`simulator.cognition` that import it from here.
"""

from simulator.sources.indicators import (
    DEFAULT_SHOWN,
    OXCGRT_INDICATORS,
    Indicator,
    stringency_index,
)

__all__ = ["DEFAULT_SHOWN", "OXCGRT_INDICATORS", "Indicator", "stringency_index"]
