"""The run folder: manifest, trajectories (CSV and Parquet), tables, plots and a readable report."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.cognition.probe_card import ProbeCard, failures, keying_finding
from simulator.fields import plain
from simulator.plots import plot_epidemic, plot_signals, plot_trajectories
from simulator.run import RunResult
from simulator.run_folder import RunFolder, claimed


@dataclass(frozen=True)
class ReportSection:
    """A later stage's part of a run folder (e.g. calibration), handed to :func:`write_run`.

    Attributes:
        markdown: the report section; paths in it are relative to the run folder.
        manifest: entries added to ``manifest.json``.
        files: relative path -> a function writing that file at the path it is given.
    """

    markdown: str
    manifest: Mapping[str, Any] = field(default_factory=dict)
    files: Mapping[str, Callable[[Path], Any]] = field(default_factory=dict)


RUN_PLOTS = ("plots/trajectories.png", "plots/signals.png")
RUN_FILES = ("trajectories.csv", "trajectories.parquet", "decisions.csv", "timeline.csv",
             "respondents.csv", "population_summary.csv", "persona_answers.csv",
             "probe_card.csv", "epidemic.csv", "plots/epidemic.png", *RUN_PLOTS, "report.md")
"""The files a run folder may hold besides its manifest and its sections' files."""


def write_run(result: RunResult, out_dir: str | Path | RunFolder,
              sections: Sequence[ReportSection] = (), overwrite: bool = False) -> Path:
    """Write a run folder and return its path.

    Files: ``manifest.json``, ``trajectories.csv`` and ``.parquet``, ``decisions.csv``,
    ``timeline.csv``, ``respondents.csv``, ``population_summary.csv``, ``plots/*.png``,
    ``report.md`` and the files of each section. The folder is written whole through a
    :class:`~simulator.run_folder.RunFolder`: the manifest lists the files this run wrote, with
    their sha256; an earlier run's files are replaced (with ``overwrite``) and the user's kept.

    Args:
        result: the run.
        out_dir: the run folder, or one a command claimed already.
        sections: later stages (e.g. calibration): their files, manifest entries and report
            sections.
        overwrite: replace an earlier run in the folder; write beside other files in it.

    Raises:
        UsageError: the folder holds an earlier run or other files and ``overwrite`` is false,
            or a file of the user's has the name of one the run writes.
    """
    writes = [*RUN_FILES, *(name for section in sections for name in section.files)]
    with claimed(out_dir, writes, overwrite) as folder:
        stage = folder.stage
        (stage / "plots").mkdir(parents=True, exist_ok=True)
        trajectories = result.trajectories
        tables = {"trajectories": trajectories, "decisions": result.decisions,
                  "timeline": result.timeline, "respondents": result.respondents,
                  "population_summary": result.population_summary}
        if not result.persona_answers.empty:
            tables["persona_answers"] = result.persona_answers
        if result.probe_card is not None:
            tables["probe_card"] = pd.DataFrame([vars(p) for p in result.probe_card.probes])
        for name, table in tables.items():
            table.to_csv(stage / f"{name}.csv", index=False, float_format="%.6g")
        trajectories.to_parquet(stage / "trajectories.parquet", index=False)
        title = f"{result.scenario.name} — {result.manifest['engine']} engine, " \
                f"{result.manifest['agents']:,} agents"
        plots = [
            plot_trajectories(trajectories, stage / RUN_PLOTS[0], title=title),
            plot_signals(result.timeline, stage / RUN_PLOTS[1],
                         title=f"Signals received — {result.scenario.region}"),
        ]
        if result.epidemic is not None:
            result.epidemic.to_csv(stage / "epidemic.csv", index=False, float_format="%.6g")
            plots.append(plot_epidemic(
                result.epidemic, stage / "plots" / "epidemic.png",
                title=f"Epidemic in the loop — {result.scenario.region} (fitted up to the "
                f"dotted line)", fit_until=result.manifest["epidemic"]["fit_until"]))
        for section in sections:
            for name, write in section.files.items():
                (stage / name).parent.mkdir(parents=True, exist_ok=True)
                write(stage / name)
            result.manifest.update(section.manifest)
        (stage / "report.md").write_text(report_markdown(result, stage, plots,
                                                         [s.markdown for s in sections]))
        folder.publish(plain(result.manifest))
        return folder.given


