"""``socialtwin calibrate``: fit the calibrator on a run folder and the region's observations."""

from __future__ import annotations

import argparse
from contextlib import nullcontext
from pathlib import Path

from socialtwin.flags import add_flags, note_unrecognised


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` command to the ``socialtwin`` parser."""
    calibrate = commands.add_parser(
        "calibrate", help="fit the calibrator on a run folder and observed data")
    calibrate.add_argument("run_dir", help="a run folder written by `socialtwin run`")
    add_flags(calibrate, "data_dir", "out", "overwrite",
              out="calibrator file (default: RUN_DIR/calibrator.json); an existing file must "
                  "be a calibrator of socialtwin",
              overwrite="replace an existing --out file that is not a calibrator")
    calibrate.set_defaults(handler=calibrate_command)


def calibrate_command(args: argparse.Namespace) -> int:
    """Fit and save the calibrator; the exit status."""
    from calibration.run_calibration import calibrate_run
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
        note_unrecognised(args.data_dir)
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
