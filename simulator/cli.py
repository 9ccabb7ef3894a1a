"""The ``socialtwin`` command line: run scenarios, calibrate, evaluate, sweep, plot, manage data."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from simulator.errors import SocialTwinError  # noqa: E402
from simulator.exit_status import EXIT_CODES  # noqa: E402
from simulator.probe_commands import register as register_probe_command  # noqa: E402
from simulator.sweep.commands import register as register_sweep_commands  # noqa: E402

COVID_SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "covid_us_2020.yaml"
OVERWRITE_HELP = ("replace an earlier run in the folder (only the files it wrote, as its "
                  "manifest lists them with their checksums, are removed) and write beside any "
                  "other file in it (kept; one with the name of a file written is refused)")


def _run(args: argparse.Namespace) -> int:
    from calibration.trust import figures_for
    from simulator.exit_status import failed_answers_status
    from simulator.outputs import RUN_FILES, write_run
    from simulator.run import apply_overrides, check_cache, run_scenario
    from simulator.run_folder import RunFolder, out_option
    from simulator.scenario import load_scenario

    out = out_option(args.out)
    scenario = apply_overrides(load_scenario(args.scenario), engine=args.engine,
                               agents=args.agents, seed=args.seed, region=args.region,
                               data_dir=args.data_dir)
    writes = RUN_FILES + (() if args.no_calibrate else _CALIBRATION_FILES)
    with RunFolder(out or scenario.output, writes, args.overwrite,
                   "--out" if out else f"{scenario.source}: output") as folder:
        check_cache(scenario, args.cache)
        _note_unrecognised(args.data_dir)
        figures = figures_for(scenario, args.events)
        result = run_scenario(scenario, cache_path=args.cache, progress=not args.quiet,
                              probe=not args.no_probe)
        for note in result.manifest["missing_inputs"]:
            print(f"missing input: {note}")
        written = write_run(result, folder, _run_sections(args, scenario, result, figures))
    _print_run(scenario.name, result.manifest)
    print(f"wrote {written}/ (report.md, manifest.json, trajectories.csv/.parquet, plots/)")
    return failed_answers_status(result.manifest, written, args.fail_on_failed_answers)


_CALIBRATION_FILES = ("calibrator.json", "calibration.csv", "calibration_table.csv",
                      "plots/calibration.png")
"""The files calibration.calibrate.calibration_section adds to a run folder."""


def _run_sections(args: argparse.Namespace, scenario, result, figures) -> list:
    """The calibration and trust sections of a run's report (none with --no-calibrate)."""
    if args.no_calibrate:
        return []
    from calibration.calibrate import calibrate_run, calibration_gap, calibration_section
    from calibration.trust import trust_section

    gap = calibration_gap(scenario, args.data_dir)
    if gap is not None:
        print(f"not calibrated: {gap}")
        return []
    calibration = calibrate_run(result.trajectories, scenario.region, scenario.engine.name,
                                args.data_dir)
    return [calibration_section(calibration), trust_section(scenario, figures, ())]


def _print_run(name: str, m: dict) -> None:
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


def _calibrate(args: argparse.Namespace) -> int:
    from calibration.calibrate import calibrate_run
    from calibration.run_data import read_run
    from simulator.folder_contents import earlier_run
    from simulator.run_folder import RunFolder, out_option, replace_file

    folder = Path(args.run_dir)
    out = out_option(args.out)
    region, engine, trajectories = read_run(folder)
    target = Path(out) if out is not None else folder / "calibrator.json"
    # Into a run folder (RUN_DIR's own calibrator.json, or --out in another run folder): an
    # update of that run, whose manifest lists the new file with its checksum.
    into_run = out is None or earlier_run(target.parent)[0] is not None
    claim = RunFolder(target.parent, [target.name], option="--out" if out else "RUN_DIR",
                      update=True) if into_run else _check_calibrator_file(target, args)
    with claim:
        _note_unrecognised(args.data_dir)
        calibration = calibrate_run(trajectories, region, engine, args.data_dir)
        if into_run:
            calibration.calibrator.save(claim.stage / target.name)
            claim.publish()
        else:
            replace_file(target, calibration.calibrator.save)
    print(calibration.evaluation.table.round(2).to_string())
    print(f"wrote {target}")
    return 0


def _check_calibrator_file(target: Path, args: argparse.Namespace) -> nullcontext:
    """Check, before any work, that ``--out`` names a new file or a calibrator of socialtwin."""
    from calibration.calibrator import BehaviourCalibrator
    from simulator.run_folder import check_file

    def is_calibrator(path: Path) -> bool:
        try:
            BehaviourCalibrator.load(path)
        except (ValueError, KeyError, TypeError, AttributeError):
            return False
        return True

    check_file(target, "--out", args.overwrite, is_calibrator, "calibrator")
    return nullcontext()


