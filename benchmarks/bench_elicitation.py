"""Which elicitation the local engine uses, chosen by measurement: the probe card and the nation.

Each candidate is a principled way of reading a small base model (see
simulator/cognition/elicitation.py): digit tokens with the options listed, with both option orders
averaged, full-text (cloze) scoring, cloze with balanced keying (the reverse-keyed question too),
and cloze with the routine situation divided out. The earlier default, the five-point likelihood
scale read through digit tokens, is measured as the reference arm. For each candidate the
benchmark prints the report card (share of policy and context probes with the expected sign,
persona probes, the shuffled baselines) and the evaluation protocol on the US nation (calibrate
on 2020, test on January-April 2021; test macro RMSE against persistence and gradient boosting),
with the LLM calls each took. Two arms change the questions instead of how they are read:
questions about the change from before the pandemic, and statements scored as whole texts.
All candidates share one response cache, so a second run costs no calls.

    python benchmarks/bench_elicitation.py [--agents 2000] [--cache PATH] [--only NAME,...]
                                           [--engine NAME] [--option KEY=VALUE ...] [--json]

``--engine`` grades another language model the same way (``litellm:<model>``; each candidate's
options are merged with the ``--option`` settings, e.g. ``--option api_base=http://host/v1
--option api=text``), so the elicitation of a larger model is chosen by the same measurements.
"""

import argparse
import json
import os
import time
from pathlib import Path

import yaml

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from calibration.evaluate import evaluate  # noqa: E402
from simulator.behaviours import LIKELIHOOD_OPTIONS, Option  # noqa: E402
from simulator.errors import ScenarioError  # noqa: E402
from simulator.fields import validated  # noqa: E402
from simulator.report_card import probe_scenario  # noqa: E402
from simulator.scenario import load_scenario  # noqa: E402
from simulator.scenario_sections import EngineSpec  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = {
    "option_tokens": {"elicitation": "option_tokens", "balanced": False},
    "option_tokens+both_orders": {"elicitation": "option_tokens", "balanced": False,
                                  "option_orders": "both"},
    "option_tokens+balanced": {"elicitation": "option_tokens", "balanced": True},
    "option_tokens+reference": {"elicitation": "option_tokens", "balanced": False,
                                "debias": "reference"},
    "option_tokens+content_free": {"elicitation": "option_tokens", "balanced": False,
                                   "debias": "content_free"},
    "option_tokens+balanced+reference": {"elicitation": "option_tokens", "balanced": True,
                                         "debias": "reference"},
    "option_tokens+all_wordings": {"elicitation": "option_tokens", "balanced": False,
                                   "wordings": "all"},
    "option_tokens+balanced+all_wordings": {"elicitation": "option_tokens", "balanced": True,
                                            "wordings": "all"},
    "cloze": {"elicitation": "cloze", "balanced": False},
    "cloze+balanced": {"elicitation": "cloze", "balanced": True},
    "cloze+reference": {"elicitation": "cloze", "balanced": False, "debias": "reference"},
    "cloze+balanced+reference": {"elicitation": "cloze", "balanced": True,
                                 "debias": "reference"},
}
LIKELIHOOD_QUESTIONS = {
    "retail_and_recreation": "How likely are you to go to restaurants, cafés, shopping centres, "
                             "museums, libraries or cinemas on a typical day this week?",
    "grocery_and_pharmacy": "How likely are you to go to a grocery store, food market, drug "
                            "store or pharmacy on a typical day this week?",
    "parks": "How likely are you to visit a park, beach, public garden, plaza or dog park on a "
             "typical day this week?",
    "transit_stations": "How likely are you to use public transport (subway, bus or train "
                        "stations) on a typical day this week?",
    "workplaces": "How likely are you to go to your place of work on a typical day this week?",
    "residential": "How likely are you to stay at home all day on a typical day this week?",
}
"""The five-point questions of the earlier preset, for the reference arm."""


