"""How far to trust a counterfactual: the event protocol's figures for a twin's mechanism.

A counterfactual of a run or a sweep is as good as the mechanism that produced it: the engine and
its options, the behaviours (questions and ``rules`` parameters), the personas, the network and
the dynamics. The event protocol (:mod:`calibration.event_protocol`) measures that mechanism
against the observed effects of real policy changes; its figures are recorded with the
mechanism's fingerprint (:func:`fingerprint`). Run and sweep reports quote the figures measured
for their own mechanism: those shipped with the package for the case studies
(``calibration/data/event_figures/``, written by ``tools/build_event_figures.py``) and those of a
file the user gives (``--events events.json`` from ``socialtwin evaluate --protocol events
--out``). A file measured on another mechanism is refused, naming what differs; a mechanism with
no figures says so and how to measure it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import pandas as pd

from simulator.errors import UsageError
from simulator.fields import plain
from simulator.outputs import ReportSection, markdown_table

OPERATIONAL_OPTIONS = ("api_base", "concurrency", "requests_per_minute", "max_retries",
                       "timeout", "backoff_base", "backoff_max", "n_threads", "n_batch")
"""Engine options that change how answers are fetched, not what they are."""


def mechanism(scenario) -> dict:
    """What decides a twin's counterfactual effects (region, period and size aside).

    The behaviours' contact shares count only with a simulated epidemic, which reads them (and
    is then part of the mechanism).
    """
    options = {k: v for k, v in scenario.engine.options.given().items()
               if k not in OPERATIONAL_OPTIONS}
    detail = plain({
        "engine": scenario.engine.name,
        "options": dict(sorted(options.items())),
        # The cap on personas (the figures shipped were measured when the field was named so).
        "archetypes": scenario.engine.personas,
        "behaviours": list(scenario.behaviours),
        "shown": list(scenario.policy.shown),
        "prompts": dict(sorted(scenario.prompts.items())),
        "network": scenario.network,
        "dynamics": scenario.dynamics,
    })
    if scenario.context.epidemic == "observed":  # the behaviours' contacts are not read
        for behaviour in detail["behaviours"]:
            behaviour.pop("contacts", None)
    else:
        detail["epidemic"] = scenario.context.epidemic
    return detail


def fingerprint(detail: dict) -> str:
    """A short hash of a :func:`mechanism`."""
    return hashlib.sha256(json.dumps(detail, sort_keys=True).encode()).hexdigest()[:16]


def shipped_figures() -> list[dict]:
    """The event-protocol figures shipped with the package (one per measured configuration)."""
    folder = resources.files("calibration") / "data" / "event_figures"
    if not folder.is_dir():
        return []
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            found.append(json.loads(entry.read_text()))
    return found


def figures_for(scenario, events_file: str | Path | None = None) -> list[dict]:
    """The figures measured for the scenario's mechanism: shipped ones, then the user's file.

    Raises:
        UsageError: ``events_file`` cannot be read, is not the event protocol's JSON, or was
            measured on another mechanism (the message names what differs).
    """
    key = fingerprint(mechanism(scenario))
    found = [f for f in shipped_figures() if f.get("mechanism") == key]
    if events_file is not None:
        found.append(_user_figures(scenario, Path(events_file), key))
    return found


def _user_figures(scenario, path: Path, key: str) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise UsageError(f"--events {path}: cannot read it ({type(error).__name__}: "
                         f"{error})") from None
    if not isinstance(data, dict) or data.get("protocol") != "events" or "mechanism" not in data:
        raise UsageError(f"--events {path}: not the event protocol's figures (expected the "
                         "events.json of `socialtwin evaluate --protocol events --out DIR`)")
    if data["mechanism"] != key:
        theirs, ours = data.get("mechanism_detail", {}), mechanism(scenario)
        differ = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
        raise UsageError(f"--events {path}: measured on another mechanism than this scenario's "
                         f"(differs in: {', '.join(differ) or 'unknown fields'}); measure this "
                         "one with `socialtwin evaluate --protocol events`")
    return data


def effect_band(figures: Sequence[dict], region: str) -> dict | None:
    """The twin's effect band of the figure set that fits a region best, or None.

    The set whose regions include ``region``, else the one with the most events.
    """
    if not figures:
        return None
    chosen = max(figures, key=lambda f: (region in f.get("region_codes", ()), f["n_events"]))
    return chosen.get("twin_effect_band")


def with_effect_bands(overall: pd.DataFrame, band: dict | None) -> pd.DataFrame:
    """A sweep's effects with the protocol's band on the calibrated ones (``band_low``/``high``).

    Rows of other quantities, and every row when there is no band, get NaN.
    """
    half = pd.Series((band or {}).get("half_width", {}), dtype=float)
    width = overall["behaviour"].map(half).where(overall["quantity"] == "calibrated")
    return overall.assign(band_low=overall["effect"] - width, band_high=overall["effect"] + width)


def trust_section(scenario, figures: Sequence[dict], indicators: Sequence[str],
                  what: str = "this run's") -> ReportSection:
    """The report's answer to "how far can a counterfactual of this twin be trusted?".

    Args:
        scenario: the scenario reported on.
        figures: :func:`figures_for` the scenario.
        indicators: the indicators whose figures to show (those a sweep varies, for a sweep).
        what: whose counterfactuals ("this sweep's", "this run's").
    """
    lines = ["## How far to trust a counterfactual", ""]
    if not figures:
        lines += [
            f"No event-protocol figures exist for {what} mechanism (engine "
            f"{scenario.engine.name} with these behaviours, personas, network and dynamics): "
            "nothing yet says how its counterfactual effects compare with what happened when "
            "policy really changed. Measure it with `socialtwin evaluate --protocol events "
            f"--engine {scenario.engine.name} --regions world --out DIR` and pass "
            "`--events DIR/events.json`."]
        return ReportSection("\n".join(lines), {"event_figures": None}, {})
    lines += [
        f"The event protocol (`socialtwin evaluate --protocol events`) put {what} mechanism "
        "to the test: every real change of a containment indicator is undone in a "
        "counterfactual run with common random numbers, and the twin's effect over the four "
        "weeks after it is compared with the observed effect (a difference-in-differences "
        "against regions with no such change), out of sample by region.", ""]
    for figure in figures:
        lines += _figure_lines(figure, indicators) + [""]
    manifest = {"event_figures": [{k: f.get(k) for k in ("selection", "regions", "n_events")}
                                  for f in figures]}
    return ReportSection("\n".join(lines), manifest, {})


def _figure_lines(figure: dict, indicators: Sequence[str]) -> list[str]:
    twin = figure["methods"]["twin"]
    others = {k: v for k, v in figure["methods"].items() if k != "twin" and v["mae"] is not None}
    best = min(others, key=lambda k: others[k]["mae"]) if others else None
    band = figure.get("twin_effect_band", {})
    lines = [
        f"**{figure.get('selection', '?')}** ({figure['regions']} regions, "
        f"{figure['n_events']} events, engine {figure['engine']}): sign agreement "
        f"{_pct(twin['sign_agreement'])} on the events above the placebo noise, Pearson "
        f"{_num(twin['pearson'])}, mean absolute error {_num(twin['mae'])} pp (no effect at all: "
        f"{_num(figure['methods'].get('zero', {}).get('mae'))} pp"
        + (f"; best method {best}: {_num(others[best]['mae'])} pp" if best else "") + "). "
        f"An effect's {band.get('nominal', 0.8):.0%} band is ± "
        + ", ".join(f"{v:.1f} ({k.replace('_', ' ')})"
                    for k, v in band.get("half_width", {}).items())
        + f" pp; it covered {_pct(twin.get('coverage'))} of the held-out events."]
    rows = [r for r in figure.get("by_indicator", []) if r["indicator"] in indicators]
    if rows:
        table = pd.DataFrame(rows)
        table["cell"] = [f"{o:+.1f} / {t:+.1f}" for o, t in zip(table["observed"], table["twin"],
                                                                 strict=True)]
        wide = table.pivot_table(index=["indicator", "direction", "n_events"],
                                 columns="category", values="cell", aggfunc="first")
        lines += ["", "Mean effect of the real changes of the indicators concerned, observed / "
                  "twin (pp; an event is counted under every indicator it changed):", "",
                  markdown_table(wide.reset_index())]
    return lines


def _pct(value) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _num(value) -> str:
    return "n/a" if value is None else f"{value:.2f}"
