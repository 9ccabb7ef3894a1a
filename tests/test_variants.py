import datetime as dt
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from simulator.errors import ScenarioError
from simulator.policy import PolicyTimeline
from simulator.scenario import load_scenario
from simulator.sweep.transforms import (
    Remove,
    RemoveIntervention,
    Scale,
    SetLevel,
    Shift,
    ShiftIntervention,
)
from simulator.sweep.variants import Variant, VariantSet
from simulator.sweep.variants_file import load_variants, variants_from_dict

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
STRINGENCY = ["c1_school_closing", "c2_workplace_closing", "c3_cancel_public_events",
              "c4_restrictions_on_gatherings", "c5_close_public_transport",
              "c6_stay_at_home_requirements", "c7_restrictions_on_internal_movement",
              "c8_international_travel_controls", "h1_public_information_campaigns"]


@pytest.fixture(scope="module")
def covid():
    scenario = load_scenario(SCENARIOS / "covid_us_2020.yaml")
    return scenario, PolicyTimeline.from_scenario(scenario)


@pytest.fixture(scope="module")
def lockdown():
    scenario = load_scenario(SCENARIOS / "stay_at_home.yaml")
    return scenario, PolicyTimeline.from_scenario(scenario)


def test_scale_stringency_scales_only_the_index_indicators_and_clips(covid):
    scenario, base = covid
    half = Variant("half", (Scale(0.5),)).apply(base, scenario)
    np.testing.assert_allclose(half.policy[STRINGENCY], base.policy[STRINGENCY] * 0.5)
    untouched = [c for c in base.policy.columns if c not in STRINGENCY]
    assert "h6_facial_coverings" in untouched
    np.testing.assert_array_equal(half.policy[untouched], base.policy[untouched])
    strong = Variant("strong", (Scale(1.5),)).apply(base, scenario)
    tops = np.array([base.indicators[c].max_level for c in STRINGENCY], dtype=float)
    assert (strong.policy[STRINGENCY].to_numpy() <= tops).all()
    assert strong.stringency.max() <= 100.0 and (strong.stringency >= half.stringency).all()
    none = Variant("none", (Scale(0.0),)).apply(base, scenario)
    np.testing.assert_array_equal(none.stringency, 0.0)
    assert (base.policy.to_numpy() == PolicyTimeline.from_scenario(scenario).policy.to_numpy()
            ).all(), "the baseline timeline is not modified"


def test_shift_moves_series_and_pads(covid):
    scenario, base = covid
    column = base.policy["c6_stay_at_home_requirements"].to_numpy()
    later = Variant("later", (Shift(3, ("c6_stay_at_home_requirements",)),)).apply(base)
    moved = later.policy["c6_stay_at_home_requirements"].to_numpy()
    np.testing.assert_array_equal(moved[:3], 0.0)
    np.testing.assert_array_equal(moved[3:], column[:-3])
    earlier = Variant("earlier", (Shift(-2),)).apply(base)
    moved = earlier.policy["c1_school_closing"].to_numpy()
    original = base.policy["c1_school_closing"].to_numpy()
    np.testing.assert_array_equal(moved[:-2], original[2:])
    np.testing.assert_array_equal(moved[-2:], original[-1])


def test_remove_and_set_level(covid):
    scenario, base = covid
    removed = Variant("r", (Remove(("h6_facial_coverings",)),)).apply(base)
    assert (removed.policy["h6_facial_coverings"] == 0).all()
    masks = SetLevel("h6_facial_coverings", 4, dt.date(2020, 4, 1), dt.date(2020, 5, 31))
    masked = Variant("m", (Remove(("h6_facial_coverings",)), masks)).apply(base)
    inside = (masked.dates >= "2020-04-01") & (masked.dates <= "2020-05-31")
    assert (masked.policy.loc[inside, "h6_facial_coverings"] == 4).all()
    assert (masked.policy.loc[~inside, "h6_facial_coverings"] == 0).all()


def test_identity_variants_keep_the_levels(covid):
    scenario, base = covid
    for variant in (Variant("plain"), Variant("one", (Scale(1.0), Shift(0)))):
        assert variant.is_identity
        np.testing.assert_array_equal(variant.apply(base, scenario).policy, base.policy)
    assert not Variant("x", (Scale(0.5),)).is_identity


