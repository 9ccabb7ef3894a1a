import numpy as np
import pandas as pd
import pytest

from calibration.event_effects import (
    MIN_CONTROLS,
    EventPanel,
    observed_effects,
    placebo_effects,
    placebo_noise,
)
from calibration.events import PolicyChange, PolicyEvent

WEEKS = pd.date_range("2020-03-02", periods=16, freq="7D")
CATEGORIES = ["retail_and_recreation", "parks"]
INDICATORS = ["c1_school_closing", "c2_workplace_closing"]
T0 = 6


def tables(regions, changes=None, effect=-10.0, shock=-3.0, noise=0.0, seed=0):
    """Weekly policy and mobility: every region gets the same shock after week T0; FRA (the
    treated region) closes schools at week T0 and moves by ``effect`` more."""
    rng = np.random.default_rng(seed)
    changes = changes or {}
    policy, mobility = [], []
    for r, code in enumerate(regions):
        levels = {name: np.zeros(len(WEEKS)) for name in INDICATORS}
        if code == "FRA":
            levels["c1_school_closing"][T0:] = 3
        for (region, name), week in changes.items():
            if region == code:
                levels[name][week:] = 1  # 10 points of the index: no stringency jump
        stringency = 10 * sum(levels.values())
        policy.append(pd.DataFrame({"region": code, "week": WEEKS, **levels,
                                    "stringency_index": stringency}))
        level = 5.0 * r + np.where(np.arange(len(WEEKS)) > T0, shock, 0.0)
        if code == "FRA":
            level = level + np.where(np.arange(len(WEEKS)) > T0, effect, 0.0)
        mobility.append(pd.DataFrame({"region": code, "week": WEEKS,
                                      **{c: level + noise * rng.standard_normal(len(WEEKS))
                                         for c in CATEGORIES}}))
    return pd.concat(policy, ignore_index=True), pd.concat(mobility, ignore_index=True)


def event(region="FRA", week=T0, indicators=("c1_school_closing",)):
    change = PolicyChange(region, WEEKS[week], indicators[0], 0.0, 3.0)
    return PolicyEvent(region, WEEKS[week], (change,), dict.fromkeys(indicators, 0.0),
                       dict.fromkeys(indicators, 3.0), 30.0)


NATIONS = ["FRA", "ESP", "PRT", "BEL", "NLD", "AUT"]


def test_the_estimator_recovers_the_effect_net_of_a_shock_every_region_shares():
    panel = EventPanel.build(*tables(NATIONS), INDICATORS, CATEGORIES)
    effects, set_aside = observed_effects(panel, [event()])
    assert set_aside == {"outside_observed_window": 0, "too_few_clean_controls": 0}
    assert effects["observed"].to_numpy() == pytest.approx([-10.0, -10.0])
    assert (effects["treated_change"] == -13.0).all()
    assert (effects["controls"] == len(NATIONS) - 1).all()


def test_a_region_that_changed_the_event_indicators_in_the_window_is_no_control():
    # ESP closes schools two weeks after the event: inside the window, so it is not clean;
    # NLD changes workplaces, which the event does not involve, so it stays a control.
    changes = {("ESP", "c1_school_closing"): T0 + 2, ("NLD", "c2_workplace_closing"): T0 + 1}
    panel = EventPanel.build(*tables(NATIONS, changes), INDICATORS, CATEGORIES)
    effects, _ = observed_effects(panel, [event()])
    assert (effects["controls"] == len(NATIONS) - 2).all()
    clean = panel.clean(T0, ["c1_school_closing"])
    assert dict(zip(panel.regions, clean, strict=True))["ESP"] == False  # noqa: E712
    assert dict(zip(panel.regions, clean, strict=True))["NLD"] == True  # noqa: E712


def test_a_region_whose_stringency_index_jumped_in_the_window_is_no_control():
    policy, mobility = tables(NATIONS)
    jumped = (policy["region"] == "AUT") & (policy["week"] >= WEEKS[T0 + 3])
    policy.loc[jumped, "stringency_index"] += 40
    panel = EventPanel.build(policy, mobility, INDICATORS, CATEGORIES)
    effects, _ = observed_effects(panel, [event()])
    assert (effects["controls"] == len(NATIONS) - 2).all()


def test_events_with_too_few_clean_controls_or_outside_the_data_are_set_aside():
    few = NATIONS[:MIN_CONTROLS]  # the treated region and MIN_CONTROLS - 1 controls
    panel = EventPanel.build(*tables(few), INDICATORS, CATEGORIES)
    effects, set_aside = observed_effects(panel, [event(), event(week=1)])
    assert effects.empty
    assert set_aside == {"outside_observed_window": 1, "too_few_clean_controls": 1}


def test_states_are_controlled_by_states_of_their_country_and_nations_by_nations():
    regions = ["FRA", "ESP", "PRT", "BEL", "US_CA", "US_NY", "US_TX", "US_FL"]
    panel = EventPanel.build(*tables(regions), INDICATORS, CATEGORIES)
    kinds = dict(zip(panel.regions, panel.kind, strict=True))
    assert kinds["US_CA"] == "USA" and kinds["FRA"] == "nations"
    effects, _ = observed_effects(panel, [event()])
    assert (effects["controls"] == 3).all()  # ESP, PRT, BEL: no state


def test_the_placebo_is_drawn_at_dates_without_change_and_measures_the_noise():
    policy, mobility = tables(NATIONS, effect=0.0, noise=2.0)
    panel = EventPanel.build(policy, mobility, INDICATORS, CATEGORIES)
    placebo = placebo_effects(panel, [event()], ["ESP", "PRT"], seed=3)
    assert set(placebo["region"]) <= {"ESP", "PRT"}
    rows = np.searchsorted(panel.weeks, pd.to_datetime(placebo["week"]))
    assert (rows >= 3).all() and (rows <= len(WEEKS) - 5).all()
    noise = placebo_noise(placebo)
    assert set(noise.index) == set(CATEGORIES)
    # The placebo is an estimate of zero: centred near it, with a spread from the noise alone.
    assert abs(placebo["placebo"].mean()) < 1.5
    assert (noise["sd"] > 0.5).all() and (noise["threshold"] > noise["sd"]).all()
    again = placebo_effects(panel, [event()], ["ESP", "PRT"], seed=3)
    pd.testing.assert_frame_equal(placebo, again)