CHANGE_QUESTIONS = {
    "retail_and_recreation": ("Compared with before the pandemic, will you go to restaurants, "
                              "cafés, shopping centres, museums, libraries or cinemas less this "
                              "week?", 0.0),
    "grocery_and_pharmacy": ("Compared with before the pandemic, will you go to grocery stores, "
                             "food markets, drug stores or pharmacies less this week?", 0.0),
    "parks": ("Compared with before the pandemic, will you visit parks, beaches, public gardens, "
              "plazas or dog parks less this week?", 0.0),
    "transit_stations": ("Compared with before the pandemic, will you use public transport "
                         "(subway, bus or train stations) less this week?", 0.0),
    "workplaces": ("Compared with before the pandemic, will you go to your place of work less "
                   "this week?", 0.0),
    "residential": ("Compared with before the pandemic, will you spend more time at home this "
                    "week?", 1.0),
}
"""Questions about the change from the routine, as Google's metrics measure it (the form of the
COVID-19 surveys' "less than usual" / "more than usual" items), with the value of "Yes": going
out less is a lower probability, staying home more a higher one. Written before measuring."""


STATEMENTS = {
    "retail_and_recreation": (
        "I will go to restaurants, cafés, shopping centres, museums, libraries or cinemas this "
        "week.",
        "I will stay away from restaurants, cafés, shopping centres, museums, libraries and "
        "cinemas this week."),
    "grocery_and_pharmacy": (
        "I will go to a grocery store, food market, drug store or pharmacy this week.",
        "I will stay away from grocery stores, food markets, drug stores and pharmacies this "
        "week."),
    "parks": ("I will visit a park, beach, public garden, plaza or dog park this week.",
              "I will stay away from parks, beaches, public gardens, plazas and dog parks this "
              "week."),
    "transit_stations": (
        "I will use public transport (subway, bus or train stations) this week.",
        "I will stay away from public transport (subway, bus and train stations) this week."),
    "workplaces": ("I will go to my place of work this week.",
                   "I will stay away from my place of work this week."),
    "residential": ("I will stay at home all day on most days this week.",
                    "I will go out of my home on most days this week."),
}
"""Each behaviour's two answers as full statements (value 1, value 0), scored as cloze
continuations of "Which is true of you? Answer:": the options carry the content ("stay away from
parks") instead of "Yes"/"No", the full-text form OLMES (Gu et al. 2024) recommends for small
base models, so a shift towards "No" in alarming situations cannot pass for a policy response.
Written before measuring."""


def statements(scenario):
    """The scenario asking each behaviour as a choice between two statements (cloze)."""
    behaviours = tuple(
        b.model_copy(update={"question": "Which is true of you?", "reverse_question": None,
                             "paraphrases": (),
                             "options": (Option(label=STATEMENTS[b.name][0], value=1.0),
                                         Option(label=STATEMENTS[b.name][1], value=0.0))})
        for b in scenario.behaviours)
    return scenario.replace(behaviours=behaviours)


def change_questions(scenario):
    """The scenario asking each behaviour as a change from before the pandemic (yes/no)."""
    behaviours = []
    for b in scenario.behaviours:
        question, yes = CHANGE_QUESTIONS[b.name]
        options = (Option(label="Yes", value=yes), Option(label="No", value=1.0 - yes))
        behaviours.append(b.model_copy(update={"question": question, "reverse_question": None,
                                               "paraphrases": (), "options": options}))
    return scenario.replace(behaviours=tuple(behaviours))


def likelihood_scale(scenario):
    """The scenario with the earlier five-point likelihood questions (no reverse keying)."""
    options = tuple(Option(label=label, value=value) for label, value in LIKELIHOOD_OPTIONS)
    behaviours = tuple(b.model_copy(update={"question": LIKELIHOOD_QUESTIONS[b.name],
                                            "reverse_question": None, "paraphrases": (),
                                            "options": options})
                       for b in scenario.behaviours)
    return scenario.replace(behaviours=behaviours)