def test_intervention_transforms_edit_the_interventions(lockdown):
    scenario, base = lockdown
    later = Variant("v", (ShiftIntervention(2, 0, "start"),)).apply(base, scenario)
    school = base.policy["c1_school_closing"].to_numpy()
    first = int(np.argmax(school > 0))
    assert later.policy["c1_school_closing"].to_numpy()[first:first + 2].sum() == 0
    assert int(np.argmax(later.policy["c1_school_closing"].to_numpy() > 0)) == first + 2
    np.testing.assert_array_equal(later.policy["c1_school_closing"].to_numpy()[first + 2:17],
                                  school[first + 2:17])
    gone = Variant("g", (RemoveIntervention("c2_workplace_closing"),)).apply(base, scenario)
    assert (gone.policy["c2_workplace_closing"] == 0).all()
    assert list(gone.policy.columns) == list(base.policy.columns)
    first_only = Variant("f", (RemoveIntervention(1),)).apply(base, scenario)
    assert first_only.policy["c2_workplace_closing"].max() == pytest.approx(2.0)


def test_scale_uses_the_scenarios_own_catalogue_without_oxcgrt_indicators():
    scenario = load_scenario(SCENARIOS / "congestion_pricing.yaml")
    base = PolicyTimeline.from_scenario(scenario)
    doubled = Variant("d", (Scale(2.0),)).apply(base, scenario)
    assert doubled.policy["congestion_charge"].max() == 2.0
    assert doubled.policy["transit_fare"].max() == 3.0


def test_transform_errors_name_the_file_field_and_allowed(covid, lockdown, tmp_path):
    scenario, base = covid
    path = tmp_path / "v.yaml"
    path.write_text(yaml.safe_dump({"variants": [
        {"name": "ok"},
        {"name": "bad", "transforms": [{"kind": "scale", "factor": 0.5,
                                        "indicators": ["c9_no_such"]}]}]}))
    variants = load_variants(path)
    with pytest.raises(ScenarioError) as error:
        variants["bad"].apply(base, scenario)
    assert str(error.value).startswith(f"{path}: variants[1].transforms[0].indicators: "
                                       "unknown indicator 'c9_no_such' (allowed: stringency,")
    with pytest.raises(ScenarioError, match="level: 7 is out of range .*from 0 to 4"):
        Variant("s", (SetLevel("h6_facial_coverings", 7),)).apply(base)
    with pytest.raises(ScenarioError, match="no hand-written interventions"):
        Variant("i", (RemoveIntervention(0),)).apply(base, scenario)
    lockdown_scenario, lockdown_base = lockdown
    with pytest.raises(ScenarioError, match=r"intervention: index 9 is out of range"):
        Variant("i", (RemoveIntervention(9),)).apply(lockdown_base, lockdown_scenario)
    with pytest.raises(ScenarioError, match="end before it starts"):
        Variant("i", (ShiftIntervention(-30, 0, "end"),)).apply(lockdown_base,
                                                                lockdown_scenario)


def test_grid_is_the_cartesian_product_with_a_dose_axis():
    variants = load_variants(SCENARIOS / "covid_us_2020_timing.yaml")
    assert len(variants) == 9 and variants.axes == ("timing", "strength")
    assert variants.dose_axis == "strength" and variants.baseline == "timing=0,strength=1"
    variant = variants["timing=-2,strength=1.5"]
    assert variant.dose == 1.5 and dict(variant.axes) == {"timing": -2, "strength": 1.5}
    assert variant.transforms == (Shift(-2), Scale(1.5))


def test_shipped_variant_files_load():
    scale = load_variants(SCENARIOS / "covid_us_2020_variants.yaml")
    assert [v.dose for v in scale] == [0, 0.5, 1, 1.5] and scale.seeds == 3
    lockdown = load_variants(SCENARIOS / "stay_at_home_variants.yaml")
    assert lockdown.baseline == "as_written" and lockdown.dose_axis == "order_extension_weeks"
    assert lockdown["no_stay_at_home_order"].transforms == (
        RemoveIntervention("c6_stay_at_home_requirements"),)


def test_baseline_is_found_or_added_and_seeds_resolve(covid):
    scenario, _ = covid
    added = VariantSet.of([Variant("half", (Scale(0.5),))])
    assert added.baseline == "baseline" and added.variants[0].is_identity
    assert added.seeds_for(scenario) == (scenario.seed,)
    assert added.seeds_for(scenario, 3) == (scenario.seed, scenario.seed + 1, scenario.seed + 2)
    listed = variants_from_dict({"seeds": [5, 9], "baseline": "b",
                                 "variants": [{"name": "b", "transforms": [
                                     {"kind": "scale", "factor": 0.9}]}]})
    assert listed.baseline == "b" and listed.seeds_for(scenario) == (5, 9)


