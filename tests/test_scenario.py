import datetime as dt
from pathlib import Path

import pytest
import yaml

from simulator.errors import ScenarioError
from simulator.scenario import load_scenario, scenario_from_dict

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def minimal(**changes):
    data = {
        "name": "t",
        "region": "US",
        "period": {"start": "2020-03-02", "end": "2020-05-31"},
        "population": {"size": 100},
        "behaviours": "google_mobility",
        "engine": "rules",
    }
    data.update(changes)
    return data


def error_of(data) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="bad.yaml")
    return info.value


SCENARIO_FILES = [p for p in sorted(SCENARIOS.glob("*.yaml"))
                  if not {"variants", "grid", "situations"} & set(yaml.safe_load(p.read_text()))]


def test_every_kind_of_scenario_ships():
    names = {p.stem for p in SCENARIO_FILES}
    assert {"covid_us_2020", "stay_at_home", "congestion_pricing"} <= names


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_shipped_scenarios_load(path):
    scenario = load_scenario(path)
    assert scenario.behaviours
    assert scenario.end > scenario.start


def test_minimal_defaults():
    scenario = scenario_from_dict(minimal())
    assert scenario.region == "USA"
    assert scenario.tick == "week"
    assert scenario.start == dt.date(2020, 3, 2)
    assert scenario.behaviour_names[0] == "retail_and_recreation"
    assert len(scenario.behaviours) == 6
    assert scenario.engine.name == "rules"
    assert scenario.policy.source == "oxcgrt"
    assert scenario.context.source == "observed"


def test_missing_field_names_it():
    data = minimal()
    del data["population"]
    error = error_of(data)
    assert error.field == "population"
    assert "bad.yaml" in str(error) and "missing" in str(error)


def test_unknown_behaviour_lists_allowed():
    error = error_of(minimal(behaviours=["parks", "teleporting"]))
    assert error.field == "behaviours[1]"
    assert "teleporting" in str(error) and "workplaces" in str(error)


def test_unknown_preset():
    error = error_of(minimal(behaviours="apple_mobility"))
    assert "google_mobility" in str(error)


@pytest.mark.parametrize("period,field", [
    ({"start": "2020-13-01", "end": "2020-05-31"}, "period.start"),
    ({"start": "2020-03-01", "end": "not a date"}, "period.end"),
    ({"start": "2020-05-01", "end": "2020-03-01"}, "period.end"),
])
def test_bad_dates(period, field):
    error = error_of(minimal(period=period))
    assert error.field == field
    assert "YYYY-MM-DD" in str(error) or "after" in str(error)


def test_negative_population():
    error = error_of(minimal(population={"size": -5}))
    assert error.field == "population.size"
    assert "-5" in str(error) and "from 1" in str(error)


def test_unknown_engine():
    error = error_of(minimal(engine={"name": "gpt-magic"}))
    assert error.field == "engine.name"
    assert "litellm:<model>" in str(error)


def test_unknown_field_is_a_typo_not_ignored():
    error = error_of(minimal(popultion={"size": 3}))
    assert error.field == "popultion"
    assert "population" in str(error)


def test_unknown_region():
    error = error_of(minimal(region="Atlantis"))
    assert error.field == "region"
    assert "unknown region 'Atlantis'" in str(error) and "socialtwin regions" in str(error)


def test_countries_by_code_or_name_and_ambiguous_names():
    assert scenario_from_dict(minimal(region="France")).region == "FRA"
    assert scenario_from_dict(minimal(region="nz")).region == "NZL"
    error = error_of(minimal(region="Georgia"))
    assert error.field == "region" and "US_GA (Georgia) or GEO (Georgia)" in str(error)


def test_intervention_level_checked_against_codebook():
    error = error_of(minimal(policy={"source": "interventions", "interventions": [
        {"indicator": "c6_stay_at_home_requirements", "level": 5, "start": "2020-03-10"}]}))
    assert error.field == "policy.interventions[0].level"
    assert "from 0 to 3" in str(error)


def test_api_keys_refused_in_scenario():
    error = error_of(minimal(engine={"name": "litellm:gpt-4o-mini",
                                    "options": {"api_key": "sk-secret"}}))
    assert "environment" in str(error)
    assert "sk-secret" not in str(error)


