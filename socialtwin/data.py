"""``socialtwin regions`` and ``socialtwin data``: what ships, fetching raw files, rebuilding."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from simulator.errors import SocialTwinError


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``regions`` and ``data`` commands to the ``socialtwin`` parser."""
    regions = commands.add_parser(
        "regions", help="list the regions a twin can model and what data ship for each")
    regions.set_defaults(handler=regions_command)
    data = commands.add_parser("data", help="observed data: fetch raw files, rebuild tables")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    fetch = data_commands.add_parser(
        "fetch", help="download the raw upstream files from their official locations")
    fetch.add_argument("--dest", default="data/raw", help="destination folder (default: data/raw)")
    fetch.add_argument("--from", dest="source", help="import a local copy instead of downloading")
    fetch.add_argument("--base-url", help="download from a mirror instead of the official hosts")
    fetch.set_defaults(handler=fetch_command)
    build = data_commands.add_parser("build-tables",
                                     help="rebuild the shipped derived tables from raw files")
    build.add_argument("--from", dest="source", required=True, help="folder of raw files")
    build.set_defaults(handler=build_tables_command)


def regions_command(args: argparse.Namespace) -> int:
    """List every region with the tables and population attributes that ship for it."""
    from simulator.population.targets import shipped_attributes
    from simulator.sources import all_regions, load_observed

    observed = load_observed()
    tables = {name: set(getattr(observed, name)["region"])
              for name in ("policy", "mobility", "context")}
    print(f"{'code':<7} {'name':<34} what ships (policy, mobility, context; population attributes)")
    for region in all_regions():
        shipped = [name for name, found in tables.items() if region.code in found]
        attributes = shipped_attributes(region.code)
        population = (f"population: {', '.join(attributes)}" if attributes
                      else "no population data (give a marginals file)")
        observed = " ".join(shipped) or "no observed data (use --data-dir)"
        print(f"{region.code:<7} {region.name[:34]:<34} {observed}; {population}")
    return 0


def build_tables_command(args: argparse.Namespace) -> int:
    """Rebuild the shipped tables from a folder of raw files (a source checkout's tools/)."""
    root = Path(__file__).resolve().parents[1]
    if not (root / "tools" / "build_tables.py").is_file():
        raise SocialTwinError(f"data build-tables runs from a source checkout of socialtwin: "
                              f"{root / 'tools'} has no build_tables.py")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from tools.build_tables import build_all

    for path in build_all(args.source):
        print(path)
    return 0


def fetch_command(args: argparse.Namespace) -> int:
    """Download (or import) the raw upstream files into ``--dest``."""
    from simulator.sources.fetch import fetch_main

    installed = fetch_main(args.dest, source_dir=args.source, base_url=args.base_url)
    print(f"{len(installed)} files in {args.dest}; use them with --data-dir {args.dest}, or "
          f"rebuild the shipped tables with: socialtwin data build-tables --from {args.dest}")
    return 0
