"""The sweep folder: manifest, results, calibrated values, summaries, checks, plots and a report."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from simulator.fields import plain
from simulator.folder_contents import MANIFEST
from simulator.outputs import ReportSection, markdown_table
from simulator.run_folder import RunFolder, claimed
from simulator.sweep.plots import draw_sweep_plots
from simulator.sweep.runner import INTERVAL, SweepResult

SWEEP_FILES = ("results.csv", "results.parquet", "calibrated.csv", "summary.csv",
               "overall.csv", "checks.csv", "timelines.csv", "runs.csv", "evaluation.csv",
               "cases.csv", "plots/*.png", "report.md")
"""The files a sweep folder may hold besides its manifest and its sections' files."""


def write_sweep(result: SweepResult, out_dir: str | Path | RunFolder,
                sections: Sequence[ReportSection] = (), overwrite: bool = False) -> Path:
    """Write a sweep folder and return its path.

    Files: ``manifest.json``, ``results.csv`` and ``.parquet``, ``calibrated.csv`` (when
    calibrated), ``summary.csv``, ``overall.csv``, ``checks.csv``, ``timelines.csv``,
    ``runs.csv``, ``evaluation.csv`` (when calibrated), ``cases.csv`` (with a simulated
    epidemic), ``plots/*.png`` and ``report.md``,
    written whole through a :class:`~simulator.run_folder.RunFolder` as a run folder is (see
    :func:`simulator.outputs.write_run`).

    Args:
        result: the sweep.
        out_dir: the sweep folder, or one a command claimed already.
        sections: later stages' parts of the report (e.g. how far to trust its counterfactuals),
            with their manifest entries and files.
        overwrite: replace an earlier run in the folder; write beside other files in it.
    """
    writes = [*SWEEP_FILES, *(name for section in sections for name in section.files)]
    with claimed(out_dir, writes, overwrite) as folder:
        stage = folder.stage
        (stage / "plots").mkdir(parents=True, exist_ok=True)
        result.results.to_parquet(stage / "results.parquet", index=False)
        tables = {"results": result.results, "calibrated": result.calibrated,
                  "summary": result.summary, "overall": result.overall, "checks": result.checks,
                  "timelines": result.timelines, "runs": result.runs, "cases": result.cases,
                  "evaluation": None if result.evaluation is None
                  else result.evaluation.rename_axis("method").reset_index()}
        for name, table in tables.items():
            if table is not None:
                table.to_csv(stage / f"{name}.csv", index=False, float_format="%.6g")
        for section in sections:
            for name, write in section.files.items():
                (stage / name).parent.mkdir(parents=True, exist_ok=True)
                write(stage / name)
            result.manifest.update(section.manifest)
        manifest = plain(result.manifest)
        # The plots read the staged files and this manifest; publish() writes the real one.
        (stage / MANIFEST).write_text(json.dumps(manifest, indent=2))
        plots = draw_sweep_plots(stage)
        (stage / "report.md").write_text(report_markdown(result, stage, plots,
                                                         [s.markdown for s in sections]))
        folder.publish(manifest)
        return folder.given


def report_markdown(result: SweepResult, out: Path, plots: list[Path],
                    sections: Sequence[str] = ()) -> str:
    """A human-readable report of a sweep (Markdown), the monotonicity table first."""
    s = result.scenario
    lines = [f"# {s.name}: counterfactual sweep", "", s.description.strip(), "",
             *_sweep_lines(result), *_checks_lines(result), *_effects_lines(result)]
    if result.evaluation is not None:
        lines += ["## Calibration", "",
                  "The calibrator was fitted on the baseline's first seed over the training "
                  "window; RMSE (percentage points) on the held-out test window, against the "
                  "baselines of the evaluation protocol:", "",
                  markdown_table(result.evaluation.rename_axis("method").reset_index()), ""]
    for section in sections:
        lines += [section, ""]
    lines += ["## Plots", ""] + [f"![{p.stem}]({p.relative_to(out)})" for p in plots]
    lines += ["", *_context_lines(result)]
    return "\n".join(lines) + "\n"