def report_markdown(result: RunResult, out: Path, plots: list[Path],
                    sections: Sequence[str] = ()) -> str:
    """A human-readable report of a run (Markdown)."""
    m = result.manifest
    s = result.scenario
    cost = "unknown" if m["cost_usd"] is None else f"${m['cost_usd']:.4f}"
    lines = [
        f"# {s.name}",
        "",
        s.description.strip(),
        "",
        "## Run",
        "",
        "| | |",
        "|---|---|",
        f"| region | {s.region} |",
        f"| period | {s.start} to {s.end}, {m['ticks']} {s.tick}ly ticks |",
        f"| agents | {m['agents']:,} (seed {m['seed']}) |",
        f"| engine | {m['engine']} ({m.get('model')}, {m.get('elicitation') or 'parametric'}) |",
        f"| personas asked | {m['personas_asked']:,} a tick ({m['cells']:,} cells) |",
        f"| LLM calls | {m['llm_calls']:,} ({_fmt(m['llm_calls_per_agent_tick'])} per agent-tick),"
        f" cache hits {m['cache_hits']:,} |",
        f"| tokens | {m['tokens_in']:,} in, {m['tokens_out']:,} out; cost {cost} |",
        f"| failed answers | {_failures(m)} |",
        f"| wall time | {m['wall_s']:.1f} s (build {m['build_s']:.1f} s) |",
        f"| population fit | largest marginal error {m['population_max_abs_error']:.4f} |",
        "",
        "## Population trajectories",
        "",
        "Mean probability of each behaviour, as % change from the pre-policy baseline.",
        "",
        _trajectory_table(result.trajectories),
        "",
    ]
    lines += [f"![{p.stem}]({p.relative_to(out)})" for p in plots]
    for section in sections:
        lines += ["", section]
    lines += ["", *parameters_section(result)]
    lines += ["", *epidemic_section(result)]
    lines += ["", *persona_section(result)]
    if result.probe_card is not None:
        lines += ["", *probe_section(result.probe_card)]
    return "\n".join(lines) + "\n"


def epidemic_section(result: RunResult) -> list[str]:
    """The simulated epidemic's fit (a run with ``context.epidemic: simulated``; else empty)."""
    record = result.manifest.get("epidemic")
    if not record:
        return []
    return ["## Epidemic in the loop", "",
            f"The cases the agents were told were simulated from their own contacts "
            f"(epidemic.csv, plots/epidemic.png), by an SEIR fitted to the observed cases up to "
            f"{record['fit_until']} ({record['fitted_ticks']} ticks; contacts of a "
            f"{record['fit_agents']:,}-agent run on the observed path).", "",
            "| | |", "|---|---|",
            f"| reproduction number at routine contacts | {record['reproduction_number']:.3g} |",
            f"| reporting share | {record['reporting']:.3g} |",
            f"| seed (infectious share on day 1) | {record['seed']:.3g} |",
            f"| season (per 25 F above 55 F) | {record['season']:.3g} |",
            f"| contact elasticity | {record['elasticity']:.3g} |",
            f"| RMSE of log(1 + cases) on the fitted ticks | {record['rmse_log_cases']:.3g} |"]


def parameters_section(result: RunResult) -> list[str]:
    """The fitted parameters the run used, each beside the scenario's prior (none: empty)."""
    record = result.manifest.get("parameters")
    if record is None:
        return []
    from simulator.fitted_parameters import FittedParameters, FittedValue, parameters_table

    fitted = FittedParameters(record["engine"], tuple(
        FittedValue(name, v["fitted"], v["prior"], v["sd"], v["contraction"], v["identified"])
        for name, v in record["values"].items()))
    return ["## Fitted parameters", "",
            f"From `{record['file']}` (sha256 {record['sha256'][:12]}), fitted by `socialtwin "
            f"fit` on the training weeks of {record['regions']} regions; the prior is the "
            "scenario's own value.", "", *parameters_table(fitted)]


