import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from simulator.errors import UsageError
from simulator.folder_contents import FORMAT
from simulator.outputs import ReportSection, markdown_table, write_run
from simulator.run import run_scenario
from simulator.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def run():
    scenario = load_scenario(SCENARIOS / "stay_at_home.yaml").replace(population_size=400)
    return run_scenario(scenario.replace(end=scenario.start.replace(month=5)), progress=False)


def test_manifest_lists_what_this_run_wrote_with_checksums_not_what_was_there(run, tmp_path):
    out = tmp_path / "run"
    (out / "plots").mkdir(parents=True)
    (out / "notes.txt").write_text("mine")
    (out / "plots" / "sketch.png").write_bytes(b"mine")

    section = ReportSection("## Extra\n\nsection text", {"extra": {"rows": 1}},
                            {"extra.csv": lambda path: path.write_text("a\n1\n")})
    with pytest.raises(UsageError, match=r"holds files that are not a socialtwin run "
                                         r"\(notes.txt, plots/sketch.png\)"):
        write_run(run, out, [section])
    write_run(run, out, [section], overwrite=True)
    manifest = json.loads((out / "manifest.json").read_text())
    files = manifest["files"]
    assert manifest["format"] == FORMAT and manifest["extra"] == {"rows": 1}
    assert list(files) == sorted([
        "decisions.csv", "extra.csv", "plots/signals.png", "plots/trajectories.png",
        "population_summary.csv", "report.md", "respondents.csv", "timeline.csv",
        "trajectories.csv", "trajectories.parquet"])
    for name, digest in files.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, name
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "plots" / "sketch.png").read_bytes() == b"mine"
    report = (out / "report.md").read_text()
    assert "## Extra" in report and "![trajectories](plots/trajectories.png)" in report
    assert not list(tmp_path.glob(".run*")), "the staging folder is gone"


def test_markdown_table_formats_numbers_and_missing_values():
    table = markdown_table(pd.DataFrame({"method": ["twin", "gbm"], "rmse": [10.7123, None]}),
                           float_format=".2f")
    rows = [line.replace(" ", "") for line in table.splitlines()]
    assert rows[0] == "|method|rmse|" and set(rows[1]) <= set("|:-")
    assert rows[2:] == ["|twin|10.71|", "|gbm|n/a|"]


def test_a_reused_run_folder_keeps_nothing_of_the_earlier_run(run, tmp_path):
    out = tmp_path / "run"
    earlier = ReportSection("## Earlier", {}, {"old.csv": lambda path: path.write_text("x\n")})
    write_run(run, out, [earlier])
    (out / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="holds an earlier run"):
        write_run(run, out)
    write_run(run, out, overwrite=True)
    assert not (out / "old.csv").exists() and (out / "notes.txt").read_text() == "mine"
    files = json.loads((out / "manifest.json").read_text())["files"]
    assert "old.csv" not in files and all((out / name).is_file() for name in files)


def test_the_report_card_section_says_what_the_keying_check_found():
    from simulator.cognition.probe_card import ProbeCard, ProbeResult
    from simulator.outputs import probe_section

    probe = ProbeResult("lockdown_parks", "policy", "parks", "strict_lockdown",
                        "no_restrictions", None, -1, -0.01, True, "hale2021", 0.02, False,
                        reverse_keyed_answered=True)
    baselines = {"uniform": {"share_correct": 0.0, "persona_share_correct": None},
                 "shuffled_situations": {"share_correct": 0.4, "persona_share_correct": None},
                 "shuffled_personas": {"share_correct": None, "persona_share_correct": None}}
    keyed = ProbeCard({"engine": "local"}, [probe], [], 1.0, None, baselines,
                      reverse_keyed_share_correct=0.0, keying_agreement=0.0)
    text = "\n".join(probe_section(keyed))
    assert ("0.00 of the 1 policy and context probes answered both ways have the expected "
            "sign") in text
    assert "agree in sign on 0.00 of them" in text and "not evidence" in text
    plain = ProbeCard({"engine": "rules"}, [probe], [], 1.0, None, baselines)
    assert "other way round" not in "\n".join(probe_section(plain))
