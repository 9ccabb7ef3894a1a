"""The flags the commands share, declared once: name, type, default and help.

A command adds the flags it takes with :func:`add_flags`, giving a help of its own only where the
flag means something particular to it (``--out`` is a run folder for ``run``, a file for
``calibrate``). Defaults of the evaluation protocols come from :mod:`calibration.protocol`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from calibration.protocol import AGENTS, REGIONS, SEED

COVID_SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "covid_us_2020.yaml"
OVERWRITE_HELP = ("replace an earlier run in the folder (only the files it wrote, as its "
                  "manifest lists them with their checksums, are removed) and write beside any "
                  "other file in it (kept; one with the name of a file written is refused)")

FLAGS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "scenario": (("scenario",), {"help": "scenario YAML file"}),
    "case_study": (("--scenario",), {
        "default": str(COVID_SCENARIO),
        "help": "scenario YAML file (default: scenarios/covid_us_2020.yaml)"}),
    "engine": (("--engine",), {
        "help": "local, rules or litellm:<model> (overrides the scenario)"}),
    "agents": (("--agents",), {"type": int, "help": "population size (overrides the scenario)"}),
    "agents_per_region": (("--agents",), {
        "type": int, "default": AGENTS, "help": f"agents per region (default: {AGENTS:,})"}),
    "seed": (("--seed",), {"type": int, "help": "random seed (overrides the scenario)"}),
    "protocol_seed": (("--seed",), {"type": int, "default": SEED,
                                     "help": f"random seed (default: {SEED})"}),
    "region": (("--region",), {
        "help": "region to model instead of the scenario's (a code, ISO alpha-2 code or name; "
                "`socialtwin regions` lists them)"}),
    "regions": (("--regions",), {
        "default": REGIONS,
        "help": "all (US nation and states; the default), nation, states, world (every country "
                "with policy and mobility data), or codes and names such as "
                "FRA,IND,US_CA,Texas"}),
    "data_dir": (("--data-dir",), {
        "help": "a folder of raw upstream files (OxCGRT, mobility, cases, vaccination, "
                "temperature) read instead of the shipped tables, for the policy and context "
                "agents receive and the observed metrics of calibration"}),
    "cache": (("--cache",), {"help": "response cache file (default: per-user cache folder)"}),
    "out": (("--out",), {"help": "output folder"}),
    "overwrite": (("--overwrite",), {"action": "store_true", "help": OVERWRITE_HELP}),
    "quiet": (("--quiet",), {"action": "store_true", "help": "no progress bar"}),
    "json": (("--json",), {"action": "store_true", "help": "print one JSON object"}),
    "fail_on_failed_answers": (("--fail-on-failed-answers",), {
        "action": "store_true",
        "help": "exit with code 3 when any answer failed (the folder is written)"}),
    "objective": (("--objective",), {
        "choices": ("weeks+events", "weeks"), "default": "weeks+events",
        "help": "what a fit matches: the calibrated error on the training weeks and the observed "
                "effects of the policy events inside them (weeks+events, the default), or the "
                "weeks alone"}),
    "pooling": (("--pooling",), {
        "choices": ("none", "regions"), "default": "none",
        "help": "partial pooling by region: each region also gets its own compliance_scale of "
                "the rules, pulled towards the pool's (regions), or pooled values only (none, the "
                "default)"}),
    "events": (("--events",), {
        "help": "events.json of `socialtwin evaluate --protocol events --out`, measured on this "
                "scenario's mechanism: the report says how far to trust counterfactuals by it "
                "(figures shipped for the case studies are used without it)"}),
}
"""Flag name -> (argparse names, argparse options)."""


def add_flags(parser: argparse.ArgumentParser, *names: str, **helps: str) -> None:
    """Add the shared flags ``names`` to a command's parser.

    Args:
        parser: the command's parser.
        *names: keys of :data:`FLAGS`.
        **helps: a help of the command's own for some of them (by key).
    """
    for name in names:
        flags, options = FLAGS[name]
        parser.add_argument(*flags, **{**options, **({"help": helps[name]}
                                                     if name in helps else {})})


def note_unrecognised(data_dir: str | None) -> None:
    """Say which CSV files of ``--data-dir`` match no known layout (they are not read)."""
    if data_dir is None or not Path(data_dir).is_dir():
        return
    from simulator.sources.layouts import LAYOUTS, unrecognised_files

    for path, columns in unrecognised_files(data_dir):
        shown = ", ".join(columns[:6]) + (", ..." if len(columns) > 6 else "")
        print(f"socialtwin: note: --data-dir: {path} is not read: its header ({shown}) matches "
              f"no known layout ({', '.join(layout.name for layout in LAYOUTS)})",
              file=sys.stderr)
