import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from calibration.run_calibration import calibrate_sweep
from simulator.folder_contents import sha256
from simulator.policy import PolicyTimeline
from simulator.run import run_scenario
from simulator.scenario import load_scenario
from simulator.sweep.outputs import write_sweep
from simulator.sweep.runner import RESULT_COLUMNS, run_sweep
from simulator.sweep.transforms import Scale
from simulator.sweep.variants import Variant, VariantSet
from socialtwin.main import main

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIOS / "covid_us_2020.yaml").with_engine("rules").replace(
        population_size=150)


@pytest.fixture(scope="module")
def sweep(scenario):
    variants = VariantSet.of([
        Variant("recorded", dose=1.0),
        Variant("same_again", (Scale(1.0),), dose=1.0),
        Variant("half", (Scale(0.5),), dose=0.5),
        Variant("none", (Scale(0.0),), dose=0.0),
    ], seeds=2)
    return run_sweep(scenario, variants, calibrate=calibrate_sweep, progress=False)


def test_results_are_tidy_per_variant_and_seed(sweep, scenario):
    results = sweep.results
    assert tuple(results.columns) == RESULT_COLUMNS
    assert sweep.seeds == (scenario.seed, scenario.seed + 1)
    assert set(results["variant"]) == {"recorded", "same_again", "half", "none"}
    sizes = results.groupby(["variant", "seed"]).size()
    assert len(sizes) == 8 and sizes.nunique() == 1
    assert sweep.variants.baseline == "recorded"


def test_common_random_numbers_make_a_null_variant_identical(sweep, scenario):
    results = sweep.results.set_index(["variant", "seed"])
    for seed in sweep.seeds:
        baseline = results.loc[("recorded", seed)].reset_index(drop=True)
        same = results.loc[("same_again", seed)].reset_index(drop=True)
        pd.testing.assert_frame_equal(baseline, same, check_exact=True)
    first, second = (results.loc[("recorded", s)]["value"].to_numpy() for s in sweep.seeds)
    assert not np.array_equal(first, second), "different seeds draw different populations"
    base = PolicyTimeline.from_scenario(scenario)
    alone = run_scenario(scenario.replace(seed=sweep.seeds[0]),
                         timeline=base.with_policy(base.policy), progress=False,
                         agent_views=False).trajectories
    np.testing.assert_array_equal(alone["value"].to_numpy(),
                                  results.loc[("recorded", sweep.seeds[0])]["value"].to_numpy())


def test_calibrator_is_fitted_once_and_applied_to_every_run(sweep):
    calibrated = sweep.calibrated
    assert list(calibrated.columns) == ["variant", "seed", "week", "behaviour", "metric",
                                        "simulated", "calibrated", "band_lower", "band_upper",
                                        "observed"]
    assert (calibrated["band_lower"] < calibrated["calibrated"]).all()
    assert (calibrated["band_upper"] > calibrated["calibrated"]).all()
    assert len(calibrated.groupby(["variant", "seed"])) == 8
    assert set(calibrated["metric"]) == set(calibrated["behaviour"])
    assert calibrated["observed"].notna().mean() > 0.9
    key = ["seed", "week", "metric"]
    recorded = calibrated[calibrated["variant"] == "recorded"].set_index(key)["calibrated"]
    same = calibrated[calibrated["variant"] == "same_again"].set_index(key)["calibrated"]
    pd.testing.assert_series_equal(recorded, same)
    assert sweep.evaluation is not None and "macro" in sweep.evaluation.columns
    assert sweep.manifest["calibration"].startswith("fitted on recorded (seed 42)")


def test_summaries_carry_seed_intervals(sweep):
    summary = sweep.summary
    assert set(summary["quantity"]) == {"value", "change_pct", "calibrated"}
    assert (summary["seeds"] == 2).all()
    inside = summary.dropna(subset=["ci_low"])
    assert (inside["ci_low"] <= inside["mean"] + 1e-12).all()
    assert (summary["min"] <= summary["mean"] + 1e-12).all()
    assert (summary["mean"] <= summary["max"] + 1e-12).all()
    overall = sweep.overall.set_index(["variant", "behaviour", "quantity"])
    assert overall.loc[("same_again", "workplaces", "value"), "effect"] == 0.0
    assert overall.loc[("none", "workplaces", "value"), "effect"] > 0
    assert overall.loc[("none", "residential", "value"), "effect"] < 0
    assert overall.loc[("half", "parks", "calibrated"), "dose"] == 0.5


def test_checks_are_reported_for_every_sweep(sweep):
    checks = sweep.checks
    monotonic = checks[checks["check"] == "monotonic"]
    assert len(monotonic) == 12, "six behaviours, simulated and calibrated"
    assert checks["passed"].all()
    assert sweep.manifest["checks_passed"] == sweep.manifest["checks_total"] == len(checks)


def test_manifest_accounts_for_the_sweep(sweep):
    m = sweep.manifest
    for key in ("scenario", "variants", "seeds", "executor", "workers", "agents", "engine",
                "model", "llm_calls", "cache_hits", "failed_answers", "wall_s", "versions"):
        assert key in m, key
    assert m["runs"] == 8 and m["agents"] == 150 and m["executor"] == "local"
    assert m["agent_ticks"] == 8 * 150 * m["ticks"]


