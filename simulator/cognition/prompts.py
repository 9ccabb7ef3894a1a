"""Prompts: a persona, the situation in plain words, and one question per behaviour.

A prompt reads as a survey record: a preamble, the situation of the week (policy in the OxCGRT
codebook's plain words, the epidemic and the season), the respondent's persona, then one
question. For cloze scoring the question ends in ``"Answer:"`` and the option texts are scored
as its continuations (``" Yes"``); for option tokens the options are numbered and the question
ends in ``"Answer: "`` (when every behaviour has the same options they are listed once, after
the persona). Numbers are put into words by bins ("many new cases", "about 20% vaccinated") and
the prompt carries no date, so weeks with the same situation render the same prompt and are
served by the cache. The situation comes before the persona and the persona before the
questions, so that the prefix shared by a tick's personas, and by a persona's questions, is as
long as possible. Every template can be overridden from the scenario's ``prompts`` section.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence

from simulator.policy import Signals
from simulator.sources.indicators import Indicator

DEFAULT_TEMPLATES: dict[str, str] = {
    "preamble": "Survey of residents of {region}.\n",
    "signals": "Situation this week: {situation}\n",
    "persona": "Respondent: {persona}\n",
    "options": "Options for every question:\n{options}",
    "question": "Question: {question}\n{options}",
}
PLACEHOLDERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "preamble": ((), ("region",)),
    "signals": (("situation",), ()),
    "persona": (("persona",), ()),
    "options": (("options",), ()),
    "question": (("question",), ("options",)),
}
"""The placeholders each template needs and those it may use. A template without the one it
needs renders one text whatever it is given: every week, persona or behaviour would get one
prompt, and one answer."""
TOKEN_SUFFIX = "Answer: "
CLOZE_SUFFIX = "Answer:"
CONTENT_FREE = "N/A"
"""The situation of content-free debiasing (Zhao et al. 2021)."""
JSON_SUFFIX = (
    "Reply with only a JSON object that gives, for each option number, the probability that you "
    'would choose it, for example {"1": 0.1, "2": 0.3, ...}. The probabilities must sum to 1.\n'
    "Answer: "
)

_AGE = {"18-29": "in your twenties", "30-44": "aged 30 to 44", "45-64": "aged 45 to 64",
        "65+": "aged 65 or over"}
_EDUCATION = {
    "less_than_high_school": "did not finish high school",
    "high_school": "finished high school",
    "some_college": "went to college without a bachelor's degree",
    "bachelor_or_higher": "have a bachelor's degree or higher",
}
_WORK = {
    "essential worker": "work in an essential job that cannot be done from home",
    "employed": "have a job",
    "not working": "are not working",
}
_PARTY = {"democrat": "a Democrat", "independent": "an independent", "republican": "a Republican"}
_LEVEL_WORDS = {
    "risk_tolerance": {"low": "avoid risks", "medium": "take some risks",
                       "high": "are comfortable taking risks"},
    "trust_government": {"low": "distrust the government", "medium": "somewhat trust the "
                         "government", "high": "trust the government"},
    "perceived_vulnerability": {"low": "do not consider yourself at risk from the virus",
                                "medium": "consider yourself at some risk from the virus",
                                "high": "consider yourself at high risk from the virus"},
}


def template_problem(part: str, template: str) -> str | None:
    """What is wrong with a template of ``part`` (see :data:`PLACEHOLDERS`), or ``None``."""
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(template)
                  if field is not None]
    except ValueError as error:
        return f"{template!r} is not a template ({error})"
    needed, optional = PLACEHOLDERS[part]
    for field in fields:
        if field not in (*needed, *optional):
            return f"unknown placeholder {{{field}}}" if field else "an empty placeholder {}"
    missing = [name for name in needed if name not in fields]
    if missing:
        return f"{template!r} lacks the placeholder {{{missing[0]}}}"
    return None


def allowed_placeholders(part: str) -> str:
    """The placeholders of a template, as error messages name them."""
    needed, optional = PLACEHOLDERS[part]
    names = [f"{{{name}}} (required)" for name in needed] + [f"{{{name}}}" for name in optional]
    return ", ".join(names) + "; {{ and }} for literal braces"


def persona_text(attributes: Mapping[str, str]) -> str:
    """Second-person persona from a respondent's binned attributes.

    Unknown attributes (from a custom persona definition) are rendered as ``name: label``.
    """
    a = dict(attributes)
    sex = {"female": "a woman", "male": "a man"}.get(a.pop("sex", ""), "a person")
    parts = [f"You are {sex} {_AGE.get(a.pop('age_band', ''), '')}".rstrip()]
    if "race" in a:
        parts[0] += f", {a.pop('race')}"
    if "urbanicity" in a:
        parts[0] += f", living in a {a.pop('urbanicity')} area"
    sentences = [parts[0] + "."]
    facts = []
    if "education" in a:
        facts.append(_EDUCATION.get(a.pop("education"), "have some education"))
    if "work" in a:
        facts.append(_WORK.get(a.pop("work"), "work"))
    if "income_band" in a:
        facts.append(f"have a {a.pop('income_band')} household income")
    if facts:
        sentences.append("You " + ", ".join(facts[:-1]) + (" and " if len(facts) > 1 else "")
                         + facts[-1] + ".")
    if "party" in a:
        sentences.append(f"Politically you are {_PARTY.get(a.pop('party'), 'undecided')}.")
    traits = [_LEVEL_WORDS[name][a.pop(name)] for name in list(_LEVEL_WORDS) if name in a]
    if traits:
        sentences.append("You " + ", ".join(traits[:-1]) + (" and " if len(traits) > 1 else "")
                         + traits[-1] + ".")
    sentences += [f"Your {name.replace('_', ' ')}: {label}." for name, label in a.items()]
    return " ".join(sentences)


def situation_text(signals: Signals, indicators: Mapping[str, Indicator],
                   shown: tuple[str, ...]) -> str:
    """The week's policy and context in plain words (bins, not raw numbers)."""
    rules = [indicators[name].describe(signals.policy.get(name, 0.0)) for name in shown
             if name in indicators]
    sentences = []
    if rules:
        sentences.append("Current rules: " + "; ".join(rules) + ".")
    sentences += _context_sentences(signals.context)
    return " ".join(sentences)


