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
    """One enrolled subject of a group: its sealed template and who enrolled it (device id and
    certificate fingerprint)."""

    subject_group: str
    subject_id: str
    modality: str
    sealed: SealedTemplate
    enrolled_by: str
    enrolled_at: float
    enrolled_credential: str | None = None


@dataclass(frozen=True)
class AuditEvent:
    """One audited operation. Never carries template data (nor scores).

    ``device_id`` is the stable device id; ``credential`` the SHA-256 fingerprint of the
    certificate the device presented.
    """

    at: float
    event: str
    outcome: str
    device_id: str | None = None
    subject_id: str | None = None
    modality: str | None = None
    key_id: str | None = None
    detail: str | None = None
    subject_group: str | None = None
    credential: str | None = None


_SUBJECT_COLUMNS = (
    "subject_group, subject_id, modality, key_id, nonce, ciphertext, enrolled_by, enrolled_at, "
    "enrolled_credential"
)
_AUDIT_COLUMNS = (
    "at, event, outcome, device_id, subject_id, modality, key_id, detail, subject_group, credential"
)
_AUDIT_ADDED_COLUMNS = ("subject_group", "credential")
# Columns of the subjects table before subjects belonged to groups (schema 1).
_V1_COPY = (
    "INSERT INTO subjects (subject_group, subject_id, modality, key_id, nonce, ciphertext, enrolled_by, "
    "enrolled_at) SELECT '', subject_id, modality, key_id, nonce, ciphertext, enrolled_by, enrolled_at "
    "FROM subjects_v1",
    "INSERT INTO subject_counters (subject_group, subject_id, failed_count, locked_until, hard_locked) "
    "SELECT '', subject_id, failed_count, locked_until, hard_locked FROM subjects_v1",
    "DROP TABLE subjects_v1",
)


def _record(row: Sequence[Any]) -> SubjectRecord:
    return SubjectRecord(
        subject_group=row[0],
        subject_id=row[1],
        modality=row[2],
        sealed=SealedTemplate(row[3], bytes(row[4]), bytes(row[5])),
        enrolled_by=row[6],
        enrolled_at=float(row[7]),
        enrolled_credential=row[8],
    )


