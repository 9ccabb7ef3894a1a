"""What a folder holds: the files an earlier run of socialtwin wrote, and everything else.

An earlier run's file is one its manifest lists, with the format marker :data:`FORMAT`, under
the sha256 it still has, as a regular file below real folders of the folder: a symbolic link is
never one, and a file changed since is the user's. A manifest without the marker, with a
``versions`` entry and a list of ``files``, is an older socialtwin's: it has no checksums, so we
trust it only for the files it lists that still exist as regular files under a name socialtwin
wrote (:data:`LEGACY_NAMES`); a hand-written list of other files never gets them removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

FORMAT = "socialtwin.run-folder/1"
MANIFEST = "manifest.json"
LEGACY_NAMES = (
    "trajectories.csv", "trajectories.parquet", "decisions.csv", "timeline.csv",
    "archetypes.csv", "population_summary.csv", "persona_answers.csv", "probe_card.csv",
    "calibration.csv", "calibration_table.csv", "calibrator.json", "report.md", "results.csv",
    "results.parquet", "calibrated.csv", "summary.csv", "overall.csv", "checks.csv",
    "timelines.csv", "runs.csv", "evaluation.csv", "plots/*.png")
"""The files run and sweep folders held before manifests carried the format marker."""

@dataclass(frozen=True)
class Survey:
    """What a folder holds before a command writes into it.

    Attributes:
        manifest: the manifest of the earlier run of this tool in it (``None``: none).
        ours: the files that run wrote and nobody changed since: name -> sha256.
        others: every other file or symbolic link (relative names): the user's.
    """

    manifest: dict | None = None
    ours: dict[str, str] = field(default_factory=dict)
    others: tuple[str, ...] = ()


def survey(folder: str | Path) -> Survey:
    """Tell the files an earlier run of this tool wrote in ``folder`` from everything else."""
    folder = Path(folder)
    if not folder.is_dir():
        return Survey()
    found = entries(folder)
    manifest, listed = earlier_run(folder)
    ours = {}
    for name, digest in listed.items():
        if name in found and name != MANIFEST and plain_file(folder, name):
            actual = sha256(folder / name)
            if digest in (None, actual):
                ours[name] = actual
    mine = set(ours) | ({MANIFEST} if manifest is not None else set())
    return Survey(manifest, ours, tuple(sorted(found - mine)))


def earlier_run(folder: str | Path) -> tuple[dict | None, dict[str, str | None]]:
    """The manifest of an earlier run of this tool in ``folder`` and the files it lists.

    Returns:
        The manifest (``None`` when there is none or another application's) and its files:
        name -> sha256, or ``None`` for an older socialtwin's manifest (no checksums).
    """
    folder = Path(folder)
    if not plain_file(folder, MANIFEST):
        return None, {}
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return None, {}
    if not isinstance(manifest, dict):
        return None, {}
    files = manifest.get("files")
    if manifest.get("format") == FORMAT:
        if isinstance(files, dict) and all(isinstance(k, str) and isinstance(v, str)
                                           for k, v in files.items()):
            return manifest, dict(files)
    elif "format" not in manifest and isinstance(manifest.get("versions"), dict) and \
            isinstance(files, list):
        return manifest, {name: None for name in files if isinstance(name, str)
                          and any(fnmatchcase(name, known) for known in LEGACY_NAMES)}
    return None, {}


def sha256(path: Path) -> str:
    """The sha256 of a file's bytes, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def entries(folder: Path) -> set[str]:
    """Every file and symbolic link below ``folder`` (relative names); links are not entered."""
    found = set()
    for root, folders, files in os.walk(folder):
        base = PurePosixPath(Path(root).relative_to(folder).as_posix())
        links = [name for name in folders if os.path.islink(os.path.join(root, name))]
        found.update(str(base / name) for name in [*files, *links])
    return found


def plain_file(folder: Path, name: str) -> bool:
    """Whether ``name`` is a regular file below real folders of ``folder`` (no link on the way)."""
    parts = PurePosixPath(name).parts
    if not parts or PurePosixPath(name).is_absolute() or ".." in parts:
        return False
    path = folder
    for part in parts[:-1]:
        path = path / part
        if not stat.S_ISDIR(_mode(path)):
            return False
    return stat.S_ISREG(_mode(folder / name))


def _mode(path: Path) -> int:
    try:
        return path.lstat().st_mode
    except OSError:
        return 0
