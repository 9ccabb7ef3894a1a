import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from calibration.run_calibration import CALIBRATION_FILES
from simulator.folder_contents import sha256
from simulator.outputs import RUN_FILES
from simulator.run_folder import RunFolder
from socialtwin.main import main

ROOT = Path(__file__).resolve().parents[1]
COVID = ROOT / "scenarios" / "covid_us_2020.yaml"


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    dirs = []
    for name, stages in (("a", []), ("b", ["--no-calibrate", "--no-probe"])):
        status = main(["run", str(COVID), "--engine", "rules", "--agents", "600",
                       "--out", str(out / name), "--quiet", *stages])
        assert status == 0
        dirs.append(out / name)
    return dirs


def test_run_writes_the_run_folder(run_dirs):
    out = run_dirs[0]
    for name in ("manifest.json", "trajectories.csv", "trajectories.parquet", "report.md",
                 "plots/trajectories.png", "plots/signals.png", "respondents.csv",
                 "timeline.csv", "decisions.csv", "population_summary.csv"):
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    for key in ("scenario", "seed", "agents", "ticks", "engine", "wall_s", "versions",
                "llm_calls", "cache_hits", "tokens_in", "tokens_out", "cost_usd",
                "llm_calls_per_agent_tick", "cells", "failed_answers"):
        assert key in manifest, key
    assert manifest["agents"] == 600 and manifest["ticks"] == 60
    assert manifest["engine"] == "rules"
    assert manifest["versions"]["mesa"] == "3.3.1"
    on_disk = sorted(str(p.relative_to(out)) for p in out.rglob("*")
                     if p.is_file() and p.name != "manifest.json")
    assert list(manifest["files"]) == on_disk and "calibrator.json" in on_disk
    assert manifest["format"] == "socialtwin.run-folder/1"
    assert all(digest == sha256(out / name) for name, digest in manifest["files"].items())
    assert set(on_disk) <= {*RUN_FILES, *CALIBRATION_FILES}, "declared before any work"
    report = (out / "report.md").read_text()
    assert "covid_us_2020" in report and "plots/trajectories.png" in report
    assert "## How far to trust a counterfactual" in report
    assert "80% prediction band" in report and "intervals" in manifest["calibration"]
    assert set(manifest["persona_match"]) >= {"age_band", "sex", "race", "party", "urbanicity",
                                               "work"}
    assert "## Personas" in report and "## Engine report card" in report
    card = manifest["probe_card"]
    assert card["share_correct"] == 1.0 and card["wrong_sign"] == []
    assert card["keying_agreement"] is None and "other way round" not in report
    assert (out / "probe_card.csv").is_file()
    csv = pd.read_csv(out / "trajectories.csv")
    parquet = pd.read_parquet(out / "trajectories.parquet")
    assert len(csv) == len(parquet) and set(csv["behaviour"]) == set(parquet["behaviour"])


def test_same_scenario_same_seed_identical_trajectories(run_dirs):
    # The second run skips calibration and the report card, which do not touch trajectories.
    a, b = (d / "trajectories.csv" for d in run_dirs)
    assert a.read_bytes() == b.read_bytes()