def test_unreadable_file(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(broken)


def test_relative_input_paths_resolve_against_the_file(tmp_path):
    (tmp_path / "pop.yaml").write_text("name: x\n")
    data = minimal(population={"size": 10, "marginals": "pop.yaml"})
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    assert load_scenario(path).marginals == (tmp_path / "pop.yaml").resolve()


def test_overrides_are_recorded():
    scenario = scenario_from_dict(minimal()).with_engine("litellm:ollama/llama3")
    assert scenario.engine.name == "litellm:ollama/llama3"
    assert scenario.raw["overrides"]["engine"]["name"] == "litellm:ollama/llama3"
    with pytest.raises(ScenarioError):
        scenario.with_engine("nonsense")


def test_the_manifest_copy_of_the_scenario_carries_no_credentials(monkeypatch):
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-1234567890")
    scenario = scenario_from_dict(minimal(
        description="served with tok-1234567890",
        engine={"name": "litellm:openai/m", "options": {
            "api_base": "https://user:pw@llm.example.org:8443/v1?api-key=s3cret#frag"}}))
    record = str(scenario.to_dict())
    assert "https://llm.example.org:8443/v1" in record
    for secret in ("pw", "s3cret", "frag", "tok-1234567890", "user:"):
        assert secret not in record
    assert scenario.engine.options.api_base.endswith("#frag"), "the run itself keeps it"


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"dynamics": {"habit": float("nan")}}, "dynamics.habit", "nan is not a finite number"),
    ({"network": {"homophily": float("inf")}}, "network.homophily", "inf is not a finite"),
    ({"context": {"values": {"new_cases_per_100k": float("nan")}}},
     "context.values.new_cases_per_100k", "nan is not a finite number"),
    ({"population": {"size": float("inf")}}, "population.size", "inf is not a finite number"),
    ({"seed": float("inf")}, "seed", "inf is not a finite number"),
    ({"engine": {"name": "rules", "archetypes": float("inf")}}, "engine.personas",
     "inf is not a finite number"),
    ({"engine": {"name": "rules", "options": {"fatigue_weeks": float("nan")}}},
     "engine.options.fatigue_weeks", "nan is not a finite number"),
    ({"engine": {"name": "litellm:openai/m", "options": {"concurrency": 0}}},
     "engine.options.concurrency", "0 is out of range (allowed: from 1 to 1024)"),
    ({"engine": {"name": "local", "options": {"temperature": 0.5}}},
     "engine.options.temperature", "unknown field (allowed: elicitation, balanced"),
    ({"behaviours": [{"name": "a", "question": "Go?", "options": [
        {"label": "Yes", "value": 1}, {"label": "Yes", "value": 0}]}]},
     "behaviours[0].options", "repeated option labels ['Yes', 'Yes']"),
    ({"behaviours": [{"name": "a", "question": "Go?"}, {"name": "a", "question": "Stay?"}]},
     "behaviours", "duplicate names ['a']"),
    ({"behaviours": [{"name": "a", "question": "Go?", "paraphrases": ["Going?", 3]}]},
     "behaviours[0].paraphrases[1]", "expected non-empty text, got 3"),
    ({"engine": {"name": "local", "options": {"wordings": "every"}}},
     "engine.options.wordings", "allowed: first, all"),
    ({"behaviours": [{"name": "a", "question": "Go?",
                      "rules": {"baseline": float("nan")}}]},
     "behaviours[0].rules.baseline", "nan is not a finite number"),
])
def test_non_finite_numbers_and_bad_options_are_refused(changes, field, message):
    error = error_of(minimal(**changes))
    assert error.field == field and message in str(error)


def test_an_impossible_date_in_the_file_is_one_clear_error(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(minimal()).replace("'2020-05-31'", "2020-02-30"))
    with pytest.raises(ScenarioError, match=r"period.end: '2020-02-30' is not a date"):
        load_scenario(path)


def test_another_engine_is_checked_against_the_options_the_scenario_gives():
    scenario = scenario_from_dict(minimal(engine={"name": "rules",
                                                  "options": {"fatigue_weeks": 30}}))
    with pytest.raises(ScenarioError, match="engine.options.fatigue_weeks: unknown field"):
        scenario.with_engine("local")


def test_paraphrases_of_a_question_are_read_with_the_behaviour():
    scenario = scenario_from_dict(minimal(behaviours=[
        {"name": "a", "question": "Go?", "paraphrases": ["Going?", "Will you go?"]}]))
    assert scenario.behaviours[0].wordings == ("Go?", "Going?", "Will you go?")


