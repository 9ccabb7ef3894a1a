import numpy as np
import pandas as pd
import pytest

from calibration.events import (
    CONTAINMENT,
    FACIAL_COVERINGS,
    event_indicators,
    events_frame,
    find_events,
    group_changes,
    level_changes,
    stringency_changes,
)
from simulator.sources import load_observed
from simulator.sources.indicators import stringency_index

WEEKS = pd.date_range("2020-03-02", periods=12, freq="7D")


def series(values):
    return pd.Series(values, index=WEEKS[:len(values)], dtype=float)


def test_a_change_of_a_level_that_holds_two_weeks_is_found_in_its_first_week():
    # A mid-week closure shows as a fractional week; the event week is that first week.
    changes = level_changes(series([0, 0, 0, 1 + 4 / 7, 3, 3, 3, 3, 3, 3]), "X", "c1")
    assert len(changes) == 1
    change = changes[0]
    assert change.week == WEEKS[3]
    assert change.before == 0 and change.after == 3 and change.direction == "tighten"


def test_a_change_that_does_not_hold_two_weeks_or_one_level_is_no_event():
    # One week up and back: neither the rise nor the return is a change.
    assert level_changes(series([2, 2, 3, 2, 2, 2, 2, 2]), "X", "c1") == []
    assert level_changes(series([2, 2, 2.5, 2.5, 2.5, 2.5]), "X", "c1") == []  # half a level
    # Up one level for one week, then down: only the fall holds.
    assert [(c.week, c.direction) for c in level_changes(
        series([2, 2, 3, 3, 1, 1, 1, 1]), "X", "c1")] == [(WEEKS[4], "loosen")]


def test_loosening_is_found_too():
    changes = level_changes(series([3, 3, 3, 2, 1, 1, 1, 1, 1]), "X", "c2")
    assert [(c.week, c.before, c.direction) for c in changes] == [(WEEKS[3], 3.0, "loosen")]


def region(levels: dict, stringency=None):
    frame = pd.DataFrame({name: np.asarray(values, float) for name, values in levels.items()},
                         index=WEEKS[:len(next(iter(levels.values())))])
    frame["stringency_index"] = stringency if stringency is not None else [
        stringency_index(row) for row in frame.to_dict("records")]
    return frame


def test_a_stringency_jump_names_the_levels_that_moved_and_counts_a_jump_without_one():
    rows = region({"c1_school_closing": [0, 0, 1, 1, 1, 1, 1, 1],
                   "c2_workplace_closing": [0, 0, 0, 0, 0, 0, 0, 0]},
                  stringency=[0, 0, 20, 20, 40, 40, 40, 40])
    changes, unexplained = stringency_changes(rows, "X")
    assert [(c.indicator, c.week, c.source) for c in changes] == [
        ("c1_school_closing", WEEKS[2], "stringency")]
    assert unexplained == 1  # the jump of week 4 moved no level (a change of flags)


def test_changes_from_the_event_week_to_week_4_are_one_event_held_at_week_minus_1():
    rows = region({"c1_school_closing": [0, 0, 0, 3, 3, 3, 3, 3, 3, 3, 3, 3],
                   "c6_stay_at_home_requirements": [0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2],
                   "c2_workplace_closing": [1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3]})
    changes = [c for name in rows.columns if name != "stringency_index"
               for c in level_changes(rows[name], "X", name)]
    events = group_changes(changes, rows)
    assert [e.week for e in events] == [WEEKS[3], WEEKS[9]]
    first = events[0]
    assert first.indicators == ("c1_school_closing", "c6_stay_at_home_requirements")
    assert first.held == {"c1_school_closing": 0.0, "c6_stay_at_home_requirements": 0.0}
    assert first.after["c1_school_closing"] == 3.0
    assert first.direction == "tighten" and first.stringency_change > 0
    assert events[1].held == {"c2_workplace_closing": 1.0}


def test_facial_coverings_count_only_when_the_scenario_uses_them():
    assert event_indicators(False) == CONTAINMENT
    assert event_indicators(True) == (*CONTAINMENT, FACIAL_COVERINGS)
    assert len(CONTAINMENT) == 8


@pytest.fixture(scope="module")
def shipped():
    return load_observed()


def test_france_closed_workplaces_and_ordered_people_home_in_march_2020(shipped):
    events, set_aside = find_events(shipped.policy, event_indicators(True), ["FRA"])
    frame = events_frame(events).set_index("event")
    march = frame.loc["FRA 2020-03-09"]
    assert "c2_workplace_closing" in march["indicators"]
    assert "c6_stay_at_home_requirements" in march["indicators"]
    assert march["direction"] == "tighten"
    assert set(frame["region"]) == {"FRA"}
    # Its school closure of the week of 2 March is too early to be read (week -3 precedes the
    # table) and does not open an event that would absorb the lockdown.
    assert "FRA 2020-03-02" not in frame.index
    assert set_aside["stringency_jump_without_level_change"] == 0
    assert set_aside["too_close_to_the_ends_of_the_table"] > 0
    # Events never overlap: each starts after the previous one's week +4.
    weeks = frame["week"].sort_values()
    assert (weeks.diff().dropna() > pd.Timedelta(weeks=4)).all()