def write(tmp_path, data, name="s.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def base():
    return yaml.safe_load(COVID.read_text())


def broken(kind):
    data = base()
    if kind == "missing field":
        del data["period"]
    elif kind == "unknown behaviour":
        data["behaviours"] = ["parks", "time_travel"]
    elif kind == "bad dates":
        data["period"]["start"] = "2020-02-30"
    elif kind == "negative population":
        data["population"]["size"] = -10
    elif kind == "unknown engine":
        data["engine"]["name"] = "skynet"
    return data


@pytest.mark.parametrize("kind,expected", [
    ("missing field", "period: missing required field"),
    ("unknown behaviour", "behaviours[1]: unknown behaviour 'time_travel'"),
    ("bad dates", "period.start: '2020-02-30' is not a date"),
    ("negative population", "population.size: -10 is out of range"),
    ("unknown engine", "engine.name: unknown engine 'skynet'"),
])
def test_malformed_scenarios_give_one_clear_error(tmp_path, capsys, kind, expected):
    path = write(tmp_path, broken(kind))
    status = main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("error:") == 1
    assert str(path) in err and expected in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_unreadable_file(tmp_path, capsys):
    status = main(["run", str(tmp_path / "missing.yaml")])
    assert status == 2 and "file not found" in capsys.readouterr().err


def test_bad_override(tmp_path, capsys):
    assert main(["run", str(COVID), "--agents", "0", "--out", str(tmp_path / "o")]) == 2
    assert "population.size" in capsys.readouterr().err


def test_console_script_exit_status(tmp_path):
    path = write(tmp_path, broken("unknown engine"))
    done = subprocess.run([sys.executable, "-m", "socialtwin", "run", str(path)],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "unknown engine 'skynet'" in done.stderr


def test_regions_lists_every_region_with_what_ships(capsys):
    assert main(["regions"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 + 301
    rows = {line.split()[0]: line for line in lines[1:]}
    assert "policy mobility context; population: age_band, sex, race" in rows["US_CA"]
    assert rows["FRA"].split(None, 2)[2].startswith(
        "policy mobility context; population: age_band, sex, education, urbanicity, "
        "household_size")
    assert "no observed data (use --data-dir)" in rows["DEU"]
    assert "no population data (give a marginals file)" in rows["LIE"]


@pytest.mark.parametrize(("region", "message"), [
    ("Atlantis", "--region: unknown region 'Atlantis'"),
    ("CA", "--region: region 'CA' is ambiguous: US_CA (California) or CAN (Canada)"),
])
def test_bad_region_override_is_one_clear_error(tmp_path, capsys, region, message):
    assert main(["run", str(COVID), "--region", region, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err and "socialtwin regions" in err and "Traceback" not in err


def test_probe_prints_one_json_card(capsys):
    assert main(["probe", "--engine", "rules", "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["share_correct"] == 1.0 and card["persona_share_correct"] == 1.0
    for name in ("uniform", "shuffled_situations", "shuffled_personas"):
        assert set(card["baselines"][name]) == {"share_correct", "persona_share_correct"}
    assert {p["kind"] for p in card["probes"]} == {"policy", "context", "persona"}
    assert card["keying_agreement"] is None, "the rules engine reads no questions"


def test_probe_text_lists_every_probe(capsys):
    assert main(["probe", "--engine", "rules", "--region", "FRA"]) == 0
    text = capsys.readouterr().out
    assert "lockdown_retail" in text and "skipped: republican_retail_stay_at_home" in text
    assert "reverse-keyed" not in text and "other way round" not in text


def test_a_folder_holding_an_earlier_run_is_replaced_only_with_overwrite(tmp_path, capsys):
    path = write(tmp_path, {"name": "small", "region": "US_VT", "population": {"size": 50},
                            "period": {"start": "2020-03-02", "end": "2020-04-05"},
                            "behaviours": ["parks"], "output": str(tmp_path / "out")})
    command = ["run", str(path), "--quiet", "--no-calibrate", "--no-probe"]
    assert main(command) == 0
    (tmp_path / "out" / "persona_answers.csv").write_text("left by an older run\n")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    manifest["files"]["persona_answers.csv"] = sha256(tmp_path / "out" / "persona_answers.csv")
    (tmp_path / "out" / "manifest.json").write_text(json.dumps(manifest))
    capsys.readouterr()
    assert main(command) == 2
    assert "holds an earlier run (manifest.json); pass --overwrite to replace it (only the " \
        "files it wrote are removed)" in capsys.readouterr().err
    assert main([*command, "--overwrite"]) == 0
    assert not (tmp_path / "out" / "persona_answers.csv").exists()


def test_the_run_summary_gives_the_card_without_a_keying_check_for_rules(tmp_path, capsys):
    assert main(["run", str(COVID), "--engine", "rules", "--agents", "300", "--region", "US_VT",
                 "--no-calibrate", "--out", str(tmp_path / "out"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "report card: 100% of policy and context probes" in out
    assert "other way round" not in out, "the rules engine reads no questions"


def test_evaluate_runs_the_event_protocol(tmp_path, capsys):
    command = ["evaluate", "--protocol", "events", "--engine", "rules", "--regions",
               "FRA,ESP,AUT,SWE", "--agents", "300", "--scenario",
               str(ROOT / "scenarios" / "covid_country_2020.yaml")]
    assert main([*command, "--json", "--out", str(tmp_path / "events")]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["n_events"] > 0 and "placebo_noise" in found
    assert {"sign_agreement", "pearson", "spearman", "mae"} <= set(found["methods"]["twin"])
    assert (tmp_path / "events" / "events.csv").is_file()
    assert (tmp_path / "events" / "plots" / "events.png").is_file()
    assert main(["run", str(COVID), "--engine", "rules", "--agents", "300", "--quiet",
                 "--no-probe", "--out", str(tmp_path / "run"),
                 "--events", str(tmp_path / "events" / "events.json")]) == 0
    report = (tmp_path / "run" / "report.md").read_text()
    assert "**FRA,ESP,AUT,SWE** (4 regions" in report


def test_an_events_file_that_is_not_the_protocols_is_one_error_before_any_work(tmp_path,
                                                                              capsys):
    bad = tmp_path / "events.json"
    bad.write_text("[1, 2]")
    assert main(["run", str(COVID), "--engine", "rules", "--out", str(tmp_path / "o"),
                 "--events", str(bad)]) == 2
    assert "not the event protocol's figures" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def small(tmp_path, name="s.yaml"):
    """A small scenario (rules engine, 50 agents, five weeks, not calibratable)."""
    return write(tmp_path, {"name": "small", "region": "US_VT", "population": {"size": 50},
                            "period": {"start": "2020-03-02", "end": "2020-04-05"},
                            "behaviours": ["parks"]}, name)


def files_in(folder):
    return {str(p.relative_to(folder)): (os.readlink(p) if p.is_symlink() else p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_symlink() or p.is_file()}


def refused(capsys, command, *expected):
    """Run ``command``: exit 2 with one error line holding ``expected``, no traceback."""
    status = main(command)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2 and len(lines) == 1 and lines[0].startswith("socialtwin: error: "), err
    for text in expected:
        assert text in err, err
    return err


def test_user_files_named_like_run_files_are_never_replaced(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.md").write_text("my report")
    (out / "trajectories.csv").write_text("my data")
    before = files_in(out)
    run = ["run", str(small(tmp_path)), "--out", str(out), "--quiet", "--no-probe"]
    refused(capsys, run, "holds files that are not a socialtwin run (report.md, "
                         "trajectories.csv)")
    refused(capsys, [*run, "--overwrite"], "report.md, trajectories.csv: not written by an "
                                           "earlier socialtwin run")
    assert files_in(out) == before


def test_overwrite_keeps_user_files_the_earlier_run_never_wrote(tmp_path, capsys):
    out = tmp_path / "out"
    run = ["run", str(small(tmp_path)), "--out", str(out), "--quiet", "--no-probe"]
    assert main([*run, "--no-calibrate"]) == 0
    (out / "calibration.csv").write_text("my calibration")
    (out / "calibrator.json").write_text("{}")
    before = files_in(out)
    refused(capsys, [*run, "--overwrite"], "calibration.csv, calibrator.json: not written by")
    assert files_in(out) == before
    assert main([*run, "--overwrite", "--no-calibrate"]) == 0
    assert (out / "calibration.csv").read_text() == "my calibration"
    assert "calibration.csv" not in json.loads((out / "manifest.json").read_text())["files"]


@pytest.mark.parametrize("manifest", [{"files": ["thesis.docx", "data/raw.csv"]},
                                      {"app": "another application", "files": {}}])
def test_overwrite_trusts_no_manifest_socialtwin_did_not_write(tmp_path, capsys, manifest):
    out = tmp_path / "out"
    (out / "data").mkdir(parents=True)
    (out / "thesis.docx").write_text("four years")
    (out / "data" / "raw.csv").write_text("irreplaceable")
    (out / "manifest.json").write_text(json.dumps(manifest))
    before = files_in(out)
    refused(capsys, ["run", str(small(tmp_path)), "--out", str(out), "--quiet", "--overwrite"],
            "manifest.json: not written by an earlier socialtwin run")
    assert files_in(out) == before


def test_a_second_run_is_refused_while_the_first_holds_the_folder(tmp_path, capsys):
    out = tmp_path / "out"
    run = ["run", str(small(tmp_path)), "--out", str(out), "--quiet", "--no-probe"]
    with RunFolder(out, RUN_FILES):  # the first run, still working
        refused(capsys, run, "another socialtwin command is writing it")
        refused(capsys, [*run, "--overwrite"], "another socialtwin command is writing it")
    assert not out.exists()
    assert main(run) == 0


def test_a_run_file_replaced_by_a_link_is_not_followed(tmp_path, capsys):
    out, outside = tmp_path / "out", tmp_path / "outside.csv"
    run = ["run", str(small(tmp_path)), "--out", str(out), "--quiet", "--no-probe",
           "--no-calibrate"]
    assert main(run) == 0
    outside.write_text("not the run's")
    (out / "trajectories.csv").unlink()
    (out / "trajectories.csv").symlink_to(outside)
    refused(capsys, [*run, "--overwrite"], "trajectories.csv (a symbolic link): not written by")
    assert outside.read_text() == "not the run's" and (out / "trajectories.csv").is_symlink()


def test_evaluate_out_into_a_run_folder_is_refused(run_dirs, tmp_path, capsys):
    before = files_in(run_dirs[0])
    refused(capsys, ["evaluate", "--engine", "rules", "--regions", "US_VT,US_NH", "--agents",
                     "300", "--out", str(run_dirs[0])], "holds an earlier run")
    assert files_in(run_dirs[0]) == before


def test_calibrate_out_replaces_only_a_calibrator(run_dirs, tmp_path, capsys):
    precious = tmp_path / "precious.yaml"
    precious.write_text("my settings\n")
    refused(capsys, ["calibrate", str(run_dirs[0]), "--out", str(precious)],
            f"--out {precious}: exists and is not a calibrator written by socialtwin; pass "
            "--overwrite")
    assert precious.read_text() == "my settings\n"
    copy = tmp_path / "calibrator.json"
    copy.write_bytes((run_dirs[0] / "calibrator.json").read_bytes())
    assert main(["calibrate", str(run_dirs[0]), "--out", str(copy)]) == 0
    assert json.loads(copy.read_text())["format"] == "socialtwin.BehaviourCalibrator/1"


def test_calibrate_updates_the_run_folder_and_its_manifest(run_dirs, tmp_path, capsys):
    folder = tmp_path / "run"
    shutil.copytree(run_dirs[1], folder)  # an uncalibrated run
    assert main(["calibrate", str(folder)]) == 0
    files = json.loads((folder / "manifest.json").read_text())["files"]
    assert files["calibrator.json"] == sha256(folder / "calibrator.json")
    assert all(digest == sha256(folder / name) for name, digest in files.items())
    (folder / "calibrator.json").write_text('{"mine": true}')
    refused(capsys, ["calibrate", str(folder)], "RUN_DIR", "calibrator.json: not written by")
    assert (folder / "calibrator.json").read_text() == '{"mine": true}'


@pytest.mark.parametrize(("column", "value", "message"), [
    ("change_pct", "", "change_pct: no number in any row"),
    ("date", "2020-13-45", "date: line 2: '2020-13-45' is not a date"),
])
def test_calibrate_names_bad_trajectories(run_dirs, tmp_path, capsys, column, value, message):
    folder = tmp_path / "run"
    shutil.copytree(run_dirs[1], folder)
    trajectories = pd.read_csv(folder / "trajectories.csv", dtype=str)
    trajectories[column] = np.where(np.arange(len(trajectories)) == 0, value,
                                    trajectories[column]) if column == "date" else value
    trajectories.to_csv(folder / "trajectories.csv", index=False)
    refused(capsys, ["calibrate", str(folder)], f"{folder / 'trajectories.csv'}: {message}")
    assert not (folder / "calibrator.json").exists()


@pytest.mark.parametrize("command", [
    ["run", "SCENARIO"], ["sweep", "SCENARIO", "--variants", "v.yaml"],
    ["evaluate", "--engine", "rules"], ["calibrate", "run"]])
def test_an_empty_out_is_refused(tmp_path, capsys, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    scenario = str(small(tmp_path))
    refused(capsys, [scenario if part == "SCENARIO" else part for part in command] + ["--out", ""],
            '--out: empty (allowed: a path; leave --out out for the default)')
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


def test_fail_on_failed_answers_exits_3_after_writing_the_folder(tmp_path, capsys,
                                                                  monkeypatch):
    import simulator.run

    real = simulator.run.run_scenario

    def partly_failed(*args, **kwargs):
        result = real(*args, **kwargs)
        result.manifest["failed_answers"] = 10
        return result

    monkeypatch.setattr(simulator.run, "run_scenario", partly_failed)
    run = ["run", str(small(tmp_path)), "--quiet", "--no-probe", "--no-calibrate", "--out"]
    assert main([*run, str(tmp_path / "a")]) == 0
    capsys.readouterr()
    assert main([*run, str(tmp_path / "b"), "--fail-on-failed-answers"]) == 3
    err = capsys.readouterr().err
    assert "socialtwin: error: 10 of 300 answers failed (--fail-on-failed-answers)" in err
    assert (tmp_path / "b" / "manifest.json").is_file()


def test_exit_codes_are_documented(capsys):
    for command in ("run", "sweep"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        assert "--fail-on-failed-answers" in text and "3    --fail-on-failed-answers" in text
