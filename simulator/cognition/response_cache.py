"""Persistent response cache: answered questions in SQLite, so no LLM call is ever paid for twice.

Keys are hashes of (engine, model, prompt, options, method, seed) (see
:func:`simulator.cognition.language_model.question_key`); values are option distributions with
their token and cost accounting. Each answer is committed as it arrives, so a run killed midway
and restarted repeats no answered call. WAL mode lets several processes (sweep workers, runs
started side by side) share one file, and a *claim* per key keeps them from asking the same
question at once: a process claims the keys it is about to ask (:meth:`ResponseCache.claim`), and
another that needs one of them waits for its answer instead of paying for it again. A claim
lasts :data:`LEASE_S` seconds and is renewed while its process lives; the claims of a process
that died (on this machine) or stopped renewing are taken over. Rows are checked when read: a
row that is not a distribution over the question's options (a damaged or hand-edited file) is
treated as missing and counted, never served. Nothing secret is stored: prompts are hashed, and
only distributions and accounting are kept.
"""

from __future__ import annotations

import functools
import json
import math
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import platformdirs

from simulator.errors import EngineError

if TYPE_CHECKING:
    from simulator.cognition.language_model import Answer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    engine TEXT NOT NULL,
    model TEXT NOT NULL,
    elicitation TEXT NOT NULL,
    distribution TEXT NOT NULL,
    tokens_in INTEGER NOT NULL,
    tokens_out INTEGER NOT NULL,
    cost_usd REAL,
    created REAL NOT NULL
)
"""
_CLAIMS = """
CREATE TABLE IF NOT EXISTS claims (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires REAL NOT NULL
)
"""
_BATCH = 500
SUM_TOLERANCE = 1e-6
LEASE_S = 60.0
"""Seconds a claim lasts unless its process renews it (every quarter of that while it lives)."""
_HOST = socket.gethostname()


def default_cache_path() -> Path:
    """The per-user cache file (``$SOCIALTWIN_CACHE`` overrides the platform's cache folder)."""
    override = os.environ.get("SOCIALTWIN_CACHE")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir("socialtwin")) / "responses.sqlite"


def valid_distribution(values: object, n_options: int) -> np.ndarray | None:
    """``values`` as a distribution over ``n_options`` options, or ``None`` if it is not one.

    A distribution is a list of ``n_options`` finite non-negative numbers summing to 1.
    """
    if not isinstance(values, list) or len(values) != n_options:
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return None
    array = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        return None
    if not math.isclose(float(array.sum()), 1.0, abs_tol=SUM_TOLERANCE):
        return None
    return array


def _damaged(path: Path, error: Exception) -> EngineError:
    return EngineError(f"response cache {path} is not a readable socialtwin cache ({error}); "
                       "move it aside or delete it (answers in it are lost), or pass another "
                       "file with --cache")


def check_cache_path(path: str | os.PathLike | None) -> Path:
    """Check, before any work and without writing, that ``path`` can be the response cache.

    An existing file must be a socialtwin cache (no table of another application, the tables
    it has of :data:`_SCHEMA`'s columns), and the cache writable: an answer that cannot be
    stored would be paid for again.

    Raises:
        EngineError: the path is a folder, an existing file is not a readable socialtwin
            cache, or the file or its folder cannot be written.
    """
    path = Path(path) if path is not None else default_cache_path()
    if path.is_dir():
        raise EngineError(f"response cache {path} is a folder (allowed: a file path, e.g. "
                          "responses.sqlite)")
    if path.exists():
        problem = _truncated(path)
        if problem:
            raise _damaged(path, problem)
        try:
            with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
                problem = _foreign(db)
                if problem is None and "responses" in _tables(db):
                    db.execute("SELECT key, distribution FROM responses LIMIT 1").fetchall()
        except sqlite3.DatabaseError as error:
            raise _damaged(path, error) from None
        if problem:
            raise EngineError(f"response cache {path} is not a socialtwin cache ({problem}); "
                              "it is left as it is (allowed: a new file, or a cache socialtwin "
                              "wrote; pass another with --cache)")
    _check_writable(path)
    return path


def _tables(db: sqlite3.Connection) -> list[str]:
    return [name for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
        "AND name NOT LIKE 'sqlite_%' ORDER BY name")]


