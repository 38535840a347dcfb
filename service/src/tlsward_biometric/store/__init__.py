"""Storage of sealed templates, verification counters, retired keys and audit events.

Two backends share one SQL dialect subset and one test suite: SQLite (default; WAL journal,
synchronous=FULL, every write committed before the API answers) and PostgreSQL (when a DSN is
configured, so several service nodes share one store).
"""

from __future__ import annotations

from tlsward_biometric.store.base import AuditEvent, Store, SubjectRecord, Transaction
from tlsward_biometric.store.postgres import PostgresStore
from tlsward_biometric.store.sqlite import SqliteStore

__all__ = [
    "AuditEvent",
    "PostgresStore",
    "SqliteStore",
    "Store",
    "SubjectRecord",
    "Transaction",
    "open_store",
]


def open_store(*, database_path: str, database_dsn: str | None) -> Store:
    """PostgreSQL when a DSN is given, else SQLite at ``database_path``."""
    if database_dsn:
        return PostgresStore(database_dsn)
    return SqliteStore(database_path)
