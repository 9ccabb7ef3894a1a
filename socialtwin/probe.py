"""``socialtwin probe``: an engine's report card on a scenario's probe battery."""

from __future__ import annotations

import argparse
import json
import sys

from simulator.cognition.probe_card import ProbeCard, failures, keying_finding
from socialtwin.flags import add_flags


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``probe`` subcommand to the ``socialtwin`` parser."""
    probe = commands.add_parser(
        "probe", help="grade an engine on contrasts with expected signs (its report card)",
        description="Put the scenario's probe battery (contrasts whose expected signs come from "
                    "the literature) to an engine and compare its share of right signs with "
                    "baselines that carry no information.")
    add_flags(probe, "case_study", "engine", "region", "cache", "json")
    probe.set_defaults(handler=probe_command)


def probe_command(args: argparse.Namespace) -> int:
    """Grade the engine and print its card; the exit status (1 when every probe failed)."""
    from simulator.report_card import probe_scenario
    from simulator.run import apply_overrides
    from simulator.scenario import load_scenario

    scenario = apply_overrides(load_scenario(args.scenario), engine=args.engine,
                               region=args.region)
    card = probe_scenario(scenario, cache_path=args.cache)
    if args.json:
        print(json.dumps(card.to_json()))
    else:
        print(card_text(card))
    if card.probes and len(card.unanswered) == len(card.probes):
        print(f"socialtwin probe: every probe's answers failed; last error: {card.last_error}",
              file=sys.stderr)
        return 1
    return 0


def card_text(card: ProbeCard) -> str:
    """The card as plain text: one line per probe, then the shares against the baselines."""
    engine = card.engine
    lines = [f"Report card of {engine.get('engine')} ({engine.get('model')}, "
             f"{engine.get('elicitation') or 'parametric'})", ""]
    for p in card.probes:
        arms = f"{p.a} vs {p.b}" + (f" in {p.situation}" if p.situation else "")
        reverse = ("" if p.reverse_keyed_answered is None else
                   "; reverse-keyed no answer" if not p.reverse_keyed_answered else
                   f"; reverse-keyed {p.effect_reverse_keyed:+.4f}"
                   f"{', keyings disagree' if p.keyings_agree is False else ''}")
        effect = "no answer" if p.effect is None else f"{p.effect:+.4f}"
        lines.append(f"  {'ok ' if p.correct else 'NO '} {p.kind:<8} {p.name:<36} "
                     f"{effect} (expected {'+' if p.expected_sign > 0 else '-'}; {arms}"
                     f"{reverse})")
    lines += [f"  skipped: {s}" for s in card.skipped]
    lines += [f"  {failure}" for failure in failures(card)]
    table = card.table()
    lines += ["", "Share of probes with the expected sign:",
              table.to_string(index=False, float_format=lambda v: f"{v:.2f}"),
              f"({card.llm_calls} LLM calls, {card.cache_hits} cache hits)"]
    finding = keying_finding(card)
    if finding:
        lines += ["", finding]
    return "\n".join(lines)
