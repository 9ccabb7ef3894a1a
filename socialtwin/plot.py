"""``socialtwin plot``: redraw the plots of a run or sweep folder from its files."""

from __future__ import annotations

import argparse
from pathlib import Path

from simulator.errors import SocialTwinError


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``plot`` command to the ``socialtwin`` parser."""
    plot = commands.add_parser("plot", help="redraw the plots of a run or sweep folder")
    plot.add_argument("folder", help="a run folder or a sweep folder")
    plot.set_defaults(handler=plot_command)


def plot_command(args: argparse.Namespace) -> int:
    """Redraw the plots of a run or sweep folder; the exit status."""
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
