"""Plots of sweeps: trajectories with seed bands, dose-response curves, heatmaps, subgroup panels.

The ``*_figure`` functions take the sweep's tables (as in memory or as read back from a sweep
folder) and return a matplotlib figure, for notebooks; :func:`draw_sweep_plots` redraws every
plot of a sweep folder from its files. Bands and error bars span the range across seeds.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simulator.plots import save_figure

SUBGROUP_PANELS = ("age_band", "party", "urbanicity")
_LABELS = {"change_pct": "% vs pre-policy routine", "calibrated": "calibrated metric",
           "value": "probability"}


def trajectories_figure(summary: pd.DataFrame, variants: list[str],
                        observed: pd.DataFrame | None = None) -> plt.Figure:
    """Population trajectories per behaviour (rows), one line and seed band per variant.

    Args:
        summary: the sweep summary (see :func:`simulator.sweep.runner.summarise`).
        variants: variant names in plotting order.
        observed: week, metric, observed: drawn on the calibrated panels when given.
    """
    data = summary[(summary["group"] == "all") & (summary["tick"] >= 0)]
    quantities = [q for q in ("change_pct", "calibrated") if q in set(data["quantity"])]
    behaviours = list(dict.fromkeys(data.loc[data["quantity"] == "change_pct", "behaviour"]))
    fig, axes = plt.subplots(len(behaviours), len(quantities), sharex=True, squeeze=False,
                             figsize=(6.0 * len(quantities), 2.2 * len(behaviours)))
    colours = _colours(variants)
    for row, behaviour in enumerate(behaviours):
        for col, quantity in enumerate(quantities):
            ax = axes[row, col]
            part = data[(data["behaviour"] == behaviour) & (data["quantity"] == quantity)]
            for variant in variants:
                line = part[part["variant"] == variant]
                if line.empty:
                    continue
                ax.plot(line["date"], line["mean"], color=colours[variant], linewidth=1.2,
                        label=variant)
                ax.fill_between(line["date"], line["min"], line["max"], color=colours[variant],
                                alpha=0.2, linewidth=0)
            if quantity == "calibrated" and observed is not None:
                seen = observed[observed["metric"] == behaviour]
                ax.plot(seen["week"], seen["observed"], color="black", linestyle="--",
                        linewidth=1.0, label="observed")
            ax.axhline(0, color="grey", linewidth=0.6)
            if row == 0:
                ax.set_title("simulated" if quantity == "change_pct" else
                             "calibrated (observed units)", fontsize=9)
            ax.set_ylabel(f"{behaviour.replace('_', ' ')}\n{_LABELS[quantity]}", fontsize=7)
            ax.tick_params(labelsize=7)
    axes[0, -1].legend(fontsize=6, loc="lower left")
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def dose_response_figure(overall: pd.DataFrame, axes: tuple[str, ...] = (),
                         dose_axis: str | None = None,
                         quantity: str = "change_pct") -> plt.Figure:
    """Period mean of each behaviour against the dose, one line per series of the other axes.

    Args:
        overall: the sweep's period means (see :func:`simulator.sweep.runner.overall_effects`).
        axes: the grid axes (columns of ``overall``).
        dose_axis: the grid's dose axis; the other axes split the series.
        quantity: ``change_pct``, ``value`` or ``calibrated``.
    """
    data = overall[(overall["quantity"] == quantity) & overall["dose"].notna()]
    behaviours = list(dict.fromkeys(data["behaviour"]))
    others = [a for a in axes if a != dose_axis]
    cols = min(3, max(len(behaviours), 1))
    rows = -(-len(behaviours) // cols)
    fig, grid = plt.subplots(rows, cols, figsize=(3.8 * cols, 2.9 * rows), squeeze=False)
    for ax, behaviour in zip(grid.ravel(), behaviours, strict=False):
        part = data[data["behaviour"] == behaviour]
        for label, series in (part.groupby(others, sort=False) if others else [("", part)]):
            series = series.sort_values("dose")
            error = [series["mean"] - series["min"], series["max"] - series["mean"]]
            name = ", ".join(f"{a}={v:g}" for a, v in zip(others, np.atleast_1d(label),
                                                               strict=True)) if others else None
            ax.errorbar(series["dose"], series["mean"], yerr=error, marker="o", markersize=3,
                        capsize=2, linewidth=1.2, label=name)
        ax.set_title(behaviour.replace("_", " "), fontsize=9)
        ax.set_xlabel(dose_axis or "dose", fontsize=8)
        ax.set_ylabel(f"period mean, {_LABELS[quantity]}", fontsize=7)
        ax.tick_params(labelsize=7)
        if others:
            ax.legend(fontsize=6)
    for ax in grid.ravel()[len(behaviours):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def heatmap_figure(overall: pd.DataFrame, axes: tuple[str, str],
                   quantity: str = "change_pct") -> plt.Figure:
    """The mean effect (vs the baseline) of each behaviour over two grid axes.

    Args:
        overall: the sweep's period means with the grid axis columns.
        axes: the axes (rows, columns).
        quantity: ``change_pct``, ``value`` or ``calibrated``.
    """
    data = overall[overall["quantity"] == quantity]
    behaviours = list(dict.fromkeys(data["behaviour"]))
    cols = min(3, max(len(behaviours), 1))
    rows = -(-len(behaviours) // cols)
    fig, grid = plt.subplots(rows, cols, figsize=(3.8 * cols, 3.2 * rows), squeeze=False)
    for ax, behaviour in zip(grid.ravel(), behaviours, strict=False):
        table = data[data["behaviour"] == behaviour].pivot_table(
            index=axes[0], columns=axes[1], values="effect")
        limit = float(np.nanmax(np.abs(table.to_numpy()))) or 1.0
        image = ax.imshow(table.to_numpy(), cmap="RdBu", vmin=-limit, vmax=limit,
                          origin="lower", aspect="auto")
        ax.set_xticks(range(len(table.columns)), [f"{v:g}" for v in table.columns])
        ax.set_yticks(range(len(table.index)), [f"{v:g}" for v in table.index])
        for (i, j), value in np.ndenumerate(table.to_numpy()):
            ax.text(j, i, f"{value:.1f}", ha="center", va="center", fontsize=7)
        ax.set_xlabel(axes[1], fontsize=8)
        ax.set_ylabel(axes[0], fontsize=8)
        ax.set_title(f"{behaviour.replace('_', ' ')}: effect", fontsize=9)
        ax.tick_params(labelsize=7)
        fig.colorbar(image, ax=ax, shrink=0.8).ax.tick_params(labelsize=6)
    for ax in grid.ravel()[len(behaviours):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def subgroups_figure(summary: pd.DataFrame, variants: list[str],
                     groups: tuple[str, ...] = SUBGROUP_PANELS) -> plt.Figure:
    """Period mean of each subgroup per variant: behaviours (rows) by attribute (columns).

    Each panel has one cluster of bars per subgroup and one bar per variant: the subgroup's
    mean over the period of its change from the pre-policy routine (mean over seeds).
    """
    data = summary[(summary["quantity"] == "change_pct") & (summary["tick"] >= 0)]
    behaviours = list(dict.fromkeys(data["behaviour"]))
    groups = tuple(g for g in groups if g in set(data["group"]))
    period = data.groupby(["behaviour", "group", "subgroup", "variant"], sort=False)[
        "mean"].mean().reset_index()
    fig, axes = plt.subplots(len(behaviours), len(groups), squeeze=False,
                             figsize=(3.8 * len(groups), 2.2 * len(behaviours)))
    colours = _colours(variants)
    width = 0.8 / max(len(variants), 1)
    for row, behaviour in enumerate(behaviours):
        for col, group in enumerate(groups):
            ax = axes[row, col]
            part = period[(period["behaviour"] == behaviour) & (period["group"] == group)]
            part = part.pivot(index="subgroup", columns="variant", values="mean")
            part = part.reindex(columns=variants)
            x = np.arange(len(part))
            for k, variant in enumerate(variants):
                ax.bar(x + (k - (len(variants) - 1) / 2) * width, part[variant], width,
                       color=colours[variant], label=variant)
            ax.set_xticks(x, [str(s) for s in part.index], fontsize=6, rotation=30)
            ax.axhline(0, color="grey", linewidth=0.6)
            if row == 0:
                ax.set_title(f"by {group.replace('_', ' ')}", fontsize=9)
            if col == 0:
                ax.set_ylabel(f"{behaviour.replace('_', ' ')}\nperiod mean, %", fontsize=7)
            ax.tick_params(axis="y", labelsize=6)
    axes[0, -1].legend(fontsize=5, loc="lower left")
    fig.tight_layout()
    return fig


def signals_figure(timelines: pd.DataFrame, variants: list[str]) -> plt.Figure:
    """The stringency index each variant received, per tick."""
    fig, ax = plt.subplots(figsize=(9, 3))
    colours = _colours(variants)
    for variant in variants:
        line = timelines[timelines["variant"] == variant]
        ax.plot(line["date"], line["stringency_index"], color=colours[variant], label=variant)
    return _finished(fig, ax, "stringency index")


def cases_figure(cases: pd.DataFrame, variants: list[str]) -> plt.Figure:
    """Simulated cases per variant (line: seeds' mean; band: their range) over the observed.

    Args:
        cases: ``cases.csv`` of a sweep (:func:`simulator.sweep.cases.variant_cases`).
        variants: variant names in plotting order.
    """
    fig, ax = plt.subplots(figsize=(9, 4))
    colours = _colours(variants)
    for variant in variants:
        line = cases[cases["variant"] == variant]
        ax.plot(line["date"], line["mean"], color=colours[variant], linewidth=1.2,
                label=variant)
        ax.fill_between(line["date"], line["min"], line["max"], color=colours[variant],
                        alpha=0.2, linewidth=0)
    seen = cases.drop_duplicates("tick")
    ax.plot(seen["date"], seen["observed_cases_per_100k"], color="black", linestyle="--",
            linewidth=1.0, label="observed")
    ax.set_yscale("symlog", linthresh=1.0)
    return _finished(fig, ax, "cases per 100k per day (simulated)")


def _finished(fig: plt.Figure, ax: plt.Axes, ylabel: str) -> plt.Figure:
    """A one-panel figure over dates, labelled, with its legend, laid out."""
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6, ncol=2)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def draw_sweep_plots(folder: str | Path) -> list[Path]:
    """Draw every plot of a sweep folder from its files into ``folder/plots``.

    Reads ``manifest.json``, ``summary.csv``, ``overall.csv``, ``timelines.csv`` and, when
    present, ``calibrated.csv`` (for the observed series) and ``cases.csv`` (a simulated
    epidemic's cases per variant).

    Returns:
        The PNG files written.
    """
    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    variants = [v["name"] for v in manifest["variants"]]
    axes = tuple(manifest.get("axes", ()))
    summary = pd.read_csv(folder / "summary.csv", parse_dates=["date"])
    overall = pd.read_csv(folder / "overall.csv")
    timelines = pd.read_csv(folder / "timelines.csv", parse_dates=["date"])
    observed = None
    if (folder / "calibrated.csv").is_file():
        calibrated = pd.read_csv(folder / "calibrated.csv", parse_dates=["week"])
        observed = calibrated.drop_duplicates(["week", "metric"])[["week", "metric",
                                                                   "observed"]]
    plots = folder / "plots"
    written = [
        save_figure(trajectories_figure(summary, variants, observed), plots / "trajectories.png"),
        save_figure(signals_figure(timelines, variants), plots / "signals.png"),
    ]
    if overall["dose"].notna().any():
        for quantity in ("change_pct", "calibrated"):
            if quantity in set(overall["quantity"]):
                name = "dose_response.png" if quantity == "change_pct" else \
                    f"dose_response_{quantity}.png"
                figure = dose_response_figure(overall, axes, manifest.get("dose_axis"), quantity)
                written.append(save_figure(figure, plots / name))
    if len(axes) >= 2:
        pair = (axes[0], axes[1])
        written.append(save_figure(heatmap_figure(overall, pair), plots / "heatmap.png"))
    written.append(save_figure(subgroups_figure(summary, variants), plots / "subgroups.png"))
    if (folder / "cases.csv").is_file():
        cases = pd.read_csv(folder / "cases.csv", parse_dates=["date"])
        written.append(save_figure(cases_figure(cases, variants), plots / "cases.png"))
    return written


def _colours(variants: list[str]) -> dict[str, tuple]:
    cmap = plt.get_cmap("viridis")
    return {v: cmap(i / max(len(variants) - 1, 1)) for i, v in enumerate(variants)}
