"""Persistent response cache: answered questions in SQLite, so no LLM call is ever paid for twice.

Keys are hashes of (engine, model, prompt, options, method, seed) (see
:func:`simulator.cognition.language_model.question_key`); values are option distributions with
their token and cost accounting. Each answer is committed as it arrives, so a run killed midway
and restarted repeats no answered call. WAL mode lets several processes (sweep workers) share one
file. Rows are checked when read: a row that is not a distribution over the question's options
(a damaged or hand-edited file) is treated as missing and counted, never served. Nothing secret
is stored: prompts are hashed, and only distributions and accounting are kept.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from collections.abc import Sequence
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
_BATCH = 500
SUM_TOLERANCE = 1e-6


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


class ResponseCache:
    """A SQLite-backed map from question keys to option distributions.

    Args:
        path: the database file (created with its folder if missing).

    Raises:
        EngineError: the path is a folder, or the file is not a readable socialtwin cache.
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        if self.path.is_dir():
            raise EngineError(f"response cache {self.path} is a folder (allowed: a file path, "
                              "e.g. responses.sqlite)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
            # Read before switching to WAL: a damaged file must not be rewritten.
            self._db.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
            self._db.commit()
            self._db.execute("SELECT key, distribution FROM responses LIMIT 1").fetchall()
        except sqlite3.DatabaseError as error:
            raise EngineError(
                f"response cache {self.path} is not a readable socialtwin cache ({error}); "
                "move it aside or delete it (answers in it are lost), or pass another file with "
                "--cache") from None

    def get_many(self, keys: Sequence[str]) -> dict[str, list]:
        """Stored values of the keys that are cached (missing keys are absent), unchecked."""
        found: dict[str, list] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _BATCH):
            chunk = unique[start:start + _BATCH]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, distribution FROM responses WHERE key IN ({marks})", chunk
            )
            for key, text in rows:
                try:
                    found[key] = json.loads(text)
                except (TypeError, ValueError):
                    found[key] = None
        return found

    def put(self, key: str, answer: Answer, engine: str, model: str, method: str) -> None:
        """Store one answered question and commit at once."""
        row = (key, engine, model, method, json.dumps(np.asarray(answer.distribution).tolist()),
               answer.tokens_in, answer.tokens_out, answer.cost_usd, time.time())
        self._db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         row)
        self._db.commit()

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        """Close the connection."""
        self._db.close()
