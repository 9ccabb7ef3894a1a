"""Counterfactual sweeps: every variant under every seed, common random numbers, any executor.

A run of variant ``v`` under seed ``s`` is the scenario with seed ``s`` and the timeline of ``v``.
The population, network, personas and noise come from random streams named per seed
(:func:`simulator.model.random_stream`), so all variants of one seed share them and differ only
by their policy: a variant that changes nothing reproduces the baseline exactly, and the paired
differences between variants carry far less noise than the runs themselves.

Each task runs on a worker process that keeps one engine per engine configuration for the tasks
that follow (the ``local`` model is loaded once per worker, not once per run); language-model
engines share one SQLite response cache (WAL) whose path is passed to every task.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

from simulator.cognition import Engine, default_cache_path, make_engine
from simulator.parallel import limited_threads
from simulator.policy import PolicyTimeline
from simulator.run import run_scenario, versions
from simulator.scenario import Scenario
from simulator.sweep.cases import variant_cases
from simulator.sweep.checks import check_sweep
from simulator.sweep.executors import Executor, LocalExecutor
from simulator.sweep.variants import Variant, VariantSet

KEYS = ("variant", "seed", "tick", "date", "behaviour", "group", "subgroup")
RESULT_COLUMNS = (*KEYS, "value", "change_pct")
ACCOUNTING = ("agents", "ticks", "agent_ticks", "questions", "llm_calls", "cache_hits",
              "failed_answers", "repaired_answers", "tokens_in", "tokens_out", "cost_usd",
              "build_s", "wall_s")
INTERVAL = 0.95
"""Coverage of the t intervals across seeds."""

SweepCalibration = Callable[
    [Scenario, str, int, pd.DataFrame], tuple[pd.DataFrame | None, pd.DataFrame | None, str]
]
"""Calibrates a sweep: ``(scenario, baseline variant, seed, results)`` to ``(calibrated table or
None, test-window RMSE table or None, note)``;
:func:`calibration.run_calibration.calibrate_sweep`."""

_ENGINES: dict[tuple, Engine] = {}


@dataclass(frozen=True)
class SweepTask:
    """One run of a sweep: the timeline of one variant under one seed.

    Attributes:
        variant: the variant's name.
        seed: the run seed.
        scenario: the scenario with ``seed`` set.
        timeline: the variant's timeline.
        cache_path: the shared response cache (``None`` for engines that ask no model).
    """

    variant: str
    seed: int
    scenario: Scenario
    timeline: PolicyTimeline
    cache_path: str | None


@dataclass
class TaskResult:
    """What a task sends back: the run's trajectories and accounting."""

    variant: str
    seed: int
    trajectories: pd.DataFrame
    accounting: dict
    epidemic: pd.DataFrame | None = None


@dataclass
class SweepResult:
    """Everything a sweep produced, in memory.

    Attributes:
        scenario: the scenario swept (its own seed is not used; see ``seeds``).
        variants: the variant set.
        seeds: the seeds run.
        results: tidy: variant, seed, tick, date, behaviour, group, subgroup, value, change_pct.
        calibrated: tidy: variant, seed, week, behaviour, metric, simulated, calibrated,
            observed; ``None`` when the sweep could not be calibrated (see the manifest).
        summary: seed intervals per variant, quantity (value, change_pct, calibrated),
            behaviour (for ``calibrated``: the observed metric), group, subgroup and tick.
        overall: seed intervals of the period means per variant, behaviour and quantity, with
            the paired effect against the baseline.
        checks: the plausibility checks (see :mod:`simulator.sweep.checks`).
        timelines: the signals of every variant: variant, tick, date, stringency_index and the
            indicator levels.
        runs: one row per task with its accounting and the worker that ran it.
        evaluation: RMSE of the calibrator fitted on the baseline against the baselines of the
            evaluation protocol, on the test window (``None`` without calibration).
        manifest: the sweep record written to ``manifest.json``.
        cases: with a simulated epidemic, each variant's cases per tick across the seeds
            (:mod:`simulator.sweep.cases`); ``None`` otherwise.
    """

    scenario: Scenario
    variants: VariantSet
    seeds: tuple[int, ...]
    results: pd.DataFrame
    calibrated: pd.DataFrame | None
    summary: pd.DataFrame
    overall: pd.DataFrame
    checks: pd.DataFrame
    timelines: pd.DataFrame
    runs: pd.DataFrame
    evaluation: pd.DataFrame | None
    manifest: dict
    cases: pd.DataFrame | None = None


