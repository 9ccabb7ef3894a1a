"""What the event protocol prints and writes: the summary text, tables, JSON and plots."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from calibration.effect_scores import POOLED
from calibration.event_effects import NOISE_QUANTILE
from calibration.event_protocol import EventEvaluation
from calibration.intervals import NOMINAL
from calibration.plots import plot_event_effects
from simulator.run_folder import RunFolder, claimed

FIGURES = ("sign_agreement", "pearson", "spearman", "mae", "coverage")
_HEADERS = {"sign_agreement": "sign agreement", "pearson": "Pearson", "spearman": "Spearman",
            "mae": "MAE (pp)", "coverage": f"{NOMINAL:.0%} band coverage"}


def methods_table(evaluation: EventEvaluation, category: str = POOLED) -> pd.DataFrame:
    """The figures of every method (rows) for one category or pooled."""
    scores = evaluation.scores[evaluation.scores["category"] == category]
    table = scores.set_index("method").loc[evaluation.method_names, list(FIGURES)]
    return table.astype(float).rename(columns=_HEADERS)


def event_text(evaluation: EventEvaluation) -> str:
    """The command's printed summary."""
    counts = evaluation.counts
    lines = [
        f"Event protocol, engine {evaluation.engine}: {counts['scored']} events in "
        f"{evaluation.events['region'].nunique()} regions scored out of sample by region "
        f"({evaluation.events['fold'].nunique()} folds); "
        f"{counts['found']} found, set aside: " + ", ".join(
            f"{k.replace('_', ' ')} {v}" for k, v in counts.items()
            if k not in ("found", "scored") and v),
        "",
        "Events per indicator and direction (an event is counted under every indicator it "
        "changed; alone = that indicator only):",
        _counts_table(evaluation).to_string(),
        "",
        f"Placebo noise per category (standard deviation of the estimator at dates without "
        f"any change; an observed effect is above the noise beyond the placebo's "
        f"{NOISE_QUANTILE:.0%} quantile of magnitudes):",
        evaluation.noise[["sd", "threshold", "n"]].round(2).to_string(),
        "",
        "Effects pooled over the categories (sign agreement on events above the noise; "
        f"correlations and MAE over all; coverage of the {NOMINAL:.0%} split-conformal band):",
        methods_table(evaluation).round(3).to_string(),
        "",
        "The twin per category:",
        _twin_by_category(evaluation).round(3).to_string(),
    ]
    for fold, fitted in (evaluation.parameters or {}).items():
        rmse = fitted["train_macro_rmse"]
        lines.append(f"fold {fold}: parameters fitted on {fitted['regions']} other regions' "
                     f"training weeks (training macro RMSE {rmse['prior']:.2f} at the priors -> "
                     f"{rmse['fitted']:.2f}, {fitted['wall_s']:.0f} s)")
    for code, why in evaluation.excluded.items():
        lines.append(f"left out: {code} ({why})")
    for notes in evaluation.simulation.get("missing_inputs", {}).values():
        lines.append(f"missing inputs: {'; '.join(notes)}")
    lines += [f"note: {note}" for note in evaluation.notes]
    return "\n".join(lines)


def _counts_table(evaluation: EventEvaluation) -> pd.DataFrame:
    rows = evaluation.by_indicator.groupby(["indicator", "direction"])[["n_events", "n_alone"]]
    table = rows.max().unstack("direction").fillna(0).astype(int)
    table.columns = [f"{direction} {'events' if kind == 'n_events' else 'alone'}"
                     for kind, direction in table.columns]
    return table


def _twin_by_category(evaluation: EventEvaluation) -> pd.DataFrame:
    scores = evaluation.scores[evaluation.scores["method"] == "twin"]
    return scores.set_index("category")[["n", "n_above_noise", *FIGURES]].rename(
        columns=_HEADERS)


EVENT_FILES = ("events.csv", "event_scores.csv", "events_by_indicator.csv", "events.json",
               "plots/events.png")
"""The files the event protocol writes (besides the folder's manifest)."""


def write_event_outputs(evaluation: EventEvaluation, out: str | Path | RunFolder,
                        overwrite: bool = False) -> list[Path]:
    """Write the protocol's files into ``out``, whole (see :class:`simulator.run_folder.RunFolder`).

    Files: ``events.csv`` (one row per event and category: region, date, indicators, observed,
    the twin with its band, each baseline), ``event_scores.csv`` (figures per method and
    category), ``events_by_indicator.csv``, ``events.json`` (what ``--json`` prints),
    ``plots/events.png`` (the twin's effects against the observed ones) and ``manifest.json``.

    Args:
        evaluation: the protocol's result.
        out: the folder, or one a command claimed already.
        overwrite: replace an earlier run in the folder; write beside other files in it.

    Returns:
        The protocol's files (the manifest aside), where they were published.
    """
    with claimed(out, EVENT_FILES, overwrite) as folder:
        stage = folder.stage
        effects = evaluation.effects.merge(
            evaluation.events[["event", "indicators", "direction"]], on="event", how="left")
        columns = ["event", "region", "week", "indicators", "direction", "fold", "category",
                   "observed", "treated_change", "controls", *evaluation.method_names,
                   "twin_lower", "twin_upper"]
        effects[columns].rename(columns={"week": "date"}).to_csv(
            stage / EVENT_FILES[0], index=False, float_format="%.4f")
        evaluation.scores.to_csv(stage / EVENT_FILES[1], index=False, float_format="%.4f")
        evaluation.by_indicator.to_csv(stage / EVENT_FILES[2], index=False, float_format="%.4f")
        summary = evaluation.to_json()
        (stage / EVENT_FILES[3]).write_text(json.dumps(summary, indent=2))
        plot_event_effects(evaluation.effects, evaluation.noise["threshold"],
                           stage / EVENT_FILES[4], evaluation.engine)
        folder.publish({"kind": "evaluation", "protocol": "events", "engine": evaluation.engine,
                        "n_events": summary.get("n_events")})
        return [folder.given / name for name in EVENT_FILES]
