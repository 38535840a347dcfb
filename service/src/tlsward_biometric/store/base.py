"""Backend-neutral records and the transaction operations both backends implement in SQL."""

from __future__ import annotations

import abc
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from tlsward_biometric.crypto import SealedTemplate
from tlsward_biometric.lockout import Counters


@dataclass(frozen=True)
class SubjectRecord:
    """One enrolled subject: its sealed template, who enrolled it, its verification counters."""

    subject_id: str
    modality: str
    sealed: SealedTemplate
    enrolled_by: str
    enrolled_at: float
    counters: Counters


@dataclass(frozen=True)
class AuditEvent:
    """One audited operation. Never carries template data (nor scores)."""

    at: float
    event: str
    outcome: str
    device_id: str | None = None
    subject_id: str | None = None
    modality: str | None = None
    key_id: str | None = None
    detail: str | None = None


_SUBJECT_COLUMNS = (
    "subject_id, modality, key_id, nonce, ciphertext, enrolled_by, enrolled_at, "
    "failed_count, locked_until, hard_locked"
)
_AUDIT_COLUMNS = "at, event, outcome, device_id, subject_id, modality, key_id, detail"


def _record(row: Sequence[Any]) -> SubjectRecord:
    return SubjectRecord(
        subject_id=row[0],
        modality=row[1],
        sealed=SealedTemplate(row[2], bytes(row[3]), bytes(row[4])),
        enrolled_by=row[5],
        enrolled_at=float(row[6]),
        counters=Counters(int(row[7]), float(row[8]), bool(row[9])),
    )


class Transaction(abc.ABC):
    """The operations of one database transaction (committed when its context exits cleanly).

    SQL is written with ``?`` placeholders; PostgreSQL's transaction rewrites them to ``%s``.
    """

    for_update_clause = ""

    @abc.abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement and return its cursor."""

    def get_subject(self, subject_id: str, *, for_update: bool = False) -> SubjectRecord | None:
        suffix = self.for_update_clause if for_update else ""
        row = self._execute(
            f"SELECT {_SUBJECT_COLUMNS} FROM subjects WHERE subject_id = ?{suffix}",  # noqa: S608 - fixed columns
            (subject_id,),
        ).fetchone()
        return _record(row) if row else None

    def insert_subject(self, record: SubjectRecord) -> bool:
        """Insert a new subject; False (nothing written) when the subject already exists."""
        cur = self._execute(
            f"INSERT INTO subjects ({_SUBJECT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "  # noqa: S608
            "ON CONFLICT (subject_id) DO NOTHING",
            (
                record.subject_id,
                record.modality,
                record.sealed.key_id,
                record.sealed.nonce,
                record.sealed.ciphertext,
                record.enrolled_by,
                record.enrolled_at,
                record.counters.failed_count,
                record.counters.locked_until,
                int(record.counters.hard_locked),
            ),
        )
        return cur.rowcount == 1

    def delete_subject(self, subject_id: str) -> bool:
        return self._execute("DELETE FROM subjects WHERE subject_id = ?", (subject_id,)).rowcount == 1

    def set_counters(self, subject_id: str, counters: Counters) -> bool:
        cur = self._execute(
            "UPDATE subjects SET failed_count = ?, locked_until = ?, hard_locked = ? WHERE subject_id = ?",
            (counters.failed_count, counters.locked_until, int(counters.hard_locked), subject_id),
        )
        return cur.rowcount == 1

    def replace_sealed(self, subject_id: str, old: SealedTemplate, new: SealedTemplate) -> bool:
        """Swap a record's ciphertext only if it is still ``old`` (idempotent, race-safe)."""
        cur = self._execute(
            "UPDATE subjects SET key_id = ?, nonce = ?, ciphertext = ? "
            "WHERE subject_id = ? AND key_id = ? AND nonce = ?",
            (new.key_id, new.nonce, new.ciphertext, subject_id, old.key_id, old.nonce),
        )
        return cur.rowcount == 1

    def next_subject_not_under(self, key_id: str, after: str) -> SubjectRecord | None:
        """The first subject (by id, after ``after``) whose template is not sealed with ``key_id``."""
        row = self._execute(
            f"SELECT {_SUBJECT_COLUMNS} FROM subjects WHERE key_id <> ? AND subject_id > ? "  # noqa: S608
            f"ORDER BY subject_id LIMIT 1{self.for_update_clause}",
            (key_id, after),
        ).fetchone()
        return _record(row) if row else None

    def key_usage(self) -> dict[str, int]:
        rows = self._execute("SELECT key_id, COUNT(*) FROM subjects GROUP BY key_id").fetchall()
        return {row[0]: int(row[1]) for row in rows}

    def count_subjects(self) -> int:
        return int(self._execute("SELECT COUNT(*) FROM subjects").fetchone()[0])

    def retired_keys(self) -> set[str]:
        return {row[0] for row in self._execute("SELECT key_id FROM retired_keys").fetchall()}

    def retire_key(self, key_id: str, at: float, by: str) -> None:
        self._execute(
            "INSERT INTO retired_keys (key_id, retired_at, retired_by) VALUES (?, ?, ?) "
            "ON CONFLICT (key_id) DO NOTHING",
            (key_id, at, by),
        )

    def add_audit(self, event: AuditEvent) -> None:
        self._execute(
            f"INSERT INTO audit_events ({_AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
            (
                event.at,
                event.event,
                event.outcome,
                event.device_id,
                event.subject_id,
                event.modality,
                event.key_id,
                event.detail,
            ),
        )

    def audit_events(self, limit: int = 1000) -> list[AuditEvent]:
        rows = self._execute(
            f"SELECT {_AUDIT_COLUMNS} FROM audit_events ORDER BY id DESC LIMIT ?",  # noqa: S608
            (limit,),
        ).fetchall()
        return [AuditEvent(float(r[0]), *r[1:]) for r in reversed(rows)]


class Store(abc.ABC):
    """A database holding the service state."""

    backend: str

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[Transaction]:
        """A write transaction, committed (durably) when the block exits without an exception."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise StoreUnavailableError unless the database answers."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close this thread's connections."""


def iter_statements(ddl: str) -> Iterator[str]:
    for statement in ddl.split(";"):
        if statement.strip():
            yield statement.strip()


class _Closable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=_Closable)


class ThreadConnections(Generic[C]):
    """One database connection per thread, all of them closed together by ``close_all``."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[C] = []
        self._lock = threading.Lock()

    def current(self) -> C | None:
        return getattr(self._local, "conn", None)

    def adopt(self, conn: C) -> C:
        self._local.conn = conn
        with self._lock:
            self._all.append(conn)
        return conn

    def forget(self) -> None:
        """Drop this thread's connection (broken); the next ``current()`` is None."""
        self._local.conn = None

    def close_all(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
