"""The evaluation protocols' fixed settings, declared once: windows, regions, agents, seed, folds.

Light on purpose (no numerical library): the command line reads its defaults from here.
"""

from __future__ import annotations

import datetime as dt

TRAIN_WINDOW = (dt.date(2020, 3, 1), dt.date(2020, 12, 31))
TEST_WINDOW = (dt.date(2021, 1, 1), dt.date(2021, 4, 28))
REGIONS = "all"
"""The regions a protocol runs on by default: the US nation and the 50 states and DC."""
AGENTS = 2000
"""Agents per region."""
SEED = 0
FOLDS = 5
"""Folds over regions of the event protocol."""


def window_text(window: tuple[dt.date, dt.date]) -> str:
    """``2021-01-01..2021-04-28``."""
    return f"{window[0].isoformat()}..{window[1].isoformat()}"
