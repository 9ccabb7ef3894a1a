import os

import pytest

from helpers import LOCKDOWN, respondent, signals
from simulator.cognition.prompts import (
    DEFAULT_TEMPLATES,
    PromptBuilder,
    allowed_placeholders,
    cloze_options,
    persona_text,
    situation_text,
    template_problem,
)
from simulator.sources.indicators import DEFAULT_SHOWN, OXCGRT_INDICATORS


def builder(**templates):
    return PromptBuilder("California", OXCGRT_INDICATORS, DEFAULT_SHOWN, templates)


def test_persona_reads_as_a_person():
    text = persona_text(respondent().attributes)
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
    persona = respondent().attributes
    a = b.prefix(persona, signals(LOCKDOWN, new_cases_per_100k=20.0, temperature_f=60.0))
    c = b.prefix(persona, signals(LOCKDOWN, new_cases_per_100k=22.0, temperature_f=62.0))
    assert a == c


def test_questions_end_with_the_cue_of_their_method():
    b = builder()
    assert b.question("Will you go out?", "cloze") == "Question: Will you go out?\nAnswer:"
    assert cloze_options(["Yes", "No"]) == (" Yes", " No")
    listed = b.question("Will you go out?", "option_tokens", ["Yes", "No"])
    assert listed == "Question: Will you go out?\n1. Yes\n2. No\nAnswer: "
    assert b.question("Will you?", "verbalised_json", ["Yes", "No"]).rstrip().endswith("Answer:")


def test_options_shared_by_every_question_are_listed_once_in_the_prefix():
    prefix = builder().prefix(respondent().attributes, signals(), ["Yes", "No"])
    assert prefix.endswith("Options for every question:\n1. Yes\n2. No\n")


def test_the_content_free_situation_is_n_a():
    assert "Situation this week: N/A\n" in builder().prefix(respondent().attributes, None)


def test_prompts_carry_no_date():
    b = builder()
    early = b.prefix(respondent().attributes, signals(LOCKDOWN, tick=1))
    later = b.prefix(respondent().attributes, signals(LOCKDOWN, tick=9))
    assert early == later and "2020" not in early


def test_situation_precedes_persona_so_personas_share_a_prefix():
    b = builder()
    s = signals(LOCKDOWN)
    man = {**respondent().attributes, "sex": "male"}
    shared = os.path.commonprefix([b.prefix(respondent().attributes, s), b.prefix(man, s)])
    assert "Situation this week: Current rules:" in shared and shared.endswith("You are a ")


def test_templates_can_be_overridden():
    b = builder(persona="Profile: {persona}\n")
    assert "Profile: You are" in b.prefix(respondent().attributes, signals())


@pytest.mark.parametrize(("part", "template", "problem"), [
    ("preamble", "Survey of {regoin}.\n", "unknown placeholder {regoin}"),
    ("question", "Q: {question", "'Q: {question' is not a template (expected '}' before end of "
     "string)"),
    ("question", "Q: }", "'Q: }' is not a template (Single '}' encountered in format string)"),
    ("question", "Question:\n{options}", "'Question:\\n{options}' lacks the placeholder "
     "{question}"),
    ("persona", "Respondent.\n", "'Respondent.\\n' lacks the placeholder {persona}"),
    ("signals", "{situation.__class__}", "unknown placeholder {situation.__class__}"),
    ("options", "{}", "an empty placeholder {}"),
    ("preamble", "A {{survey}}.\n", None),
    ("question", "Q: {question}\n", None),
])
def test_a_template_is_checked_for_its_placeholders(part, template, problem):
    assert template_problem(part, template) == problem


def test_every_default_template_passes_its_own_check():
    assert all(template_problem(part, text) is None for part, text in DEFAULT_TEMPLATES.items())
    assert allowed_placeholders("question") == ("{question} (required), {options}; {{ and }} for "
                                                "literal braces")
