"""The evaluation protocol: calibrate on 2020, test on January-April 2021, against baselines.

Weekly resolution, any regions with policy and mobility data (the US nation and states, every
country), OxCGRT indicators as signals, the six Google mobility categories as observed metrics.
A week belongs to a window only if all seven of its days do, so the week of 28 December 2020 is
in neither and no test day is ever seen in training. Metric: RMSE in percentage points per
category, pooled over regions, and its macro average over the categories; the same per region.
Every method is fitted on the same training rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from calibration.baselines import CalibratedTwin, Method, Persistence, gradient_boosting, ridge
from calibration.cross_validation import choose_calibrator, held_out_predictions
from calibration.inputs import available, complete, indicator_columns
from calibration.intervals import NOMINAL, conformal_half_width
from calibration.protocol import AGENTS, REGIONS, SEED, TEST_WINDOW, TRAIN_WINDOW
from calibration.rmse import region_rmse_table, rmse_table
from simulator.errors import UsageError
from simulator.fitted_parameters import FittedParameters
from simulator.population.targets import shipped_attributes
from simulator.sources import (
    MOBILITY_CATEGORIES,
    ObservedData,
    load_observed,
    regions_of,
    world_regions,
)
from simulator.sources.regions import region_table, selects_world

CASE_CONTEXT = ("new_cases_per_100k", "case_growth", "new_deaths_per_100k")
FULL_CONTEXT = CASE_CONTEXT + ("vaccinated_pct", "temperature_f", "holiday")
SIM_PREFIX = "sim_"


def window_of(weeks: pd.Series) -> pd.Series:
    """``train``, ``test`` or ``None`` for each week (labelled by its Monday)."""
    start = pd.to_datetime(weeks)
    end = start + pd.Timedelta(days=6)
    inside = lambda window: (start >= pd.Timestamp(window[0])) & (end <= pd.Timestamp(window[1]))  # noqa: E731
    labels = np.where(inside(TRAIN_WINDOW), "train", np.where(inside(TEST_WINDOW), "test", None))
    return pd.Series(labels, index=weeks.index, dtype=object)


def simulated_features(trajectories: pd.DataFrame, region: str) -> pd.DataFrame:
    """Region-week rows with a ``sim_<behaviour>`` column each: % change from the baseline."""
    data = trajectories[(trajectories["group"] == "all") & (trajectories["tick"] >= 0)]
    wide = data.pivot(index="date", columns="behaviour", values="change_pct")
    wide.columns = [SIM_PREFIX + str(c) for c in wide.columns]
    wide = wide.reset_index().rename(columns={"date": "week"})
    wide.insert(0, "region", region)
    wide["week"] = pd.to_datetime(wide["week"])
    return wide


def assemble(observed: ObservedData, simulated: pd.DataFrame | None = None
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Inputs (signals, context, simulated aggregates) and targets for the region-weeks they share.

    Returns:
        ``(inputs, targets)``: inputs with region, week, window and the input columns; targets
        with the six mobility categories in percentage points (NaN where Google withheld them).
    """
    keys = ["region", "week"]
    frame = observed.mobility.merge(observed.policy, on=keys).merge(observed.context, on=keys)
    if simulated is not None:
        frame = frame.merge(simulated, on=keys)
    frame = frame.sort_values(keys).reset_index(drop=True)
    frame["window"] = window_of(frame["week"])
    targets = frame[list(MOBILITY_CATEGORIES)]
    inputs = frame.drop(columns=list(MOBILITY_CATEGORIES))
    return inputs, targets


def baseline_methods(inputs: pd.DataFrame, targets: pd.DataFrame
                     ) -> tuple[list[Method], list[str]]:
    """The baselines of the protocol (each fitted on the training rows only).

    ``ridge_indicators`` is the twin's own calibrator, with its settings chosen the same way, on
    the OxCGRT indicators instead of the simulated aggregates: the twin without its simulation.
    ``gbm_regions`` also sees which region a row is, as the twin's region effects do. A column
    with no value in the training rows is left out of every method that would read it.

    Returns:
        ``(methods, notes)``: the baselines, and a note per input left out.
    """
    indicators, absent = available(inputs, indicator_columns(inputs))
    context, missing = available(inputs, FULL_CONTEXT)
    notes = [f"no observed {name} in the training rows: left out of the baselines"
             for name in [*absent, *missing]]
    cases = [c for c in CASE_CONTEXT if c in context]
    alpha, lags, effects, _ = choose_calibrator(inputs, targets, indicators)
    methods = [
        Persistence(),
        gradient_boosting("gbm", [*indicators, *cases],
                          "gradient boosting on the OxCGRT indicators and case context"),
        gradient_boosting("gbm_all_context", [*indicators, *context],
                          "gradient boosting on the indicators and every context signal the "
                          "twin receives (cases, vaccination, temperature, holidays)"),
        gradient_boosting("gbm_regions", [*indicators, *context, "region_code"],
                          "gbm_all_context plus the region as a categorical feature",
                          categorical=["region_code"]),
        ridge("ridge_stringency", ["stringency_index"], "ridge on the stringency index"),
        CalibratedTwin(indicators, alpha, lags, effects, name="ridge_indicators",
                       description="the twin's calibrator on the OxCGRT indicators instead of "
                       f"the simulation (alpha={alpha:g}, lags={lags}, region effects "
                       f"{effects}): the twin without its agents"),
    ]
    return methods, notes


