"""A sweep's simulated epidemic: each variant's cases, with the band across seeds.

With ``context.epidemic: simulated`` every run carries its own epidemic
(:mod:`simulator.epidemic.loop`), so a sweep over policies answers with cases as well as
behaviour. The table has one row per variant and tick: the seeds' mean, t interval, minimum and
maximum of the simulated cases per 100,000 per day, the mean contact multiplier, and the observed
cases (:func:`simulator.sweep.plots.cases_figure` draws it).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

CASE_COLUMNS = ("variant", "seed", "tick", "date", "simulated_cases_per_100k",
                "observed_cases_per_100k", "contact_multiplier")


def variant_cases(tables: Sequence[pd.DataFrame | None], summary) -> pd.DataFrame | None:
    """The cases of every run summarised per variant and tick (``None``: cases not simulated).

    Args:
        tables: every run's epidemic with its variant and seed (``None`` for a run without).
        summary: the seed summary (:func:`simulator.sweep.runner.seed_summary`).
    """
    found = [t for t in tables if t is not None]
    if not found:
        return None
    runs = pd.concat(found, ignore_index=True)[list(CASE_COLUMNS)]
    keys = ["variant", "tick", "date"]
    table = summary(runs, keys, "simulated_cases_per_100k")
    extra = runs.groupby(keys, sort=False).agg(
        contact_multiplier=("contact_multiplier", "mean"),
        observed_cases_per_100k=("observed_cases_per_100k", "first")).reset_index()
    return table.merge(extra, on=keys, how="left")
