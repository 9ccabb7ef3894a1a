import json
from pathlib import Path

import pandas as pd
import pytest

from calibration.trust import (
    effect_band,
    figures_for,
    fingerprint,
    mechanism,
    trust_section,
    with_effect_bands,
)
from simulator.errors import UsageError
from simulator.policy import PolicyTimeline
from simulator.scenario import load_scenario
from simulator.sweep.variants_file import load_variants

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIOS / "covid_us_2020.yaml").with_engine("rules")


def figure(scenario, **changes):
    detail = mechanism(scenario)
    found = {
        "protocol": "events", "engine": "rules", "selection": "world", "regions": 3,
        "region_codes": ["FRA", "ESP", "USA"], "n_events": 40,
        "mechanism": fingerprint(detail), "mechanism_detail": detail,
        "methods": {"twin": {"sign_agreement": 0.8, "pearson": 0.4, "spearman": 0.4,
                             "mae": 7.0, "coverage": 0.79},
                    "zero": {"sign_agreement": 0.0, "pearson": None, "spearman": None,
                             "mae": 7.5, "coverage": 0.8}},
        "twin_effect_band": {"nominal": 0.8, "half_width": {"parks": 20.0, "workplaces": 6.0}},
        "by_indicator": [
            {"indicator": "c6_stay_at_home_requirements", "direction": "tighten",
             "category": "parks", "n_events": 12, "n_alone": 2, "observed": -9.0,
             "twin": -4.0},
            {"indicator": "c1_school_closing", "direction": "loosen", "category": "parks",
             "n_events": 7, "n_alone": 1, "observed": 3.0, "twin": 2.0}],
    }
    return {**found, **changes}


def test_the_fingerprint_covers_the_mechanism_and_nothing_else(scenario):
    country = load_scenario(SCENARIOS / "covid_country_2020.yaml").with_engine("rules")
    assert fingerprint(mechanism(scenario)) == fingerprint(mechanism(country))
    elsewhere = scenario.replace(region="FRA", population_size=50, seed=9)
    assert fingerprint(mechanism(elsewhere)) == fingerprint(mechanism(scenario))
    habit = scenario.replace(dynamics=scenario.dynamics.model_copy(update={"habit": 0.5}))
    assert fingerprint(mechanism(habit)) != fingerprint(mechanism(scenario))
    remote = scenario.replace(engine={"name": "litellm:openai/gpt-4o-mini",
                                      "options": {"concurrency": 4}})
    faster = scenario.replace(engine={"name": "litellm:openai/gpt-4o-mini",
                                      "options": {"concurrency": 32, "timeout": 5}})
    assert fingerprint(mechanism(remote)) == fingerprint(mechanism(faster))


def test_a_file_measured_on_another_mechanism_is_refused_naming_what_differs(scenario,
                                                                             tmp_path):
    other = scenario.replace(dynamics=scenario.dynamics.model_copy(update={"habit": 0.9}))
    path = tmp_path / "events.json"
    path.write_text(json.dumps(figure(other)))
    with pytest.raises(UsageError, match=r"another mechanism.*differs in: dynamics"):
        figures_for(scenario, path)
    path.write_text(json.dumps(figure(scenario)))
    assert figures_for(scenario, path)[-1]["n_events"] == 40
    path.write_text(json.dumps({"engine": "rules"}))
    with pytest.raises(UsageError, match="not the event protocol's figures"):
        figures_for(scenario, path)
    with pytest.raises(UsageError, match="cannot read it"):
        figures_for(scenario, tmp_path / "missing.json")


def test_a_mechanism_without_figures_is_told_how_to_measure_them(scenario):
    section = trust_section(scenario, [], ())
    assert "No event-protocol figures" in section.markdown
    assert "socialtwin evaluate --protocol events --engine rules" in section.markdown
    assert section.manifest == {"event_figures": None}


def test_the_figures_and_the_varied_indicators_go_into_the_report(scenario):
    section = trust_section(scenario, [figure(scenario)], ("c6_stay_at_home_requirements",),
                            "this sweep's")
    text = section.markdown
    assert "sign agreement 80%" in text and "Pearson 0.40" in text
    assert "no effect at all: 7.50 pp" in text and "20.0 (parks)" in text
    assert "c6_stay_at_home_requirements" in text and "-9.0 / -4.0" in text
    assert "c1_school_closing" not in text
    assert section.manifest["event_figures"] == [{"selection": "world", "regions": 3,
                                                  "n_events": 40}]


def test_calibrated_effects_of_a_sweep_carry_the_band_of_the_best_fitting_figures(scenario):
    overall = pd.DataFrame({"behaviour": ["parks", "parks", "workplaces"],
                            "quantity": ["calibrated", "change_pct", "calibrated"],
                            "effect": [-3.0, -1.0, 2.0]})
    us = figure(scenario, region_codes=["USA"], n_events=10,
                twin_effect_band={"nominal": 0.8, "half_width": {"parks": 1.0}})
    world = figure(scenario, region_codes=["FRA", "ESP"])
    band = effect_band([world, us], "USA")
    assert effect_band([world, us], "ITA")["half_width"]["workplaces"] == 6.0  # most events
    assert band["half_width"] == {"parks": 1.0}
    banded = with_effect_bands(overall, band)
    assert list(banded["band_low"].fillna(99)) == [-4.0, 99, 99]
    assert with_effect_bands(overall, None)["band_low"].isna().all()


def test_a_sweep_names_the_indicators_its_variants_change(scenario):
    variants = load_variants(SCENARIOS / "covid_us_2020_variants.yaml")
    timeline = PolicyTimeline.from_scenario(scenario)
    varied = variants.indicators(timeline, scenario)
    assert varied == tuple(n for n in timeline.indicators
                           if n[:2] in ("c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "h1"))


def test_the_shipped_figures_are_those_of_the_case_studies_mechanisms():
    from calibration.trust import shipped_figures
    from tools.build_event_figures import CONFIGURATIONS, scenario_of

    shipped = {f["configuration"]: f for f in shipped_figures()}
    assert set(shipped) <= set(CONFIGURATIONS) and {"rules_world", "rules_us"} <= set(shipped)
    for name, figures in shipped.items():
        # A change to the behaviours, their rules, the personas, network or dynamics of the
        # case studies makes their figures stale: rebuild them (tools/build_event_figures.py).
        assert figures["mechanism"] == fingerprint(mechanism(scenario_of(name))), name
        assert figures["n_events"] > 0 and figures["methods"]["twin"]["mae"] > 0
        regions = CONFIGURATIONS[name][2]
        if "," in regions:  # a list of codes: the figures are of exactly those regions
            assert sorted(figures["region_codes"]) == sorted(regions.split(",")), name
    rules = load_scenario(SCENARIOS / "covid_us_2020.yaml").with_engine("rules")
    assert {f["configuration"] for f in figures_for(rules)} >= {"rules_world", "rules_us"}


def test_contact_shares_count_only_when_the_epidemic_is_simulated():
    scenario = load_scenario(SCENARIOS / "covid_us_2020.yaml").with_engine("rules")
    behaviours = [b.model_copy(update={"contacts": 0.1}) for b in scenario.behaviours]
    other = scenario.replace(behaviours=behaviours)
    assert fingerprint(mechanism(other)) == fingerprint(mechanism(scenario))
    simulated = load_scenario(SCENARIOS / "covid_us_2020_epidemic.yaml")
    again = simulated.replace(behaviours=behaviours)
    assert mechanism(simulated)["epidemic"] == "simulated"
    assert fingerprint(mechanism(again)) != fingerprint(mechanism(simulated))
