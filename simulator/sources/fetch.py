"""Download the raw observed-data files from their official public locations, or import a copy.

Every file is downloaded by pooch (streamed to a temporary file and renamed only once complete;
a failure in transit is tried again) into a hidden staging folder next to its destination,
checked (of the expected layout, readable by its loader) and only then moved into place with an
atomic rename, so an interrupted or bad download never leaves a partial file behind.
``fetch_main`` is what ``socialtwin data fetch [--dest DIR] [--from DIR] [--base-url URL]`` calls.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import pooch
import requests
from urllib3.exceptions import IncompleteRead

from simulator.errors import SocialTwinError, UsageError
from simulator.sources.layouts import detect_layout, find_raw_files
from simulator.sources.reading import DatasetError

_GITHUB = "https://raw.githubusercontent.com"
_OXCGRT = f"{_GITHUB}/OxCGRT"
_OWID_VACCINATIONS = f"{_GITHUB}/owid/covid-19-data/master/public/data/vaccinations"
_CHUNK = 1 << 20
_RETRIES = 2
"""Further attempts after a download fails in transit (pooch waits 1 s, then 2 s)."""

# pooch logs every download on stderr; the fetch reports one line per file itself.
pooch.get_logger().setLevel("WARNING")


@dataclass(frozen=True)
class RawFile:
    """One upstream file and where it goes in the destination folder.

    Attributes:
        url: official public location.
        dest: path relative to the destination folder.
        kind: the layout kind the file must have (see :data:`simulator.sources.layouts.LAYOUTS`).
        required: a failure of an optional file is reported but does not fail the fetch.

    """

    url: str
    dest: str
    kind: str
    required: bool = True


RAW_FILES: tuple[RawFile, ...] = (
    RawFile(f"{_OXCGRT}/covid-policy-tracker-legacy/main/legacy_data_202207/OxCGRT_latest.csv",
            "policy/OxCGRT_latest.csv", "policy"),
    # The USA-covid-policy repository holds state data as coded by the states themselves
    # (STATE_WIDE); the legacy file above already has the comparable STATE_TOTAL rows.
    RawFile(f"{_OXCGRT}/USA-covid-policy/master/data/OxCGRT_US_latest.csv",
            "policy/usa/OxCGRT_US_latest.csv", "policy", required=False),
    *(RawFile(f"{_OXCGRT}/covid-policy-dataset/main/data/OxCGRT_compact_{level}_v1.csv",
              f"policy/v1/OxCGRT_compact_{level}_v1.csv", "policy")
      for level in ("national", "subnational")),
    *(RawFile(f"{_OXCGRT}/covid-policy-dataset/main/data/timeseries_indices/"
              f"OxCGRT_timeseries_{index}_v1.csv",
              f"policy/v1/OxCGRT_timeseries_{index}_v1.csv", "policy_indices")
      for index in ("StringencyIndex", "GovernmentResponseIndex", "ContainmentHealthIndex",
                    "EconomicSupportIndex")),
    RawFile("https://www.gstatic.com/covid19/mobility/Global_Mobility_Report.csv",
            "mobility/Global_Mobility_Report.csv", "mobility"),
    *(RawFile(f"{_GITHUB}/OpportunityInsights/EconomicTracker/main/data/"
              f"Google%20Mobility%20-%20{level}%20-%20Daily.csv",
              f"mobility/Google Mobility - {level} - Daily.csv", "mobility")
      for level in ("National", "State")),
    # Our World in Data's grapher export of Google's reports: every country, into 2022 (Google's
    # own file above is large and a copy may stop earlier).
    RawFile("https://ourworldindata.org/grapher/changes-visitors-covid.csv",
            "mobility/changes-visitors-covid.csv", "mobility"),
    RawFile(f"{_GITHUB}/nytimes/covid-19-data/master/us-states.csv", "epi/us-states.csv", "cases"),
    RawFile(f"{_GITHUB}/nytimes/covid-19-data/master/us.csv", "epi/us.csv", "cases"),
    RawFile(f"{_OWID_VACCINATIONS}/us_state_vaccinations.csv", "epi/us_state_vaccinations.csv",
            "vaccinations"),
    *(RawFile(f"{_OXCGRT}/covid-policy-tracker-legacy/main/legacy_data_202207/timeseries/"
              f"confirmed_{measure}.csv", f"epi/confirmed_{measure}.csv", "cases")
      for measure in ("cases", "deaths")),
    RawFile(f"{_OWID_VACCINATIONS}/vaccinations.csv", "epi/vaccinations.csv", "vaccinations"),
    RawFile(f"{_GITHUB}/JieYingWu/COVID-19_US_County-level_Summaries/master/data/states_only.csv",
            "population/states_only.csv", "temperature"),
)
"""The files ``socialtwin data fetch`` downloads (sources and licences: ``data/SOURCES.md``).

