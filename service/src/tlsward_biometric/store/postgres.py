"""PostgreSQL backend (psycopg 3): one connection per thread, SELECT ... FOR UPDATE row locks.

Several service nodes can share one PostgreSQL store: verification counters are updated under a
row lock in the same transaction that reads them, so concurrent attempts cannot exceed limits.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from tlsward_biometric.errors import StoreUnavailableError
from tlsward_biometric.store.base import Store, ThreadConnections, Transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS subjects (
    subject_group TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    modality TEXT NOT NULL,
    key_id TEXT NOT NULL,
    nonce BYTEA NOT NULL,
    ciphertext BYTEA NOT NULL,
    enrolled_by TEXT NOT NULL,
    enrolled_at DOUBLE PRECISION NOT NULL,
    enrolled_credential TEXT,
    PRIMARY KEY (subject_group, subject_id)
);
CREATE INDEX IF NOT EXISTS subjects_key_id ON subjects (key_id);
CREATE TABLE IF NOT EXISTS subject_counters (
    subject_group TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    failed_count INTEGER NOT NULL DEFAULT 0,
    locked_until DOUBLE PRECISION NOT NULL DEFAULT 0,
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
    id BIGSERIAL PRIMARY KEY,
    device_id TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS device_failures_device_at ON device_failures (device_id, at);
CREATE TABLE IF NOT EXISTS retired_keys (
    key_id TEXT PRIMARY KEY,
    retired_at DOUBLE PRECISION NOT NULL,
    retired_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_events (
    id BIGSERIAL PRIMARY KEY,
    at DOUBLE PRECISION NOT NULL,
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

# Serialises schema creation when several workers or nodes start at once.
SCHEMA_LOCK_ID = 0x746C7377


class _PostgresTransaction(Transaction):
    for_update_clause = " FOR UPDATE"

    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor:
        return self._conn.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]

    def columns(self, table: str) -> set[str]:
        rows = self._execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ?",
            (table,),
        ).fetchall()
        return {row[0] for row in rows}


class PostgresStore(Store):
    backend = "postgresql"

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conns: ThreadConnections[psycopg.Connection] = ThreadConnections()
        with self.transaction() as tx:
            tx._execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK_ID,))
            tx.create_schema(SCHEMA)

    def _connection(self) -> psycopg.Connection:
        conn = self._conns.current()
        if conn is not None and conn.closed:
            conn = None
        if conn is None:
            try:
                conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=10)
            except psycopg.Error as exc:
                raise StoreUnavailableError(f"PostgreSQL: cannot connect: {exc}") from None
            self._conns.adopt(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        conn = self._connection()
        try:
            with conn.transaction():
                yield _PostgresTransaction(conn)
        except psycopg.OperationalError as exc:
            conn.close()
            raise StoreUnavailableError(f"PostgreSQL: {exc}") from None

    def ping(self) -> None:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except psycopg.Error as exc:
            self._conns.forget()
            raise StoreUnavailableError(f"PostgreSQL: {exc}") from None

    def close(self) -> None:
        self._conns.close_all()