def _context_lines(result: SweepResult) -> list[str]:
    """What the variants were told besides their policy: the observed or their own epidemic."""
    if result.cases is None:
        return ["Context (cases, vaccination, season) is exogenous: every variant keeps the "
                "observed epidemic; only the policy differs."]
    days = 7 if result.scenario.tick == "week" else 1
    totals = result.cases.groupby("variant", sort=False)["mean"].sum() * days
    table = pd.DataFrame({"variant": totals.index, "cases per 100k over the period (seeds' "
                          "mean)": totals.to_numpy()})
    return ["## Cases", "", "The epidemic is simulated (`context.epidemic: simulated`): each "
            "variant's agents were told the cases of their own contacts (cases.csv, "
            "plots/cases.png); vaccination, season and holidays are as observed.", "",
            markdown_table(table, ".0f")]


def _sweep_lines(result: SweepResult) -> list[str]:
    """The report's "Sweep" section: what was run, where, and what it cost."""
    m = result.manifest
    s = result.scenario
    cost = "unknown" if m["cost_usd"] is None else f"${m['cost_usd']:.4f}"
    return [
        "## Sweep",
        "",
        "| | |",
        "|---|---|",
        f"| variants | {len(result.variants)} from {m['variants_file']} (baseline "
        f"{m['baseline']}) |",
        f"| seeds | {', '.join(map(str, m['seeds']))} (common random numbers across variants) |",
        f"| runs | {m['runs']}: {m['agents']:,} agents x {m['ticks']} {s.tick}ly ticks each |",
        f"| executor | {m['executor']}, {m['workers']} workers ({m['worker_processes']} worker "
        "processes ran tasks) |",
        f"| engine | {m['engine']} ({m.get('model')}) |",
        f"| LLM calls | {m['llm_calls']:,}, cache hits {m['cache_hits']:,}, failed answers "
        f"{m['failed_answers']}, cost {cost} |",
        f"| wall time | {m['wall_s']:.1f} s ({m['run_s_total']:.1f} s of runs) |",
        f"| calibration | {m['calibration']} |",
        "",
    ]


def _checks_lines(result: SweepResult) -> list[str]:
    """The report's "Plausibility checks" section: the monotonicity table, then the bounds."""
    m = result.manifest
    checks = result.checks
    share = m["checks_passed"] / m["checks_total"] if m["checks_total"] else float("nan")
    return [
        "## Plausibility checks",
        "",
        f"{m['checks_passed']} of {m['checks_total']} checks passed ({100 * share:.0f}%).",
        "Monotonic: the period mean of each behaviour with an expected response moves with the "
        "dose in the expected direction, within the seed noise of each step (see "
        "simulator/sweep/checks.py). Bounded: probabilities in [0, 1]; calibrated values in the "
        "sane range of their metric.",
        "",
        "### Monotonicity in the dose",
        "",
        _checks_table(checks[checks["check"] == "monotonic"],
                      ["quantity", "behaviour", "series", "expected", "doses", "means",
                       "spearman", "passed", "detail"]),
        "",
        "### Bounds",
        "",
        _checks_table(checks[checks["check"] == "bounded"],
                      ["quantity", "behaviour", "passed", "detail"]),
        "",
    ]


def _effects_lines(result: SweepResult) -> list[str]:
    """The report's "Effects against the baseline" section, simulated then calibrated."""
    lines = [
        "## Effects against the baseline",
        "",
        "Period mean of each behaviour minus the baseline's under the same seed, with a "
        f"{100 * INTERVAL:g}% t interval across seeds.",
        "",
        "### Simulated: % change from the pre-policy routine",
        "",
        _effects_table(result.overall, "change_pct"),
        "",
    ]
    if result.calibrated is not None:
        lines += ["### Calibrated: the observed metric's units (Google mobility % change)", "",
                  _effects_table(result.overall, "calibrated"), ""]
    return lines


def _checks_table(checks: pd.DataFrame, columns: list[str]) -> str:
    if checks.empty:
        return "(none: no variant has a dose)" if "doses" in columns else "(none)"
    table = checks[columns].copy()
    table["passed"] = table["passed"].map({True: "yes", False: "**no**"})
    return markdown_table(table)


def _effects_table(overall: pd.DataFrame, quantity: str) -> str:
    data = overall[overall["quantity"] == quantity]
    cells = data.assign(cell=[
        f"{e:+.2f}" + ("" if pd.isna(lo) else f" [{lo:+.2f}, {hi:+.2f}]")
        for e, lo, hi in zip(data["effect"], data["effect_low"], data["effect_high"],
                             strict=True)])
    table = cells.pivot(index="variant", columns="behaviour", values="cell")
    order = list(dict.fromkeys(data["variant"]))
    behaviours = list(dict.fromkeys(data["behaviour"]))
    return markdown_table(table.loc[order, behaviours].reset_index())
