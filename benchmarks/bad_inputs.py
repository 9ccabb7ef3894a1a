"""Every hostile input of issues 11 and 22, put to the real command line: one line per case.

Each case runs ``python -m socialtwin ...`` in a fresh folder and prints its exit code and the
first line of its error. A case passes when the exit code is non-zero, the error is one line
(notes aside), no traceback is printed and nothing in the folder was created or changed (the
run folder, a cache file, a calibrator); a case that gets as far as asking a model may create its
response cache, which must hold no answer. Usage::

    python benchmarks/bad_inputs.py            # all cases, two at a time
    python benchmarks/bad_inputs.py --list     # the case names

The "every answer failed" case asks an OpenAI-compatible server on 127.0.0.1 that this script
starts, whose replies carry neither log-probabilities nor a valid JSON distribution.

The cases of issue 22 (output folders: files of the user's, foreign manifests, links, a folder
another command holds, --out "", plot and calibrate inputs) come last. One more case, run by
this script only (tests/test_bad_inputs.py runs :func:`cases`), must write its folder and still
fail: a run with some failed answers and --fail-on-failed-answers (exit 3), asking a second
server that answers about half the questions; it may create its folder and response cache.
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def scenario(**changes) -> dict:
    """A small valid scenario (rules engine, 50 agents, five weeks), with ``changes``."""
    data = {
        "name": "bad_inputs",
        "region": "US_VT",
        "period": {"start": "2020-03-02", "end": "2020-04-05"},
        "population": {"size": 50},
        "behaviours": ["workplaces", "parks"],
        "engine": {"name": "rules", "personas": 4},
    }
    for path, value in changes.items():
        node = data
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return data


def bomb(levels: int = 9, width: int = 9) -> str:
    """A billion-laughs document: ``width`` aliases per level, ``levels`` deep, in description."""
    lines = ["description:", '  l0: &l0 "lol"']
    for level in range(1, levels + 1):
        lines.append(f"  l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n" + yaml.safe_dump(scenario())


@dataclass
class Case:
    """One hostile input: files to create and the command's arguments (run in the folder)."""

    name: str
    files: Callable[[Path], None]
    args: list[str]
    cache: bool = False
    """The case gets as far as asking a model: its response cache file may be created."""
    secret: str | None = None
    """A credential the command must not print."""
    writes: tuple[str, ...] = ()
    """Files and folders the case writes by design (new files there are not counted; nothing
    that was there may change)."""


MARKERS = {"NAN": ".nan", "INF": ".inf", "DATE": "2020-02-30"}
"""Values written in place of these strings (YAML that yaml.safe_dump would not write)."""


def write_scenario(data: dict | str, name: str = "s.yaml") -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        text = data if isinstance(data, str) else yaml.safe_dump(data)
        for marker, value in MARKERS.items():
            text = re.sub(rf"'?\b{marker}\b'?", value, text)
        (folder / name).write_text(text)
    return make


def nan_in(path: str) -> Callable[[Path], None]:
    return write_scenario(scenario(**{path: "NAN"}))


def several(*makers: Callable[[Path], None]) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        for maker in makers:
            maker(folder)
    return make


