"""Every hostile input of issues 11 and 22 is refused before any work: one line, nothing written.

The cases are those of benchmarks/bad_inputs.py, which puts them to the command line in
subprocesses; here they run in-process through :func:`socialtwin.main.main`.
"""

import http.server
import sqlite3
import sys
import threading
from pathlib import Path

import pytest

from socialtwin.main import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bad_inputs  # noqa: E402

SERVER = http.server.ThreadingHTTPServer(("127.0.0.1", 0), bad_inputs.Silent)
CASES = bad_inputs.cases(SERVER.server_address[1])


@pytest.fixture(scope="module", autouse=True)
def silent_server():
    thread = threading.Thread(target=SERVER.serve_forever, daemon=True)
    thread.start()
    yield
    SERVER.shutdown()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_refused_with_one_clear_line_and_nothing_written(case, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-a-real-key")
    monkeypatch.setenv("SOCIALTWIN_CACHE", str(tmp_path / "default-cache.sqlite"))
    case.files(tmp_path)
    before = bad_inputs.snapshot(tmp_path)
    status = main(case.args)
    out, err = capsys.readouterr()
    assert case.secret is None or case.secret not in out + err
    errors = [line for line in err.splitlines() if line.strip()
              and not line.startswith("socialtwin: note:")]
    assert status != 0
    assert len(errors) == 1 and errors[0].startswith("socialtwin: error: "), err
    after = bad_inputs.snapshot(tmp_path)
    if case.cache:
        with sqlite3.connect(tmp_path / "cache.sqlite") as db:
            assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 0
        after = {k: v for k, v in after.items() if not k.startswith("cache.sqlite")}
    assert after == before


def test_an_unrecognised_data_file_is_named(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    bad_inputs.data_dir(tmp_path)
    main(["evaluate", "--regions", "USA", "--data-dir", "raw", "--agents", "50"])
    err = capsys.readouterr().err
    assert "note: --data-dir: raw/policy.csv is not read: its header (Country, Date, Stay home)" \
        " matches no known layout (oxcgrt_classic" in err
