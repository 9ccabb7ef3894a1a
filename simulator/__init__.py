"""socialtwin's simulator: synthetic populations of LLM-driven agents answering policy signals.

The public API; everything else is private by default::

    from simulator import load_scenario, run_scenario, write_run
    scenario = load_scenario("scenarios/covid_us_2020.yaml").with_engine("rules")
    result = run_scenario(scenario)
    write_run(result, "runs/example")
"""

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from simulator.behaviours import Behaviour, Option, RuleParameters  # noqa: E402
from simulator.cognition import Engine, ResponseCache, RulesEngine, make_engine  # noqa: E402
from simulator.cognition.cells import PopulationCells  # noqa: E402
from simulator.errors import EngineError, ScenarioError, SocialTwinError  # noqa: E402
from simulator.model import AgentView, TwinModel  # noqa: E402
from simulator.network import SocialNetwork  # noqa: E402
from simulator.outputs import write_run  # noqa: E402
from simulator.policy import PolicyTimeline, Signals  # noqa: E402
from simulator.population import Population, PopulationError  # noqa: E402
from simulator.report_card import probe_scenario  # noqa: E402
from simulator.run import RunResult, apply_overrides, run_scenario  # noqa: E402
from simulator.scenario import Scenario, load_scenario, scenario_from_dict  # noqa: E402
from simulator.sources.indicators import OXCGRT_INDICATORS, Indicator  # noqa: E402
from simulator.sources.regions import get_region, resolve_region  # noqa: E402
from simulator.sweep import (  # noqa: E402
    SweepResult,
    Variant,
    VariantSet,
    load_variants,
    make_executor,
    run_sweep,
    write_sweep,
)

__all__ = [
    "AgentView", "PopulationCells", "Behaviour", "Engine", "EngineError", "Indicator",
    "OXCGRT_INDICATORS", "Option", "PolicyTimeline", "Population", "PopulationError",
    "ResponseCache", "RuleParameters", "RulesEngine", "RunResult", "Scenario", "ScenarioError",
    "Signals", "SocialNetwork", "SocialTwinError", "SweepResult", "TwinModel", "Variant",
    "VariantSet", "apply_overrides", "get_region", "load_scenario", "load_variants",
    "make_engine", "make_executor", "probe_scenario", "resolve_region", "run_scenario",
    "run_sweep",
    "scenario_from_dict", "write_run", "write_sweep",
]
