"""Every hostile input of issue 11, put to the real command line: one line per case.

Each case runs ``python -m simulator.cli ...`` in a fresh folder and prints its exit code and the
first line of its error. A case passes when the exit code is non-zero, the error is one line
(notes aside), no traceback is printed and nothing in the folder was created or changed (the
run folder, a cache file, a calibrator); a case that gets as far as asking a model may create its
response cache, which must hold no answer. Usage::

    python benchmarks/bad_inputs.py            # all cases, two at a time
    python benchmarks/bad_inputs.py --list     # the case names

The "every answer failed" case asks an OpenAI-compatible server on 127.0.0.1 that this script
starts, whose replies carry neither log-probabilities nor a valid JSON distribution.
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
        "engine": {"name": "rules", "archetypes": 4},
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
    return scenario(**{"engine": {"name": "litellm:openai/replies-nothing", "archetypes": 2,
                                  "options": {"api_base": f"http://127.0.0.1:{port}/v1",
                                              "max_retries": 0, "balanced": False}},
                       "population.size": 20, "period.end": "2020-03-15",
                       "behaviours": ["parks"]})


RUN = ["run", "s.yaml", "--out", "out", "--quiet", "--no-calibrate", "--no-probe"]


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
        Case("engine.archetypes: .inf", write_scenario(scenario(**{
            "engine.archetypes": "INF"})), RUN),
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
        done = subprocess.run([sys.executable, "-m", "simulator.cli", *case.args], cwd=folder,
                              capture_output=True, text=True, env=env, timeout=300)
        seconds = time.perf_counter() - started
        after = snapshot(folder)
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
        text = "I would rather not say."
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

    def log_message(self, *args) -> None:
        """Quiet."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print the case names")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Silent)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    all_cases = cases(server.server_address[1])
    if args.list:
        print("\n".join(case.name for case in all_cases))
        return 0
    started = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as pool:
        results = list(pool.map(attempt, all_cases))
    server.shutdown()
    failed = 0
    for name, code, first, problems, seconds in results:
        verdict = "ok" if not problems else "FAIL: " + "; ".join(problems)
        failed += bool(problems)
        print(f"{name:<45} exit {code}  {seconds:5.1f} s  {verdict}\n    {first}")
    total = time.perf_counter() - started
    print(f"{len(results) - failed} of {len(results)} cases refused with one clear line, "
          f"nothing written; {total:.0f} s in all ({args.workers} at a time)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