def run_sweep(
    scenario: Scenario,
    variants: VariantSet | Sequence[Variant],
    seeds: Sequence[int] | int | None = None,
    executor: Executor | None = None,
    cache_path: str | Path | None = None,
    calibrate: SweepCalibration | None = None,
    progress: bool = True,
) -> SweepResult:
    """Run every variant under every seed and summarise, calibrate and check the results.

    Every variant's timeline is built (and so validated) before any run starts.

    Args:
        scenario: the validated scenario.
        variants: a variant set, or variants (a baseline is found or added, see
            :meth:`VariantSet.of`).
        seeds: the seeds, or a count of seeds from the scenario's seed on; ``None`` uses the
            variant set's.
        executor: where the runs happen; ``None`` runs them in this process.
        cache_path: the shared response cache of language-model engines; ``None`` uses the
            scenario's or the per-user cache.
        calibrate: how to calibrate the results, e.g.
            :func:`calibration.run_calibration.calibrate_sweep` (fit the calibrator on the
            baseline's first seed and apply it to every run); ``None`` leaves them uncalibrated. The
            calibration layer sits above the simulator, so it is passed in, not imported.
        progress: show a progress bar of finished runs.

    Raises:
        ScenarioError: a variant does not fit the scenario.
    """
    started = time.perf_counter()
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    variant_set = variants if isinstance(variants, VariantSet) else VariantSet.of(variants)
    seeds = (tuple(int(s) for s in seeds) if isinstance(seeds, Sequence)
             else variant_set.seeds_for(scenario, seeds))
    base = PolicyTimeline.from_scenario(scenario)
    timelines = {v.name: v.apply(base, scenario) for v in variant_set}
    cache = _shared_cache(scenario, cache_path)
    own = executor is None
    executor = executor or LocalExecutor()
    runner = _for_workers(scenario, executor.workers)
    tasks = [SweepTask(v.name, seed, runner.replace(seed=seed), timelines[v.name], cache)
             for seed in seeds for v in variant_set]
    try:
        outputs = executor.map(run_task, tasks, progress=progress,
                               desc=f"{scenario.name}: {len(tasks)} runs")
    finally:
        if own:
            executor.close()
    result, calibration_note = _analysed(scenario, variant_set, seeds, timelines, outputs,
                                         calibrate)
    result.manifest = _manifest(result, executor, outputs, cache, calibration_note, started,
                                started_at)
    return result


def _analysed(scenario: Scenario, variant_set: VariantSet, seeds: tuple[int, ...],
              timelines: dict[str, PolicyTimeline], outputs: list[TaskResult],
              calibrate: SweepCalibration | None) -> tuple[SweepResult, str]:
    """The runs' results calibrated, summarised and checked, and how the calibration went.

    The result's manifest is left empty: it accounts for the whole sweep (see :func:`run_sweep`).
    """
    results = pd.concat([o.trajectories for o in outputs], ignore_index=True)
    runs = pd.DataFrame([{"variant": o.variant, "seed": o.seed, **o.accounting}
                         for o in outputs])
    calibrated, evaluation, calibration_note = (None, None, "not requested")
    if calibrate is not None:
        calibrated, evaluation, calibration_note = calibrate(
            scenario, variant_set.baseline, seeds[0], results)
    means = period_means(results, calibrated)
    checks = check_sweep(means, results, calibrated, variant_set, scenario.behaviours)
    result = SweepResult(
        scenario=scenario,
        variants=variant_set,
        seeds=seeds,
        results=results,
        calibrated=calibrated,
        summary=summarise(results, calibrated),
        overall=overall_effects(means, variant_set),
        checks=checks,
        timelines=_timelines(timelines),
        runs=runs,
        evaluation=evaluation,
        manifest={},
        cases=variant_cases([o.epidemic for o in outputs], seed_summary),
    )
    return result, calibration_note