class Transaction(abc.ABC):
    """The operations of one database transaction (committed when its context exits cleanly).

    SQL is written with ``?`` placeholders; PostgreSQL's transaction rewrites them to ``%s``.
    Subjects are named by (group, subject id): two groups may each have a subject ``alice``.
    """

    for_update_clause = ""

    @abc.abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement and return its cursor."""

    @abc.abstractmethod
    def columns(self, table: str) -> set[str]:
        """The column names of ``table`` (empty when the table does not exist)."""

    # -- schema -------------------------------------------------------------------------------
    def create_schema(self, ddl: str) -> None:
        """Create the tables, migrating a schema-1 database (subjects without groups) in place.

        Schema-1 subjects move to group ``""``, which no device belongs to: only an operator
        reaches them (delete), until ``tlsward-biometric adopt-group`` moves them to a group.
        """
        legacy = "failed_count" in self.columns("subjects")
        if legacy:
            self._execute("DROP INDEX IF EXISTS subjects_key_id")
            self._execute("ALTER TABLE subjects RENAME TO subjects_v1")
        for statement in iter_statements(ddl):
            self._execute(statement)
        present = self.columns("audit_events")
        for column in _AUDIT_ADDED_COLUMNS:
            if column not in present:
                self._execute(f"ALTER TABLE audit_events ADD COLUMN {column} TEXT")
        if legacy:
            for statement in _V1_COPY:
                self._execute(statement)

    # -- subjects -----------------------------------------------------------------------------
    def get_subject(self, group: str, subject_id: str, *, for_update: bool = False) -> SubjectRecord | None:
        suffix = self.for_update_clause if for_update else ""
        row = self._execute(
            f"SELECT {_SUBJECT_COLUMNS} FROM subjects WHERE subject_group = ? AND subject_id = ?{suffix}",  # noqa: S608
            (group, subject_id),
        ).fetchone()
        return _record(row) if row else None

    def insert_subject(self, record: SubjectRecord) -> bool:
        """Insert a new subject; False (nothing written) when the subject already exists."""
        cur = self._execute(
            f"INSERT INTO subjects ({_SUBJECT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "  # noqa: S608
            "ON CONFLICT (subject_group, subject_id) DO NOTHING",
            (
                record.subject_group,
                record.subject_id,
                record.modality,
                record.sealed.key_id,
                record.sealed.nonce,
                record.sealed.ciphertext,
                record.enrolled_by,
                record.enrolled_at,
                record.enrolled_credential,
            ),
        )
        return cur.rowcount == 1

    def delete_subject(self, group: str, subject_id: str) -> bool:
        cur = self._execute(
            "DELETE FROM subjects WHERE subject_group = ? AND subject_id = ?", (group, subject_id)
        )
        return cur.rowcount == 1

    def replace_sealed(self, group: str, subject_id: str, old: SealedTemplate, new: SealedTemplate) -> bool:
        """Swap a record's ciphertext only if it is still ``old`` (idempotent, race-safe)."""
        cur = self._execute(
            "UPDATE subjects SET key_id = ?, nonce = ?, ciphertext = ? "
            "WHERE subject_group = ? AND subject_id = ? AND key_id = ? AND nonce = ?",
            (new.key_id, new.nonce, new.ciphertext, group, subject_id, old.key_id, old.nonce),
        )
        return cur.rowcount == 1

    def move_subject(self, record: SubjectRecord, group: str, sealed: SealedTemplate) -> bool:
        """Move a subject to ``group`` with its re-sealed template; False if taken there."""
        if not self.insert_subject(
            SubjectRecord(
                group,
                record.subject_id,
                record.modality,
                sealed,
                record.enrolled_by,
                record.enrolled_at,
                record.enrolled_credential,
            )
        ):
            return False
        self.delete_subject(record.subject_group, record.subject_id)
        for table in ("subject_counters", "counter_shares"):
            self._execute(
                f"DELETE FROM {table} WHERE subject_group = ? AND subject_id = ?",  # noqa: S608 - fixed names
                (group, record.subject_id),
            )
        for table in ("subject_counters", "counter_shares"):
            self._execute(
                f"UPDATE {table} SET subject_group = ? WHERE subject_group = ? AND subject_id = ?",  # noqa: S608
                (group, record.subject_group, record.subject_id),
            )
        return True

    def next_subject_not_under(self, key_id: str, after: tuple[str, str]) -> SubjectRecord | None:
        """The first subject (by group and id, after ``after``) not sealed with ``key_id``."""
        row = self._execute(
            f"SELECT {_SUBJECT_COLUMNS} FROM subjects WHERE key_id <> ? "  # noqa: S608
            "AND (subject_group > ? OR (subject_group = ? AND subject_id > ?)) "
            f"ORDER BY subject_group, subject_id LIMIT 1{self.for_update_clause}",
            (key_id, after[0], after[0], after[1]),
        ).fetchone()
        return _record(row) if row else None

    def subjects_of_group(self, group: str, limit: int) -> list[SubjectRecord]:
        rows = self._execute(
            f"SELECT {_SUBJECT_COLUMNS} FROM subjects WHERE subject_group = ? "  # noqa: S608
            "ORDER BY subject_id LIMIT ?",
            (group, limit),
        ).fetchall()
        return [_record(row) for row in rows]

    def key_usage(self) -> dict[str, int]:
        rows = self._execute("SELECT key_id, COUNT(*) FROM subjects GROUP BY key_id").fetchall()
        return {row[0]: int(row[1]) for row in rows}

    def count_subjects(self) -> int:
        return int(self._execute("SELECT COUNT(*) FROM subjects").fetchone()[0])

    # -- verification counters (per subject, enrolled or not) -----------------------------------
    def get_counters(self, group: str, subject_id: str, *, for_update: bool = False) -> Counters:
        """The subject's counters; with ``for_update`` the row is created and locked first, so
        concurrent attempts on one subject run one after the other."""
        if for_update:
            self._execute(
                "INSERT INTO subject_counters (subject_group, subject_id) VALUES (?, ?) "
                "ON CONFLICT (subject_group, subject_id) DO NOTHING",
                (group, subject_id),
            )
        row = self._execute(
            "SELECT failed_count, locked_until, hard_locked FROM subject_counters "  # noqa: S608 - fixed
            f"WHERE subject_group = ? AND subject_id = ?{self.for_update_clause if for_update else ''}",
            (group, subject_id),
        ).fetchone()
        return Counters(int(row[0]), float(row[1]), bool(row[2])) if row else Counters()

    def set_counters(self, group: str, subject_id: str, counters: Counters) -> None:
        """Store the subject's counters; back to zero also forgets which devices failed."""
        self._execute(
            "INSERT INTO subject_counters "
            "(subject_group, subject_id, failed_count, locked_until, hard_locked) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (subject_group, subject_id) DO UPDATE SET "
            "failed_count = excluded.failed_count, locked_until = excluded.locked_until, "
            "hard_locked = excluded.hard_locked",
            (group, subject_id, counters.failed_count, counters.locked_until, int(counters.hard_locked)),
        )
        if counters.failed_count == 0:
            self._execute(
                "DELETE FROM counter_shares WHERE subject_group = ? AND subject_id = ?", (group, subject_id)
            )

    def device_share(self, group: str, subject_id: str, device_id: str) -> int:
        """How many of the subject's consecutive failures came from this device."""
        row = self._execute(
            "SELECT failures FROM counter_shares "
            "WHERE subject_group = ? AND subject_id = ? AND device_id = ?",
            (group, subject_id, device_id),
        ).fetchone()
        return int(row[0]) if row else 0

    def add_device_share(self, group: str, subject_id: str, device_id: str) -> None:
        self._execute(
            "INSERT INTO counter_shares (subject_group, subject_id, device_id, failures) VALUES (?, ?, ?, 1) "
            "ON CONFLICT (subject_group, subject_id, device_id) DO UPDATE SET "
            "failures = counter_shares.failures + 1",
            (group, subject_id, device_id),
        )

    # -- per-device failure budget ----------------------------------------------------------------
    def lock_device(self, device_id: str) -> None:
        """Serialise this device's budget checks across workers and nodes (a locked row)."""
        self._execute(
            "INSERT INTO device_budgets (device_id) VALUES (?) ON CONFLICT (device_id) DO NOTHING",
            (device_id,),
        )
        self._execute(
            f"SELECT device_id FROM device_budgets WHERE device_id = ?{self.for_update_clause}",  # noqa: S608
            (device_id,),
        ).fetchone()

    def device_failures(self, device_id: str, since: float) -> list[float]:
        """Times of the device's failed verifications after ``since``, oldest first; older
        entries are pruned."""
        self._execute("DELETE FROM device_failures WHERE device_id = ? AND at <= ?", (device_id, since))
        rows = self._execute(
            "SELECT at FROM device_failures WHERE device_id = ? ORDER BY at", (device_id,)
        ).fetchall()
        return [float(row[0]) for row in rows]

    def add_device_failure(self, device_id: str, at: float) -> None:
        self._execute("INSERT INTO device_failures (device_id, at) VALUES (?, ?)", (device_id, at))

    # -- keys, audit ------------------------------------------------------------------------------
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
            f"INSERT INTO audit_events ({_AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
            (
                event.at,
                event.event,
                event.outcome,
                event.device_id,
                event.subject_id,
                event.modality,
                event.key_id,
                event.detail,
                event.subject_group,
                event.credential,
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