def cache_file(kind: str) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        path = folder / "cache.sqlite"
        if kind == "folder":
            path.mkdir()
        elif kind == "text":
            path.write_text("these are my notes, not a database\n" * 50)
        elif kind == "corrupted":
            path.write_bytes(b"SQLite format 3\x00" + os.urandom(4000))
        else:
            with sqlite3.connect(path) as db:
                db.execute("CREATE TABLE responses (key TEXT PRIMARY KEY, engine TEXT, model "
                           "TEXT, elicitation TEXT, distribution TEXT, tokens_in INTEGER, "
                           "tokens_out INTEGER, cost_usd REAL, created REAL)")
                db.executemany("INSERT INTO responses VALUES (?, 'local', 'm', 'cloze', "
                               "'[0.5, 0.5]', 1, 0, 0, 0)",
                               [(f"{i:064d}",) for i in range(3000)])
            data = path.read_bytes()
            path.write_bytes(data[:len(data) // 2])
    return make


def run_folder(columns: list[str]) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        run = folder / "run"
        run.mkdir()
        (run / "manifest.json").write_text(json.dumps({"scenario": {"region": "USA"},
                                                       "engine": "rules", "files": []}))
        rows = {"tick": [0], "date": ["2020-03-02"], "behaviour": ["parks"], "group": ["all"],
                "subgroup": ["all"], "value": [0.5], "change_pct": [0.0]}
        header = [c for c in rows if c in columns]
        (run / "trajectories.csv").write_text(",".join(header) + "\n"
                                              + ",".join(str(rows[c][0]) for c in header) + "\n")
    return make


def data_dir(folder: Path) -> None:
    raw = folder / "raw"
    raw.mkdir()
    (raw / "policy.csv").write_text("Country,Date,Stay home\nUS,2020-03-02,2\n")


def earlier_run(folder: Path) -> None:
    (folder / "out").mkdir()
    (folder / "out" / "manifest.json").write_text('{"files": []}')


def failing_engine(port: int) -> dict:
    return scenario(**{"engine": {"name": "litellm:openai/replies-nothing", "personas": 2,
                                  "options": {"api_base": f"http://127.0.0.1:{port}/v1",
                                              "max_retries": 0, "balanced": False}},
                       "population.size": 20, "period.end": "2020-03-15",
                       "behaviours": ["parks"]})


SECRET_KEY = "AIzaNotARealKey0123456789"
"""The key a refusing provider echoes in its error, as a 400 reply may echo the request URL."""
CATEGORIES = ("retail_and_recreation", "grocery_and_pharmacy", "parks", "transit_stations",
              "workplaces", "residential")


def raw_files(c6: str = "1", retail: str = "-10") -> Callable[[Path], None]:
    """raw/: Vermont's OxCGRT record and Google mobility in March 2020, one day's C6 and retail
    values as given."""
    def make(folder: Path) -> None:
        raw = folder / "raw"
        raw.mkdir()
        days = [f"2020-03-{day:02d}" for day in range(2, 30)]
        policy = ["CountryName,CountryCode,RegionName,RegionCode,Jurisdiction,Date,"
                  "C6_Stay at home requirements,StringencyIndex"]
        policy += [f"United States,USA,Vermont,US_VT,STATE_TOTAL,{day.replace('-', '')},"
                   f"{c6 if i == 10 else 1},40" for i, day in enumerate(days)]
        (raw / "OxCGRT_latest.csv").write_text("\n".join(policy) + "\n")
        values = ",".join(f"{c}_percent_change_from_baseline" for c in CATEGORIES)
        mobility = ["country_region_code,country_region,sub_region_1,iso_3166_2_code,date,"
                    + values]
        mobility += [f"US,United States,Vermont,US-VT,{day},{retail if i == 10 else -10},"
                     "-5,20,-30,-20,8" for i, day in enumerate(days)]
        (raw / "Global_Mobility_Report.csv").write_text("\n".join(mobility) + "\n")
    return make


def sqlite_file(*statements: str, read_only: bool = False) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        with sqlite3.connect(folder / "cache.sqlite") as db:
            for statement in statements:
                db.execute(statement)
        if read_only:
            (folder / "cache.sqlite").chmod(0o444)
    return make


def with_marginals(text: str) -> Callable[[Path], None]:
    return several(write_scenario(scenario(**{"population.marginals": "m.yaml"})),
                   write_scenario(text, "m.yaml"))


def with_rules(**rules) -> Callable[[Path], None]:
    return write_scenario(scenario(behaviours=[{"name": "parks", "question": "Will you go to a "
                                                "park?", "rules": rules}]))


def interventions(count: int) -> Callable[[Path], None]:
    item = "  - {indicator: c6_stay_at_home_requirements, level: 1, start: 2020-03-10}\n"
    text = yaml.safe_dump(scenario(policy={"source": "interventions"}))
    return write_scenario(text.replace("policy:\n", "policy:\n  interventions:\n" + item * count))


def refusing_engine(port: int) -> dict:
    return scenario(**{"engine": {"name": "litellm:openai/refuses-everything", "personas": 2,
                                  "options": {"api_base": f"http://127.0.0.1:{port}/v1",
                                              "max_retries": 0}},
                       "population.size": 20, "period.end": "2020-03-15",
                       "behaviours": ["parks"]})


SCHEMA = ("CREATE TABLE responses (key TEXT PRIMARY KEY, engine TEXT NOT NULL, model TEXT NOT "
          "NULL, elicitation TEXT NOT NULL, distribution TEXT NOT NULL, tokens_in INTEGER NOT "
          "NULL, tokens_out INTEGER NOT NULL, cost_usd REAL, created REAL NOT NULL)")


RUN = ["run", "s.yaml", "--out", "out", "--quiet", "--no-calibrate", "--no-probe"]
FIT = ["fit", "s.yaml", "--regions", "US_VT", "--trials", "1", "--out", "p.json", "--quiet"]


def folder_files(files: dict[str, str | bytes], manifest: dict | list | None = None,
                 links: dict[str, str] | None = None, ours: bool = False,
                 folder_name: str = "out") -> Callable[[Path], None]:
    """A folder with ``files``, symbolic ``links`` (name -> target) and a ``manifest``.

    With ``ours``, the manifest is socialtwin's: the format marker, and the checksum of every
    file ``manifest["files"]`` names (by default every file and link).
    """
    def make(folder: Path) -> None:
        out = folder / folder_name
        for name, content in files.items():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            data = content.encode() if isinstance(content, str) else content
            (out / name).write_bytes(data)
        for name, target in (links or {}).items():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).symlink_to(target)
        out.mkdir(exist_ok=True)
        data = manifest
        if ours:
            data = dict(manifest or {})
            listed = data.pop("files", None) or [*files, *(links or {})]
            data = {"format": "socialtwin.run-folder/1", **data, "files": {
                name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in listed}}
        if data is not None:
            (out / "manifest.json").write_text(json.dumps(data))
    return make


RUN_MANIFEST = {"scenario": {"name": "bad_inputs", "region": "US_VT"}, "engine": "rules",
                "agents": 50}
"""The entries of a run's manifest that plot and calibrate read."""
TRAJECTORIES = "tick,date,behaviour,group,subgroup,value,change_pct\n"


def trajectories(date: str = "2020-03-02", change: str = "0.0") -> str:
    return TRAJECTORIES + f"0,{date},parks,all,all,0.5,{change}\n"


class HeldFolder:
    """Claims a folder for itself, as a first command still running on it does."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.held = []

    def __call__(self, folder: Path) -> None:
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        from simulator.run_folder import RunFolder

        write_scenario(scenario())(folder)
        self.held.append(RunFolder(folder / self.name).claim())  # released as the script ends


def cases(port: int) -> list[Case]:
    """Every input the issue lists that must be refused, in its order."""
    return [
        Case("yaml alias bomb (9 levels of 9)", write_scenario(bomb()), RUN),
        Case("--agents 1000000000", write_scenario(scenario()), [*RUN, "--agents", "1000000000"]),
        Case("dynamics.habit: .nan", nan_in("dynamics.habit"), RUN),
        Case("context new_cases_per_100k: .nan", nan_in("context.values.new_cases_per_100k"),
             RUN),
        Case("intervention level: .nan", write_scenario(scenario(policy={
            "source": "interventions", "interventions": [
                {"indicator": "c6_stay_at_home_requirements", "level": "NAN",
                 "start": "2020-03-10"}]})), RUN),
        Case("option value: .nan", write_scenario(scenario(behaviours=[
            {"name": "parks", "question": "Will you go to a park?",
             "options": [{"label": "Yes", "value": "NAN"}, {"label": "No", "value": 0}]}])),
             RUN),
        Case("rules.baseline: .nan", write_scenario(scenario(behaviours=[
            {"name": "parks", "question": "Will you go to a park?",
             "rules": {"baseline": "NAN"}}])), RUN),
        Case("network.homophily: .nan", nan_in("network.homophily"), RUN),
        Case("sweep grid dose .nan", several(write_scenario(scenario()), write_scenario(
            "grid:\n  - {axis: strength, kind: scale, values: [0.5, .nan, 1.5], dose: true}\n",
            "v.yaml")), ["sweep", "s.yaml", "--variants", "v.yaml", "--out", "out", "--quiet"]),
        Case("two options with one label", write_scenario(scenario(behaviours=[
            {"name": "parks", "question": "Will you go to a park?",
             "options": [{"label": "Yes", "value": 1}, {"label": "Yes", "value": 0}]}])), RUN),
        Case("--out names an existing file", several(
            write_scenario(scenario()), lambda f: (f / "taken").write_text("mine\n")),
            [*RUN[:2], "--out", "taken", *RUN[4:]]),
        Case("--out in an unwritable place", several(
            write_scenario(scenario()), lambda f: (f / "file").write_text("x\n")),
            [*RUN[:2], "--out", "file/run", *RUN[4:]]),
        Case("end: 2020-02-30", write_scenario(scenario(**{
            "period.end": "DATE"})), RUN),
        Case("population.size: .inf", write_scenario(scenario(**{
            "population.size": "INF"})), RUN),
        Case("seed: .inf", write_scenario(scenario(seed="INF")), RUN),
        Case("engine.personas: .inf", write_scenario(scenario(**{
            "engine.personas": "INF"})), RUN),
        Case("--seed -5", write_scenario(scenario()), [*RUN, "--seed", "-5"]),
        Case("corrupted cache file", several(write_scenario(scenario()), cache_file("corrupted")),
             [*RUN, "--engine", "local", "--cache", "cache.sqlite"]),
        Case("truncated cache file", several(write_scenario(scenario()), cache_file("truncated")),
             [*RUN, "--engine", "local", "--cache", "cache.sqlite"]),
        Case("non-database cache file", several(write_scenario(scenario()), cache_file("text")),
             [*RUN, "--engine", "local", "--cache", "cache.sqlite"]),
        Case("--cache names a folder", several(write_scenario(scenario()), cache_file("folder")),
             [*RUN, "--engine", "local", "--cache", "cache.sqlite"]),
        Case("calibrate: trajectories.csv lacks a column", run_folder(
            ["tick", "date", "behaviour", "group", "subgroup", "value"]), ["calibrate", "run"]),
        Case("evaluate --data-dir with an unknown header", data_dir,
             ["evaluate", "--regions", "USA", "--data-dir", "raw", "--agents", "50"]),
        Case("re-used output folder (no --overwrite)", several(write_scenario(scenario()),
                                                               earlier_run), RUN),
        Case("every answer failed", write_scenario(failing_engine(port)),
             [*RUN, "--cache", "cache.sqlite"], cache=True),
        # issue 22: output folders
        Case("user's report.md, trajectories.csv, no manifest", several(
            write_scenario(scenario()), folder_files({"report.md": "mine", "trajectories.csv":
                                                      "mine"})), RUN),
        Case("... with --overwrite (named like run files)", several(
            write_scenario(scenario()), folder_files({"report.md": "mine", "trajectories.csv":
                                                      "mine"})), [*RUN, "--overwrite"]),
        Case("--overwrite: user's calibrator.json in a run", several(
            write_scenario(scenario()), folder_files(
                {"report.md": "run", "calibration.csv": "mine", "calibrator.json": "{}"},
                {"files": ["report.md"], **RUN_MANIFEST}, ours=True)),
             ["run", "s.yaml", "--out", "out", "--quiet", "--no-probe", "--overwrite"]),
        Case("--overwrite: hand-written manifest", several(
            write_scenario(scenario()), folder_files(
                {"thesis.docx": "four years", "data/raw.csv": "irreplaceable"},
                {"files": ["thesis.docx", "data/raw.csv"]})), [*RUN, "--overwrite"]),
        Case("--overwrite: another application's manifest", several(
            write_scenario(scenario()), folder_files({"data.bin": "x"}, {"app": "other"})),
             [*RUN, "--overwrite"]),
        Case("second run while the first holds the folder", HeldFolder("out"), RUN),
        Case("--overwrite: run file links outside", several(
            write_scenario(scenario()), lambda f: (f / "outside.csv").write_text("mine\n"),
            folder_files({"report.md": "run"}, links={"trajectories.csv": "../outside.csv"},
                         ours=True)), [*RUN, "--overwrite"]),
        Case("--overwrite: run file links inside", several(
            write_scenario(scenario()), folder_files(
                {"notes.txt": "mine"}, links={"trajectories.csv": "notes.txt"}, ours=True,
                manifest={"files": ["trajectories.csv"]})), [*RUN, "--overwrite"]),
        Case("folder of a run killed while writing", several(
            write_scenario(scenario()), folder_files({"trajectories.csv": "", "report.md": "",
                                                      "plots/signals.png": b""})), RUN),
        Case("evaluate --out into a run folder", folder_files(
            {"calibrator.json": "{}", "report.md": "run"}, RUN_MANIFEST, ours=True),
             ["evaluate", "--engine", "rules", "--regions", "US_VT,US_NH", "--agents", "50",
              "--out", "out"]),
        Case("calibrate --out precious.yaml", several(
            folder_files({"trajectories.csv": trajectories()}, RUN_MANIFEST, ours=True,
                         folder_name="run"),
            lambda f: (f / "precious.yaml").write_text("my settings\n")),
             ["calibrate", "run", "--out", "precious.yaml"]),
        Case("calibrate: RUN_DIR/calibrator.json is the user's", folder_files(
            {"trajectories.csv": trajectories(), "calibrator.json": "{}"},
            {"files": ["trajectories.csv"], **RUN_MANIFEST}, ours=True, folder_name="run"),
             ["calibrate", "run"]),
        Case("calibrate: change_pct all NaN", folder_files(
            {"trajectories.csv": trajectories(change="")}, RUN_MANIFEST, ours=True,
            folder_name="run"), ["calibrate", "run"]),
        Case("calibrate: date 2020-13-45", folder_files(
            {"trajectories.csv": trajectories(date="2020-13-45")}, RUN_MANIFEST, ours=True,
            folder_name="run"), ["calibrate", "run"]),
        Case("plot: manifest is a list", folder_files({"timeline.csv": "x\n"}, ["timeline.csv"]),
             ["plot", "out"]),
        Case("plot: manifest without scenario", folder_files(
            {"timeline.csv": "x\n"}, {"engine": "rules", "agents": 50}, ours=True),
             ["plot", "out"]),
        Case("plot: trajectories.parquet missing", folder_files(
            {"timeline.csv": "x\n"}, RUN_MANIFEST, ours=True), ["plot", "out"]),
        Case("plot: trajectories.parquet corrupt", folder_files(
            {"timeline.csv": "x\n", "trajectories.parquet": b"PAR1 not parquet"}, RUN_MANIFEST,
            ours=True), ["plot", "out"]),
        Case('run --out ""', write_scenario(scenario()), [*RUN[:2], "--out", "", *RUN[4:]]),
        Case('sweep --out ""', several(write_scenario(scenario()), write_scenario(
            "variants:\n  - {name: a}\n", "v.yaml")),
             ["sweep", "s.yaml", "--variants", "v.yaml", "--out", "", "--quiet"]),
        Case('evaluate --out ""', lambda folder: None,
             ["evaluate", "--engine", "rules", "--out", ""]),
        Case('calibrate --out ""', folder_files({"trajectories.csv": trajectories()},
                                                RUN_MANIFEST, ours=True, folder_name="run"),
             ["calibrate", "run", "--out", ""]),
        # issue 22: inputs
        *issue22_cases(port),
    ]


def issue22_cases(port: int) -> list[Case]:
    """Inputs checked on the way in (issue 22, parts 3 to 6)."""
    sweep = ["sweep", "s.yaml", "--variants", "v.yaml", "--out", "out", "--quiet"]
    local = [*RUN, "--engine", "local", "--cache", "cache.sqlite"]
    text = yaml.safe_dump(scenario())
    return [
        Case("size: 2000 then size: 3", write_scenario(text.replace(
            "size: 50", "size: 2000\n  size: 3")), RUN),
        Case("a second seed:", write_scenario(text + "seed: 1\nseed: 2\n"), RUN),
        Case("marginals file repeats a key", with_marginals(
            "name: Town\nshares:\n  urbanicity: {urban: 0.8, suburban: 0.1, rural: 0.1}\n"
            "  urbanicity: {urban: 0, suburban: 0, rural: 1}\n"), RUN),
        Case("variants file repeats a key", several(write_scenario(scenario()), write_scenario(
            "variants:\n  - {name: a, transforms: [{kind: scale, factor: 0.5}]}\nseeds: 2\n"
            "seeds: 3\n", "v.yaml")), sweep),
        Case("probe battery repeats a key", several(
            write_scenario(scenario(probes="p.yaml")),
            write_scenario("situations:\n  a: {}\nsituations:\n  b: {}\n", "p.yaml")), RUN[:-1]),
        Case("--data-dir C6 = 99", several(write_scenario(scenario()), raw_files(c6="99")),
             [*RUN, "--data-dir", "raw"]),
        Case("--data-dir C6 = -3", several(write_scenario(scenario()), raw_files(c6="-3")),
             [*RUN, "--data-dir", "raw"]),
        Case("--data-dir C6 = inf", several(write_scenario(scenario()), raw_files(c6="inf")),
             [*RUN, "--data-dir", "raw"]),
        Case("--data-dir retail +1e9%", several(write_scenario(scenario()),
                                                 raw_files(retail="1000000000")),
             [*RUN, "--data-dir", "raw"]),
        Case("--data-dir retail -5000%", several(write_scenario(scenario()),
                                                  raw_files(retail="-5000")),
             [*RUN, "--data-dir", "raw"]),
        Case("--data-dir retail inf", several(write_scenario(scenario()), raw_files(retail="inf")),
             [*RUN, "--data-dir", "raw"]),
        Case("data fetch --from a file with inf", raw_files(retail="inf"),
             ["data", "fetch", "--from", "raw", "--dest", "copy"]),
        Case("context new_cases_per_100k: -500", write_scenario(scenario(context={
            "source": "constant", "values": {"new_cases_per_100k": -500}})), RUN),
        Case("rules.policy names no indicator", with_rules(policy={"c6_stay_home": -1}), RUN),
        Case("rules.traits names no trait", with_rules(traits={"openness": 1}), RUN),
        Case("rules.context names no feature", with_rules(context={"threath": -1}), RUN),
        Case("metric names no observed metric", write_scenario(scenario(behaviours=[
            {"name": "parks", "question": "Will you go to a park?", "metric": "park"}])), RUN),
        Case("prompts.question without {question}", write_scenario(scenario(
            prompts={"question": "Question:\n{options}"})), RUN),
        Case("prompts.preamble with {regoin}", write_scenario(scenario(
            prompts={"preamble": "Survey of {regoin}.\n"})), local),
        Case("prompts.persona with an unbalanced {", write_scenario(scenario(
            prompts={"persona": "Respondent: {persona\n"})), local),
        Case("cache of another schema", several(write_scenario(scenario()), sqlite_file(
            "CREATE TABLE responses (key TEXT PRIMARY KEY, answer TEXT)")), local),
        Case("another app's SQLite file as --cache", several(write_scenario(scenario()),
             sqlite_file("CREATE TABLE users (id INTEGER, name TEXT)")), local),
        *([] if os.geteuid() == 0 else [  # root writes read-only files
            Case("read-only cache", several(write_scenario(scenario()),
                                            sqlite_file(SCHEMA, read_only=True)), local)]),
        Case("variants seeds: [-5, 3]", several(write_scenario(scenario()), write_scenario(
            "seeds: [-5, 3]\nvariants:\n  - {name: a, transforms: [{kind: scale, factor: 0.5}]}\n",
            "v.yaml")), sweep),
        Case("variants dose 1e308", several(write_scenario(scenario()), write_scenario(
            "variants:\n  - {name: a, dose: 1.0e+308, transforms: [{kind: scale, factor: 0.5}]}\n"
            "  - {name: b, dose: -1.0e+308, transforms: [{kind: scale, factor: 1.5}]}\n",
            "v.yaml")), sweep),
        Case("grid dose 1e308", several(write_scenario(scenario()), write_scenario(
            "grid:\n  - {axis: s, kind: scale, values: [0.5, 1.0e+308], dose: true}\n",
            "v.yaml")), sweep),
        Case("data fetch --from X --dest X", raw_files(),
             ["data", "fetch", "--from", "raw", "--dest", "raw"]),
        Case("data fetch --dest an existing file", lambda f: (f / "taken").write_text("mine\n"),
             ["data", "fetch", "--dest", "taken", "--base-url", "http://127.0.0.1:9"]),
        Case("data build-tables --from an empty folder", lambda f: (f / "empty").mkdir(),
             ["data", "build-tables", "--from", "empty"]),
        Case("period 1000-01-01..9999-12-31 daily", write_scenario(scenario(
            tick="day", **{"period.start": "1000-01-01", "period.end": "9999-12-31"})), RUN),
        Case("1000 x 1000 variants grid", several(write_scenario(scenario()), write_scenario(
            yaml.safe_dump({"grid": [
                {"axis": "a", "kind": "scale", "values": [i / 1000 for i in range(1000)]},
                {"axis": "b", "kind": "shift", "values": list(range(1000))}]}), "v.yaml")),
             sweep),
        Case("2,001 interventions", interventions(2_001), RUN),
        Case("8.6 MB scenario, 115,000 interventions", interventions(115_000), RUN),
        Case("name: ../x and no output", write_scenario(scenario(name="../x")),
             ["run", "s.yaml", "--quiet", "--no-calibrate", "--no-probe"]),
        Case("a 400 reply echoing ?key=", write_scenario(refusing_engine(port)),
             [*RUN, "--cache", "cache.sqlite"], cache=True, secret=SECRET_KEY),
        Case("fit --trials 0", write_scenario(scenario()), FIT + ["--trials", "0"]),
        Case("fit --engine local --pooling regions", write_scenario(scenario()),
             FIT + ["--engine", "local", "--pooling", "regions"]),
        Case("fit --out names a file of the user's", several(
            write_scenario(scenario()), lambda f: (f / "p.json").write_text('{"mine": 1}\n')),
            FIT),
        Case("engine.parameters: not a parameter file", several(
            write_scenario(scenario(**{"engine.parameters": "p.json"})),
            lambda f: (f / "p.json").write_text('{"alpha": 1}\n')), RUN),
        Case("context.epidemic: simulated without observed context", write_scenario(scenario(
            **{"context.source": "none", "context.epidemic": "simulated"})), RUN),
        Case("context.epidemic: simulated, behaviours with no contacts", write_scenario(
            scenario(**{"context.epidemic": "simulated",
                        "behaviours": [{"name": "walks", "question": "Will you walk?"}]})), RUN),
        Case("context.epidemic_fit_until after the period", write_scenario(scenario(
            **{"context.epidemic": "simulated", "context.epidemic_fit_until": "2021-01-01"})),
             RUN),
    ]


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder below ``folder`` with a hash of its content."""
    found = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        found[key] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return found


def attempt(case: Case) -> tuple[str, int, str, list[str], float]:
    """Run one case; returns its name, exit code, first error line, problems and seconds."""
    with tempfile.TemporaryDirectory(prefix="bad-input-") as name:
        folder = Path(name)
        case.files(folder)
        before = snapshot(folder)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "sk-not-a-real-key",
               "LITELLM_LOCAL_MODEL_COST_MAP": "True", "SOCIALTWIN_CACHE":
               str(folder / "default-cache.sqlite")}
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "socialtwin", *case.args], cwd=folder,
                              capture_output=True, text=True, env=env, timeout=300)
        seconds = time.perf_counter() - started
        after = snapshot(folder)
        after = {k: v for k, v in after.items() if k in before
                 or not any(k == w or k.startswith(f"{w}/") for w in case.writes)}
        if case.cache and "cache.sqlite" in after and "cache.sqlite" not in before:
            with sqlite3.connect(folder / "cache.sqlite") as db:
                stored = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
            after = {k: v for k, v in after.items() if not k.startswith("cache.sqlite")}
            if stored:
                after["cache.sqlite (answers)"] = str(stored)
    errors = [line for line in done.stderr.splitlines()
              if line.strip() and not line.startswith("socialtwin: note:")]
    problems = []
    if done.returncode == 0:
        problems.append("exit 0")
    if "Traceback" in done.stderr:
        problems.append("traceback")
    if len(errors) != 1:
        problems.append(f"{len(errors)} error lines")
    if case.secret and case.secret in done.stderr + done.stdout:
        problems.append("printed a credential")
    if after != before:
        changed = sorted(set(after.items()) ^ set(before.items()))
        problems.append(f"wrote {', '.join(sorted({k for k, _ in changed}))}")
    first = next(iter(errors), done.stderr.strip().splitlines()[0] if done.stderr.strip()
                 else "(no error printed)")
    return case.name, done.returncode, first, problems, seconds