def run_task(task: SweepTask) -> TaskResult:
    """Run one variant under one seed on this worker (the engine is kept for the next task).

    BLAS and OpenMP pools and the twin's own loops are held to one thread: a worker is one CPU,
    and the numbers then do not depend on how many threads a machine offers.
    """
    with threadpool_limits(1), limited_threads(1):
        engine = worker_engine(task.scenario, task.cache_path)
        run = run_scenario(task.scenario, engine=engine, timeline=task.timeline,
                           progress=False, agent_views=False)
    trajectories = run.trajectories[list(RESULT_COLUMNS[2:])]
    trajectories.insert(0, "seed", task.seed)
    trajectories.insert(0, "variant", task.variant)
    accounting = {key: run.manifest[key] for key in ACCOUNTING}
    accounting["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    accounting["engine"] = {k: v for k, v in run.manifest.items()
                            if k in ("engine", "model", "elicitation")}
    epidemic = None if run.epidemic is None else run.epidemic.assign(variant=task.variant,
                                                                     seed=task.seed)
    return TaskResult(task.variant, task.seed, trajectories, accounting, epidemic)


def worker_engine(scenario: Scenario, cache_path: str | None) -> Engine:
    """This process's engine for the scenario's engine configuration, created on first use."""
    spec = scenario.engine
    options = json.dumps(spec.options.model_dump(), sort_keys=True, default=str)
    key = (spec.name, options, cache_path, frozenset(scenario.policy.indicators.items()))
    if key not in _ENGINES:
        _ENGINES[key] = make_engine(spec.name, spec.options, scenario.policy.indicators,
                                    cache_path)
    return _ENGINES[key]


def release_engines() -> None:
    """Close the engines this process keeps for sweep tasks (frees a loaded model)."""
    while _ENGINES:
        _ENGINES.popitem()[1].close()


