"""The ``socialtwin`` command line: run scenarios, calibrate, evaluate, sweep, plot, manage data."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def _run(args: argparse.Namespace) -> int:
    from simulator.outputs import write_run
    from simulator.run import apply_overrides, run_scenario
    from simulator.scenario import load_scenario

    scenario = apply_overrides(load_scenario(args.scenario), engine=args.engine,
                               agents=args.agents, seed=args.seed)
    out = Path(args.out) if args.out else scenario.output
    result = run_scenario(scenario, cache_path=args.cache, progress=not args.quiet)
    written = write_run(result, out)
    m = result.manifest
    print(f"{scenario.name}: {m['agents']:,} agents x {m['ticks']} ticks on {m['engine']} "
          f"in {m['wall_s']:.1f} s; LLM calls {m['llm_calls']:,}, cache hits {m['cache_hits']:,}, "
          f"failed answers {m['failed_answers']}")
    print(f"wrote {written}/ (report.md, manifest.json, trajectories.csv/.parquet, plots/)")
    return 0


def _data_build_tables(args: argparse.Namespace) -> int:
    from calibration.build_tables import build_tables as build_calibration_tables
    from simulator.build_tables import build_all as build_simulator_tables

    raw = Path(args.source)
    written = list(build_simulator_tables(raw)) + list(build_calibration_tables(raw))
    for path in written:
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``socialtwin`` command."""
    parser = argparse.ArgumentParser(
        prog="socialtwin",
        description="Agent-based social digital twin: LLM-driven synthetic populations "
                    "calibrated to observed behaviour.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run a scenario and write a run folder")
    run.add_argument("scenario", help="scenario YAML file")
    run.add_argument("--engine", help="local, rules or litellm:<model> (overrides the scenario)")
    run.add_argument("--agents", type=int, help="population size (overrides the scenario)")
    run.add_argument("--seed", type=int, help="random seed (overrides the scenario)")
    run.add_argument("--out", help="run folder (default: the scenario's output)")
    run.add_argument("--cache", help="response cache file (default: per-user cache folder)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(handler=_run)

    data = commands.add_parser("data", help="observed data: fetch raw files, rebuild tables")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    build = data_commands.add_parser("build-tables",
                                     help="rebuild the shipped derived tables from raw files")
    build.add_argument("--from", dest="source", required=True, help="folder of raw files")
    build.set_defaults(handler=_data_build_tables)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``socialtwin`` command; returns the exit status."""
    from simulator.errors import SocialTwinError

    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except SocialTwinError as error:
        print(f"socialtwin: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("socialtwin: interrupted (answers obtained so far are in the response cache)",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