def _note_unrecognised(data_dir: str | None) -> None:
    """Say which CSV files of ``--data-dir`` match no known layout (they are not read)."""
    if data_dir is None or not Path(data_dir).is_dir():
        return
    from simulator.sources.layouts import LAYOUTS, unrecognised_files

    for path, columns in unrecognised_files(data_dir):
        shown = ", ".join(columns[:6]) + (", ..." if len(columns) > 6 else "")
        print(f"socialtwin: note: --data-dir: {path} is not read: its header ({shown}) matches "
              f"no known layout ({', '.join(layout.name for layout in LAYOUTS)})",
              file=sys.stderr)



def _evaluate(args: argparse.Namespace) -> int:
    import json

    from calibration.evaluate import evaluate
    from calibration.evaluation_report import EVALUATION_FILES, write_evaluation_outputs
    from calibration.event_report import EVENT_FILES
    from simulator.run import apply_overrides, check_cache
    from simulator.run_folder import RunFolder, out_option
    from simulator.scenario import load_scenario

    out = out_option(args.out)
    scenario = apply_overrides(load_scenario(args.scenario), engine=args.engine)
    writes = EVENT_FILES if args.protocol == "events" else EVALUATION_FILES
    with nullcontext() if out is None else RunFolder(out, writes, args.overwrite) as folder:
        check_cache(scenario, args.cache)
        _note_unrecognised(args.data_dir)
        if args.protocol == "events":
            return _evaluate_events(args, scenario, folder)
        evaluation = evaluate(scenario, regions=args.regions, data_dir=args.data_dir,
                              agents=args.agents, seed=args.seed, cache_path=args.cache,
                              progress=not args.json)
        if folder is not None:
            write_evaluation_outputs(evaluation, folder)
    if args.json:
        print(json.dumps(evaluation.to_json()))
        return 0
    table = evaluation.table.copy()
    table.columns = [c.replace("_and_", "&").replace("_", " ") for c in table.columns]
    tested = evaluation.by_region["region"].nunique()
    print(f"Test RMSE (percentage points), {TEST} weeks, pooled over {len(evaluation.regions)} "
          f"regions ({tested} with test weeks), engine {scenario.engine.name}")
    print(table.round(2).to_string())
    summary = evaluation.to_json()
    print(f"twin vs gradient boosting: {summary['improvement_vs_gbm_pct']:+.1f}%; vs "
          f"persistence: {summary['improvement_vs_persistence_pct']:+.1f}% (positive = lower "
          "error)")
    if len(evaluation.regions) > 1:
        print(_spread(evaluation))
    for code, why in evaluation.excluded.items():
        print(f"left out: {code} ({why})")
    for notes in evaluation.simulation.get("missing_inputs", {}).values():
        print(f"missing inputs: {'; '.join(notes)}")
    return 0


def _evaluate_events(args: argparse.Namespace, scenario, folder) -> int:
    import json

    from calibration.event_protocol import evaluate_events
    from calibration.event_report import event_text, write_event_outputs

    evaluation = evaluate_events(scenario, regions=args.regions, data_dir=args.data_dir,
                                 agents=args.agents, seed=args.seed, cache_path=args.cache,
                                 progress=not args.json)
    if folder is not None:
        write_event_outputs(evaluation, folder)
    print(json.dumps(evaluation.to_json()) if args.json else event_text(evaluation))
    return 0


def _spread(evaluation) -> str:
    """Per-region macro RMSE of each method: median and quartiles, and regions the twin wins."""
    macro = evaluation.by_region.pivot(index="region", columns="method", values="macro")
    twin = evaluation.twin.name
    lines = ["Per region (test macro RMSE): median [25th-75th percentile]"]
    for method in evaluation.table.index:
        low, middle, high = macro[method].quantile([0.25, 0.5, 0.75])
        lines.append(f"  {method:<18} {middle:6.2f} [{low:.2f}-{high:.2f}]")
    for baseline in ("persistence", "gbm"):
        wins = int((macro[twin] < macro[baseline]).sum())
        lines.append(f"twin below {baseline} in {wins} of {len(macro)} regions")
    return "\n".join(lines)


TEST = "2021-01-01..2021-04-28"


def _regions(args: argparse.Namespace) -> int:
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


def _data_build_tables(args: argparse.Namespace) -> int:
    # The builders are offline scripts of the source tree (tools/), not part of the package.
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