def seed_summary(frame: pd.DataFrame, keys: Sequence[str], column: str) -> pd.DataFrame:
    """Mean, SD, t interval, min and max of ``column`` across the seeds of each key group.

    Returns:
        One row per group: the keys, ``seeds``, ``mean``, ``sd``, ``ci_low``, ``ci_high``
        (NaN with one seed), ``min`` and ``max``.
    """
    grouped = frame.groupby(list(keys), sort=False, dropna=False)[column]
    out = grouped.agg(seeds="count", mean="mean", sd="std", min="min", max="max").reset_index()
    n = out["seeds"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf(0.5 + INTERVAL / 2, n - 1) * out["sd"].to_numpy() / np.sqrt(n)
    half = np.where(n > 1, half, np.nan)
    out.insert(out.columns.get_loc("sd") + 1, "ci_low", out["mean"] - half)
    out.insert(out.columns.get_loc("ci_low") + 1, "ci_high", out["mean"] + half)
    return out


def summarise(results: pd.DataFrame, calibrated: pd.DataFrame | None) -> pd.DataFrame:
    """Seed intervals per variant, quantity, behaviour, group, subgroup and tick."""
    keys = ["variant", "quantity", "behaviour", "group", "subgroup", "tick", "date"]
    long = results.melt(id_vars=list(KEYS), value_vars=["value", "change_pct"],
                        var_name="quantity", value_name="x")
    parts = [long]
    if calibrated is not None:
        ticks = results.drop_duplicates("date").set_index("date")["tick"]
        cal = calibrated.rename(columns={"week": "date", "calibrated": "x"})
        cal = cal.assign(behaviour=cal["metric"], quantity="calibrated", group="all",
                         subgroup="all", tick=cal["date"].map(ticks))
        parts.append(cal[[*KEYS, "quantity", "x"]])
    return seed_summary(pd.concat(parts, ignore_index=True), keys, "x")


def period_means(results: pd.DataFrame, calibrated: pd.DataFrame | None) -> pd.DataFrame:
    """The population's mean over the period per variant, seed, behaviour and quantity.

    Quantities: ``value`` (probability), ``change_pct`` (% vs the pre-policy routine) and, when
    calibrated, ``calibrated`` (the observed metric's units, keyed by the metric's behaviour).
    """
    population = results[(results["group"] == "all") & (results["tick"] >= 0)]
    means = population.groupby(["variant", "seed", "behaviour"], sort=False)[
        ["value", "change_pct"]].mean().reset_index()
    means = means.melt(id_vars=["variant", "seed", "behaviour"], var_name="quantity",
                       value_name="mean")
    if calibrated is not None:
        cal = calibrated.dropna(subset=["behaviour"])
        cal = cal.groupby(["variant", "seed", "behaviour"], sort=False)["calibrated"].mean()
        cal = cal.reset_index().rename(columns={"calibrated": "mean"})
        means = pd.concat([means, cal.assign(quantity="calibrated")], ignore_index=True)
    return means


def overall_effects(means: pd.DataFrame, variants: VariantSet) -> pd.DataFrame:
    """Seed intervals of the period means, and of their paired difference from the baseline.

    Returns:
        One row per variant, behaviour and quantity: dose and grid axes, ``seeds``, ``mean``,
        ``sd``, ``ci_low``, ``ci_high``, ``min``, ``max``, and ``effect``, ``effect_low``,
        ``effect_high`` (the variant minus the baseline under the same seed).
    """
    keys = ["variant", "behaviour", "quantity"]
    overall = seed_summary(means, keys, "mean")
    base = means[means["variant"] == variants.baseline].drop(columns="variant")
    paired = means.merge(base, on=["seed", "behaviour", "quantity"], suffixes=("", "_base"))
    paired["effect"] = paired["mean"] - paired["mean_base"]
    effect = seed_summary(paired, keys, "effect")[[*keys, "mean", "ci_low", "ci_high"]]
    effect.columns = [*keys, "effect", "effect_low", "effect_high"]
    overall = overall.merge(effect, on=keys, how="left")
    info = pd.DataFrame([{"variant": v.name, "dose": v.dose, **dict(v.axes)} for v in variants])
    return info.merge(overall, on="variant")


def _shared_cache(scenario: Scenario, cache_path: str | Path | None) -> str | None:
    """The response cache every worker opens (none for the rules engine, which asks no model)."""
    if scenario.engine.name == "rules":
        return None
    path = cache_path or scenario.engine.cache or default_cache_path()
    return str(Path(path).expanduser().resolve())


def _for_workers(scenario: Scenario, workers: int) -> Scenario:
    """The scenario as workers run it: the local model gets its share of the CPUs per worker."""
    options = scenario.engine.options.given()
    if scenario.engine.name != "local" or workers < 2 or "n_threads" in options:
        return scenario
    options["n_threads"] = max(1, (os.cpu_count() or 1) // workers)
    return scenario.replace(engine={**dict(scenario.engine), "options": options})


def _timelines(timelines: dict[str, PolicyTimeline]) -> pd.DataFrame:
    frames = [t.to_frame().drop(columns=list(t.context.columns)).assign(variant=name)
              .rename_axis("tick").reset_index() for name, t in timelines.items()]
    frame = pd.concat(frames, ignore_index=True)
    return frame[["variant", *[c for c in frame.columns if c != "variant"]]]


def _manifest(result: SweepResult, executor: Executor, outputs: list[TaskResult],
              cache: str | None, calibration: str, started: float, started_at: str) -> dict:
    runs = result.runs
    checks = result.checks
    costs = runs["cost_usd"]
    engine = outputs[0].accounting["engine"] if outputs else {}
    return {
        "kind": "sweep",
        "scenario": result.scenario.to_dict(),
        "variants": result.variants.to_records(),
        "variants_file": result.variants.source,
        "baseline": result.variants.baseline,
        "axes": list(result.variants.axes),
        "dose_axis": result.variants.dose_axis,
        "seeds": list(result.seeds),
        "runs": len(runs),
        **executor.describe(),
        "worker_processes": int(runs["worker"].nunique()),
        "agents": int(runs["agents"].iloc[0]) if len(runs) else 0,
        "ticks": int(runs["ticks"].iloc[0]) if len(runs) else 0,
        **engine,
        "response_cache": cache,
        **{key: int(runs[key].sum()) for key in ("agent_ticks", "questions", "llm_calls",
                                                  "cache_hits", "failed_answers",
                                                  "repaired_answers", "tokens_in",
                                                  "tokens_out")},
        "cost_usd": None if costs.isna().any() else float(costs.sum()),
        "calibration": calibration,
        "checks_passed": int(checks["passed"].sum()) if len(checks) else 0,
        "checks_total": len(checks),
        "run_s_total": round(float(runs["wall_s"].sum()), 3),
        "wall_s": round(time.perf_counter() - started, 3),
        "started_at": started_at,
        "versions": versions(),
    }
