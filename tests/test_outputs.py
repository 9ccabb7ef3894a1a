import json
from pathlib import Path

import pandas as pd
import pytest

from simulator.outputs import markdown_table, write_run
from simulator.run import run_scenario
from simulator.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def run():
    scenario = load_scenario(SCENARIOS / "stay_at_home.yaml").replace(population_size=400)
    return run_scenario(scenario.replace(end=scenario.start.replace(month=5)), progress=False)


def test_manifest_lists_what_this_run_wrote_not_what_was_there(run, tmp_path):
    out = tmp_path / "run"
    (out / "plots").mkdir(parents=True)
    (out / "calibrator.json").write_text("{}")          # left by an earlier run
    (out / "plots" / "calibration.png").write_bytes(b"")

    def section(folder: Path):
        (folder / "extra.csv").write_text("a\n1\n")
        return "## Extra\n\nsection text", [folder / "extra.csv"]

    write_run(run, out, [section])
    files = json.loads((out / "manifest.json").read_text())["files"]
    assert files == sorted([
        "archetypes.csv", "decisions.csv", "extra.csv", "plots/signals.png",
        "plots/trajectories.png", "population_summary.csv", "report.md", "timeline.csv",
        "trajectories.csv", "trajectories.parquet"])
    assert all((out / name).is_file() for name in files)
    report = (out / "report.md").read_text()
    assert "## Extra" in report and "![trajectories](plots/trajectories.png)" in report


def test_markdown_table_formats_numbers():
    table = markdown_table(pd.DataFrame({"method": ["twin"], "rmse": [10.7123]}),
                           float_format=".2f")
    assert table.splitlines() == ["| method | rmse |", "|---|---|", "| twin | 10.71 |"]
