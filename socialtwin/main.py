"""The ``socialtwin`` command: its parser, made of one module per command, and its entry point."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from simulator.errors import SocialTwinError  # noqa: E402
from socialtwin import (  # noqa: E402
    calibrate,
    data,
    decompose,
    evaluate,
    fit,
    plot,
    probe,
    run,
    sweep,
)

COMMANDS = (run, sweep, decompose, plot, calibrate, fit, evaluate, probe, data)
"""The modules whose ``register`` adds their commands, in the order ``--help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``socialtwin`` command."""
    parser = argparse.ArgumentParser(
        prog="socialtwin",
        description="Agent-based social digital twin: LLM-driven synthetic populations "
                    "calibrated to observed behaviour.")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``socialtwin`` command; returns the exit status."""
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
