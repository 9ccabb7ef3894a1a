import pytest

from simulator.behaviours import Behaviour, Option, preset_specs
from simulator.sources.indicators import OXCGRT_INDICATORS, stringency_index


def test_probability_is_the_expected_option_value():
    behaviour = Behaviour(name="b", question="q?")
    assert behaviour.probability([0, 0, 0, 0, 1]) == 1.0
    assert behaviour.probability([0.5, 0, 0, 0, 0.5]) == pytest.approx(0.5)
    assert behaviour.probability([1, 1, 1, 1, 1]) == pytest.approx(0.5)


def test_custom_options_and_rules_from_a_mapping():
    behaviour = Behaviour.model_validate({
        "name": "cycle", "question": "Cycle?", "expected_response": 1,
        "options": [{"label": "no", "value": 0}, {"label": "yes", "value": 1}],
        "rules": {"baseline": 0.2, "policy": {"fare": 0.5}},
    })
    assert behaviour.options == (Option(label="no", value=0.0), Option(label="yes", value=1.0))
    assert behaviour.rules.baseline == 0.2 and behaviour.rules.policy == {"fare": 0.5}


def test_google_mobility_preset_maps_to_the_six_categories():
    specs = preset_specs("google_mobility")
    assert [s["metric"] for s in specs] == ["retail_and_recreation", "grocery_and_pharmacy",
                                            "parks", "transit_stations", "workplaces",
                                            "residential"]
    assert {s["expected_response"] for s in specs} == {-1, 1}
    assert all(len(s["paraphrases"]) == 2 and s["question"] not in s["paraphrases"]
               for s in specs)


def test_indicator_levels_follow_the_codebook():
    c6 = OXCGRT_INDICATORS["c6_stay_at_home_requirements"]
    assert c6.max_level == 3
    assert c6.describe(2.4) == c6.levels[2] and c6.describe(9) == c6.levels[3]
    assert OXCGRT_INDICATORS["h7_vaccination_policy"].max_level == 5


def test_stringency_index_matches_the_oxcgrt_formula():
    full = {n: i.max_level for n, i in OXCGRT_INDICATORS.items()}
    assert stringency_index(full) == pytest.approx(100.0)
    assert stringency_index({"c1_school_closing": 3}) == pytest.approx(100 / 9)
    assert stringency_index({"h6_facial_coverings": 4}) == 0.0


def test_the_reverse_keyed_behaviour_asks_the_other_way_on_the_same_scale():
    forward = Behaviour(name="parks", question="Will you go?",
                        reverse_question="Will you stay away?",
                        options=(Option(label="Yes", value=1.0), Option(label="No", value=0.0)),
                        paraphrases=("Going?",))
    reverse = forward.reverse_keyed()
    assert reverse.question == "Will you stay away?" and reverse.paraphrases == ()
    assert reverse.probability([0.2, 0.8]) == pytest.approx(0.8), "'no' to staying away"
    assert reverse.name == forward.name
    assert Behaviour(name="x", question="Go?").reverse_keyed() is None