class Silent(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint whose every reply is unusable: no log-probabilities, no
    JSON distribution."""

    def do_POST(self) -> None:  # noqa: N802 - the http.server hook's name
        length = int(self.headers.get("Content-Length", 0))
        request = json.loads(self.rfile.read(length) or b"{}")
        if "refuses" in request.get("model", ""):
            self.refuse()
            return
        text = self.reply(request)
        if self.path.endswith("/chat/completions"):
            choice = {"index": 0, "finish_reason": "stop",
                      "message": {"role": "assistant", "content": text}}
            kind = "chat.completion"
        else:
            choice = {"index": 0, "finish_reason": "stop", "text": text, "logprobs": None}
            kind = "text_completion"
        body = json.dumps({"id": "x", "object": kind, "created": 0,
                           "model": request.get("model", "m"), "choices": [choice],
                           "usage": {"prompt_tokens": 10, "completion_tokens": 5,
                                     "total_tokens": 15}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def refuse(self) -> None:
        """A 400 whose message echoes the request URL with a key in its query (as some do)."""
        body = json.dumps({"error": {"message": f"Invalid request for url http://127.0.0.1"
                                                f"{self.path}?key={SECRET_KEY}&alt=json",
                                     "type": "invalid_request_error"}}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def reply(self, request: dict) -> str:
        """The reply's text: never a distribution."""
        return "I would rather not say."

    def log_message(self, *args) -> None:
        """Quiet."""


class Flaky(Silent):
    """An OpenAI-compatible endpoint that answers about half the questions with a valid JSON
    distribution and the others with prose (which question, by a hash of its prompt)."""

    def reply(self, request: dict) -> str:
        prompt = "\n".join(str(m.get("content", "")) for m in request.get("messages", [])) \
            or str(request.get("prompt", ""))
        options = re.findall(r"^\s*\d+\. ", prompt.rsplit("Question:", 1)[-1], re.M) \
            or re.findall(r"^\s*\d+\. ", prompt, re.M)
        if not options or int(hashlib.sha256(prompt.encode()).hexdigest(), 16) % 2 == 0:
            return super().reply(request)
        return json.dumps({str(i + 1): 1 / len(options) for i in range(len(options))})


def written_cases(port: int) -> list[Case]:
    """Runs that write their folder and then exit non-zero on purpose (one error line)."""
    flaky = scenario(**{"engine": {"name": "litellm:openai/replies-sometimes", "personas": 2,
                                   "options": {"api_base": f"http://127.0.0.1:{port}/v1",
                                               "max_retries": 0, "balanced": False,
                                               "elicitation": "verbalised_json",
                                               "api": "chat"}},
                        "population.size": 20, "period.end": "2020-03-15",
                        "behaviours": ["parks"]})
    return [Case("some answers failed, --fail-on-failed-answers (exit 3)", write_scenario(flaky),
                 [*RUN, "--cache", "cache.sqlite", "--fail-on-failed-answers"],
                 writes=("out", "cache.sqlite"))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print the case names")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Silent)
    flaky = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    for each in (server, flaky):
        threading.Thread(target=each.serve_forever, daemon=True).start()
    all_cases = cases(server.server_address[1]) + written_cases(flaky.server_address[1])
    if args.list:
        print("\n".join(case.name for case in all_cases))
        return 0
    started = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as pool:
        results = list(pool.map(attempt, all_cases))
    server.shutdown()
    flaky.shutdown()
    failed = 0
    for name, code, first, problems, seconds in results:
        verdict = "ok" if not problems else "FAIL: " + "; ".join(problems)
        failed += bool(problems)
        print(f"{name:<45} exit {code}  {seconds:5.1f} s  {verdict}\n    {first}")
    total = time.perf_counter() - started
    print(f"{len(results) - failed} of {len(results)} cases refused with one clear line, "
          f"nothing of the user's written or changed; {total:.0f} s in all ({args.workers} at a "
          "time)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