def test_a_repeated_key_is_refused_with_its_lines(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(minimal()).replace("size: 100", "size: 2000\n  size: 3"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == (f"{path}: population.size: repeated key at line 9 (first at "
                               "line 8) (allowed: each key once in a mapping)")
    path.write_text(yaml.safe_dump(minimal()) + "seed: 4\nseed: 5\n")
    with pytest.raises(ScenarioError, match=r": seed: repeated key at line \d+"):
        load_scenario(path)


def one_behaviour(**fields):
    return minimal(behaviours=[{"name": "x", "question": "Will you?", **fields}])


@pytest.mark.parametrize(("data", "field", "message"), [
    (minimal(context={"source": "constant", "values": {"new_cases_per_100k": -500}}),
     "context.values.new_cases_per_100k", "-500 is out of range (allowed: from 0 to 100000)"),
    (minimal(context={"values": {"vaccinated_pct": 140}}), "context.values.vaccinated_pct",
     "140 is out of range (allowed: from 0 to 100)"),
    (one_behaviour(rules={"policy": {"c6_stay_home": -1}}), "behaviours[0].rules.policy."
     "c6_stay_home", "unknown indicator 'c6_stay_home' (allowed: c1_school_closing,"),
    (one_behaviour(rules={"traits": {"openness": 1}}), "behaviours[0].rules.traits.openness",
     "unknown trait 'openness' (allowed: risk_tolerance,"),
    (one_behaviour(rules={"context": {"threath": 1}}), "behaviours[0].rules.context.threath",
     "unknown context feature 'threath' (allowed: new_cases_per_100k,"),
    (one_behaviour(metric="retail"), "behaviours[0].metric",
     "'retail' is not allowed (allowed: retail_and_recreation,"),
    (minimal(prompts={"question": "Q: {regoin}"}), "prompts.question",
     "unknown placeholder {regoin} (allowed: {question} (required), {options}"),
    (minimal(prompts={"persona": "You {persona"}), "prompts.persona",
     "'You {persona' is not a template (expected '}' before end of string) (allowed: "
     "{persona} (required)"),
    (minimal(prompts={"question": "Question:\n"}), "prompts.question",
     "'Question:\\n' lacks the placeholder {question} (allowed: {question} (required)"),
    (minimal(prompts={"signals": "This week.\n"}), "prompts.signals",
     "'This week.\\n' lacks the placeholder {situation}"),
    (minimal(name="../../x"), "name", "'../../x' is not a plain name (allowed: a name without "
     "path separators"),
    (minimal(name=".hidden"), "name", "'.hidden' is not a plain name"),
    (minimal(period={"start": "1000-01-01", "end": "9999-12-31"}, tick="day"), "period",
     "3,287,182 daily ticks from 1000-01-01 to 9999-12-31 (allowed: at most 5,000 ticks)"),
    (minimal(policy={"source": "interventions", "interventions": [
        {"indicator": "c1_school_closing", "level": 1, "start": "2020-03-09"}] * 2001}),
     "policy.interventions", "2,001 entries (allowed: at most 2,000)"),
])
def test_values_that_would_silently_change_results_are_refused(data, field, message):
    error = error_of(data)
    assert error.field == field
    assert str(error).startswith(f"bad.yaml: {field}: {message}"), str(error)


def test_rules_may_name_what_the_scenario_declares_itself():
    data = minimal(behaviours=[{"name": "x", "question": "Will you drive?", "rules": {
        "policy": {"toll": -1.0}, "context": {"fuel_price": -0.5, "threat": -1.0},
        "traits": {"urban": -0.5}}}],
        policy={"source": "interventions", "indicators": {"toll": {"levels": ["none", "$5"]}},
                "interventions": [{"indicator": "toll", "level": 1, "start": "2020-04-06"}]},
        context={"source": "constant", "values": {"fuel_price": 3.5, "holiday": 0.2}},
        prompts={"question": "Q: {question}\n{options}", "preamble": "In {{the}} city.\n"})
    scenario = scenario_from_dict(data)
    assert scenario.behaviours[0].rules.policy == {"toll": -1.0}
    assert scenario.context.values == {"fuel_price": 3.5, "holiday": 0.2}
    assert scenario_from_dict(minimal(period={"start": "2020-01-06", "end": "2033-01-01"},
                                      tick="day")).end == dt.date(2033, 1, 1)