@dataclass
class Evaluation:
    """Result of the protocol.

    Attributes:
        table: RMSE per method (rows) and category (columns, plus ``macro``), test window,
            pooled over the regions.
        by_region: the same per region (columns region, method, categories, macro).
        train_table: the pooled table on the training window (in-sample fit).
        predictions: tidy: region, week, window, metric, observed, one column per method.
        twin: the fitted twin (its calibrator is ``twin.calibrator``).
        selection: cross-validation scores of the twin's candidate settings.
        regions: regions evaluated.
        engine: the engine that produced the simulated aggregates.
        simulation: accounting of the simulations (agents, LLM calls, cache hits, wall time).
        methods: method name -> description.
        excluded: regions of a ``world`` selection left out, with the reason.
        intervals: the twin's prediction bands: ``nominal`` coverage, ``half_width`` per metric
            (split-conformal, from the blocked cross-validation's held-out residuals) and the
            ``coverage`` measured on the test weeks (per metric and ``pooled``).
        notes: inputs the data lacked and how the methods did without them
            (:mod:`calibration.inputs`).
        parameters: the mechanism's parameters fitted on the training weeks (``--fit``;
            :class:`~simulator.fitted_parameters.FittedParameters`), ``None`` for the priors.
    """

    table: pd.DataFrame
    by_region: pd.DataFrame
    train_table: pd.DataFrame
    predictions: pd.DataFrame
    twin: CalibratedTwin
    selection: pd.DataFrame
    regions: list[str]
    engine: str
    simulation: dict = field(default_factory=dict)
    methods: dict = field(default_factory=dict)
    excluded: dict = field(default_factory=dict)
    intervals: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    parameters: FittedParameters | None = None

    def improvement_pct(self, baseline: str = "gbm") -> float:
        """How much lower the twin's macro RMSE is than a baseline's, in % of the baseline's."""
        twin = self.table.loc[self.twin.name, "macro"]
        other = self.table.loc[baseline, "macro"]
        return float(100.0 * (other - twin) / other)

    def to_json(self) -> dict:
        """The headline figures as plain data (``socialtwin evaluate --json``)."""
        return {
            "engine": self.engine,
            "regions": len(self.regions),
            "test_window": [TEST_WINDOW[0].isoformat(), TEST_WINDOW[1].isoformat()],
            "train_window": [TRAIN_WINDOW[0].isoformat(), TRAIN_WINDOW[1].isoformat()],
            "macro_rmse": {k: round(float(v), 4) for k, v in self.table["macro"].items()},
            "rmse": {m: {k: round(float(v), 4) for k, v in row.items()}
                     for m, row in self.table.iterrows()},
            "improvement_vs_gbm_pct": round(self.improvement_pct("gbm"), 2),
            "improvement_vs_gbm_all_context_pct": round(self.improvement_pct("gbm_all_context"),
                                                        2),
            "improvement_vs_persistence_pct": round(self.improvement_pct("persistence"), 2),
            "twin": self.twin.calibrator.get_params(),
            "simulation": self.simulation,
            "per_region": {region: {row["method"]: round(float(row["macro"]), 4)
                                    for _, row in rows.iterrows()}
                           for region, rows in self.by_region.groupby("region")},
            "excluded": self.excluded,
            "intervals": self.intervals,
            "notes": self.notes,
            "parameters": None if self.parameters is None else {
                "values": self.parameters.by_name(),
                "priors": {v.name: v.prior for v in self.parameters.values},
                "fit": self.parameters.fit},
        }


