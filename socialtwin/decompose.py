"""``socialtwin decompose``: a counterfactual's effect, the policy's part and the epidemic's."""

from __future__ import annotations

import argparse
import datetime as dt
import json

from socialtwin.flags import add_flags


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``decompose`` command to the ``socialtwin`` parser."""
    decompose = commands.add_parser(
        "decompose", help="split a counterfactual's effect on behaviour into the policy's "
                          "direct part and the part through the epidemic it changes",
        description="Three runs with the epidemic simulated (context.epidemic: simulated): the "
                    "observed policy, the variant with its own epidemic, and the variant told "
                    "the observed policy's cases. Per behaviour: total = variant - factual, "
                    "direct = held - factual, through_epidemic = variant - held (%% change "
                    "from the routine, before calibration).")
    add_flags(decompose, "scenario", "engine", "agents", "json")
    decompose.add_argument("--variants", required=True, help="variants YAML file")
    decompose.add_argument("--variant", required=True, help="the variant's name in that file")
    decompose.add_argument("--from", dest="first", type=dt.date.fromisoformat,
                           help="first day of the ticks averaged (default: the period's first)")
    decompose.add_argument("--to", dest="last", type=dt.date.fromisoformat,
                           help="last day of the ticks averaged (default: the period's last)")
    decompose.set_defaults(handler=decompose_command)


def decompose_command(args: argparse.Namespace) -> int:
    """Check everything, run the three paths and print the table; the exit status."""
    from simulator.epidemic.decomposition import decompose
    from simulator.errors import ScenarioError, UsageError
    from simulator.run import apply_overrides
    from simulator.scenario import load_scenario
    from simulator.sweep.variants_file import load_variants

    scenario = apply_overrides(load_scenario(args.scenario), engine=args.engine,
                               agents=args.agents)
    if scenario.context.epidemic != "simulated":
        raise ScenarioError(scenario.source, "context.epidemic", "is observed: a counterfactual "
                            "keeps the observed cases, so there is no epidemic part to split",
                            "simulated (scenarios/covid_us_2020_epidemic.yaml)")
    variants = {v.name: v for v in load_variants(args.variants)}
    if args.variant not in variants:
        raise UsageError(f"--variant: {args.variant!r} is not in {args.variants} (allowed: "
                         f"{', '.join(variants)})")
    window = (args.first or scenario.start, args.last or scenario.end)
    if not scenario.start <= window[0] <= window[1] <= scenario.end:
        raise UsageError(f"--from/--to: {window[0]}..{window[1]} (allowed: days from "
                         f"{scenario.start} to {scenario.end}, --from not after --to)")
    variant = variants[args.variant]
    variant.apply(_timeline(scenario), scenario)  # a transform that does not fit: before work
    table = decompose(scenario, variant, window)
    if args.json:
        print(json.dumps({"scenario": scenario.name, "variant": variant.name,
                          "window": [str(d) for d in window],
                          "behaviours": table.round(4).to_dict("records")}))
        return 0
    print(f"{scenario.name}, {window[0]}..{window[1]}: {variant.name} against the observed "
          "policy (% change of the population mean from the routine, before calibration)")
    print(table.round(2).to_string(index=False))
    return 0


def _timeline(scenario):
    from simulator.policy import PolicyTimeline

    return PolicyTimeline.from_scenario(scenario)