def _context_sentences(context: Mapping[str, float]) -> list[str]:
    c = dict(context)
    out = []
    if "new_cases_per_100k" in c:
        cases = c.pop("new_cases_per_100k")
        level = ("almost no" if cases < 1 else "few" if cases < 5 else "a moderate number of"
                 if cases < 15 else "many" if cases < 40 else "very many")
        trend = ""
        if "case_growth" in c:
            growth = c.pop("case_growth")
            trend = (" and they are rising fast" if growth > 0.25 else " and they are rising"
                     if growth > 0.07 else " and they are falling" if growth < -0.07 else
                     " and they are stable")
        out.append(f"There are {level} new COVID-19 cases in your area{trend}.")
    c.pop("new_deaths_per_100k", None)
    if c.get("vaccinated_pct", 0) >= 1:
        share = 5 * round(c.pop("vaccinated_pct") / 5)
        out.append(f"About {max(share, 1)}% of people have had a COVID-19 vaccine.")
    c.pop("vaccinated_pct", None)
    if "temperature_f" in c:
        t = c.pop("temperature_f")
        weather = ("cold" if t < 40 else "cool" if t < 55 else "mild" if t < 68 else "warm"
                   if t < 80 else "hot")
        out.append(f"The weather is {weather}.")
    if c.pop("holiday", 0) >= 0.2:
        out.append("This week includes a public holiday.")
    weeks = c.pop("weeks_under_restrictions", 0)
    if weeks >= 4:
        months = round(weeks / 4.35)
        out.append(f"Restrictions have been in place for about {months} month"
                   f"{'s' if months != 1 else ''}.")
    out += [f"{name.replace('_', ' ').capitalize()}: {value:g}." for name, value in c.items()]
    return out


class PromptBuilder:
    """Renders prompt prefixes and questions from (possibly user-supplied) templates.

    Args:
        region_name: name of the modelled region, shown in the preamble.
        indicators: the indicator catalogue.
        shown: indicators put to the agents.
        templates: overrides of :data:`DEFAULT_TEMPLATES` (keys ``preamble``, ``signals``,
            ``persona``, ``options``, ``question``; placeholders ``{region}``, ``{situation}``,
            ``{persona}``, ``{question}``, ``{options}``).
        reference: the routine situation (no policy, no epidemic) that ``reference`` debiasing
            divides out; ``None`` when the run has none.
    """

    def __init__(self, region_name: str, indicators: Mapping[str, Indicator],
                 shown: tuple[str, ...], templates: Mapping[str, str] | None = None,
                 reference: Signals | None = None) -> None:
        self.region_name = region_name
        self.indicators = indicators
        self.shown = shown
        self.templates = {**DEFAULT_TEMPLATES, **(templates or {})}
        self.reference = reference

    def situation(self, signals: Signals | None) -> str:
        """The situation in words; ``None`` is the content-free situation ``"N/A"``."""
        if signals is None:
            return CONTENT_FREE
        return situation_text(signals, self.indicators, self.shown)

    def prefix(self, persona: Mapping[str, str], signals: Signals | None,
               listed: Sequence[str] = ()) -> str:
        """Preamble, situation, persona and, if given, options listed once for every question."""
        t = self.templates
        text = (
            t["preamble"].format(region=self.region_name)
            + t["signals"].format(situation=self.situation(signals))
            + t["persona"].format(persona=persona_text(persona))
        )
        if listed:
            text += t["options"].format(options=numbered(listed))
        return text

    def question(self, question: str, method: str, labels: Sequence[str] = ()) -> str:
        """The question and its answer cue; ``labels`` are listed under it when given."""
        body = self.templates["question"].format(question=question, options=numbered(labels))
        if method == "cloze":
            return body + CLOZE_SUFFIX
        return body + (JSON_SUFFIX if method == "verbalised_json" else TOKEN_SUFFIX)


def cloze_options(labels: Sequence[str]) -> tuple[str, ...]:
    """The continuations scored for option labels after the cloze cue (a space, then the text)."""
    return tuple(" " + label for label in labels)


def numbered(labels: Sequence[str]) -> str:
    """Labels as a numbered list, one a line (``1. Yes``)."""
    return "".join(f"{i}. {label}\n" for i, label in enumerate(labels, start=1))
