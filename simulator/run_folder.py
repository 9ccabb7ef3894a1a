"""Where results go: an output location checked before any work, and a re-used folder replaced.

A run or sweep folder is written in full by one run. The command line refuses a folder that
holds an earlier run (its ``manifest.json``) unless ``--overwrite`` is given; writing then first
removes the files that earlier run's manifest lists, so no file of it survives next to the new
ones. Files a user put in the folder themselves are left alone.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from simulator.errors import UsageError

MANIFEST = "manifest.json"


def check_folder(out: str | Path, overwrite: bool = False, option: str = "--out") -> Path:
    """Check, before any work, that results can be written to the folder ``out``.

    Nothing is left behind: folders made to test the location are removed again.

    Args:
        out: the folder (made when the results are written).
        overwrite: an earlier run in the folder may be replaced.
        option: the command-line option or field that named it, for the message.

    Raises:
        UsageError: ``out`` is a file, holds an earlier run and ``overwrite`` is false, or
            cannot be written to.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{option} {out}: is a file (allowed: a folder, new or empty, or one "
                         "holding an earlier run with --overwrite)")
    if (out / MANIFEST).exists() and not overwrite:
        raise UsageError(f"{option} {out}: holds an earlier run ({MANIFEST}); pass --overwrite "
                         "to replace it (the files it wrote are removed first), or choose "
                         "another folder")
    _check_writable(out, option)
    return out


def check_file(path: str | Path, option: str = "--out") -> Path:
    """Check, before any work, that a file can be written at ``path`` (not a folder)."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a folder (allowed: a file name)")
    _check_writable(path.parent, option)
    return path


def _check_writable(folder: Path, option: str) -> None:
    """Make ``folder`` and a file in it, then remove what was made; raise if that fails."""
    missing = folder
    while not missing.parent.exists() and missing.parent != missing:
        missing = missing.parent
    made = missing if not missing.exists() else None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise UsageError(f"{option} {folder}: cannot write there "
                         f"({error.strerror or error})") from None
    finally:
        if made is not None and made.is_dir():
            shutil.rmtree(made, ignore_errors=True)


def clear_earlier_run(out: Path) -> list[Path]:
    """Remove the files an earlier run wrote in ``out`` (as its manifest lists them).

    Returns:
        The files removed.
    """
    manifest = out / MANIFEST
    if not manifest.is_file():
        return []
    try:
        listed = json.loads(manifest.read_text()).get("files", [])
    except (OSError, ValueError, AttributeError):
        listed = []
    root = out.resolve()
    removed = []
    for name in [*(str(n) for n in listed if isinstance(n, str)), MANIFEST]:
        path = (out / name).resolve()
        if path.is_relative_to(root) and path.is_file():
            path.unlink()
            removed.append(path)
    return removed