@pytest.mark.parametrize(("data", "message"), [
    ({}, "<top level>: no variants (allowed: variants, grid, or both)"),
    ({"variants": [{"name": "a", "transforms": [{"kind": "stretch"}]}]},
     "variants[0].transforms[0].kind: 'stretch' is not allowed (allowed: scale, shift, remove, "
     "set)"),
    ({"variants": [{"name": "a", "transforms": [{"kind": "scale", "factor": 1, "by": 2}]}]},
     "variants[0].transforms[0].by: unknown field (allowed: kind, factor, indicators)"),
    ({"variants": [{"name": "a", "transforms": [{"kind": "shift", "ticks": 1.5}]}]},
     "variants[0].transforms[0].ticks: expected a whole number, got 1.5"),
    ({"variants": [{"name": "a"}, {"name": "a"}]}, "variants: duplicate names ['a']"),
    ({"variants": [{"name": "a"}], "baseline": "z"}, "baseline: 'z' is not a variant"),
    ({"variants": [{"name": "a"}], "seeds": 0}, "seeds: 0 is out of range"),
    ({"variants": [{"name": "a"}], "seeds": "many"}, "seeds: 'many' is not a count"),
    ({"grid": [{"axis": "a", "kind": "scale", "values": [1, 2], "dose": True},
               {"axis": "b", "kind": "shift", "values": [0, 1], "dose": True}]},
     "grid: more than one dose axis (['a', 'b'])"),
    ({"grid": [{"axis": "a", "kind": "remove", "values": [1]}]},
     "grid[0].kind: 'remove' is not allowed (allowed: scale, shift, set)"),
    ({"variants": [{"name": "a"}], "seeds": [-5, 3]},
     "seeds[0]: -5 is out of range (allowed: from 0 to 9223372036854775807)"),
    ({"variants": [{"name": "a"}], "seeds": list(range(1001))},
     "seeds: 1,001 seeds (allowed: at most 1,000)"),
    ({"variants": [{"name": "a", "dose": 1e308}]},
     "variants[0].dose: 1e+308 is out of range (allowed: from -1000000 to 1000000)"),
    ({"variants": [{"name": "a", "dose": -1e308}]}, "variants[0].dose: -1e+308 is out of range"),
    ({"grid": [{"axis": "a", "kind": "scale", "values": [0.5, 1e308], "dose": True}]},
     "grid[0].values[1]: 1e+308 is out of range (allowed: from -1000000 to 1000000)"),
])
def test_invalid_variant_files_name_the_field(data, message):
    with pytest.raises(ScenarioError) as error:
        variants_from_dict(data, source="v.yaml")
    assert str(error.value).startswith(f"v.yaml: {message}")


def test_missing_variants_file_is_a_clear_error(tmp_path):
    with pytest.raises(ScenarioError, match="no.yaml: <file>: file not found"):
        load_variants(tmp_path / "no.yaml")


def test_a_seed_count_is_bounded_in_the_file_and_on_the_command_line(covid):
    scenario, _ = covid
    with pytest.raises(ScenarioError, match=r"v.yaml: seeds: 5000 is out of range \(allowed: "
                                            r"from 1 to 1000\)"):
        variants_from_dict({"seeds": 5000, "variants": [{"name": "a"}]}, source="v.yaml")
    variants = variants_from_dict({"variants": [{"name": "a"}]}, source="v.yaml")
    with pytest.raises(ScenarioError, match=r"seeds \(--seeds\): 1000000000 is out of range"):
        variants.seeds_for(scenario, 1_000_000_000)


def test_a_grid_too_large_is_refused_before_it_is_expanded():
    grid = [{"axis": "a", "kind": "scale", "values": [i / 1000 for i in range(1000)]},
            {"axis": "b", "kind": "shift", "values": list(range(1000))}]
    started = time.perf_counter()
    with pytest.raises(ScenarioError) as error:
        variants_from_dict({"grid": grid}, source="v.yaml")
    assert str(error.value) == ("v.yaml: grid: 1,000,000 variants (0 listed, a grid of 1000 x "
                                "1000) (allowed: at most 1,000)")
    assert time.perf_counter() - started < 2.0
    grid[0]["values"] = list(range(1001))
    with pytest.raises(ScenarioError, match=r"grid\[0\].values: 1,001 entries \(allowed: at most "
                                            r"1,000\)"):
        variants_from_dict({"grid": grid[:1]}, source="v.yaml")
