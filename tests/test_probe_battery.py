"""Probe batteries: declared in YAML, checked field by field."""

import pytest
import yaml

from helpers import MOBILITY
from simulator.cognition.probe_battery import ProbeBattery
from simulator.errors import ScenarioError
from simulator.sources.indicators import OXCGRT_INDICATORS


def test_the_shipped_battery_covers_every_required_contrast():
    battery = ProbeBattery.load()
    battery.check(MOBILITY, OXCGRT_INDICATORS)
    names = {(p.kind, p.behaviour, p.a, p.b) for p in battery.probes}
    for b in MOBILITY:
        assert ("policy", b.name, "strict_lockdown", "no_restrictions") in names
        assert ("context", b.name, "many_cases", "almost_no_cases") in names
    assert ("context", "parks", "warm_weather", "cold_weather") in names
    persona = [p for p in battery.probes if p.kind == "persona"]
    changed = {a for p in persona for a in battery.personas[p.a]}
    assert {"age_band", "party", "work", "perceived_vulnerability"} <= changed
    assert all(p.source in battery.sources for p in battery.probes)


def test_situations_start_from_the_routine():
    battery = ProbeBattery.load()
    lockdown = battery.signals("strict_lockdown")
    assert lockdown.policy["c6_stay_at_home_requirements"] == 3
    assert lockdown.context["temperature_f"] == battery.routine[1]["temperature_f"]
    assert lockdown.stringency > 70 and battery.signals(None).stringency == 0


def write(tmp_path, data):
    path = tmp_path / "probes.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


BASE = {
    "routine": {"context": {"new_cases_per_100k": 0}},
    "situations": {"calm": {}, "closed": {"policy": {"c2_workplace_closing": 3}}},
    "personas": {"old": {"age_band": "65+"}, "young": {"age_band": "18-29"}},
    "panel": [{"sex": "female"}],
    "sources": {"x": "A paper."},
    "probes": [{"name": "p", "kind": "policy", "behaviour": "workplaces", "a": "closed",
                "b": "calm", "expected_sign": -1, "source": "x"}],
}


@pytest.mark.parametrize("change, field", [
    ({"probes": [{**BASE["probes"][0], "kind": "mood"}]}, "probes[0].kind"),
    ({"probes": [{**BASE["probes"][0], "expected_sign": 0}]}, "probes[0].expected_sign"),
    ({"probes": [{**BASE["probes"][0], "a": "storm"}]}, "probes[0].a"),
    ({"probes": [{**BASE["probes"][0], "source": "y"}]}, "probes[0].source"),
    ({"probes": [{**BASE["probes"][0], "kind": "persona", "a": "old", "b": "young"}]},
     "probes[0].situation"),
    ({"situations": {"calm": {"context": {"new_cases_per_100k": float("nan")}}}},
     "situations.calm.context.new_cases_per_100k"),
    ({"panel": []}, "panel"),
    ({"probes": BASE["probes"] * 2}, "probes"),
    ({"extra": 1}, "extra"),
    ({"probes": [{**BASE["probes"][0], "expected_sign": True}]}, "probes[0].expected_sign"),
    ({"probes": [{**BASE["probes"][0], "b": "old"}]}, "probes[0].b"),
    ({"probes": [{**BASE["probes"][0], "kind": "persona", "a": "calm", "b": "young",
                  "situation": "calm"}]}, "probes[0].a"),
    ({"probes": [{**BASE["probes"][0], "kind": "persona", "a": "old", "b": "young",
                  "situation": "storm"}]}, "probes[0].situation"),
    ({"probes": [{**BASE["probes"][0], "situation": "calm"}]}, "probes[0].situation"),
    ({"probes": [{**BASE["probes"][0], "weight": 2}]}, "probes[0].weight"),
    ({"probes": [{k: v for k, v in BASE["probes"][0].items() if k != "behaviour"}]},
     "probes[0].behaviour"),
    ({"probes": []}, "probes"),
    ({"situations": {"calm": {"weather": {}}}}, "situations.calm.weather"),
    ({"situations": {"calm": {}, "strict_lockdown": {
        "policy": {"c6_stay_at_home_requirements": "high"}}}},
     "situations.strict_lockdown.policy.c6_stay_at_home_requirements"),
    ({"routine": {"policy": {"c1_school_closing": float("inf")}}},
     "routine.policy.c1_school_closing"),
    ({"panel": [{"sex": "female"}, "male"]}, "panel[1]"),
    ({"personas": {"old": ["65+"]}}, "personas.old"),
])
def test_a_bad_battery_names_the_file_and_the_field(tmp_path, change, field):
    path = write(tmp_path, {**BASE, **change})
    with pytest.raises(ScenarioError) as raised:
        ProbeBattery.load(path)
    assert str(raised.value).startswith(f"{path}: {field}:")


def test_a_message_says_what_is_allowed(tmp_path):
    path = write(tmp_path, {**BASE, "probes": [{**BASE["probes"][0], "source": "y"}]})
    with pytest.raises(ScenarioError) as raised:
        ProbeBattery.load(path)
    assert str(raised.value) == f"{path}: probes[0].source: 'y' is not in sources (allowed: x)"
    path.write_text("")
    with pytest.raises(ScenarioError, match="<top level>: expected a mapping"):
        ProbeBattery.load(path)


def test_situations_are_the_routine_with_their_changes(tmp_path):
    battery = ProbeBattery.load(write(tmp_path, {**BASE, "routine": {
        "policy": {"c1_school_closing": 1}, "context": {"new_cases_per_100k": 0}},
        "situations": {"calm": {}, "closed": {"policy": {"c2_workplace_closing": 3},
                                              "context": {"new_cases_per_100k": 50}}}}))
    assert battery.routine == ({"c1_school_closing": 1.0}, {"new_cases_per_100k": 0.0})
    assert battery.situations["calm"] == battery.routine
    assert battery.situations["closed"] == (
        {"c1_school_closing": 1.0, "c2_workplace_closing": 3.0}, {"new_cases_per_100k": 50.0})
    assert battery.probes[0].expected_sign == -1 and battery.probes[0].situation is None


def test_a_battery_is_checked_against_the_scenario(tmp_path):
    battery = ProbeBattery.load(write(tmp_path, {**BASE, "probes": [
        {**BASE["probes"][0], "behaviour": "flying"}]}))
    with pytest.raises(ScenarioError, match="probes\\[0\\].behaviour: 'flying'"):
        battery.check(MOBILITY, OXCGRT_INDICATORS)
    battery = ProbeBattery.load(write(tmp_path, {**BASE, "situations": {
        "calm": {}, "closed": {"policy": {"c2_workplace_closing": 7}}}}))
    with pytest.raises(ScenarioError,
                       match=r"c2_workplace_closing: 7 is out of range \(allowed: from 0 to 3\)"):
        battery.check(MOBILITY, OXCGRT_INDICATORS)