def test_sweep_folder_and_plot_command(sweep, tmp_path, capsys):
    out = write_sweep(sweep, tmp_path / "sweep")
    for name in ("manifest.json", "results.csv", "results.parquet", "calibrated.csv",
                 "summary.csv", "overall.csv", "checks.csv", "timelines.csv", "runs.csv",
                 "report.md", "plots/trajectories.png", "plots/dose_response.png",
                 "plots/dose_response_calibrated.png", "plots/subgroups.png"):
        assert (out / name).is_file(), name
    report = (out / "report.md").read_text()
    assert "### Monotonicity in the dose" in report and "24 of 24 checks passed" in report
    stored = pd.read_parquet(out / "results.parquet")
    pd.testing.assert_frame_equal(stored, sweep.results, check_dtype=False)
    (out / "plots" / "dose_response.png").unlink()
    assert main(["plot", str(out)]) == 0
    assert (out / "plots" / "dose_response.png").is_file()
    assert "dose_response.png" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "sweep" and "plots/dose_response.png" in manifest["files"]
    assert all(digest == sha256(out / name) for name, digest in manifest["files"].items())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep"]


def test_a_sweep_that_fails_while_plotting_leaves_the_earlier_sweep_whole(sweep, tmp_path,
                                                                          monkeypatch):
    out = write_sweep(sweep, tmp_path / "sweep")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def plots_then_fails(folder):
        (Path(folder) / "plots" / "trajectories.png").write_bytes(b"half a plot")
        raise MemoryError("out of memory while plotting")

    monkeypatch.setattr("simulator.sweep.outputs.draw_sweep_plots", plots_then_fails)
    with pytest.raises(MemoryError):
        write_sweep(sweep, out, overwrite=True)
    with pytest.raises(MemoryError):
        write_sweep(sweep, tmp_path / "new")
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep"]


def test_plot_command_redraws_a_run_folder(scenario, tmp_path):
    from simulator.outputs import write_run

    run = run_scenario(scenario.replace(end=scenario.start.replace(month=5)), progress=False)
    folder = write_run(run, tmp_path / "run")
    (folder / "plots" / "signals.png").unlink()
    assert main(["plot", str(folder)]) == 0
    assert (folder / "plots" / "signals.png").is_file()
    files = json.loads((folder / "manifest.json").read_text())["files"]
    assert files["plots/signals.png"] == sha256(folder / "plots" / "signals.png")
    assert main(["plot", str(tmp_path / "nothing")]) == 2


@pytest.fixture(scope="module")
def run_folder(scenario, tmp_path_factory):
    from simulator.outputs import write_run

    run = run_scenario(scenario.replace(end=scenario.start.replace(month=4)), progress=False)
    return write_run(run, tmp_path_factory.mktemp("plot") / "run")


def _as_a_list(folder):
    (folder / "manifest.json").write_text(json.dumps(["trajectories.parquet"]))


def _without_scenario(folder):
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["scenario"]
    (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(("damage", "message"), [
    (_as_a_list, "not a run or sweep folder of socialtwin"),
    (_without_scenario, "manifest.json: no scenario.name, scenario.region (allowed: the "
                        "manifest socialtwin run writes)"),
    (lambda folder: (folder / "trajectories.parquet").unlink(),
     "trajectories.parquet: cannot be read (FileNotFoundError"),
    (lambda folder: (folder / "trajectories.parquet").write_bytes(b"PAR1 not a parquet file"),
     "trajectories.parquet: cannot be read (ArrowInvalid"),
])
def test_plot_names_what_is_wrong_in_one_line(run_folder, tmp_path, capsys, damage, message):
    folder = tmp_path / "run"
    shutil.copytree(run_folder, folder)
    damage(folder)
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert main(["plot", str(folder)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err, err
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


def test_sweep_command_end_to_end(tmp_path, capsys):
    variants = tmp_path / "lockdown.yaml"
    variants.write_text(yaml.safe_dump({"seeds": 1, "variants": [
        {"name": "as_written"},
        {"name": "no_order", "transforms": [
            {"kind": "remove", "intervention": "c6_stay_at_home_requirements"}]}]}))
    out = tmp_path / "out"
    status = main(["sweep", str(SCENARIOS / "stay_at_home.yaml"), "--variants", str(variants),
                   "--agents", "120", "--out", str(out), "--quiet"])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "2 variants x 1 seeds = 2 runs of 120 agents on rules via local" in printed
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["calibration"].startswith("skipped:")
    assert manifest["variants_file"] == str(variants)
    assert not (out / "calibrated.csv").exists()


def test_sweep_command_errors_name_the_variants_file(tmp_path, capsys):
    variants = tmp_path / "bad.yaml"
    variants.write_text("variants:\n  - {name: x, transforms: [{kind: scale, factor: -1}]}\n")
    status = main(["sweep", str(SCENARIOS / "stay_at_home.yaml"), "--variants", str(variants),
                   "--quiet"])
    assert status == 2
    assert f"{variants}: variants[0].transforms[0].factor: -1 is out of range (allowed: at " \
        "least 0)" in \
        capsys.readouterr().err


def test_paid_engines_ask_before_calling(tmp_path, capsys, monkeypatch):
    answers = iter(["n"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    status = main(["sweep", str(SCENARIOS / "covid_us_2020.yaml"), "--variants",
                   str(SCENARIOS / "covid_us_2020_variants.yaml"), "--engine",
                   "litellm:openai/gpt-4o-mini", "--cache", str(tmp_path / "cache.sqlite"),
                   "--out", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert status == 1 and "sweep cancelled" in printed
    k = load_scenario(SCENARIOS / "covid_us_2020.yaml").engine.personas
    # the default elicitation (listed options read through their digits) asks one question per
    # behaviour and persona
    assert f"at most {4 * 3 * 61 * k * 6:,} LLM calls (4 variants x 3 seeds x 61 ticks x up to " \
        f"{k} personas x 6 questions)" in printed
    assert "estimated cost: at most $" in printed
    assert not (tmp_path / "out").exists()
