import os

from helpers import LOCKDOWN, MOBILITY, archetype, signals
from simulator.cognition.prompts import PromptBuilder, persona_text, situation_text
from simulator.sources.indicators import DEFAULT_SHOWN, OXCGRT_INDICATORS


def builder(**templates):
    return PromptBuilder("California", OXCGRT_INDICATORS, DEFAULT_SHOWN, templates)


def test_persona_reads_as_a_person():
    text = persona_text(archetype().attributes)
    assert text.startswith("You are a woman aged 45 to 64, white, living in a suburban area.")
    assert "Politically you are an independent." in text
    assert "consider yourself at some risk from the virus" in text


def test_situation_uses_codebook_words_and_bins():
    text = situation_text(signals(LOCKDOWN, new_cases_per_100k=45.0, case_growth=0.3,
                                  vaccinated_pct=23.0, temperature_f=50.0),
                          OXCGRT_INDICATORS, DEFAULT_SHOWN)
    assert "all schools are required to close" in text
    assert "people must stay at home with minimal exceptions" in text
    assert "very many new COVID-19 cases" in text and "rising fast" in text
    assert "About 25% of people" in text
    assert "cool" in text
    assert "45" not in text


def test_nearby_numbers_render_the_same_prompt():
    b = builder()
    a = b.prefix(archetype(), signals(LOCKDOWN, new_cases_per_100k=20.0, temperature_f=60.0))
    c = b.prefix(archetype(), signals(LOCKDOWN, new_cases_per_100k=22.0, temperature_f=62.0))
    assert a == c


def test_question_ends_with_the_answer_cue_and_numbered_options():
    q = builder().question(MOBILITY[0], "token_probabilities")
    assert q.endswith("Answer: ")
    assert "\n1. No, not at all\n" in q and "\n5. Yes, as usual\n" in q
    assert builder().question(MOBILITY[0], "verbalised_json").rstrip().endswith("Answer:")


def test_shared_options_are_listed_once_in_the_prefix():
    b = builder()
    prefix = b.prefix(archetype(), signals(), MOBILITY)
    assert prefix.endswith("Options for every question:\n1. No, not at all\n2. Unlikely\n"
                           "3. Maybe\n4. Likely\n5. Yes, as usual\n")
    question = b.question(MOBILITY[2], "token_probabilities", options_in_prefix=True)
    assert question == f"Question: {MOBILITY[2].question}\nAnswer: "
    assert "Options" not in b.prefix(archetype(), signals(), MOBILITY[:1])


def test_prompts_carry_no_date():
    b = builder()
    early = b.prefix(archetype(), signals(LOCKDOWN, tick=1), MOBILITY)
    later = b.prefix(archetype(), signals(LOCKDOWN, tick=9), MOBILITY)
    assert early == later and "2020" not in early


def test_situation_precedes_persona_so_archetypes_share_a_prefix():
    b = builder()
    s = signals(LOCKDOWN)
    man = archetype()
    man = man.__class__(1, {**man.attributes, "sex": "male"}, man.traits, man.size)
    shared = os.path.commonprefix([b.prefix(archetype(), s), b.prefix(man, s)])
    assert "Situation this week: Current rules:" in shared and shared.endswith("You are a ")


def test_templates_can_be_overridden():
    b = builder(persona="Profile: {persona}\n")
    assert "Profile: You are" in b.prefix(archetype(), signals())
