"""The ``socialtwin sweep`` and ``socialtwin plot`` commands (registered by simulator/cli.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from simulator.errors import SocialTwinError
from simulator.exit_status import EXIT_CODES
from simulator.sweep.executors import EXECUTORS


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` and ``plot`` subcommands to the ``socialtwin`` parser."""
    sweep = commands.add_parser(
        "sweep", help="run counterfactual variants x seeds and write a sweep folder",
        description="Run every variant of a variants file under every seed (common random "
                    "numbers), calibrate, check plausibility, and write a sweep folder.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sweep.add_argument("scenario", help="scenario YAML file")
    sweep.add_argument("--variants", required=True, help="variants YAML file")
    sweep.add_argument("--seeds", type=int,
                       help="number of seeds from the scenario's seed on (overrides the file)")
    sweep.add_argument("--executor", choices=EXECUTORS, default="local",
                       help="where runs happen (default: local)")
    sweep.add_argument("--address", help="address of a running Dask scheduler or Ray cluster")
    sweep.add_argument("--workers", type=int, default=1,
                       help="worker processes (default: 1, in this process for local)")
    sweep.add_argument("--engine", help="local, rules or litellm:<model> (overrides the scenario)")
    sweep.add_argument("--agents", type=int, help="population size (overrides the scenario)")
    sweep.add_argument("--cache", help="shared response cache file (default: per-user cache)")
    sweep.add_argument("--yes", action="store_true",
                       help="do not ask for confirmation before paid LLM calls")
    sweep.add_argument("--out", help="sweep folder (default: runs/<variants file name>)")
    sweep.add_argument("--overwrite", action="store_true",
                       help="replace an earlier run or sweep in the folder (only the files it "
                            "wrote, as its manifest lists them with their checksums, are "
                            "removed) and write beside any other file in it (kept; one with "
                            "the name of a file written is refused)")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.add_argument("--fail-on-failed-answers", action="store_true",
                       help="exit with code 3 when any answer failed (the folder is written)")
    sweep.add_argument("--events", help="events.json of `socialtwin evaluate --protocol events "
                       "--out`, measured on this scenario's mechanism: the report says how far "
                       "to trust the counterfactuals by it (figures shipped for the case "
                       "studies are used without it)")
    sweep.set_defaults(handler=_sweep)

    plot = commands.add_parser("plot", help="redraw the plots of a run or sweep folder")
    plot.add_argument("folder", help="a run folder or a sweep folder")
    plot.set_defaults(handler=_plot)


def _sweep(args: argparse.Namespace) -> int:
    from calibration.calibrate import calibrate_sweep, calibration_gap
    from calibration.trust import effect_band, figures_for, trust_section, with_effect_bands
    from simulator.exit_status import failed_answers_status
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
    personas = scenario.engine.archetypes
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


def _plot(args: argparse.Namespace) -> int:
    from simulator.folder_contents import MANIFEST, earlier_run
    from simulator.outputs import RUN_PLOTS
    from simulator.run_folder import RunFolder

    folder = Path(args.folder)
    if not folder.is_dir():
        raise SocialTwinError(f"FOLDER {folder}: no such folder (allowed: a run or sweep folder)")
    manifest, _ = earlier_run(folder)
    if manifest is None:
        raise SocialTwinError(f"FOLDER {folder}: not a run or sweep folder of socialtwin (its "
                              f"{MANIFEST} is missing, unreadable or another application's)")
    sweep = manifest.get("kind") == "sweep"
    # Plots are redrawn into the staging folder and published with the manifest's checksums.
    with RunFolder(folder, ("plots/*.png",) if sweep else RUN_PLOTS, option="FOLDER",
                   update=True) as target:
        try:
            if sweep:
                written = _redraw_sweep(folder, target.stage)
            else:
                written = _redraw_run(folder, target.stage, manifest)
        except (KeyError, TypeError, ValueError, OSError) as error:
            raise SocialTwinError(f"FOLDER {folder}: cannot redraw its plots from its files "
                                  f"({type(error).__name__}: {_one_line(error)})") from None
        target.publish()
    for path in written:
        print(folder / path.relative_to(target.stage))
    return 0


def _redraw_run(folder: Path, stage: Path, manifest: dict) -> list[Path]:
    import pandas as pd

    from simulator.folder_contents import MANIFEST
    from simulator.outputs import RUN_PLOTS
    from simulator.plots import plot_signals, plot_trajectories

    scenario = manifest.get("scenario") if isinstance(manifest.get("scenario"), dict) else {}
    missing = [f"scenario.{key}" for key in ("name", "region") if key not in scenario]
    missing += [key for key in ("engine", "agents") if key not in manifest]
    if missing:
        raise SocialTwinError(f"{folder / MANIFEST}: no {', '.join(missing)} (allowed: the "
                              "manifest socialtwin run writes)")
    title = f"{scenario['name']} — {manifest['engine']} engine, {manifest['agents']:,} agents"
    trajectories = _read(folder / "trajectories.parquet", pd.read_parquet)
    timeline = _read(folder / "timeline.csv", pd.read_csv)
    return [plot_trajectories(trajectories, stage / RUN_PLOTS[0], title=title),
            plot_signals(timeline, stage / RUN_PLOTS[1],
                         title=f"Signals received — {scenario['region']}")]


def _redraw_sweep(folder: Path, stage: Path) -> list[Path]:
    """Draw a sweep's plots into ``stage`` from copies of the files they read."""
    import shutil

    from simulator.folder_contents import MANIFEST
    from simulator.sweep.plots import draw_sweep_plots

    inputs = [name for name in (MANIFEST, "summary.csv", "overall.csv", "timelines.csv",
                                "calibrated.csv") if (folder / name).is_file()]
    for name in inputs:
        shutil.copyfile(folder / name, stage / name)
    try:
        return draw_sweep_plots(stage)
    finally:
        for name in inputs:
            (stage / name).unlink()


def _read(path: Path, reader):
    """A table read by ``reader``; one clear error when the file is missing or corrupt."""
    try:
        return reader(path)
    except (OSError, ValueError) as error:
        raise SocialTwinError(f"{path}: cannot be read ({type(error).__name__}: "
                              f"{_one_line(error)})") from None


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:300]
