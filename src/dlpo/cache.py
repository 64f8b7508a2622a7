"""The one response cache: SQLite (stdlib) in WAL mode, keyed by a hash of the request.

The key covers the engine's `cache_id` (backend kind + model), the messages, every sampling
parameter, the seed and the sample index, so two requests share an entry only when any backend
would treat them the same. Writes are single-statement transactions, so the file stays valid
after `kill -9`; WAL lets several processes (Ray workers, a resumed run) read while one writes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from dlpo.engines.base import ChatRequest, Completion

CacheMode = Literal["use", "refresh", "off"]
"""`use`: read and write; `refresh`: ignore stored answers but store new ones; `off`: bypass."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    request TEXT NOT NULL,
    completion TEXT NOT NULL,
    created REAL NOT NULL DEFAULT (julianday('now'))
)
"""


def request_key(model_id: str, request: ChatRequest) -> str:
    """Stable hex digest identifying (model, request)."""
    payload = json.dumps({"model": model_id, **request.to_dict()}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _completion_to_json(c: Completion) -> str:
    return json.dumps(
        {
            "text": c.text,
            "prompt_tokens": c.prompt_tokens,
            "completion_tokens": c.completion_tokens,
            "latency_s": c.latency_s,
            "finish_reason": c.finish_reason,
            "model": c.model,
            **({"build": c.extra["build"]} if c.extra.get("build") else {}),
        },
        ensure_ascii=False,
    )


def _completion_from_json(raw: str) -> Completion:
    """The stored completion; the server build that made it (if recorded) comes back in `extra`."""
    data = json.loads(raw)
    build = data.pop("build", None)
    return Completion(**data, extra={"build": build} if build else {})


class ResponseCache:
    """A persistent map from request key to completion. Thread-safe; one connection per thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def get(self, key: str) -> Completion | None:
        found = self.lookup(key)
        return found[0] if found is not None else None

    def lookup(self, key: str) -> tuple[Completion, int] | None:
        """The stored completion and its row number (rows only grow: a later row was written later)."""
        row = (
            self._connect()
            .execute("SELECT completion, rowid FROM responses WHERE key = ?", (key,))
            .fetchone()
        )
        return (_completion_from_json(row[0]), int(row[1])) if row else None

    def last_row(self) -> int:
        """The highest row number written so far (0 for an empty cache)."""
        return int(self._connect().execute("SELECT COALESCE(MAX(rowid), 0) FROM responses").fetchone()[0])

    def put(self, key: str, completion: Completion, request: ChatRequest | None = None) -> None:
        request_json = json.dumps(request.to_dict(), ensure_ascii=False) if request is not None else "{}"
        self._connect().execute(
            "INSERT OR REPLACE INTO responses (key, model, request, completion) VALUES (?, ?, ?, ?)",
            (key, completion.model, request_json, _completion_to_json(completion)),
        )

    def entries(self) -> Iterator[tuple[dict[str, Any], Completion]]:
        """Every stored (request, completion), in the order written; the request as its `to_dict()`
        ({} for an entry stored without one). For reading a run's answers after the fact."""
        rows = self._connect().execute("SELECT request, completion FROM responses ORDER BY rowid")
        for request_json, completion_json in rows:
            yield json.loads(request_json), _completion_from_json(completion_json)

    def __len__(self) -> int:
        return int(self._connect().execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
