"""The run folder: checked before any work, locked, staged and published whole (issue 22)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from simulator.errors import UsageError
from simulator.folder_contents import FORMAT, MANIFEST, sha256, survey
from simulator.run_folder import RunFolder

ROOT = Path(__file__).resolve().parents[1]


def publish(out, files, overwrite=False, update=False, manifest=None):
    """Claim ``out``, stage ``files`` (name -> text) and publish them."""
    with RunFolder(out, [*files], overwrite, update=update) as folder:
        for name, text in files.items():
            (folder.stage / name).parent.mkdir(parents=True, exist_ok=True)
            (folder.stage / name).write_text(text)
        return folder.publish({"kind": "test"} if manifest is None and not update else manifest)


def contents(folder):
    return {str(p.relative_to(folder)): (os.readlink(p) if p.is_symlink() else p.read_text())
            for p in sorted(folder.rglob("*")) if p.is_symlink() or p.is_file()}


def test_the_manifest_names_only_what_this_run_wrote_with_checksums(tmp_path):
    out = tmp_path / "out"
    written = publish(out, {"a.csv": "1\n", "plots/p.png": "png"})
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest == written and manifest["format"] == FORMAT and manifest["kind"] == "test"
    assert manifest["files"] == {"a.csv": sha256(out / "a.csv"),
                                 "plots/p.png": sha256(out / "plots" / "p.png")}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "no staging folder left"


def test_user_files_without_a_manifest_are_refused_then_kept_beside_a_run(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.md").write_text("my report")
    (out / "trajectories.csv").write_text("my data")
    before = contents(out)
    with pytest.raises(UsageError, match=r"holds files that are not a socialtwin run "
                                         r"\(report.md, trajectories.csv\)"):
        publish(out, {"a.csv": "1\n"})
    with pytest.raises(UsageError, match=r"report.md, trajectories.csv: not written by an "
                                         r"earlier socialtwin run"):
        publish(out, {"report.md": "x", "trajectories.csv": "y"}, overwrite=True)
    assert contents(out) == before
    publish(out, {"a.csv": "1\n"}, overwrite=True)
    assert contents(out)["report.md"] == "my report" and "a.csv" in contents(out)


def test_overwrite_removes_only_files_the_earlier_run_wrote_and_nobody_changed(tmp_path):
    out = tmp_path / "out"
    publish(out, {"old.csv": "old", "changed.csv": "run", "same.csv": "run"})
    (out / "changed.csv").write_text("edited by hand")
    (out / "notes.txt").write_text("mine")
    publish(out, {"same.csv": "new"}, overwrite=True)
    assert contents(out) == {"changed.csv": "edited by hand", MANIFEST: contents(out)[MANIFEST],
                             "notes.txt": "mine", "same.csv": "new"}
    with pytest.raises(UsageError, match="changed.csv: not written by an earlier"):
        publish(out, {"changed.csv": "again"}, overwrite=True)


@pytest.mark.parametrize("manifest", [
    {"files": ["thesis.docx", "data/raw.csv"]},
    {"app": "another application", "version": 3},
    ["thesis.docx"],
])
def test_a_manifest_socialtwin_did_not_write_removes_nothing(tmp_path, manifest):
    out = tmp_path / "out"
    (out / "data").mkdir(parents=True)
    (out / "thesis.docx").write_text("four years")
    (out / "data" / "raw.csv").write_text("irreplaceable")
    (out / MANIFEST).write_text(json.dumps(manifest))
    before = contents(out)
    with pytest.raises(UsageError, match="manifest.json"):
        publish(out, {"a.csv": "1"}, overwrite=True)
    assert contents(out) == before


def test_an_older_socialtwin_manifest_is_trusted_only_for_names_socialtwin_wrote(tmp_path):
    out = tmp_path / "out"
    (out / "plots").mkdir(parents=True)
    for name in ("trajectories.csv", "report.md", "plots/trajectories.png", "thesis.docx"):
        (out / name).write_text("x")
    (out / MANIFEST).write_text(json.dumps({
        "versions": {"mesa": "3"}, "engine": "rules",
        "files": ["trajectories.csv", "report.md", "plots/trajectories.png", "thesis.docx",
                  "gone.csv"]}))
    assert set(survey(out).ours) == {"trajectories.csv", "report.md", "plots/trajectories.png"}
    publish(out, {"report.md": "new"}, overwrite=True)
    assert contents(out).keys() == {MANIFEST, "report.md", "thesis.docx"}
    assert contents(out)["thesis.docx"] == "x"


def test_a_listed_symbolic_link_is_never_followed(tmp_path):
    out, outside = tmp_path / "out", tmp_path / "outside.txt"
    outside.write_text("outside")
    publish(out, {"report.md": "run", "old.csv": "run", "notes.txt": "run"})
    (out / "notes.txt").write_text("mine now")
    (out / "report.md").unlink()
    (out / "report.md").symlink_to(outside)
    (out / "old.csv").unlink()
    (out / "old.csv").symlink_to("notes.txt")
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"].update({"report.md": sha256(outside), "old.csv": sha256(out / "notes.txt"),
                              "notes.txt": sha256(out / "notes.txt")})
    (out / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(UsageError, match=r"report.md \(a symbolic link\): not written by"):
        publish(out, {"report.md": "new"}, overwrite=True)
    assert outside.read_text() == "outside" and (out / "report.md").is_symlink()
    publish(out, {"a.csv": "new"}, overwrite=True)  # the listed notes.txt matches: ours
    assert outside.read_text() == "outside" and (out / "old.csv").is_symlink()
    assert not (out / "notes.txt").exists() and (out / "report.md").is_symlink()


def test_a_linked_folder_in_the_way_is_refused(tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    out.mkdir()
    (out / "plots").symlink_to(elsewhere)
    with pytest.raises(UsageError, match=r"plots \(a symbolic link\)"):
        publish(out, {"plots/p.png": "png"}, overwrite=True)
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("folder", ["report.md", "report.md/inside"])
def test_a_folder_at_the_name_of_a_run_file_is_refused(tmp_path, folder):
    out = tmp_path / "out"
    (out / folder).mkdir(parents=True)
    with pytest.raises(UsageError, match=r"report.md.*: not written by an earlier"):
        publish(out, {"report.md": "new"}, overwrite=True)
    assert (out / folder).is_dir()


def test_a_second_claim_is_refused_while_the_first_holds_the_folder(tmp_path):
    out = tmp_path / "out"
    with RunFolder(out, ["a.csv"]):
        with pytest.raises(UsageError, match="another socialtwin command is writing it"):
            RunFolder(out, ["a.csv"]).claim()
    publish(out, {"a.csv": "1"})


def test_a_refused_claim_leaves_nothing_behind(tmp_path):
    out = tmp_path / "new" / "deeper" / "out"
    with pytest.raises(RuntimeError), RunFolder(out, ["a.csv"]):
        raise RuntimeError("bad input found after the claim")
    assert list(tmp_path.iterdir()) == []


def test_a_killed_write_leaves_the_folder_as_it_was(tmp_path):
    out = tmp_path / "out"
    publish(out, {"a.csv": "first"})
    stale = tmp_path / ".out.socialtwin-staging"
    (stale / "plots").mkdir(parents=True)  # what kill -9 while staging leaves
    (stale / "a.csv").write_text("")
    (stale / "plots" / "p.png").write_text("")
    assert json.loads((out / MANIFEST).read_text())["files"] == {"a.csv": sha256(out / "a.csv")}
    with pytest.raises(UsageError, match="holds an earlier run"):
        publish(out, {"a.csv": "second"})
    publish(out, {"b.csv": "second"}, overwrite=True)
    assert contents(out).keys() == {MANIFEST, "b.csv"} and not stale.exists()


def test_a_publication_stopped_half_way_is_finished_by_the_next_claim(tmp_path, monkeypatch):
    out = tmp_path / "out"
    publish(out, {"a.csv": "first", "b.csv": "first", "c.csv": "first"})
    moves = []
    real_replace = os.replace

    def dies_after_two_moves(source, target):
        if len(moves) == 2:
            raise KeyboardInterrupt  # as a kill between two renames leaves it
        moves.append(target)
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", dies_after_two_moves)
    with pytest.raises(KeyboardInterrupt):
        publish(out, {"a.csv": "second", "b.csv": "second", "d.csv": "second"}, overwrite=True)
    monkeypatch.setattr(os, "replace", real_replace)
    assert (tmp_path / ".out.socialtwin-staging" / "publishing.json").is_file()
    with pytest.raises(UsageError, match="holds an earlier run"):
        RunFolder(out, ["a.csv"]).claim()
    assert contents(out) == {"a.csv": "second", "b.csv": "second", "d.csv": "second",
                             MANIFEST: contents(out)[MANIFEST]}
    files = json.loads((out / MANIFEST).read_text())["files"]
    assert files == {name: sha256(out / name) for name in ("a.csv", "b.csv", "d.csv")}


def test_an_update_adds_files_and_keeps_the_run(tmp_path):
    out = tmp_path / "out"
    publish(out, {"a.csv": "run", "plots/p.png": "old"}, manifest={"kind": "run", "seed": 1})
    publish(out, {"plots/p.png": "redrawn", "calibrator.json": "{}"}, update=True)
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["kind"] == "run" and manifest["seed"] == 1
    assert manifest["files"] == {name: sha256(out / name)
                                 for name in ("a.csv", "calibrator.json", "plots/p.png")}
    (out / "calibrator.json").write_text("mine now")
    with pytest.raises(UsageError, match="calibrator.json: not written by an earlier"):
        publish(out, {"calibrator.json": "{}"}, update=True)
    with pytest.raises(UsageError, match="holds no run of socialtwin"):
        publish(tmp_path / "elsewhere", {"calibrator.json": "{}"}, update=True)


def complete_run(out):
    """Whether ``out`` holds a whole run and nothing else: each listed file, its checksum."""
    try:
        manifest = json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    return manifest.get("format") == FORMAT and on_disk == {*manifest["files"], MANIFEST} and \
        all(sha256(out / name) == digest for name, digest in manifest["files"].items())


@pytest.mark.slow
def test_a_run_killed_while_writing_leaves_nothing_that_is_misread(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump({
        "name": "killed", "region": "US_VT", "population": {"size": 50},
        "period": {"start": "2020-03-02", "end": "2020-04-05"},
        "behaviours": ["workplaces", "parks"], "engine": {"name": "rules", "personas": 4}}))
    out, stage = tmp_path / "out", tmp_path / ".out.socialtwin-staging"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    run = [sys.executable, "-m", "socialtwin", "run", str(scenario), "--engine", "rules",
           "--agents", "300", "--out", str(out), "--quiet", "--no-probe", "--no-calibrate"]
    killed_while_writing = 0
    for delay in (0, 0.02, 0.1, 0.3, 0.6, 1.0, 1.5, 2.0, 2.5, 3.0):  # staging lasts ~2-3 s
        child = subprocess.Popen([*run, "--overwrite"], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        while child.poll() is None and not any(p.is_file() for p in stage.rglob("*")):
            time.sleep(0.001)
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        killed_while_writing += child.wait() == -signal.SIGKILL
        # A whole earlier run, no run at all, or a publication the next claim finishes.
        publishing = (stage / "publishing.json").is_file()
        earlier = complete_run(out)
        assert earlier or publishing or not out.exists() or not any(out.rglob("*")), delay
        done = subprocess.run(run, env=env, capture_output=True, text=True)
        if earlier or publishing:
            assert done.returncode == 2 and "holds an earlier run" in done.stderr, done.stderr
            done = subprocess.run([*run, "--overwrite"], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert complete_run(out), delay
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "s.yaml"], "nothing stale"
    assert killed_while_writing >= 5, "most kills must land while the run writes"
