"""Policy indicators: what each signal means, level by level, and the columns that record it.

The catalogue serves prompts, validation and indices, and the OxCGRT loaders, which map upstream
columns (``C1_School closing``, ``C1M_School closing``) to its canonical names. It follows the
OxCGRT codebook (Hale et al., Nature Human Behaviour 2021; CC BY 4.0); a scenario may declare
indicators of its own (a congestion charge, a fare cut) with the same shape, so nothing
downstream is COVID-specific.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Indicator:
    """An ordinal policy indicator.

    Attributes:
        name: canonical snake-case name, e.g. ``c6_stay_at_home_requirements``.
        title: short human title, e.g. ``Stay at home requirements``.
        levels: plain-language meaning of each level, index = level (0 = no measure).
        in_stringency: whether the OxCGRT stringency index counts it.
    """

    name: str
    title: str
    levels: tuple[str, ...]
    in_stringency: bool = False

    @property
    def max_level(self) -> int:
        """Highest level the indicator can take."""
        return len(self.levels) - 1

    @property
    def allowed_levels(self) -> str:
        """The levels it takes, as error messages name them."""
        return f"from 0 to {self.max_level}"

    def accepts(self, level: float) -> bool:
        """Whether ``level`` is within the indicator's levels (fractions allowed: weekly means)."""
        return 0 <= level <= self.max_level

    def describe(self, level: float) -> str:
        """Plain-language sentence for a (possibly fractional, e.g. weekly mean) level."""
        index = min(max(int(round(level)), 0), self.max_level)
        return self.levels[index]


OXCGRT_INDICATORS: dict[str, Indicator] = {
    indicator.name: indicator
    for indicator in (
        Indicator(
            "c1_school_closing",
            "School closing",
            (
                "schools are open as normal",
                "schools are open with significant changes, or closing is recommended",
                "some schools are required to close",
                "all schools are required to close",
            ),
            True,
        ),
        Indicator(
            "c2_workplace_closing",
            "Workplace closing",
            (
                "workplaces are open as normal",
                "working from home is recommended, or workplaces operate with significant changes",
                "some sectors must close or work from home",
                "all but essential workplaces must close",
            ),
            True,
        ),
        Indicator(
            "c3_cancel_public_events",
            "Cancel public events",
            (
                "public events go ahead",
                "cancelling public events is recommended",
                "public events are cancelled",
            ),
            True,
        ),
        Indicator(
            "c4_restrictions_on_gatherings",
            "Restrictions on gatherings",
            (
                "there are no limits on gatherings",
                "gatherings of more than 1000 people are banned",
                "gatherings of more than 100 people are banned",
                "gatherings of more than 10 people are banned",
                "gatherings of 10 people or fewer are restricted",
            ),
            True,
        ),
        Indicator(
            "c5_close_public_transport",
            "Close public transport",
            (
                "public transport runs as normal",
                "public transport runs a reduced service, or people are asked to avoid it",
                "public transport is closed to most people",
            ),
            True,
        ),
        Indicator(
            "c6_stay_at_home_requirements",
            "Stay at home requirements",
            (
                "there is no stay-at-home order",
                "people are advised to stay at home",
                "people must stay at home except for exercise, groceries and essential trips",
                "people must stay at home with minimal exceptions",
            ),
            True,
        ),
        Indicator(
            "c7_restrictions_on_internal_movement",
            "Restrictions on internal movement",
            (
                "travel within the country is unrestricted",
                "people are advised not to travel between cities or regions",
                "travel between cities or regions is restricted",
            ),
            True,
        ),
        Indicator(
            "c8_international_travel_controls",
            "International travel controls",
            (
                "international travel is unrestricted",
                "arrivals from abroad are screened",
                "arrivals from some regions must quarantine",
                "arrivals from some regions are banned",
                "the borders are closed",
            ),
            True,
        ),
        Indicator(
            "e1_income_support",
            "Income support",
            (
                "there is no income support for people who lose work",
                "the government replaces less than half of lost income",
                "the government replaces half or more of lost income",
            ),
        ),
        Indicator(
            "e2_debt_contract_relief",
            "Debt/contract relief",
            (
                "there is no debt relief for households",
                "there is narrow debt relief for households",
                "there is broad debt relief for households (e.g. evictions are banned)",
            ),
        ),
        Indicator(
            "h1_public_information_campaigns",
            "Public information campaigns",
            (
                "there is no public information campaign",
                "officials urge caution about the virus",
                "there is a coordinated public information campaign about the virus",
            ),
            True,
        ),
        Indicator(
            "h2_testing_policy",
            "Testing policy",
            (
                "there is no public testing",
                "only people with symptoms who meet specific criteria can get tested",
                "anyone with symptoms can get tested",
                "anyone can get tested, even without symptoms",
            ),
        ),
        Indicator(
            "h3_contact_tracing",
            "Contact tracing",
            (
                "there is no contact tracing",
                "there is limited contact tracing",
                "there is comprehensive contact tracing",
            ),
        ),
        Indicator(
            "h6_facial_coverings",
            "Facial coverings",
            (
                "there is no mask policy",
                "wearing a mask is recommended",
                "masks are required in some shared public spaces",
                "masks are required in all shared public spaces",
                "masks are required outside the home at all times",
            ),
        ),
        Indicator(
            "h7_vaccination_policy",
            "Vaccination policy",
            (
                "no vaccine is available",
                "the vaccine is available to one priority group",
                "the vaccine is available to two priority groups",
                "the vaccine is available to all priority groups",
                "the vaccine is available to priority groups and some broader groups",
                "the vaccine is available to everyone",
            ),
        ),
        Indicator(
            "h8_protection_of_elderly_people",
            "Protection of elderly people",
            (
                "there are no special measures for elderly people",
                "elderly people are advised to isolate and care homes limit visits",
                "there are some restrictions to protect elderly people and care homes",
                "care homes are closed to visitors and elderly people must stay at home",
            ),
        ),
    )
}


POLICY_INDICATORS: dict[str, str] = {name.split("_")[0].upper(): name for name in OXCGRT_INDICATORS}
"""OxCGRT indicator code (``C1``) -> canonical column name (``c1_school_closing``)."""

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


def stringency_index(levels: Mapping[str, float]) -> float:
    """OxCGRT stringency index (0-100) from indicator levels, assuming general (not targeted) scope.

    Each of C1-C8 and H1 contributes ``100 * level / max_level``; the index is their mean, the
    OxCGRT formula with every flag set to general. Missing indicators count as level 0.
    """
    parts = [
        100.0 * float(levels.get(name, 0.0)) / indicator.max_level
        for name, indicator in OXCGRT_INDICATORS.items()
        if indicator.in_stringency
    ]
    return sum(parts) / len(parts)


DEFAULT_SHOWN: tuple[str, ...] = (
    "c1_school_closing",
    "c2_workplace_closing",
    "c3_cancel_public_events",
    "c4_restrictions_on_gatherings",
    "c5_close_public_transport",
    "c6_stay_at_home_requirements",
    "c7_restrictions_on_internal_movement",
    "h6_facial_coverings",
    "h7_vaccination_policy",
)
"""OxCGRT indicators put to agents by default: the ones that bear on a typical day's movements."""