CRU CY temperatures are not among them: CRU publishes one fixed-width text file per country;
stack them into one CSV (``country``, ``YEAR``, ``JAN`` .. ``DEC``) for ``--data-dir``."""


class FetchError(SocialTwinError, RuntimeError):
    """One or more raw files could not be downloaded, copied or validated.

    Attributes:
        failures: one message per file that failed.
        fetched: the files that were installed before the error was raised.

    """

    def __init__(self, message: str, failures: Sequence[str] = (), fetched: Sequence[Fetched] = ()):
        super().__init__(message)
        self.failures = list(failures)
        self.fetched = list(fetched)


@dataclass(frozen=True)
class Fetched:
    """A raw file installed in the destination folder.

    Attributes:
        path: where it is.
        source: the URL or local path it came from.
        size: bytes.
        sha256: hex digest of the content.
        layout: the layout the loaders recognised.

    """

    path: Path
    source: str
    size: int
    sha256: str
    layout: str

    def describe(self) -> str:
        """One report line: path, size, checksum, layout."""
        return f"{self.path}  {self.size:,} bytes  sha256:{self.sha256}  ({self.layout})"


def _resolve(url: str, base_urls: str | Mapping[str, str] | None) -> str:
    """Swap the scheme and host of ``url`` for a mirror, keeping the path."""
    if base_urls is None:
        return url
    parts = urlsplit(url)
    if isinstance(base_urls, str):
        return base_urls.rstrip("/") + parts.path
    origin = f"{parts.scheme}://{parts.netloc}"
    return base_urls[origin].rstrip("/") + parts.path if origin in base_urls else url


def _download(url: str, target: Path, timeout: float) -> None:
    """Download ``url`` into ``target`` with pooch; a refused request (4xx) is not tried again."""
    http = pooch.HTTPDownloader(timeout=timeout, chunk_size=_CHUNK,
                                headers={"User-Agent": "socialtwin-data-fetch"})

    def download(url: str, output: str, store: pooch.Pooch) -> None:
        try:
            http(url, output, store)
        except requests.HTTPError as exc:
            status = exc.response.status_code
            if status < 500 and status not in (408, 429):
                raise _transfer_error(url, exc) from exc  # not an error pooch tries again
            raise

    store = pooch.create(target.parent, base_url="", registry={target.name: None},
                         urls={target.name: url}, retry_if_failed=_RETRIES)
    try:
        store.fetch(target.name, downloader=download)
    except OSError as exc:  # requests' errors among them
        raise _transfer_error(url, exc) from exc


def _transfer_error(url: str, error: OSError) -> FetchError:
    """One line for a failed download: its HTTP status, its truncation or its root cause."""
    if isinstance(error, requests.HTTPError):
        return FetchError(f"{url}: HTTP {error.response.status_code} {error.response.reason}")
    causes = [error]
    while (cause := causes[-1].__cause__ or causes[-1].__context__) is not None:
        causes.append(cause)
    cut = next((cause for cause in causes if isinstance(cause, IncompleteRead)), None)
    if cut is not None:
        return FetchError(f"{url}: truncated download: received {cut.partial:,} of "
                          f"{cut.partial + cut.expected:,} bytes")
    if isinstance(error, requests.ConnectionError):
        return FetchError(f"{url}: cannot connect ({causes[-1]})")
    return FetchError(f"{url}: download failed ({causes[-1]})")


def _validated(path: Path, kind: str, source: str) -> str:
    """The layout of a file of the expected ``kind`` that its loader reads without error.

    Raises:
        FetchError: the file is of another layout, or its content is invalid (a value outside
            its column's domain among them).
    """
    layout = detect_layout(path)
    if layout is None or layout.kind != kind:
        found = "an unknown layout" if layout is None else f"a {layout.kind} file"
        raise FetchError(f"{source}: expected a {kind} file, got {found}")
    try:
        layout.loader(path)
    except DatasetError as exc:
        problem = str(exc).removeprefix(f"{path}: ")
        raise FetchError(f"{source}: invalid content: {problem}") from exc
    return layout.name


def _install(target: Path, kind: str, source: str, produce: Callable[[Path], None],
             layout: str | None = None) -> Fetched:
    """Produce a file in a staging folder, validate it, then atomically move it to ``target``.

    ``layout``: the file was validated where it came from (a byte-identical local copy).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=target.parent))
    try:
        partial = staging / target.name
        produce(partial)
        layout = layout or _validated(partial, kind, source)
        fetched = Fetched(target, source, partial.stat().st_size, pooch.file_hash(partial),
                          layout)
        os.replace(partial, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return fetched


def _failed(failures: Sequence[str], fetched: Sequence[Fetched] = ()) -> FetchError:
    """One error line for the files that failed (each is also reported on its own line)."""
    if len(failures) == 1:
        return FetchError(f"1 file failed: {failures[0]}", failures, fetched)
    return FetchError(f"{len(failures)} files failed (each is listed above); the first: "
                      f"{failures[0]}", failures, fetched)


def _run(
    jobs: Sequence[tuple[Path, str, str, bool, Callable[[Path], None]]],
    report: Callable[[str], None] | None,
    layouts: Mapping[str, str] | None = None,
) -> list[Fetched]:
    fetched: list[Fetched] = []
    failures: list[str] = []
    for target, kind, source, required, produce in jobs:
        try:
            fetched.append(_install(target, kind, source, produce,
                                    (layouts or {}).get(source)))
        except FetchError as exc:
            message = f"{target.name}: {exc}"
            if required:
                failures.append(message)
            if report:
                report(("FAILED " if required else "skipped (optional) ") + message)
            continue
        if report:
            report(fetched[-1].describe())
    if failures:
        raise _failed(failures, fetched)
    return fetched


def fetch(
    dest_dir: str | Path,
    base_urls: str | Mapping[str, str] | None = None,
    files: Sequence[RawFile] = RAW_FILES,
    timeout: float = 120.0,
    report: Callable[[str], None] | None = None,
) -> list[Fetched]:
    """Download ``files`` into ``dest_dir`` and validate each with its loader.

    Args:
        dest_dir: destination folder (created if needed); files land at ``RawFile.dest``.
        base_urls: a mirror: a URL replacing the scheme and host of every file (the path is kept),
            or a mapping from an official origin (``https://raw.githubusercontent.com``) to its
            replacement.
        files: which files; default :data:`RAW_FILES`.
        timeout: seconds without data before a download attempt is abandoned (a download
            that fails in transit is tried twice more, a request the server refuses is not).
        report: called with one line per file (size and SHA-256, or the failure).

    Returns:
        The installed files.

    Raises:
        FetchError: after trying every file, if any required one failed (HTTP error, truncated
            download, wrong or invalid content); nothing partial is left in ``dest_dir``.

    """
    dest_dir = Path(dest_dir)
    jobs = []
    for raw in files:
        url = _resolve(raw.url, base_urls)

        def produce(target: Path, url: str = url) -> None:
            _download(url, target, timeout)

        jobs.append((dest_dir / raw.dest, raw.kind, url, raw.required, produce))
    return _run(jobs, report)


def import_local(
    src_dir: str | Path, dest_dir: str | Path, report: Callable[[str], None] | None = None
) -> list[Fetched]:
    """Copy every raw file of a recognised layout from ``src_dir`` to ``dest_dir``, validating each.

    Args:
        src_dir: a local copy of the raw files (e.g. ``../shared/data`` or another fetch folder).
        dest_dir: destination; files keep their path relative to ``src_dir``.
        report: called with one line per file.

    Returns:
        The installed files.

    Raises:
        FetchError: ``src_dir`` holds no recognised file, or a file failed validation; every
            file is validated where it is before any is copied, so a failure copies nothing.
        UsageError: ``src_dir`` and ``dest_dir`` are the same folder, or one holds the other.

    """
    src_dir, dest_dir = Path(src_dir), check_dest(dest_dir)
    inside = src_dir.resolve() in (dest_dir.resolve(), *dest_dir.resolve().parents)
    if inside or dest_dir.resolve() in src_dir.resolve().parents:
        raise UsageError(f"--dest: {dest_dir} and --from {src_dir} are the same folder or one "
                         "holds the other (allowed: a destination outside the source)")
    try:
        found = find_raw_files(src_dir)
    except DatasetError as exc:
        raise FetchError(str(exc)) from exc
    sources = [(path, kind) for kind, paths in found.items() for path in paths]
    if not sources:
        raise FetchError(f"{src_dir}: no raw data file of a known layout")
    layouts, failures = {}, []
    for path, kind in sources:
        try:
            layouts[str(path)] = _validated(path, kind, str(path))
        except FetchError as exc:
            failures.append(str(exc))
            if report:
                report(f"FAILED {exc}")
    if failures:
        raise _failed(failures)
    jobs = [(dest_dir / path.relative_to(src_dir), kind, str(path), True,
             partial(shutil.copyfile, path)) for path, kind in sources]
    return _run(jobs, report, layouts)


def check_dest(dest: str | Path) -> Path:
    """The destination folder of a fetch, if it is a folder or does not exist yet.

    Raises:
        UsageError: ``dest`` is an existing file.
    """
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"--dest: {dest} is a file (allowed: a folder, new or holding raw "
                         "files)")
    return dest


def fetch_main(
    dest: str | Path, source_dir: str | Path | None = None, base_url: str | None = None
) -> list[Path]:
    """Entry point of ``socialtwin data fetch``: download (or import) and print a report.

    Args:
        dest: destination folder.
        source_dir: import from this local folder instead of downloading.
        base_url: download from this mirror instead of the official hosts.

    Returns:
        Paths of the installed files.

    Raises:
        FetchError: a required file failed (each is reported; the message names the first).
        UsageError: ``dest`` is a file, or ``source_dir`` is ``dest`` or holds it.

    """
    if source_dir is not None:
        fetched = import_local(source_dir, dest, report=print)
    else:
        fetched = fetch(check_dest(dest), base_urls=base_url, report=print)
    return [item.path for item in fetched]
