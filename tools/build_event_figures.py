"""Measure and ship the event protocol's figures for the case studies' mechanisms.

Run reports and sweep reports say how far to trust a counterfactual by the figures measured for
their mechanism (:mod:`calibration.trust`). This script measures the case studies once and
writes ``calibration/data/event_figures/<name>.json`` (what ``socialtwin evaluate --protocol
events --json`` prints): small tables of figures, no raw data.

    python -m tools.build_event_figures                  # every configuration below
    python -m tools.build_event_figures --only rules_world
    python -m tools.build_event_figures --from local_us6=runs/events/events.json

``--from NAME=FILE`` ships a file the protocol already wrote for that configuration (the
``local`` one takes about an hour on a 2-core CPU), after checking it was measured on the
configuration's mechanism.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "calibration" / "data" / "event_figures"
CONFIGURATIONS = {
    "rules_world": ("covid_country_2020.yaml", "rules", "world"),
    "rules_us": ("covid_us_2020.yaml", "rules", "all"),
    "local_us6": ("covid_us_2020.yaml", "local", "USA,US_CA,US_NY,US_TX,US_FL,US_IL"),
}
"""name -> (scenario file, engine, regions); 2,000 agents per region, seed 0."""
AGENTS = 2000


def scenario_of(name: str):
    """The scenario of a configuration, with its engine."""
    from simulator.scenario import load_scenario

    file, engine, _ = CONFIGURATIONS[name]
    return load_scenario(ROOT / "scenarios" / file).with_engine(engine)


def measure(name: str) -> dict:
    """Run the protocol for a configuration and return its JSON figures."""
    from calibration.event_protocol import evaluate_events

    regions = CONFIGURATIONS[name][2]
    return evaluate_events(scenario_of(name), regions, agents=AGENTS).to_json()


def imported(name: str, path: Path) -> dict:
    """A protocol file written for a configuration, checked against its mechanism."""
    from calibration.trust import fingerprint, mechanism

    figures = json.loads(path.read_text())
    expected = fingerprint(mechanism(scenario_of(name)))
    if figures.get("protocol") != "events" or figures.get("mechanism") != expected:
        raise SystemExit(f"{path}: not the event protocol's figures for {name} (mechanism "
                         f"{figures.get('mechanism')}, expected {expected})")
    return figures


def write(name: str, figures: dict) -> Path:
    """Write one configuration's figures into the package."""
    FOLDER.mkdir(parents=True, exist_ok=True)
    path = FOLDER / f"{name}.json"
    path.write_text(json.dumps({"configuration": name, **figures}, indent=1, sort_keys=True)
                    + "\n")
    return path


def main() -> None:
    """Measure (or import) the configurations asked for and write them into the package."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(CONFIGURATIONS), action="append")
    parser.add_argument("--from", dest="sources", action="append", default=[],
                        metavar="NAME=FILE", help="ship a protocol file instead of measuring")
    args = parser.parse_args()
    given = dict(item.split("=", 1) for item in args.sources)
    unknown = set(given) - set(CONFIGURATIONS)
    if unknown:
        raise SystemExit(f"unknown configuration {sorted(unknown)}: {sorted(CONFIGURATIONS)}")
    for name in args.only or (list(given) if given else list(CONFIGURATIONS)):
        figures = imported(name, Path(given[name])) if name in given else measure(name)
        print(write(name, figures))


if __name__ == "__main__":
    main()
