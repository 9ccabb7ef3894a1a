"""What a scenario needs for its epidemic to be simulated, checked with the scenario."""

from __future__ import annotations

import datetime as dt

from simulator.fields import _fail

MIN_FIT_DAYS = 28
"""The epidemic is fitted on at least four weeks."""


def check_simulated_epidemic(scenario) -> None:
    """Refuse a scenario whose epidemic cannot be simulated (``context.epidemic: simulated``).

    It needs observed context (the fit reads the region's reported cases), behaviours that
    carry contacts (shares summing to more than 0 and at most 1) and a fit window of at least
    four weeks inside the period.

    Args:
        scenario: the scenario being validated.
    """
    if scenario.context.source != "observed":
        raise _fail("epidemic", f"a simulated epidemic is fitted to observed cases, but "
                    f"context.source is {scenario.context.source}",
                    "context.source: observed, or context.epidemic: observed",
                    at=("context", "epidemic"))
    total = sum(b.contacts for b in scenario.behaviours)
    if not 0.0 < total <= 1.0 + 1e-9:
        raise _fail("contacts", f"the behaviours' contact shares sum to {total:g}",
                    "shares (behaviours[].contacts) summing to more than 0 and at most 1",
                    at=("behaviours",))
    until = scenario.context.epidemic_fit_until
    first = scenario.start + dt.timedelta(days=MIN_FIT_DAYS)
    if until is not None and not first <= until <= scenario.end:
        problem = (f"{until} is after the period's end {scenario.end}" if until > scenario.end
                   else f"{until} leaves fewer than {MIN_FIT_DAYS} days of the period "
                   f"(from {scenario.start}) to fit on")
        raise _fail("date", problem, f"a day from {first} to {scenario.end}",
                    at=("context", "epidemic_fit_until"))
