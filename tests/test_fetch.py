import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pandas as pd
import pytest
from shared_files import (
    CLIMATE,
    GOOGLE,
    INDICES,
    JHU_CASES,
    JHU_DEATHS,
    NYT_NATIONAL,
    NYT_STATES,
    OI_NATIONAL,
    OI_STATES,
    OXCGRT,
    SHARED,
    VACCINATIONS,
    WORLD_OWID_MOBILITY,
    WORLD_VACCINATIONS,
    to_v1_layout,
)

from simulator.sources import detect_layout, load_observed
from simulator.sources.fetch import RAW_FILES, FetchError, RawFile, fetch, fetch_main, import_local

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="shared/data is not available")

GITHUB = "https://raw.githubusercontent.com"
COPIES = {
    "policy/OxCGRT_latest.csv": OXCGRT,
    "policy/usa/OxCGRT_US_latest.csv": OXCGRT,
    "mobility/Global_Mobility_Report.csv": GOOGLE,
    "mobility/Google Mobility - National - Daily.csv": OI_NATIONAL,
    "mobility/Google Mobility - State - Daily.csv": OI_STATES,
    "epi/us-states.csv": NYT_STATES,
    "epi/us.csv": NYT_NATIONAL,
    "epi/us_state_vaccinations.csv": VACCINATIONS,
    "population/states_only.csv": CLIMATE,
    "mobility/changes-visitors-covid.csv": WORLD_OWID_MOBILITY,
    "epi/confirmed_cases.csv": JHU_CASES,
    "epi/confirmed_deaths.csv": JHU_DEATHS,
    "epi/vaccinations.csv": WORLD_VACCINATIONS,
}
LOCAL_FILES = 19
"""Files of a recognised layout in shared/data: 11 for the US, 8 in world/."""


def _url_file(root: Path, url: str) -> Path:
    return root / unquote(urlsplit(url).path.lstrip("/"))


def _write_v1_files(classic: pd.DataFrame, indices: pd.DataFrame, target: dict[str, Path]) -> None:
    national = classic[classic["Jurisdiction"] == "NAT_TOTAL"]
    to_v1_layout(national).to_csv(target["policy/v1/OxCGRT_compact_national_v1.csv"], index=False)
    states = classic[classic["Jurisdiction"] == "STATE_TOTAL"]
    to_v1_layout(states).to_csv(target["policy/v1/OxCGRT_compact_subnational_v1.csv"], index=False)
    indices = indices.assign(
        day=pd.to_datetime(indices["Date"]).dt.strftime("%d%b%Y"), CityCode="", CityName=""
    )
    ids = [
        "CountryCode",
        "CountryName",
        "RegionCode",
        "RegionName",
        "CityCode",
        "CityName",
        "Jurisdiction",
    ]
    for name in (
        "StringencyIndex",
        "GovernmentResponseIndex",
        "ContainmentHealthIndex",
        "EconomicSupportIndex",
    ):
        wide = indices.pivot(index=ids, columns="day", values=name).reset_index()
        wide.to_csv(target[f"policy/v1/OxCGRT_timeseries_{name}_v1.csv"], index=False)


