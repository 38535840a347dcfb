"""SQLite backend: WAL journal, synchronous=FULL, one connection per thread, BEGIN IMMEDIATE.

With ``synchronous=FULL`` in WAL mode every commit is fsynced before ``COMMIT`` returns, so an
answer sent after the commit survives a crash of the process or the machine. ``BEGIN IMMEDIATE``
takes the write lock at the start, which serialises read-modify-write sequences (verification
counters) across threads and worker processes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tlsward_biometric.errors import StoreUnavailableError
from tlsward_biometric.store.base import Store, ThreadConnections, Transaction

BUSY_TIMEOUT_MS = 15000

SCHEMA = """
CREATE TABLE IF NOT EXISTS subjects (
    subject_group TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    modality TEXT NOT NULL,
    key_id TEXT NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    enrolled_by TEXT NOT NULL,
    enrolled_at REAL NOT NULL,
    enrolled_credential TEXT,
    PRIMARY KEY (subject_group, subject_id)
);
CREATE INDEX IF NOT EXISTS subjects_key_id ON subjects (key_id);
CREATE TABLE IF NOT EXISTS subject_counters (
    subject_group TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    failed_count INTEGER NOT NULL DEFAULT 0,
    locked_until REAL NOT NULL DEFAULT 0,
    hard_locked INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (subject_group, subject_id)
);
CREATE TABLE IF NOT EXISTS counter_shares (
    subject_group TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    failures INTEGER NOT NULL,
    PRIMARY KEY (subject_group, subject_id, device_id)
);
CREATE TABLE IF NOT EXISTS device_budgets (
    device_id TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS device_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS device_failures_device_at ON device_failures (device_id, at);
CREATE TABLE IF NOT EXISTS retired_keys (
    key_id TEXT PRIMARY KEY,
    retired_at REAL NOT NULL,
    retired_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    event TEXT NOT NULL,
    outcome TEXT NOT NULL,
    device_id TEXT,
    subject_id TEXT,
    modality TEXT,
    key_id TEXT,
    detail TEXT,
    subject_group TEXT,
    credential TEXT
)
"""


class _SqliteTransaction(Transaction):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, params)

    def columns(self, table: str) -> set[str]:
        return {row[1] for row in self._conn.execute("SELECT * FROM pragma_table_info(?)", (table,))}


class SqliteStore(Store):
    backend = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._conns: ThreadConnections[sqlite3.Connection] = ThreadConnections()
        with self.transaction() as tx:
            tx.create_schema(SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        conn = self._conns.current()
        if conn is None:
            try:
                conn = sqlite3.connect(
                    self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
                )
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StoreUnavailableError(f"SQLite {self.path}: journal mode {mode}, WAL needed")
                conn.execute("PRAGMA synchronous = FULL")
            except sqlite3.Error as exc:
                raise StoreUnavailableError(f"SQLite {self.path}: {exc}") from None
            self._conns.adopt(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        conn = self._connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreUnavailableError(f"SQLite {self.path}: {exc}") from None
        try:
            yield _SqliteTransaction(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise StoreUnavailableError(f"SQLite {self.path}: commit failed: {exc}") from None

    def ping(self) -> None:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailableError(f"SQLite {self.path}: {exc}") from None

    def close(self) -> None:
        self._conns.close_all()
