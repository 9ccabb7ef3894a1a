"""``socialtwin sweep``: counterfactual variants x seeds, calibrated and checked, in one folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from simulator.sweep.executors import EXECUTORS
from socialtwin.exit_status import EXIT_CODES, failed_answers_status
from socialtwin.flags import add_flags


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` command to the ``socialtwin`` parser."""
    sweep = commands.add_parser(
        "sweep", help="run counterfactual variants x seeds and write a sweep folder",
        description="Run every variant of a variants file under every seed (common random "
                    "numbers), calibrate, check plausibility, and write a sweep folder.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_flags(sweep, "scenario")
    sweep.add_argument("--variants", required=True, help="variants YAML file")
    sweep.add_argument("--seeds", type=int,
                       help="number of seeds from the scenario's seed on (overrides the file)")
    sweep.add_argument("--executor", choices=EXECUTORS, default="local",
                       help="where runs happen (default: local)")
    sweep.add_argument("--address", help="address of a running Dask scheduler or Ray cluster")
    sweep.add_argument("--workers", type=int, default=1,
                       help="worker processes (default: 1, in this process for local)")
    sweep.add_argument("--yes", action="store_true",
                       help="do not ask for confirmation before paid LLM calls")
    add_flags(sweep, "engine", "agents", "cache", "out", "overwrite", "quiet",
              "fail_on_failed_answers", "events",
              cache="shared response cache file (default: per-user cache folder)",
              out="sweep folder (default: runs/<variants file name>)")
    sweep.set_defaults(handler=sweep_command)


def sweep_command(args: argparse.Namespace) -> int:
    """Run the sweep and write its folder; the exit status."""
    from calibration.run_calibration import calibrate_sweep, calibration_gap
    from calibration.trust import effect_band, figures_for, trust_section, with_effect_bands
    from simulator.policy import PolicyTimeline
    from simulator.run import apply_overrides, check_cache
    from simulator.run_folder import RunFolder, out_option
    from simulator.scenario import load_scenario
    from simulator.sweep.executors import make_executor
    from simulator.sweep.outputs import SWEEP_FILES, write_sweep
    from simulator.sweep.runner import run_sweep
    from simulator.sweep.variants_file import load_variants

    out = out_option(args.out)
    scenario = apply_overrides(load_scenario(args.scenario), engine=args.engine,
                               agents=args.agents)
    variants = load_variants(args.variants)
    seeds = variants.seeds_for(scenario, args.seeds)
    with RunFolder(out or scenario.output.parent / Path(args.variants).stem, SWEEP_FILES,
                   args.overwrite) as folder:
        check_cache(scenario, args.cache)
        figures = figures_for(scenario, args.events)
        if scenario.engine.name.startswith("litellm:") and \
                not _confirm_cost(scenario, len(variants), len(seeds), args):
            print("sweep cancelled")
            return 1
        with make_executor(args.executor, args.workers, args.address) as executor:
            result = run_sweep(scenario, variants, seeds, executor, cache_path=args.cache,
                               calibrate=calibrate_sweep, progress=not args.quiet)
        sections = []
        if calibration_gap(scenario) is None:
            result.overall = with_effect_bands(result.overall,
                                               effect_band(figures, scenario.region))
            varied = variants.indicators(PolicyTimeline.from_scenario(scenario), scenario)
            sections.append(trust_section(scenario, figures, varied, "this sweep's"))
        written = write_sweep(result, folder, sections)
    m = result.manifest
    print(f"{scenario.name}: {len(variants)} variants x {len(seeds)} seeds = {m['runs']} runs of "
          f"{m['agents']:,} agents on {m['engine']} via {m['executor']} ({m['workers']} "
          f"workers) in {m['wall_s']:.1f} s; LLM calls {m['llm_calls']:,}, cache hits "
          f"{m['cache_hits']:,}, failed answers {m['failed_answers']}")
    print(f"plausibility: {m['checks_passed']} of {m['checks_total']} checks passed; "
          f"calibration {m['calibration']}")
    print(f"wrote {written}/ (report.md, manifest.json, results, summary, checks, plots/)")
    return failed_answers_status(m, written, args.fail_on_failed_answers)


def _confirm_cost(scenario, n_variants: int, n_seeds: int, args: argparse.Namespace) -> bool:
    """Print the most calls and cost a paid sweep can take; ask unless ``--yes``."""
    from simulator.cognition import make_engine
    from simulator.policy import tick_dates

    ticks = len(tick_dates(scenario.start, scenario.end, scenario.tick)) + 1
    personas = scenario.engine.personas
    engine = make_engine(scenario.engine.name, scenario.engine.options,
                         scenario.policy.indicators, args.cache or scenario.engine.cache)
    items = sum(len(engine.elicitation.items(b)) for b in scenario.behaviours)
    questions = n_variants * n_seeds * ticks * personas * items
    try:
        estimate = engine.language_model.estimate(questions)
    finally:
        engine.close()
    cost = "unknown (litellm has no price for this model)" if estimate["cost_usd"] is None \
        else f"${estimate['cost_usd']:.2f}"
    print(f"{engine.name}: at most {questions:,} LLM calls ({n_variants} variants x {n_seeds} "
          f"seeds x {ticks} ticks x up to {personas} personas x {items} questions); the "
          "response cache serves repeated questions, so fewer are usually made")
    print(f"estimated cost: at most {cost}")
    if args.yes:
        return True
    try:
        answer = input("Proceed? [y/N] ")
    except EOFError:
        print("(no answer on stdin: pass --yes to run without asking)")
        return False
    return answer.strip().lower() in ("y", "yes")