class MirrorHandler(SimpleHTTPRequestHandler):
    """Serves the mirror; paths in ``short`` announce their full length but send half, those in
    ``flaky`` do so the given number of times; ``requested`` records every path asked."""

    short: set[str] = set()
    flaky: dict[str, int] = {}
    requested: list[str] = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.requested.append(self.path)
        cut = self.flaky.get(self.path, 0) > 0
        if cut:
            self.flaky[self.path] -= 1
        if self.path not in self.short and not cut:
            super().do_GET()
            return
        body = Path(self.translate_path(self.path)).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """A local HTTP server whose paths mirror the official URLs of RAW_FILES."""
    root = tmp_path_factory.mktemp("mirror")
    target = {raw.dest: _url_file(root, raw.url) for raw in RAW_FILES}
    for path in target.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    for dest, source in COPIES.items():
        target[dest].write_bytes(source.read_bytes())
    classic = pd.read_csv(OXCGRT, dtype={"RegionCode": str, "RegionName": str})
    indices = pd.read_csv(INDICES, dtype=str, keep_default_na=False)
    _write_v1_files(classic, indices, target)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(MirrorHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _leftovers(dest: Path) -> list[Path]:
    return [path for path in dest.rglob("*") if path.name.startswith(".fetch-")]


def test_raw_files_point_at_official_hosts():
    hosts = {urlsplit(raw.url).netloc for raw in RAW_FILES}
    assert hosts == {"raw.githubusercontent.com", "www.gstatic.com", "ourworldindata.org"}
    assert all(raw.url.startswith("https://") for raw in RAW_FILES)
    assert len({raw.dest for raw in RAW_FILES}) == len(RAW_FILES)


@pytest.mark.slow
def test_fetch_main_from_mirror_installs_valid_files(mirror, tmp_path, capsys):
    _, base_url = mirror
    dest = tmp_path / "raw"
    paths = fetch_main(dest, base_url=base_url)
    assert sorted(paths) == sorted(dest / raw.dest for raw in RAW_FILES)
    for raw in RAW_FILES:
        assert detect_layout(dest / raw.dest).kind == raw.kind
    report = capsys.readouterr().out.splitlines()
    assert len(report) == len(RAW_FILES)
    assert all("sha256:" in line and "bytes" in line for line in report)
    assert not _leftovers(dest)
    fetched, shipped = load_observed(dest, regions="all"), load_observed(regions="all")
    for field in ("policy", "mobility", "context"):
        pd.testing.assert_frame_equal(getattr(fetched, field), getattr(shipped, field), rtol=1e-5)


def test_fetch_404_is_a_clear_error_and_leaves_nothing(mirror, tmp_path):
    _, base_url = mirror
    missing = RawFile(f"{GITHUB}/OxCGRT/nowhere/main/missing.csv", "policy/missing.csv", "policy")
    with pytest.raises(
        FetchError, match=r"missing\.csv: .*/OxCGRT/nowhere/main/missing\.csv: HTTP 404"
    ):
        fetch(tmp_path, base_urls=base_url, files=[missing])
    assert not (tmp_path / "policy" / "missing.csv").exists()
    assert not _leftovers(tmp_path)


def test_truncated_download_is_rejected(mirror, tmp_path, monkeypatch):
    _, base_url = mirror
    raw = next(raw for raw in RAW_FILES if raw.dest == "epi/us-states.csv")
    monkeypatch.setattr(MirrorHandler, "short", {urlsplit(raw.url).path})
    with pytest.raises(
        FetchError, match=r"us-states\.csv: .* truncated download: received [\d,]+ of [\d,]+ bytes"
    ) as info:
        fetch(tmp_path, base_urls=base_url, files=[raw])
    assert len(info.value.failures) == 1
    assert not (tmp_path / raw.dest).exists()
    assert not _leftovers(tmp_path)


def test_a_download_cut_in_transit_is_tried_again(mirror, tmp_path, monkeypatch):
    root, base_url = mirror
    raw = next(raw for raw in RAW_FILES if raw.dest == "epi/us.csv")
    path = urlsplit(raw.url).path
    monkeypatch.setattr(MirrorHandler, "flaky", {path: 1})
    monkeypatch.setattr(MirrorHandler, "requested", [])
    [fetched] = fetch(tmp_path, base_urls=base_url, files=[raw])
    assert MirrorHandler.requested == [path, path]
    assert fetched.path.read_bytes() == _url_file(root, raw.url).read_bytes()
    assert fetched.size == fetched.path.stat().st_size and len(fetched.sha256) == 64
    assert not _leftovers(tmp_path)


def test_a_refused_request_is_not_tried_again(mirror, tmp_path, monkeypatch):
    _, base_url = mirror
    missing = RawFile(f"{GITHUB}/OxCGRT/nowhere/main/missing.csv", "policy/missing.csv", "policy")
    monkeypatch.setattr(MirrorHandler, "requested", [])
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(tmp_path, base_urls=base_url, files=[missing])
    assert MirrorHandler.requested == ["/OxCGRT/nowhere/main/missing.csv"]


def test_an_unreachable_mirror_is_one_line_naming_the_cause(tmp_path):
    raw = next(raw for raw in RAW_FILES if raw.dest == "epi/us.csv")
    with pytest.raises(FetchError) as raised:
        fetch(tmp_path, base_urls="http://127.0.0.1:9", files=[raw], timeout=5)
    assert str(raised.value).startswith("1 file failed: us.csv: http://127.0.0.1:9/nytimes/")
    assert "cannot connect (" in str(raised.value) and "\n" not in str(raised.value)
    assert not list(tmp_path.rglob("*.csv")) and not _leftovers(tmp_path)


def test_file_cut_mid_row_is_rejected(mirror, tmp_path):
    root, base_url = mirror
    content = NYT_STATES.read_bytes()
    cut = _url_file(root, f"{GITHUB}/cut/us-states.csv")
    cut.parent.mkdir(parents=True, exist_ok=True)
    cut.write_bytes(content[: len(content) // 2 + 7])
    raw = RawFile(f"{GITHUB}/cut/us-states.csv", "epi/us-states.csv", "cases")
    with pytest.raises(FetchError, match="invalid content: .*truncated file"):
        fetch(tmp_path, base_urls=base_url, files=[raw])
    assert not (tmp_path / raw.dest).exists()
    assert not _leftovers(tmp_path)


def test_wrong_layout_is_rejected_and_previous_file_kept(mirror, tmp_path):
    _, base_url = mirror
    good = next(raw for raw in RAW_FILES if raw.dest == "epi/us.csv")
    fetch(tmp_path, base_urls=base_url, files=[good])
    before = (tmp_path / good.dest).read_bytes()
    wrong = RawFile(
        next(raw.url for raw in RAW_FILES if raw.kind == "temperature"), good.dest, "cases"
    )
    with pytest.raises(FetchError, match="expected a cases file, got a temperature file"):
        fetch(tmp_path, base_urls=base_url, files=[wrong])
    assert (tmp_path / good.dest).read_bytes() == before
    assert not _leftovers(tmp_path)


def test_optional_failure_is_reported_not_raised(mirror, tmp_path):
    root, base_url = mirror
    host = {"https://raw.githubusercontent.com": base_url}
    optional = RawFile(
        f"{GITHUB}/OxCGRT/nowhere/OxCGRT_US_latest.csv", "policy/us.csv", "policy", required=False
    )
    good = next(raw for raw in RAW_FILES if raw.dest == "epi/us.csv")
    lines = []
    fetched = fetch(tmp_path, base_urls=host, files=[optional, good], report=lines.append)
    assert [item.path for item in fetched] == [tmp_path / good.dest]
    assert (
        fetched[0].sha256
        and fetched[0].size == (root / "nytimes/covid-19-data/master/us.csv").stat().st_size
    )
    assert lines[0].startswith("skipped (optional) us.csv") and "HTTP 404" in lines[0]


@pytest.mark.slow
def test_import_local_copies_recognised_files(tmp_path, capsys):
    dest = tmp_path / "copy"
    paths = fetch_main(dest, source_dir=SHARED)
    assert len(paths) == LOCAL_FILES
    assert (dest / OXCGRT.relative_to(SHARED)).read_bytes() == OXCGRT.read_bytes()
    assert not (dest / "persona").exists()
    assert len(capsys.readouterr().out.splitlines()) == LOCAL_FILES
    with pytest.raises(ValueError, match="same folder"):
        import_local(dest, dest)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FetchError, match="no raw data file of a known layout"):
        import_local(tmp_path / "empty", tmp_path / "elsewhere")


@pytest.mark.slow
def test_data_fetch_command_from_a_mirror(mirror, tmp_path, capsys):
    from socialtwin.main import main

    _, base_url = mirror
    dest = tmp_path / "raw"
    assert main(["data", "fetch", "--dest", str(dest), "--base-url", base_url]) == 0
    out = capsys.readouterr().out
    assert f"{len(RAW_FILES)} files in {dest}" in out and "--data-dir" in out
    assert all((dest / raw.dest).is_file() for raw in RAW_FILES)


@pytest.mark.slow
def test_data_fetch_command_imports_a_local_copy(tmp_path, capsys):
    from socialtwin.main import main

    assert main(["data", "fetch", "--dest", str(tmp_path / "copy"), "--from", str(SHARED)]) == 0
    assert f"{LOCAL_FILES} files in" in capsys.readouterr().out
    assert main(["data", "fetch", "--dest", str(tmp_path / "x"), "--from",
                 str(tmp_path / "nothing")]) == 2
    assert "error:" in capsys.readouterr().err


def test_a_destination_that_is_a_file_or_the_source_is_refused(tmp_path):
    from simulator.errors import UsageError

    taken = tmp_path / "notes.txt"
    taken.write_text("mine\n")
    for source in (None, tmp_path):
        with pytest.raises(UsageError, match=r"--dest: .*notes.txt is a file \(allowed: a "
                                             r"folder"):
            fetch_main(taken, source_dir=source)
    for dest in (tmp_path, tmp_path / "inside"):
        with pytest.raises(UsageError, match="same folder or one holds the other"):
            import_local(tmp_path, dest)
    assert taken.read_text() == "mine\n" and not (tmp_path / "inside").exists()


def test_an_import_with_a_value_out_of_its_domain_copies_nothing(tmp_path, capsys):
    source = tmp_path / "raw"
    source.mkdir()
    (source / "us.csv").write_text("date,cases,deaths\n2020-03-01,1,0\n")
    (source / "OxCGRT_latest.csv").write_text(
        "CountryName,CountryCode,Jurisdiction,Date,C6_Stay at home requirements\n"
        "Aland,ALA,NAT_TOTAL,20200101,0\nAland,ALA,NAT_TOTAL,20200102,inf\n")
    with pytest.raises(FetchError) as error:
        fetch_main(tmp_path / "dest", source_dir=source)
    assert str(error.value) == (
        f"1 file failed: {source / 'OxCGRT_latest.csv'}: invalid content: column 'C6_Stay at "
        "home requirements', region ALA, 2020-01-02: inf is not a finite number (allowed: a "
        "number from 0 to 3)")
    assert not (tmp_path / "dest").exists()
    assert capsys.readouterr().out.startswith("FAILED ")
