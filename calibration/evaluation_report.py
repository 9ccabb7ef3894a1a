"""What the time protocol writes with ``socialtwin evaluate --out``: tables, predictions, plots."""

from __future__ import annotations

import json
from pathlib import Path

from calibration.evaluate import Evaluation
from calibration.plots import plot_calibration, plot_residuals_by_region
from simulator.run_folder import RunFolder, claimed

EVALUATION_FILES = ("evaluation_table.csv", "evaluation_by_region.csv", "predictions.csv",
                    "calibrator.json", "evaluation.json", "plots/*.png")
"""The files the time protocol writes (besides the folder's manifest); a plot per region shown."""


def write_evaluation_outputs(evaluation: Evaluation, out: str | Path | RunFolder,
                             overwrite: bool = False) -> Path:
    """Write the protocol's files into ``out``, whole (see :class:`simulator.run_folder.RunFolder`).

    Files: ``evaluation_table.csv`` (test RMSE per method), ``evaluation_by_region.csv``,
    ``predictions.csv``, ``calibrator.json`` (the twin's calibrator), ``evaluation.json`` (what
    ``--json`` prints), ``plots/<region>.png`` (the first region and USA), ``plots/regions.png``
    (with several regions) and ``manifest.json``.

    Args:
        evaluation: the protocol's result.
        out: the folder, or one a command claimed already.
        overwrite: replace an earlier run in the folder; write beside other files in it.
    """
    with claimed(out, EVALUATION_FILES, overwrite) as folder:
        stage = folder.stage
        evaluation.table.to_csv(stage / "evaluation_table.csv", index_label="method")
        evaluation.by_region.to_csv(stage / "evaluation_by_region.csv", index=False,
                                    float_format="%.4f")
        evaluation.predictions.to_csv(stage / "predictions.csv", index=False,
                                      float_format="%.6g")
        evaluation.twin.calibrator.save(stage / "calibrator.json")
        summary = evaluation.to_json()
        (stage / "evaluation.json").write_text(json.dumps(summary, indent=2))
        twin = evaluation.twin.name
        shown = evaluation.regions[:1] + [r for r in ("USA",) if r in evaluation.regions]
        for region in dict.fromkeys(shown):
            plot_calibration(evaluation.predictions, twin, stage / "plots" / f"{region}.png",
                             region)
        if len(evaluation.regions) > 1:
            plot_residuals_by_region(evaluation.predictions, twin, stage / "plots" / "regions.png")
        folder.publish({"kind": "evaluation", "protocol": "time", "engine": evaluation.engine,
                        "regions": list(evaluation.regions)})
        return folder.given
