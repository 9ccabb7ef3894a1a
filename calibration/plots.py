"""Plots of calibration: observed vs simulated vs calibrated per metric, and residuals by region."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from calibration.intervals import NOMINAL
from calibration.protocol import TEST_WINDOW, TRAIN_WINDOW
from simulator.plots import save_figure


def plot_calibration(predictions: pd.DataFrame, twin: str, path: str | Path, region: str,
                     baseline: str | None = "gbm") -> Path:
    """Observed, simulated and calibrated values of each metric for one region.

    Args:
        predictions: tidy predictions of an evaluation (``Evaluation.predictions``).
        twin: the twin's column (e.g. ``twin[rules]``).
        path: PNG file to write.
        region: the region to draw.
        baseline: a baseline column to draw for comparison (``None``: none).
    """
    data = predictions[predictions["region"] == region].copy()
    data["week"] = pd.to_datetime(data["week"])
    metrics = list(dict.fromkeys(data["metric"]))
    columns = 3 if len(metrics) > 4 else 2
    rows = int(np.ceil(len(metrics) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 3.0 * rows), sharex=True,
                             squeeze=False)
    for ax, metric in zip(axes.ravel(), metrics, strict=False):
        part = data[data["metric"] == metric]
        ax.axvspan(pd.Timestamp(TRAIN_WINDOW[0]), pd.Timestamp(TRAIN_WINDOW[1]), color="tab:blue",
                   alpha=0.06, label="train")
        ax.axvspan(pd.Timestamp(TEST_WINDOW[0]), pd.Timestamp(TEST_WINDOW[1]), color="tab:orange",
                   alpha=0.10, label="test")
        ax.plot(part["week"], part["observed"], color="black", linewidth=1.6, label="observed")
        ax.plot(part["week"], part["simulated_change_pct"], color="grey", linestyle=":",
                label="simulated (% vs baseline)")
        if "band_lower" in part:
            ax.fill_between(part["week"], part["band_lower"], part["band_upper"],
                            color="tab:red", alpha=0.15, linewidth=0,
                            label=f"{twin} {NOMINAL:.0%} band")
        ax.plot(part["week"], part[twin], color="tab:red", linewidth=1.4, label=twin)
        if baseline and baseline in part:
            ax.plot(part["week"], part[baseline], color="tab:green", linewidth=1.0,
                    linestyle="--", label=baseline)
        ax.set_title(metric.replace("_", " "), fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_ylabel("% change", fontsize=8)
    for ax in axes.ravel()[len(metrics):]:
        ax.set_visible(False)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8)
    fig.suptitle(f"{region}: observed vs simulated vs calibrated", fontsize=11)
    fig.autofmt_xdate()
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return save_figure(fig, path)


def plot_residuals_by_region(predictions: pd.DataFrame, twin: str, path: str | Path,
                             baseline: str = "gbm") -> Path:
    """Test-window RMSE of the twin and a baseline per region (macro over metrics)."""
    test = predictions[predictions["window"] == "test"]
    errors = {}
    for name in (twin, baseline):
        squared = (test[name] - test["observed"]) ** 2
        per_metric = squared.groupby([test["region"], test["metric"]]).mean() ** 0.5
        errors[name] = per_metric.groupby(level="region").mean()
    table = pd.DataFrame(errors).sort_values(twin)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.22 * len(table)), 3.6))
    positions = np.arange(len(table))
    ax.bar(positions - 0.2, table[twin], width=0.4, color="tab:red", label=twin)
    ax.bar(positions + 0.2, table[baseline], width=0.4, color="tab:green", label=baseline)
    ax.set_xticks(positions, [r.replace("US_", "") for r in table.index], rotation=90,
                  fontsize=7)
    ax.set_ylabel("test RMSE (pp), macro", fontsize=8)
    ax.legend(fontsize=8)
    ax.set_title("Test-window error by region", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_event_effects(effects: pd.DataFrame, threshold: pd.Series, path: str | Path,
                       engine: str, method: str = "twin") -> Path:
    """A method's effect of every event against the observed one, a panel per category.

    Args:
        effects: the event protocol's effects (``category``, ``observed`` and the method).
        threshold: per category, the placebo threshold above which an effect is signal.
        path: PNG file to write.
        engine: the twin's engine (for the title).
        method: the column to draw against the observed effects.
    """
    categories = sorted(effects["category"].unique())
    columns = 3 if len(categories) > 4 else max(len(categories), 1)
    rows = int(np.ceil(len(categories) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.8 * rows), squeeze=False)
    for ax, category in zip(axes.ravel(), categories, strict=False):
        part = effects[effects["category"] == category]
        above = part["observed"].abs() > threshold.get(category, np.inf)
        ax.scatter(part.loc[~above, "observed"], part.loc[~above, method], s=8, color="grey",
                   alpha=0.5, label="within the placebo noise")
        ax.scatter(part.loc[above, "observed"], part.loc[above, method], s=10,
                   color="tab:red", alpha=0.7, label="above the noise")
        low = float(np.nanmin([part["observed"].min(), part[method].min()]))
        high = float(np.nanmax([part["observed"].max(), part[method].max()]))
        ax.plot([low, high], [low, high], color="black", linewidth=0.8, label="identity")
        for x in (-threshold.get(category, np.nan), threshold.get(category, np.nan)):
            ax.axvline(x, color="grey", linestyle=":", linewidth=0.8)
        ax.axhline(0, color="grey", linewidth=0.5)
        r = part[["observed", method]].corr().iloc[0, 1] if len(part) > 2 else np.nan
        ax.set_title(f"{category.replace('_', ' ')} (r = {r:.2f}, n = {len(part)})", fontsize=9)
        ax.set_xlabel("observed effect (pp, diff-in-diff)", fontsize=8)
        ax.set_ylabel(f"{method} effect (pp)", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(categories):]:
        ax.set_visible(False)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8)
    fig.suptitle(f"Effects of real policy changes, weeks +1..+4: {method} ({engine}) against "
                 "observed", fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return save_figure(fig, path)