def compare(inputs: pd.DataFrame, targets: pd.DataFrame, engine: str,
            simulation: dict | None = None) -> Evaluation:
    """Fit the twin and the baselines on the training rows and score them on the test rows."""
    features = [c for c in inputs.columns if c.startswith(SIM_PREFIX)]
    train = (inputs["window"] == "train").to_numpy()
    test = (inputs["window"] == "test").to_numpy()
    if not train.any() or not test.any():
        raise UsageError("the data cover no whole training or test week; the protocol needs "
                         f"{TRAIN_WINDOW[0]}..{TRAIN_WINDOW[1]} and {TEST_WINDOW[0]}.."
                         f"{TEST_WINDOW[1]}")
    inputs, notes = complete(inputs)
    inputs = inputs.assign(region_code=pd.factorize(inputs["region"], sort=True)[0])
    alpha, lags, effects, selection = choose_calibrator(inputs, targets, features)
    twin = CalibratedTwin(features, alpha, lags, effects, name=f"twin[{engine}]")
    baselines, left_out = baseline_methods(inputs, targets)
    methods: list[Method] = [twin, *baselines]
    predictions = {m.name: m.fit(inputs[train], targets[train]).predict(inputs) for m in methods}
    table = rmse_table({k: v[test] for k, v in predictions.items()}, targets[test])
    by_region = region_rmse_table({k: v[test] for k, v in predictions.items()}, targets[test],
                                  inputs.loc[test, "region"])
    train_table = rmse_table({k: v[train] for k, v in predictions.items()}, targets[train])
    residuals = targets[train] - held_out_predictions(inputs, targets, features, alpha, lags,
                                                      effects)
    half = {m: conformal_half_width(residuals[m].to_numpy()) for m in targets.columns}
    tidy = _tidy(inputs, targets, predictions, features, half, twin.name)
    intervals = {"nominal": NOMINAL, "half_width": {m: round(v, 4) for m, v in half.items()},
                 "coverage": band_coverage(tidy[tidy["window"] == "test"])}
    return Evaluation(table, by_region, train_table, tidy, twin, selection,
                      sorted(inputs["region"].unique()), engine, simulation or {},
                      {m.name: m.description for m in methods}, intervals=intervals,
                      notes=notes + left_out)


def band_coverage(tidy: pd.DataFrame) -> dict[str, float | None]:
    """Share of observed values inside the twin's band, per metric and pooled (observed rows)."""
    seen = tidy[tidy["observed"].notna()]
    inside = (seen["observed"] >= seen["band_lower"]) & (seen["observed"] <= seen["band_upper"])
    found = {"pooled": round(float(inside.mean()), 4) if len(inside) else None}
    for metric, rows in inside.groupby(seen["metric"]):
        found[metric] = round(float(rows.mean()), 4)
    return found


def _tidy(inputs, targets, predictions, features, half_width, twin) -> pd.DataFrame:
    frames = []
    for metric in targets.columns:
        part = inputs[["region", "week", "window"]].copy()
        part["metric"] = metric
        part["observed"] = targets[metric].to_numpy()
        simulated = SIM_PREFIX + metric
        part["simulated_change_pct"] = inputs[simulated].to_numpy() if simulated in features \
            else np.nan
        for name, predicted in predictions.items():
            part[name] = predicted[metric].to_numpy()
        part["band_lower"] = part[twin] - half_width[metric]
        part["band_upper"] = part[twin] + half_width[metric]
        frames.append(part)
    return pd.concat(frames, ignore_index=True)


def simulate_regions(scenario, regions: Sequence[str], agents: int, seed: int,
                     cache_path=None, progress: bool = True, parameters=None
                     ) -> tuple[pd.DataFrame, dict]:
    """Run the scenario once per region and return the simulated aggregates per region-week.

    Args:
        scenario: the scenario to run (its region is replaced by each of ``regions``).
        regions: canonical region codes.
        agents: population size per region.
        seed: run seed (the same for every region).
        cache_path: response cache for LLM engines.
        progress: show a progress bar over regions.
        parameters: fitted parameters applied to each region's scenario (a region's own
            values, with partial pooling, to its own).
    """
    from tqdm import tqdm

    from calibration.regional_parameters import regional_engine, regional_scenario
    from simulator.cognition import make_engine
    from simulator.run import run_scenario

    engine = make_engine(scenario.engine.name, scenario.engine.options,
                         scenario.policy.indicators, cache_path or scenario.engine.cache)
    frames, totals = [], {"agents_per_region": agents, "llm_calls": 0, "cache_hits": 0,
                          "failed_answers": 0, "agent_ticks": 0, "wall_s": 0.0,
                          "missing_inputs": {}}
    try:
        for region in tqdm(regions, desc="simulating regions", disable=not progress, delay=3):
            variant = regional_scenario(scenario, region, parameters, population_size=agents,
                                        seed=seed)
            with regional_engine(variant, scenario, engine, cache_path) as own:
                result = run_scenario(variant, engine=own, progress=False, agent_views=False)
            frames.append(simulated_features(result.trajectories, region))
            for key in ("llm_calls", "cache_hits", "failed_answers", "agent_ticks", "wall_s"):
                totals[key] += result.manifest[key]
            if result.manifest["missing_inputs"]:
                totals["missing_inputs"][region] = result.manifest["missing_inputs"]
    finally:
        engine.close()
    totals["wall_s"] = round(totals["wall_s"], 1)
    totals["llm_calls_per_agent_tick"] = totals["llm_calls"] / max(totals["agent_ticks"], 1)
    return pd.concat(frames, ignore_index=True), totals


