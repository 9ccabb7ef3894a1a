"""Where results go: a folder claimed before any work, locked, staged and published whole.

Every command that writes a folder (``run``, ``sweep``, ``evaluate --out``, ``calibrate`` and
``plot``) goes through :class:`RunFolder`:

1. Claim, before any work. A folder that is neither new, empty nor an earlier run of this tool
   is refused without ``--overwrite``. With it (and when a command updates a run, as
   ``calibrate`` and ``plot`` do), every file that is not one an earlier run wrote is kept, and
   the command is refused, naming them, when such a file has the name of one it writes (the
   ``manifest.json`` of another application too).
2. Lock: the staging folder ``.<name>.socialtwin-staging`` beside the folder is made and locked
   (``flock``, released by the system when a process dies) while the command runs; a second
   command on the same folder is refused.
3. Stage: the command writes its files into the staging folder.
4. Publish: the new manifest (the format marker, and each file with its sha256) is written to
   the staging folder as a journal, the files are renamed into the folder, the earlier run's
   files the new one does not replace are removed, and the manifest is renamed in last. A command
   killed while writing leaves only the staging folder, which the next claim empties; one killed
   while publishing leaves the journal, and the next claim finishes the publication first. A
   reader thus finds the earlier run or the new one, whole.

What an earlier run wrote, and what is the user's, is told by :mod:`simulator.folder_contents`:
nothing is ever removed or written through a symbolic link.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from simulator.errors import UsageError
from simulator.folder_contents import FORMAT, MANIFEST, Survey, entries, plain_file, sha256, survey

_STAGING = ".socialtwin-staging"
_JOURNAL = "publishing.json"


def out_option(value: str | None, option: str = "--out") -> str | None:
    """``value`` of an output option, refused when given but empty (``--out ""``)."""
    if value is not None and not value.strip():
        raise UsageError(f"{option}: empty (allowed: a path; leave {option} out for the "
                         "default)")
    return value


class RunFolder:
    """A folder claimed for one command's files: checked, locked, staged, then published whole.

    Use it as a context manager around all of the command's work: entering claims the folder
    (or raises :class:`UsageError`, having changed nothing), the command writes its files into
    :attr:`stage` and calls :meth:`publish`; leaving releases the lock and drops what was not
    published.

    Args:
        path: the folder (made when the files are published).
        writes: the names the command may write (``fnmatch`` patterns such as ``plots/*.png``),
            checked against the user's files before any work.
        overwrite: an earlier run may be replaced and the folder may hold other files.
        option: the command-line option or field that named the folder, for messages.
        update: add files to the earlier run in the folder (which must hold one) and keep the
            rest of it, instead of replacing it.

    Attributes:
        given: the folder as it was named; ``path`` is the absolute one written (a link named
            is resolved, so that the staging folder is on the same file system).
        earlier: what the folder held when it was claimed.
    """

    def __init__(self, path: str | Path, writes: Iterable[str] = (), overwrite: bool = False,
                 option: str = "--out", update: bool = False) -> None:
        self.given = Path(path)
        self.path = Path(os.path.abspath(path))
        self.writes = tuple(writes)
        self.overwrite = overwrite
        self.option = option
        self.update = update
        self.earlier = Survey()
        self._lock: int | None = None
        self._made: Path | None = None

    @property
    def stage(self) -> Path:
        """The staging folder, beside the folder: files are written here, then published."""
        return self.path.parent / f".{self.path.name}{_STAGING}"

    def __enter__(self) -> RunFolder:
        return self.claim()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def claim(self) -> RunFolder:
        """Check the folder, lock it and finish an interrupted publication in it.

        Raises:
            UsageError: the folder is a file, another command holds it, or writing there would
                lose a file of the user's or an earlier run without ``overwrite``.
        """
        if self.path.is_symlink():  # a link the user named: the folder it points to
            self.path = self.path.resolve()
        if self.path.exists() and not self.path.is_dir():
            raise self._error("is a file (allowed: a folder, new or empty, or one holding an "
                              "earlier run with --overwrite)")
        try:
            self._lock_stage()
            self._recover()
            self.earlier = survey(self.path)
            self._check(self.earlier)
            if self.path.is_dir():
                _check_writable(self.path, f"{self.option} {self.given}")
        except BaseException:
            self.release()
            raise
        return self

    def publish(self, manifest: Mapping[str, Any] | None = None) -> dict:
        """Publish the staged files with a manifest listing each with its sha256.

        Args:
            manifest: the manifest's entries (its ``files`` and ``format`` are set here); by
                default, when updating, the earlier run's.

        Returns:
            The manifest written.
        """
        staged = sorted(entries(self.stage) - {MANIFEST, _JOURNAL})
        now = survey(self.path)
        if self.update and now.manifest is None:
            raise self._error(f"its {MANIFEST} was removed or changed while this command ran")
        clashes = _clashes(now.others, staged, self.path)
        if clashes:
            raise self._error(_clash_message(clashes))
        files = {**(now.ours if self.update else {}),
                 **{name: sha256(self.stage / name) for name in staged}}
        given = manifest if manifest is not None else now.manifest
        written = {"format": FORMAT, **{k: v for k, v in given.items() if k not in ("format",
                                                                                 "files")},
                   "files": dict(sorted(files.items()))}
        part = self.stage / f"{_JOURNAL}.part"
        with open(part, "w") as file:
            file.write(json.dumps(written, indent=2))
            file.flush()
            os.fsync(file.fileno())
        os.replace(part, self.stage / _JOURNAL)
        _publish(self.stage, self.path, written)
        return written

    def release(self) -> None:
        """Unlock; drop the staging folder unless a publication in it is unfinished."""
        if self._lock is not None:
            if not (self.stage / _JOURNAL).exists():
                shutil.rmtree(self.stage, ignore_errors=True)
            os.close(self._lock)
            self._lock = None
        if self._made is not None:
            folder = self.path.parent
            while folder.is_relative_to(self._made):
                try:
                    folder.rmdir()
                except OSError:
                    break
                folder = folder.parent
            self._made = None

    def _lock_stage(self) -> None:
        self._made = _make_parents(self.path.parent, f"{self.option} {self.given}")
        for _ in range(3):
            try:
                self.stage.mkdir(exist_ok=True)
                handle = os.open(self.stage, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
            except OSError as error:
                raise self._error(f"cannot write there ({self.stage}: "
                                  f"{error.strerror or error})") from None
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(handle)
                break
            # The holder removes its staging folder as it ends: lock the folder there now.
            if os.path.isdir(self.stage) and os.stat(self.stage).st_ino == os.fstat(handle).st_ino:
                self._lock = handle
                return
            os.close(handle)
        raise self._error(f"another socialtwin command is writing it (it holds {self.stage}); "
                          "wait until it ends, or choose another folder")

    def _recover(self) -> None:
        """Finish a publication a killed command left, then empty the staging folder."""
        journal = self.stage / _JOURNAL
        if journal.is_file():
            try:
                _publish(self.stage, self.path, json.loads(journal.read_text()))
            except OSError as error:
                raise self._error(f"a publication stopped in {self.stage} cannot be finished "
                                  f"({error.strerror or error})") from None
        for child in self.stage.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()

    def _check(self, earlier: Survey) -> None:
        if self.update and earlier.manifest is None:
            raise self._error(f"holds no run of socialtwin (no {MANIFEST} written by it; "
                              "allowed: a run or sweep folder)")
        if not (self.update or self.overwrite):
            if earlier.manifest is not None:
                raise self._error(f"holds an earlier run ({MANIFEST}); pass --overwrite to "
                                  "replace it (only the files it wrote are removed), or choose "
                                  "another folder")
            if earlier.others:
                raise self._error(f"holds files that are not a socialtwin run "
                                  f"({_some(earlier.others)}); choose a new or empty folder, or "
                                  "pass --overwrite to write beside them (they are kept)")
        clashes = _clashes(earlier.others, self.writes, self.path)
        if clashes:
            raise self._error(_clash_message(clashes))

    def _error(self, problem: str) -> UsageError:
        return UsageError(f"{self.option} {self.given}: {problem}")


@contextmanager
def claimed(target: str | Path | RunFolder, writes: Iterable[str],
            overwrite: bool = False) -> Iterator[RunFolder]:
    """``target`` itself when a command claimed it already, else a claim of that folder."""
    if isinstance(target, RunFolder):
        yield target
        return
    with RunFolder(target, writes, overwrite) as folder:
        yield folder


def check_file(path: str | Path, option: str = "--out", overwrite: bool = False,
               replaceable: Callable[[Path], bool] = lambda path: False,
               kind: str = "file") -> Path:
    """Check, before any work, that a single file can be written at ``path``.

    An existing file is replaced only when ``replaceable`` says socialtwin wrote it, or with
    ``overwrite``; a symbolic link there is replaced itself, never what it points to.

    Raises:
        UsageError: ``path`` is a folder, or a file that may not be replaced, or cannot be
            written.
    """
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        raise UsageError(f"{option} {path}: is a folder (allowed: a file name)")
    if not overwrite and path.is_symlink():
        raise UsageError(f"{option} {path}: is a symbolic link; pass --overwrite to replace the "
                         "link (not the file it points to), or choose another name")
    if not overwrite and path.exists() and not replaceable(path):
        raise UsageError(f"{option} {path}: exists and is not a {kind} written by socialtwin; "
                         "pass --overwrite to replace it, or choose another name")
    _check_writable(path.parent, f"{option} {path.parent}")
    return path


def replace_file(path: str | Path, write: Callable[[Path], Any]) -> Path:
    """Write a file whole: ``write`` fills a temporary sibling, renamed over ``path`` at once."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{path.name}.{secrets.token_hex(4)}.socialtwin-tmp"
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def _publish(stage: Path, out: Path, manifest: dict) -> None:
    """Move the staged files into ``out``; remove the earlier run's files it does not list.

    The manifest is renamed in last. Repeating this after an interruption finishes it.
    """
    out.mkdir(parents=True, exist_ok=True)
    for name in manifest["files"]:
        if (stage / name).is_file():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / name, out / name)
    for name in survey(out).ours:
        if name not in manifest["files"]:
            (out / name).unlink()
    present = {name: digest for name, digest in manifest["files"].items()
               if plain_file(out, name)}
    if present != manifest["files"]:  # the folder lost files while a publication was stopped
        (stage / _JOURNAL).write_text(json.dumps({**manifest, "files": present}, indent=2))
    os.replace(stage / _JOURNAL, out / MANIFEST)


def _clashes(others: Iterable[str], writes: Iterable[str], folder: Path) -> list[str]:
    """The user's files at a name the command writes, or in the way of one (a file ``plots``).

    A folder at the name of a file the command writes (``report.md/``) is in the way too.
    """
    writes = (MANIFEST, *writes)
    found = []
    for name in others:
        parts = name.split("/")
        if any(w.startswith(f"{name}/") or any(fnmatchcase("/".join(parts[:i]), w)
                                                for i in range(1, len(parts) + 1))
               for w in writes):
            link = (folder / name).is_symlink()
            found.append(f"{name} (a symbolic link)" if link else name)
    folders = [w for w in writes if not any(c in w for c in "*?[")
               and (folder / w).is_dir() and not any(n.startswith(f"{w}/") for n in others)]
    return found + [f"{name} (a folder)" for name in folders]


def _clash_message(clashes: list[str]) -> str:
    return (f"{_some(clashes)}: not written by an earlier socialtwin run (or changed since), and "
            "this command writes a file of that name; move "
            + ("it" if len(clashes) == 1 else "them") + " away, or choose another folder")


def _some(names: Iterable[str], shown: int = 5) -> str:
    names = list(names)
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _make_parents(folder: Path, where: str) -> Path | None:
    """Make ``folder`` and its missing parents; returns the topmost one made (or ``None``)."""
    missing = None
    probe = folder
    while not probe.exists() and probe.parent != probe:
        missing, probe = probe, probe.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{where}: cannot write there ({error.strerror or error})") from None
    return missing


def _check_writable(folder: Path, where: str) -> None:
    """Make ``folder`` and a file in it, then remove what was made; raise if that fails."""
    made = _make_parents(folder, where)
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise UsageError(f"{where}: cannot write there ({error.strerror or error})") from None
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