def engine_options(settings):
    """``KEY=VALUE`` settings as engine options (values read as YAML scalars: 2, true, text).

    Raises:
        ValueError: a setting without ``=`` or without a key, named.
    """
    options = {}
    for setting in settings:
        key, equals, value = setting.partition("=")
        if not equals or not key.strip():
            raise ValueError(f"--option {setting!r} (allowed: KEY=VALUE, e.g. api=text)")
        options[key.strip()] = yaml.safe_load(value) if value else ""
    return options


def measure(name, options, scenario, agents, cache, engine_name="local"):
    scenario = scenario.replace(engine={**dict(scenario.engine), "name": engine_name,
                                        "options": options})
    started = time.perf_counter()
    card = probe_scenario(scenario, cache_path=cache)
    probed = time.perf_counter()
    evaluation = evaluate(scenario, regions="nation", agents=agents, cache_path=cache,
                          progress=False)
    finished = time.perf_counter()
    macro = evaluation.table["macro"]
    twin = evaluation.twin.name
    return {
        "candidate": name,
        "share_correct": card.share_correct,
        "persona_share_correct": card.persona_share_correct,
        "shuffled_situations": card.baselines["shuffled_situations"]["share_correct"],
        "shuffled_personas": card.baselines["shuffled_personas"]["persona_share_correct"],
        "wrong_sign": [p.name for p in card.probes if not p.correct],
        "probe_calls": card.llm_calls, "probe_s": round(probed - started, 1),
        "nation_twin": float(macro[twin]), "persistence": float(macro["persistence"]),
        "gbm": float(macro["gbm"]),
        "nation_by_category": {k: round(float(v), 2)
                               for k, v in evaluation.table.loc[twin].items()},
        "nation_calls": evaluation.simulation.get("llm_calls"),
        "nation_s": round(finished - probed, 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--cache", default=str(ROOT / "runs" / "bench_elicitation.sqlite"))
    parser.add_argument("--only", help="comma-separated candidate names")
    parser.add_argument("--engine", default="local",
                        help="the language model graded: local or litellm:<model>")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="an engine option added to every candidate's (repeatable)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    try:
        extra = engine_options(args.option)
    except ValueError as error:
        parser.error(str(error))
    Path(args.cache).parent.mkdir(parents=True, exist_ok=True)
    scenario = load_scenario(ROOT / "scenarios" / "covid_us_2020.yaml")
    arms = [("likelihood5+option_tokens (earlier default)", {"elicitation": "option_tokens",
                                                            "balanced": False},
             likelihood_scale(scenario))]
    arms += [(name, options, scenario) for name, options in CANDIDATES.items()]
    arms.append(("change_questions+option_tokens", {"elicitation": "option_tokens",
                                                    "balanced": False},
                 change_questions(scenario)))
    arms.append(("statements+cloze", {"elicitation": "cloze", "balanced": False},
                 statements(scenario)))
    wanted = set(args.only.split(",")) if args.only else None
    arms = [arm for arm in arms if not wanted or arm[0].split(" ")[0] in wanted]
    for _, options, arm in arms:  # every candidate checked before any is measured
        try:
            validated(EngineSpec, {"name": args.engine, "options": {**options, **extra}},
                      arm.source, prefix=("engine",))
        except ScenarioError as error:
            parser.error(str(error))
    rows = []
    for name, options, arm in arms:
        row = measure(name, {**options, **extra}, arm, args.agents, args.cache, args.engine)
        rows.append(row)
        if not args.json:
            print(f"{name:44s} probes {row['share_correct']:.2f} (shuffled "
                  f"{row['shuffled_situations']:.2f}) persona {row['persona_share_correct']:.2f}"
                  f" (shuffled {row['shuffled_personas']:.2f}) | nation twin "
                  f"{row['nation_twin']:.2f} vs persistence {row['persistence']:.2f}, gbm "
                  f"{row['gbm']:.2f} | calls {row['probe_calls']}+{row['nation_calls']} in "
                  f"{row['probe_s'] + row['nation_s']:.0f} s", flush=True)
            print(f"    wrong sign: {', '.join(row['wrong_sign']) or 'none'}; by category: "
                  f"{row['nation_by_category']}", flush=True)
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
