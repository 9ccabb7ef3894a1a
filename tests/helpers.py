"""Builders shared by tests: respondents, signals and requests without a population."""

import datetime as dt

from simulator.behaviours import Behaviour, preset_specs
from simulator.cognition.engine import DecisionRequest, Respondent
from simulator.cognition.prompts import PromptBuilder
from simulator.policy import Signals
from simulator.sources.indicators import DEFAULT_SHOWN, OXCGRT_INDICATORS

MOBILITY = tuple(Behaviour.model_validate(spec)
                 for spec in preset_specs("google_mobility"))

LOCKDOWN = {"c1_school_closing": 3, "c2_workplace_closing": 3, "c3_cancel_public_events": 2,
            "c4_restrictions_on_gatherings": 4, "c5_close_public_transport": 1,
            "c6_stay_at_home_requirements": 3, "c7_restrictions_on_internal_movement": 2,
            "h6_facial_coverings": 3}


def respondent(index=0, **traits):
    base = {"risk_tolerance": 0.5, "trust_government": 0.5, "trust_science": 0.5,
            "perceived_vulnerability": 0.5, "conformity": 0.5, "age_65_plus": 0.2,
            "female": 0.5, "employed": 0.6, "essential_worker": 0.2, "urban": 0.3,
            "rural": 0.2, "republican": 0.4, "democrat": 0.4}
    base.update(traits)
    attributes = {"age_band": "45-64", "sex": "female", "race": "white",
                  "education": "some_college", "work": "employed", "income_band": "middle",
                  "urbanicity": "suburban", "party": "independent", "risk_tolerance": "medium",
                  "trust_government": "medium", "perceived_vulnerability": "medium"}
    return Respondent(index, attributes, base, 100)


def signals(policy=None, tick=0, **context):
    policy = dict(policy or {})
    return Signals(tick=tick, date=dt.date(2020, 4, 6), days=7, policy=policy,
                   stringency=0.0, context=context)


ROUTINE = Signals(tick=-1, date=dt.date(2020, 3, 2), days=7, policy={}, stringency=0.0,
                  context={"new_cases_per_100k": 0.0, "temperature_f": 50.0})
PROMPTS = PromptBuilder("Ohio", OXCGRT_INDICATORS, DEFAULT_SHOWN, reference=ROUTINE)


def request(policy=None, behaviours=MOBILITY, arche=None, prompts=PROMPTS, **context):
    return DecisionRequest(arche or respondent(), signals(policy, **context), behaviours, prompts)