def evaluate(scenario, regions: str | Sequence[str] = REGIONS,
             data_dir: str | Path | None = None, agents: int = AGENTS, seed: int = SEED,
             cache_path=None, progress: bool = True, fit: bool = False,
             trials: int | None = None, fit_events: bool = True, fit_pooling: bool = False
             ) -> Evaluation:
    """Run the whole protocol for one scenario (and its engine) over a set of regions.

    Args:
        scenario: the case-study scenario (e.g. scenarios/covid_us_2020.yaml, engine applied);
            its region is replaced by each region in turn.
        regions: ``all`` (the US nation and states), ``nation``, ``states``, ``world`` (every
            country with policy and mobility data; those without population data are left out
            and listed in :attr:`Evaluation.excluded`), or codes and names (``FRA,IND``).
        data_dir: raw upstream files to use instead of the shipped weekly tables, for the
            observed metrics and for the policy and context the agents receive.
        agents: population size per region.
        seed: run seed.
        cache_path: response cache for LLM engines.
        progress: show progress bars.
        fit: fit the mechanism on the training weeks of the regions first
            (:mod:`calibration.mechanism_fit`) and evaluate the twin with the fitted parameters.
        trials: the fit's most L-BFGS-B iterations (default: the fit's).
        fit_events: the fit matches the policy events inside the training weeks too
            (:mod:`calibration.training_events`).
        fit_pooling: the fit pools partially by region (each region's own compliance scale).

    Raises:
        UsageError: a region named explicitly lacks policy, mobility or population data (every
            such region is named, with what it lacks), or no region is left.
    """
    from simulator.run import apply_overrides

    # Checked as the scenario file's fields are, before any work.
    scenario = apply_overrides(scenario, agents=agents, seed=seed, data_dir=data_dir)
    observed = load_observed(data_dir, regions=regions)
    codes, lacking = protocol_regions(observed, regions, scenario.marginals is not None)
    fitted = None
    if fit:
        from calibration.mechanism_fit import MAX_ITERATIONS, check_fittable, fit_mechanism

        check_fittable(scenario)
        fitted = fit_mechanism(scenario, observed, codes, seed=seed,
                               iterations=trials or MAX_ITERATIONS, progress=progress,
                               events=fit_events, pooling=fit_pooling)
        scenario = fitted.applied_to(scenario)
    simulated, totals = simulate_regions(scenario, codes, agents, seed, cache_path, progress,
                                         fitted)
    inputs, targets = assemble(observed, simulated)
    evaluation = compare(inputs, targets, scenario.engine.name, totals)
    evaluation.excluded = lacking
    evaluation.parameters = fitted
    return evaluation


def protocol_regions(observed: ObservedData, regions: str | Sequence[str], marginals: bool
                     ) -> tuple[list[str], dict[str, str]]:
    """The regions a protocol runs on, and those of a ``world`` selection it leaves out.

    Args:
        observed: the observed tables (the selection's or every region's).
        regions: the user's selection (see :func:`evaluate`).
        marginals: the scenario brings its own population marginals.

    Returns:
        ``(codes, lacking)``: the regions to run, and region -> what it lacks for those left out.

    Raises:
        UsageError: a region named explicitly lacks an input (every such region is named), or
            no region is left.
    """
    world = selects_world(regions)
    requested = world_regions(observed) if world else regions_of(regions)
    lacking = _lacking(observed, requested, marginals)
    if lacking and not world:
        raise UsageError("cannot evaluate " + "; ".join(f"{code}: {why}"
                                                        for code, why in lacking.items()))
    codes = [code for code in requested if code not in lacking]
    if not codes:
        raise UsageError("no region left to evaluate: " + "; ".join(
            f"{code}: {why}" for code, why in lacking.items()))
    return codes, lacking


def _lacking(observed: ObservedData, codes: Sequence[str], marginals: bool) -> dict[str, str]:
    """What each region lacks of the protocol's inputs: mobility, policy or population data."""
    mobility, policy = set(observed.mobility["region"]), set(observed.policy["region"])
    lacking = {}
    for code in codes:
        if code not in mobility:
            lacking[code] = "no observed mobility"
        elif code not in policy:
            lacking[code] = "no OxCGRT policy"
        elif not marginals and not (code in region_table().index and shipped_attributes(code)):
            lacking[code] = "no population data (UN WPP has no age-by-sex figures for it)"
    return lacking
