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
from tlsward_biometric.store.base import Store, ThreadConnections, Transaction, iter_statements

SCHEMA = """
CREATE TABLE IF NOT EXISTS subjects (
    subject_id TEXT PRIMARY KEY,
    modality TEXT NOT NULL,
    key_id TEXT NOT NULL,
    nonce BYTEA NOT NULL,
    ciphertext BYTEA NOT NULL,
    enrolled_by TEXT NOT NULL,
    enrolled_at DOUBLE PRECISION NOT NULL,
    failed_count INTEGER NOT NULL DEFAULT 0,
    locked_until DOUBLE PRECISION NOT NULL DEFAULT 0,
    hard_locked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS subjects_key_id ON subjects (key_id);
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
    detail TEXT
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


class PostgresStore(Store):
    backend = "postgresql"

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conns: ThreadConnections[psycopg.Connection] = ThreadConnections()
        with self.transaction() as tx:
            tx._execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK_ID,))
            for statement in iter_statements(SCHEMA):
                tx._execute(statement)

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
