"""``socialtwin run``: run a scenario, calibrate it, grade its engine and write a run folder."""

from __future__ import annotations

import argparse

from socialtwin.exit_status import EXIT_CODES, failed_answers_status
from socialtwin.flags import add_flags, note_unrecognised


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``run`` command to the ``socialtwin`` parser."""
    run = commands.add_parser("run", help="run a scenario and write a run folder",
                              epilog=EXIT_CODES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    add_flags(run, "scenario", "engine", "agents", "seed", "region", "data_dir", "out",
              "overwrite", "cache", "quiet", "fail_on_failed_answers", "events",
              out="run folder (default: the scenario's output)")
    run.add_argument("--no-calibrate", action="store_true",
                     help="skip calibration against observed data")
    run.add_argument("--no-probe", action="store_true",
                     help="skip the engine's report card (socialtwin probe) in the report")
    run.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Run the scenario and write its folder; the exit status."""
    from calibration.run_calibration import CALIBRATION_FILES
    from calibration.trust import figures_for
    from simulator.outputs import RUN_FILES, write_run
    from simulator.run import apply_overrides, check_cache, run_scenario
    from simulator.run_folder import RunFolder, out_option
    from simulator.scenario import load_scenario

    out = out_option(args.out)
    scenario = apply_overrides(load_scenario(args.scenario), engine=args.engine,
                               agents=args.agents, seed=args.seed, region=args.region,
                               data_dir=args.data_dir)
    writes = RUN_FILES + (() if args.no_calibrate else CALIBRATION_FILES)
    with RunFolder(out or scenario.output, writes, args.overwrite,
                   "--out" if out else f"{scenario.source}: output") as folder:
        check_cache(scenario, args.cache)
        note_unrecognised(args.data_dir)
        figures = figures_for(scenario, args.events)
        result = run_scenario(scenario, cache_path=args.cache, progress=not args.quiet,
                              probe=not args.no_probe)
        for note in result.manifest["missing_inputs"]:
            print(f"missing input: {note}")
        written = write_run(result, folder, _sections(args, scenario, result, figures))
    _print_summary(scenario.name, result.manifest)
    print(f"wrote {written}/ (report.md, manifest.json, trajectories.csv/.parquet, plots/)")
    return failed_answers_status(result.manifest, written, args.fail_on_failed_answers)


def _sections(args: argparse.Namespace, scenario, result, figures) -> list:
    """The calibration and trust sections of a run's report (none with --no-calibrate)."""
    if args.no_calibrate:
        return []
    from calibration.run_calibration import calibrate_run, calibration_gap, calibration_section
    from calibration.trust import trust_section

    gap = calibration_gap(scenario, args.data_dir)
    if gap is not None:
        print(f"not calibrated: {gap}")
        return []
    calibration = calibrate_run(result.trajectories, scenario.region, scenario.engine.name,
                                args.data_dir)
    for note in calibration.evaluation.notes:
        print(f"calibration note: {note}")
    return [calibration_section(calibration), trust_section(scenario, figures, ())]


def _print_summary(name: str, m: dict) -> None:
    """The summary a run prints: size, time, calls, failures, calibration and report card."""
    print(f"{name}: {m['agents']:,} agents x {m['ticks']} ticks on {m['engine']} "
          f"in {m['wall_s']:.1f} s; LLM calls {m['llm_calls']:,}, cache hits {m['cache_hits']:,}, "
          f"failed answers {m['failed_answers']:,} of {m['answers']:,}")
    if m["failed_routine_answers"]:
        print(f"warning: {m['failed_routine_answers']:,} answers to the routine (before the "
              "first tick) failed: those agents start from 0.5 (see report.md)")
    if "calibration" in m:
        macro = m["calibration"]["macro_rmse"]
        twin = next(k for k in macro if k.startswith("twin"))
        print(f"calibrated: test macro RMSE {macro[twin]:.2f} pp (gradient boosting "
              f"{macro['gbm']:.2f}, persistence {macro['persistence']:.2f})")
    if "probe_card" in m:
        card = m["probe_card"]
        shuffled = card["baselines"]["shuffled_situations"]["share_correct"]
        keying = card.get("keying_agreement")
        print(f"report card: {card['share_correct']:.0%} of policy and context probes with the "
              f"expected sign (shuffled situations {shuffled:.0%}, uniform 0%)"
              + ("" if keying is None else f"; asked the other way round, the answers agree in "
                 f"sign on {keying:.0%} (see report.md)")
              + (f"; {len(card['unanswered'])} probes unanswered (failed answers)"
                 if card.get("unanswered") else ""))
