"""Plots of runs: trajectories with subgroup panels, and the policy signals they answered."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

PANEL_GROUPS = ("all", "age_band", "party", "urbanicity")


def _dated(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows after the baseline tick, with dates as timestamps."""
    frame = frame[frame["tick"] >= 0].copy()
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def plot_trajectories(trajectories: pd.DataFrame, path: str | Path,
                      groups: tuple[str, ...] = PANEL_GROUPS, title: str = "") -> Path:
    """Change from baseline (%) per behaviour (rows) for the population and subgroups (columns).

    Args:
        trajectories: tidy trajectories of a run.
        path: PNG file to write.
        groups: ``all`` and the population attributes to panel by.
        title: figure title.
    """
    data = _dated(trajectories)
    behaviours = list(dict.fromkeys(data["behaviour"]))
    groups = tuple(g for g in groups if g in set(data["group"]))
    fig, axes = plt.subplots(len(behaviours), len(groups), figsize=(3.6 * len(groups),
                             2.3 * len(behaviours)), sharex=True, squeeze=False)
    for row, behaviour in enumerate(behaviours):
        for col, group in enumerate(groups):
            ax = axes[row, col]
            part = data[(data["behaviour"] == behaviour) & (data["group"] == group)]
            for subgroup, line in part.groupby("subgroup", sort=False):
                ax.plot(line["date"], line["change_pct"], label=str(subgroup), linewidth=1.3)
            ax.axhline(0, color="grey", linewidth=0.6)
            if row == 0:
                ax.set_title("population" if group == "all" else f"by {group.replace('_', ' ')}",
                             fontsize=9)
            if col == 0:
                ax.set_ylabel(f"{behaviour.replace('_', ' ')}\n% vs baseline", fontsize=8)
            if row == len(behaviours) - 1 and group != "all":
                ax.legend(fontsize=6, loc="lower left")
            ax.tick_params(labelsize=7)
    fig.autofmt_xdate()
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_signals(timeline: pd.DataFrame, path: str | Path, title: str = "") -> Path:
    """Stringency index and the context features the population received, per tick."""
    data = timeline.copy()
    data["date"] = pd.to_datetime(data["date"])
    context = [c for c in ("new_cases_per_100k", "vaccinated_pct", "temperature_f",
                           "weeks_under_restrictions") if c in data.columns]
    fig, axes = plt.subplots(1 + len(context), 1, figsize=(9, 1.8 * (1 + len(context))),
                             sharex=True, squeeze=False)
    axes = axes[:, 0]
    axes[0].plot(data["date"], data["stringency_index"], color="black")
    axes[0].set_ylabel("stringency\nindex", fontsize=8)
    for ax, column in zip(axes[1:], context, strict=True):
        ax.plot(data["date"], data[column])
        ax.set_ylabel(column.replace("_", " "), fontsize=8)
    for ax in axes:
        ax.tick_params(labelsize=7)
    if title:
        axes[0].set_title(title, fontsize=10)
    fig.autofmt_xdate()
    fig.tight_layout()
    return save_figure(fig, path)


def plot_epidemic(epidemic: pd.DataFrame, path: str | Path, title: str = "",
                  fit_until: str | None = None) -> Path:
    """Simulated against observed cases (log scale), and the contact multiplier, per tick.

    Args:
        epidemic: the run's epidemic table (``epidemic.csv``).
        path: the PNG file.
        title: the figure's title.
        fit_until: the last day the epidemic was fitted on (a dotted line; later is its test).
    """
    data = _dated(epidemic)
    fig, (cases, contacts) = plt.subplots(2, 1, figsize=(9, 5), sharex=True,
                                          gridspec_kw={"height_ratios": [2, 1]})
    cases.plot(data["date"], data["observed_cases_per_100k"], color="black", label="observed")
    cases.plot(data["date"], data["simulated_cases_per_100k"], color="tab:red",
               label="simulated from the agents' contacts")
    cases.set_yscale("symlog", linthresh=1.0)
    cases.set_ylabel("cases per 100k per day", fontsize=8)
    cases.legend(fontsize=8)
    contacts.plot(data["date"], data["contact_multiplier"], color="tab:blue")
    contacts.axhline(1.0, color="grey", lw=0.6)
    contacts.set_ylabel("contacts\n(routine = 1)", fontsize=8)
    for ax in (cases, contacts):
        ax.tick_params(labelsize=7)
        if fit_until is not None:
            ax.axvline(pd.Timestamp(fit_until), color="grey", linestyle=":", linewidth=1.0)
    if title:
        cases.set_title(title, fontsize=10)
    fig.autofmt_xdate()
    fig.tight_layout()
    return save_figure(fig, path)


def save_figure(fig: plt.Figure, path: str | Path) -> Path:
    """Write a figure as PNG (creating the folder) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