def _data_fetch(args: argparse.Namespace) -> int:
    from simulator.sources.fetch import fetch_main

    installed = fetch_main(args.dest, source_dir=args.source, base_url=args.base_url)
    print(f"{len(installed)} files in {args.dest}; use them with --data-dir {args.dest}, or "
          f"rebuild the shipped tables with: socialtwin data build-tables --from {args.dest}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``socialtwin`` command."""
    parser = argparse.ArgumentParser(
        prog="socialtwin",
        description="Agent-based social digital twin: LLM-driven synthetic populations "
                    "calibrated to observed behaviour.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run a scenario and write a run folder",
                              epilog=EXIT_CODES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("scenario", help="scenario YAML file")
    run.add_argument("--engine", help="local, rules or litellm:<model> (overrides the scenario)")
    run.add_argument("--agents", type=int, help="population size (overrides the scenario)")
    run.add_argument("--seed", type=int, help="random seed (overrides the scenario)")
    run.add_argument("--out", help="run folder (default: the scenario's output)")
    run.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    run.add_argument("--cache", help="response cache file (default: per-user cache folder)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--fail-on-failed-answers", action="store_true",
                     help="exit with code 3 when any answer failed (the folder is written)")
    run.add_argument("--no-calibrate", action="store_true",
                     help="skip calibration against observed data")
    run.add_argument("--no-probe", action="store_true",
                     help="skip the engine's report card (socialtwin probe) in the report")
    run.add_argument("--region", help="region to model instead of the scenario's (a code, ISO "
                     "alpha-2 code or name; `socialtwin regions` lists them)")
    run.add_argument("--data-dir", help="raw observed files for policy, context and calibration "
                     "(default: the shipped tables)")
    run.add_argument("--events", help="events.json of `socialtwin evaluate --protocol events "
                     "--out`, measured on this scenario's mechanism: the report says how far to "
                     "trust its counterfactuals by it (figures shipped for the case studies are "
                     "used without it)")
    run.set_defaults(handler=_run)

    regions = commands.add_parser(
        "regions", help="list the regions a twin can model and what data ship for each")
    regions.set_defaults(handler=_regions)

    calibrate = commands.add_parser(
        "calibrate", help="fit the calibrator on a run folder and observed data")
    calibrate.add_argument("run_dir", help="a run folder written by `socialtwin run`")
    calibrate.add_argument("--data-dir", help="raw observed files (default: the shipped tables)")
    calibrate.add_argument("--out", help="calibrator file (default: RUN_DIR/calibrator.json); "
                           "an existing file must be a calibrator of socialtwin")
    calibrate.add_argument("--overwrite", action="store_true",
                           help="replace an existing --out file that is not a calibrator")
    calibrate.set_defaults(handler=_calibrate)

    evaluate = commands.add_parser(
        "evaluate", help="the evaluation protocols: calibrate on 2020 and test on Jan-Apr 2021, "
                         "or score counterfactual effects against real policy changes")
    evaluate.add_argument("--scenario", default=str(COVID_SCENARIO),
                          help="case-study scenario (default: scenarios/covid_us_2020.yaml)")
    evaluate.add_argument("--protocol", choices=("time", "events"), default="time",
                          help="time: calibrate on 2020, test on Jan-Apr 2021 (default); "
                               "events: the twin's counterfactual effects against the observed "
                               "effects of real policy changes, out of sample by region")
    evaluate.add_argument("--engine", help="local, rules or litellm:<model>")
    evaluate.add_argument("--regions", default="all",
                          help="all (US nation and states), nation, states, world (every "
                               "country with policy and mobility data), or codes and names "
                               "such as FRA,IND,US_CA,Texas")
    evaluate.add_argument("--data-dir", help="raw observed files for the observed metrics, the "
                          "policy and the context (default: the shipped tables)")
    evaluate.add_argument("--agents", type=int, default=2000, help="agents per region")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--cache", help="response cache file")
    evaluate.add_argument("--out", help="folder for tables, predictions and plots")
    evaluate.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    evaluate.add_argument("--json", action="store_true",
                          help="print one JSON object (time: macro RMSE per method, "
                               "improvement, per-region table; events: n_events, "
                               "placebo_noise, figures per method)")
    evaluate.set_defaults(handler=_evaluate)

    register_sweep_commands(commands)
    register_probe_command(commands)
    data = commands.add_parser("data", help="observed data: fetch raw files, rebuild tables")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    fetch = data_commands.add_parser(
        "fetch", help="download the raw upstream files from their official locations")
    fetch.add_argument("--dest", default="data/raw", help="destination folder (default: data/raw)")
    fetch.add_argument("--from", dest="source", help="import a local copy instead of downloading")
    fetch.add_argument("--base-url", help="download from a mirror instead of the official hosts")
    fetch.set_defaults(handler=_data_fetch)
    build = data_commands.add_parser("build-tables",
                                     help="rebuild the shipped derived tables from raw files")
    build.add_argument("--from", dest="source", required=True, help="folder of raw files")
    build.set_defaults(handler=_data_build_tables)
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
