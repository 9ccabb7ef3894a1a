"""Persistent response cache: answered questions in SQLite, so no LLM call is ever paid for twice.

Keys are hashes of (engine, model, prompt, options, elicitation, seed) (see
:func:`simulator.cognition.engine.cache_key`); values are option distributions with their token
and cost accounting. Every batch is committed as soon as it is answered, so a run killed midway
and restarted repeats no answered call. WAL mode lets several processes (sweep workers) share one
file. Nothing secret is stored: prompts and distributions only, never API keys or headers.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import platformdirs

if TYPE_CHECKING:
    from simulator.cognition.engine import Answer

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


def default_cache_path() -> Path:
    """The per-user cache file (``$SOCIALTWIN_CACHE`` overrides the platform's cache folder)."""
    override = os.environ.get("SOCIALTWIN_CACHE")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir("socialtwin")) / "responses.sqlite"


class ResponseCache:
    """A SQLite-backed map from question keys to option distributions.

    Args:
        path: the database file (created with its folder if missing).
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._db.commit()

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Distributions of the keys that are cached (missing keys are absent)."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _BATCH):
            chunk = unique[start:start + _BATCH]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, distribution FROM responses WHERE key IN ({marks})", chunk
            )
            for key, distribution in rows:
                found[key] = np.asarray(json.loads(distribution), dtype=float)
        return found

    def put_many(self, items: Iterable[tuple[str, Answer]], engine: str, model: str,
                 elicitation: str) -> None:
        """Store answered questions and commit at once."""
        now = time.time()
        rows = [
            (key, engine, model, elicitation, json.dumps(np.asarray(a.distribution).tolist()),
             a.tokens_in, a.tokens_out, a.cost_usd, now)
            for key, a in items
        ]
        self._db.executemany(
            "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
        self._db.commit()

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        """Close the connection."""
        self._db.close()