def probe_section(card: ProbeCard) -> list[str]:
    """The short form of the engine's report card (all probes in probe_card.csv)."""
    table = card.table()
    wrong = [p.name for p in card.probes if not p.correct]
    lines = ["## Engine report card", "",
             "Share of contrasts from the literature answered with the expected sign, against "
             "baselines that carry no information (`socialtwin probe` prints every probe; "
             "n/a: a baseline that keeps the information this kind of probe tests):", "",
             markdown_table(table, ".2f"), "",
             f"Wrong or no sign: {', '.join(wrong) if wrong else 'none'}."]
    lines += failures(card)
    finding = keying_finding(card)
    if finding:
        lines += ["", finding]
    lines += [f"Skipped: {s}." for s in card.skipped]
    return lines


def persona_section(result: RunResult) -> list[str]:
    """The personas asked and, per attribute, the share of agents they show as themselves."""
    m = result.manifest
    match = pd.DataFrame([{"attribute": name, "agents matched": f"{100 * share:.1f}%",
                           "shown": "yes" if name in m["persona_attributes"] else "no"}
                          for name, share in m["persona_match"].items()])
    asked = ("A language model is asked the personas below (a base persona and variants that "
             "differ in one attribute), combined in logit space into each agent's answer."
             if m.get("elicitation") else
             "The engine answers every cell of agents sharing all persona attributes (below) "
             "from its members' own traits.")
    lines = ["## Personas", "",
             "Share of agents whose persona shows their own level of each attribute (for each "
             "attribute, the prompt whose answer carries its effect for the agent):", "",
             markdown_table(match), "", asked, "", markdown_table(result.respondents.head(24))]
    if len(result.respondents) > 24:
        lines += ["", f"({len(result.respondents):,} rows; all in respondents.csv.)"]
    return lines


def _trajectory_table(trajectories: pd.DataFrame) -> str:
    data = trajectories[(trajectories["group"] == "all") & (trajectories["tick"] >= 0)]
    rows = []
    for behaviour, part in data.groupby("behaviour", sort=False):
        low = part.loc[part["change_pct"].idxmin()]
        rows.append({
            "behaviour": behaviour,
            "baseline p": f"{part['value'].iloc[0] / (1 + part['change_pct'].iloc[0] / 100):.3f}",
            "lowest change %": f"{low['change_pct']:.1f} ({pd.Timestamp(low['date']).date()})",
            "highest change %": f"{part['change_pct'].max():.1f}",
            "last change %": f"{part['change_pct'].iloc[-1]:.1f}",
        })
    return markdown_table(pd.DataFrame(rows))


def markdown_table(frame: pd.DataFrame, float_format: str = ".4g") -> str:
    """A DataFrame as a Markdown table (the index is not shown; reset it to show it)."""
    if frame.empty:
        return "(none)"
    cells = frame.astype(object).where(frame.notna(), None)
    return cells.to_markdown(index=False, floatfmt=float_format, missingval="n/a")


def _failures(m: Mapping) -> str:
    """Failed answers of a run, and the routine ones (those agents start from 0.5)."""
    text = f"{m['failed_answers']:,} of {m['answers']:,} (repaired {m['repaired_answers']})"
    if m["failed_routine_answers"]:
        text += (f"; {m['failed_routine_answers']:,} in the routine before the first tick: "
                 "the agents of those personas start from 0.5 in those behaviours")
    return text


def _fmt(value, float_format: str = ".4g") -> str:
    if value is None or (isinstance(value, float | np.floating) and np.isnan(value)):
        return "n/a"
    if isinstance(value, float | np.floating):
        return format(value, float_format)
    return str(value)
