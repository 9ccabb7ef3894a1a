"""Calibrate a run: fit the calibrator on a run's trajectories and the region's observed metrics.

This is the single-run path (``socialtwin calibrate``, the report of ``make run``, counterfactual
sweeps through :func:`calibrate_sweep`): the calibrator is fitted on the run's own region over the
training window and can then turn any run of the same scenario (a counterfactual variant) into
observed units. The protocol over many regions is :func:`calibration.evaluate.evaluate`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from calibration.calibrator import BehaviourCalibrator
from calibration.evaluate import SIM_PREFIX, Evaluation, assemble, compare, simulated_features
from calibration.plots import plot_calibration
from calibration.protocol import TEST_WINDOW, TRAIN_WINDOW
from simulator.errors import UsageError
from simulator.outputs import ReportSection, markdown_table
from simulator.scenario import Scenario
from simulator.sources import MOBILITY_CATEGORIES, load_observed

CALIBRATION_FILES = ("calibrator.json", "calibration.csv", "calibration_table.csv",
                     "plots/calibration.png")
"""The files :func:`calibration_section` adds to a run folder."""


@dataclass
class RunCalibration:
    """A run calibrated against its region's observations.

    Attributes:
        calibrator: fitted on the training window.
        evaluation: the twin against the baselines on this one region (train and test tables).
        region: the region.
    """

    calibrator: BehaviourCalibrator
    evaluation: Evaluation
    region: str


def calibrate_run(trajectories: pd.DataFrame, region: str, engine: str,
                  data_dir: str | Path | None = None) -> RunCalibration:
    """Fit the calibrator for one run and score it against the baselines on the test window.

    Args:
        trajectories: the run's tidy trajectories.
        region: the run's region.
        engine: the engine that produced the run (for labels).
        data_dir: raw upstream files instead of the shipped weekly tables.

    Raises:
        UsageError: the region has no observed data covering the training and test windows.
    """
    observed = load_observed(data_dir, regions=[region])
    if observed.mobility.empty:
        raise UsageError(f"no observed mobility for region {region}")
    inputs, targets = assemble(observed, simulated_features(trajectories, region))
    evaluation = compare(inputs, targets, engine)
    return RunCalibration(evaluation.twin.calibrator, evaluation, region)


def apply_calibrator(calibrator: BehaviourCalibrator, trajectories: pd.DataFrame,
                     region: str) -> pd.DataFrame:
    """Observed-unit predictions for a run: one row per week and metric.

    Columns: region, week, metric, simulated (the behaviour's % change from baseline) and
    calibrated (the predicted observed metric, e.g. Google mobility % change).
    """
    features = simulated_features(trajectories, region).sort_values("week")
    names = list(calibrator.feature_names_in_)
    missing = [n for n in names if n not in features.columns]
    if missing:
        raise UsageError(f"the run has no behaviours {[n[len(SIM_PREFIX):] for n in missing]} "
                         "that the calibrator was fitted on")
    predicted = calibrator.predict(features[names], groups=features["region"].to_numpy())
    frames = []
    for j, metric in enumerate(calibrator.metrics_):
        source = SIM_PREFIX + str(metric)
        frames.append(pd.DataFrame({
            "region": features["region"].to_numpy(),
            "week": features["week"].to_numpy(),
            "metric": metric,
            "simulated": features[source].to_numpy() if source in features else float("nan"),
            "calibrated": predicted[:, j] if predicted.ndim == 2 else predicted,
        }))
    return pd.concat(frames, ignore_index=True)


def calibration_section(calibration: RunCalibration) -> ReportSection:
    """The calibration's part of a run folder (see :func:`simulator.outputs.write_run`).

    Files: ``calibrator.json`` (the fitted calibrator), ``calibration.csv`` (observed, simulated
    and every method's prediction per week and metric), ``calibration_table.csv`` (test RMSE) and
    ``plots/calibration.png``; the manifest gains a ``calibration`` entry.
    """
    evaluation = calibration.evaluation
    summary = evaluation.to_json()
    plot = CALIBRATION_FILES[-1]
    text = "\n".join([
        "## Calibration",
        "",
        "The calibrator (ridge per metric on the simulated aggregates; settings chosen by "
        "blocked cross-validation inside the training window: "
        f"{_settings(calibration.calibrator)}) was fitted on "
        f"{calibration.region}'s observed metrics over {summary['train_window'][0]} to "
        f"{summary['train_window'][1]} and tested on {summary['test_window'][0]} to "
        f"{summary['test_window'][1]}, which it never saw. Test RMSE in percentage points "
        "(lower is better); every baseline is trained on the same weeks:",
        "",
        markdown_table(_readable(evaluation.table), float_format=".2f"),
        "",
        f"The twin is {summary['improvement_vs_gbm_pct']:+.1f}% against gradient boosting "
        f"and {summary['improvement_vs_persistence_pct']:+.1f}% against persistence "
        "(positive = lower error). This is one region; `socialtwin evaluate` runs the "
        "protocol over many (`--regions all` for the US nation and states, `--regions "
        "world` for every country).",
        "",
        _band_text(evaluation.intervals),
        *([""] + [f"- {note}" for note in evaluation.notes] if evaluation.notes else []),
        "",
        f"![calibration]({plot})",
    ])
    writers = (
        calibration.calibrator.save,
        lambda path: evaluation.predictions.to_csv(path, index=False, float_format="%.6g"),
        lambda path: evaluation.table.to_csv(path, index_label="method", float_format="%.4f"),
        lambda path: plot_calibration(evaluation.predictions, evaluation.twin.name, path,
                                      calibration.region),
    )
    files = dict(zip(CALIBRATION_FILES, writers, strict=True))
    manifest = {"calibration": {k: summary[k] for k in (
        "macro_rmse", "improvement_vs_gbm_pct", "improvement_vs_persistence_pct", "twin",
        "train_window", "test_window", "intervals", "notes")}}
    return ReportSection(text, manifest, files)


def _band_text(intervals: dict) -> str:
    """What the calibrated series' band is and how often it held on the test weeks."""
    coverage = intervals["coverage"]
    per_metric = ", ".join(f"{m.replace('_', ' ')} {v:.0%}" for m, v in coverage.items()
                           if m != "pooled" and v is not None)
    pooled = coverage["pooled"]
    return (f"The calibrated series carry a {intervals['nominal']:.0%} prediction band "
            "(split-conformal: the band's half-width is the quantile of the calibrator's "
            "residuals on training weeks it was not fitted on, by blocked cross-validation). "
            "On the test weeks it covered "
            + (f"{pooled:.0%} of the observations ({per_metric})." if pooled is not None
               else "no observation (none observed)."))


def _settings(calibrator: BehaviourCalibrator) -> str:
    p = calibrator.get_params()
    return f"alpha {p['alpha']:g}, {p['lags']} lag(s), region effects {p['region_effects']}"


def _readable(table: pd.DataFrame) -> pd.DataFrame:
    """An RMSE table with the method as a column and spaces in the metric names."""
    table = table.rename(columns=lambda c: c.replace("_", " "))
    return table.rename_axis("method").reset_index()


def calibration_gap(scenario, data_dir: str | Path | None = None) -> str | None:
    """Why a scenario's run cannot be calibrated against observed data, or ``None`` if it can.

    A run can be calibrated when its behaviours map to observed metrics, its period covers
    weeks of both the training and the test window, and its region has observations.
    """
    metrics = {b.metric for b in scenario.behaviours if b.metric}
    known = metrics & set(MOBILITY_CATEGORIES)
    if not known:
        return "no behaviour maps to an observed metric"
    if scenario.tick != "week":
        return "calibration is weekly; the scenario has daily ticks"
    if scenario.start > TRAIN_WINDOW[1] - dt.timedelta(days=6) or \
            scenario.end < TEST_WINDOW[0] + dt.timedelta(days=6):
        return (f"the period {scenario.start}..{scenario.end} does not reach into both the "
                f"training ({TRAIN_WINDOW[0]}..{TRAIN_WINDOW[1]}) and the test "
                f"({TEST_WINDOW[0]}..{TEST_WINDOW[1]}) windows")
    if load_observed(data_dir, regions=[scenario.region]).mobility.empty:
        return f"no observed mobility for {scenario.region}"
    return None


def calibrate_sweep(scenario: Scenario, baseline: str, seed: int, results: pd.DataFrame,
                    data_dir: str | Path | None = None
                    ) -> tuple[pd.DataFrame | None, pd.DataFrame | None, str]:
    """Fit the calibrator once on the baseline's first seed and apply it to every run.

    Pass it to :func:`simulator.sweep.run_sweep` as ``calibrate`` (with
    ``functools.partial(calibrate_sweep, data_dir=...)`` for raw data).

    Returns:
        ``(calibrated, evaluation, note)``: the tidy calibrated table (variant, seed, week,
        behaviour, metric, simulated, calibrated, its prediction band ``band_lower`` and
        ``band_upper``, observed), the calibrator's test-window RMSE table against the
        baselines, and how calibration went; the tables are ``None`` when the scenario cannot
        be calibrated (see :func:`calibration_gap`).
    """
    gap = calibration_gap(scenario, data_dir)
    if gap is not None:
        return None, None, f"skipped: {gap}"
    trajectories = results[(results["variant"] == baseline) & (results["seed"] == seed)]
    fitted = calibrate_run(trajectories, scenario.region, scenario.engine.name, data_dir)
    frames = []
    for (variant, run_seed), run in results.groupby(["variant", "seed"], sort=False):
        part = apply_calibrator(fitted.calibrator, run, scenario.region)
        frames.append(part.drop(columns="region").assign(variant=variant, seed=run_seed))
    calibrated = pd.concat(frames, ignore_index=True)
    intervals = fitted.evaluation.intervals
    half = calibrated["metric"].map(intervals["half_width"])
    calibrated["band_lower"] = calibrated["calibrated"] - half
    calibrated["band_upper"] = calibrated["calibrated"] + half
    metrics = {b.metric: b.name for b in scenario.behaviours if b.metric}
    calibrated["behaviour"] = calibrated["metric"].map(metrics)
    observed = load_observed(data_dir, regions=[scenario.region]).mobility
    observed = observed.drop(columns="region").melt(id_vars="week", var_name="metric",
                                                    value_name="observed")
    calibrated = calibrated.merge(observed, on=["week", "metric"], how="left")
    columns = ["variant", "seed", "week", "behaviour", "metric", "simulated", "calibrated",
               "band_lower", "band_upper", "observed"]
    covered = intervals["coverage"]["pooled"]
    note = (f"fitted on {baseline} (seed {seed}), applied to every run; calibrated values "
            f"carry a {intervals['nominal']:.0%} band (band_lower, band_upper in "
            "calibrated.csv) that covered "
            + ("no observation" if covered is None else f"{covered:.0%}")
            + " of the test weeks")
    return calibrated[columns], fitted.evaluation.table, note