@functools.cache
def _columns() -> dict[str, tuple[str, ...]]:
    """The columns of each table of a cache, as :data:`_SCHEMA` and :data:`_CLAIMS` declare."""
    with closing(sqlite3.connect(":memory:")) as db:
        db.execute(_SCHEMA)
        db.execute(_CLAIMS)
        return {table: tuple(row[1] for row in db.execute(f"PRAGMA table_info({table})"))
                for table in _tables(db)}


def _foreign(db: sqlite3.Connection) -> str | None:
    """Why a database is not a socialtwin cache (an empty one is), or ``None``."""
    tables = _tables(db)
    other = [name for name in tables if name not in _columns()]
    if other:
        return f"it has the table(s) {', '.join(other)}, which a cache does not"
    for table in tables:
        found = tuple(row[1] for row in db.execute(f"PRAGMA table_info({table})"))
        if found != _columns()[table]:
            return (f"its {table} table has the columns {', '.join(found)}, where a cache has "
                    f"{', '.join(_columns()[table])}")
    return None


def _check_writable(path: Path) -> None:
    """Refuse a cache file, or the folder it is (to be) in, that cannot be written."""
    folder = next(p for p in (path.parent.resolve(), *path.parent.resolve().parents)
                  if p.exists())
    if path.exists() and not os.access(path, os.W_OK):
        raise EngineError(f"response cache {path} is read-only: the answers it lacks could not "
                          "be stored, and would be paid for again (allowed: a file socialtwin "
                          "can write; copy it elsewhere and pass the copy with --cache)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise EngineError(f"response cache {path}: the folder {folder} cannot be written (SQLite "
                          "keeps its journal beside the file; allowed: a writable folder)")


def _truncated(path: Path) -> str | None:
    """Why a SQLite file is shorter than its header says, or ``None``.

    A file with a write-ahead log beside it is not judged: pages of an interrupted checkpoint
    are still in the log, and SQLite recovers them when it opens the file.
    """
    try:
        if path.with_name(path.name + "-wal").stat().st_size:
            return None
    except FileNotFoundError:
        pass  # no log, or the last connection of another run just removed it
    with path.open("rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        return None
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    size = path.stat().st_size
    if pages and size < pages * page_size:
        return f"{size:,} bytes where its header says {pages * page_size:,}: truncated"
    return None


OPEN_TIMEOUT_S = 60.0
"""Seconds to keep trying to open a cache file that other processes hold locked."""
_BUSY = "database is locked"


class ResponseCache:
    """A SQLite-backed map from question keys to option distributions, with claims per key.

    Args:
        path: the database file (created with its folder if missing).
        lease: seconds a claim lasts unless renewed (see the module).

    Raises:
        EngineError: the path is a folder, or the file is not a readable socialtwin cache.
    """

    def __init__(self, path: str | os.PathLike | None = None, lease: float = LEASE_S) -> None:
        self.path = check_cache_path(path)
        self.lease = lease
        self.owner = f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._lock = threading.RLock()
        self._renewing: threading.Event | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + OPEN_TIMEOUT_S
        while True:
            self._db = self._connect()
            try:
                self._prepare()
                return
            except sqlite3.OperationalError as error:
                self._db.close()
                # Another process switching a new file to WAL or creating its tables holds a
                # lock that SQLite's busy timeout does not wait for: try again, it is not damage.
                if _BUSY not in str(error) or time.monotonic() > deadline:
                    raise _damaged(self.path, error) from None
                time.sleep(0.05)
            except sqlite3.DatabaseError as error:
                self._db.close()
                raise _damaged(self.path, error) from None

    def _prepare(self) -> None:
        """Check the file reads as a cache, then set it up (WAL mode, the tables)."""
        # Read before switching to WAL: a damaged file must not be rewritten.
        self._db.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._db.execute(_CLAIMS)
        self._db.execute("SELECT key, distribution FROM responses LIMIT 1").fetchall()

    def _connect(self) -> sqlite3.Connection:
        # Autocommit: every transaction below is explicit.
        return sqlite3.connect(self.path, timeout=60, check_same_thread=False,
                               isolation_level=None)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (BEGIN IMMEDIATE) so that claims never race."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def get_many(self, keys: Sequence[str]) -> dict[str, list]:
        """Stored values of the keys that are cached (missing keys are absent), unchecked."""
        found: dict[str, list] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for chunk in _chunks(unique):
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, distribution FROM responses WHERE key IN ({marks})", chunk
                ).fetchall()
                for key, text in rows:
                    try:
                        found[key] = json.loads(text)
                    except (TypeError, ValueError):
                        found[key] = None
        return found

    def put(self, key: str, answer: Answer, engine: str, model: str, method: str) -> None:
        """Store one answered question, release its claim, and commit at once."""
        row = (key, engine, model, method, json.dumps(np.asarray(answer.distribution).tolist()),
               answer.tokens_in, answer.tokens_out, answer.cost_usd, time.time())
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       row)
            db.execute("DELETE FROM claims WHERE key = ? AND owner = ?", (key, self.owner))

    def claim(self, keys: Sequence[str]) -> tuple[list[str], list[str]]:
        """Claim the keys that are neither answered nor claimed by another live process.

        Returns:
            ``(claimed, held)``: the keys this cache now holds (ask them, then :meth:`put` or
            :meth:`release` each), and those another process holds (wait for their answers).
            Keys already answered are in neither: read them with :meth:`get_many`.
        """
        unique = list(dict.fromkeys(keys))
        claimed: list[str] = []
        held: list[str] = []
        now = time.time()
        with self._transaction() as db:
            self._drop_stale_claims(db, now)
            for chunk in _chunks(unique):
                marks = ",".join("?" * len(chunk))
                answered = {k for (k,) in db.execute(
                    f"SELECT key FROM responses WHERE key IN ({marks})", chunk)}
                owners = dict(db.execute(
                    f"SELECT key, owner FROM claims WHERE key IN ({marks})", chunk).fetchall())
                mine = [k for k in chunk
                        if k not in answered and owners.get(k, self.owner) == self.owner]
                held += [k for k in chunk if k not in answered and k not in mine]
                db.executemany("INSERT OR REPLACE INTO claims VALUES (?, ?, ?)",
                               [(k, self.owner, now + self.lease) for k in mine])
                claimed += mine
        if claimed:
            self._keep_renewing()
        return claimed, held

    def release(self, keys: Sequence[str]) -> None:
        """Give up this cache's claims on ``keys`` (their answers failed or were not asked)."""
        with self._transaction() as db:
            for chunk in _chunks(list(keys)):
                marks = ",".join("?" * len(chunk))
                db.execute(f"DELETE FROM claims WHERE owner = ? AND key IN ({marks})",
                           [self.owner, *chunk])

    def _drop_stale_claims(self, db: sqlite3.Connection, now: float) -> None:
        """Delete expired claims, and those of processes of this machine that are gone."""
        db.execute("DELETE FROM claims WHERE expires < ?", (now,))
        for (owner,) in db.execute("SELECT DISTINCT owner FROM claims").fetchall():
            host, _, rest = owner.partition(":")
            pid = rest.partition(":")[0]
            if host == _HOST and pid.isdigit() and not _alive(int(pid)):
                db.execute("DELETE FROM claims WHERE owner = ?", (owner,))

    def _keep_renewing(self) -> None:
        """Renew this cache's claims every quarter lease from a thread of its own."""
        if self._renewing is not None:
            return
        stop = self._renewing = threading.Event()

        def renew() -> None:
            db = self._connect()
            try:
                while not stop.wait(self.lease / 4):
                    db.execute("UPDATE claims SET expires = ? WHERE owner = ?",
                               (time.time() + self.lease, self.owner))
            except sqlite3.Error:
                pass  # the cache is being closed: its claims expire by themselves
            finally:
                db.close()

        threading.Thread(target=renew, name="socialtwin-cache-claims", daemon=True).start()

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        """Release every claim of this cache and close the connection."""
        if self._renewing is not None:
            self._renewing.set()
        with self._lock:
            try:
                self._db.execute("DELETE FROM claims WHERE owner = ?", (self.owner,))
            except sqlite3.Error:
                pass  # a closed or read-only file: the claims expire by themselves
            self._db.close()


def _chunks(keys: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(keys), _BATCH):
        yield keys[start:start + _BATCH]


def _alive(pid: int) -> bool:
    """Whether a process of this machine with this id exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
