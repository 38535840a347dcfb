"""Both backends (SQLite, and a real PostgreSQL server) pass the same store tests."""

import os
import sqlite3
import threading

import psycopg
from tlsward_biometric.crypto import SealedTemplate
from tlsward_biometric.lockout import Counters
from tlsward_biometric.store import AuditEvent, PostgresStore, SqliteStore, SubjectRecord

G = "site-a"


def _record(subject_id, key_id="k1", device="dev", group=G):
    sealed = SealedTemplate(key_id, os.urandom(12), os.urandom(64))
    return SubjectRecord(group, subject_id, "face-128", sealed, device, 1000.0, "ab" * 32)


def test_insert_get_conflict_delete(store):
    record = _record("alice")
    with store.transaction() as tx:
        assert tx.insert_subject(record)
        assert not tx.insert_subject(_record("alice"))
        assert tx.insert_subject(_record("alice", group="site-b"))  # another group's alice
    with store.transaction() as tx:
        assert tx.get_subject(G, "alice") == record
        assert tx.get_subject(G, "bob") is None
        assert tx.count_subjects() == 2
        assert tx.delete_subject(G, "alice")
        assert not tx.delete_subject(G, "alice")
        assert tx.get_subject(G, "alice") is None
        assert tx.get_subject("site-b", "alice") is not None


def test_exception_rolls_back(store):
    class Boom(Exception):
        pass

    try:
        with store.transaction() as tx:
            tx.insert_subject(_record("alice"))
            raise Boom
    except Boom:
        pass
    with store.transaction() as tx:
        assert tx.get_subject(G, "alice") is None


def test_counters_exist_without_a_subject_and_survive_reopen(store_factory):
    store = store_factory()
    with store.transaction() as tx:
        assert tx.get_counters(G, "nobody") == Counters()
        tx.set_counters(G, "nobody", Counters(7, 1234.5, False))
        tx.add_device_share(G, "nobody", "dev")
        tx.add_device_share(G, "nobody", "dev")
        assert tx.device_share(G, "nobody", "dev") == 2
        assert tx.get_counters("site-b", "nobody") == Counters()
    store.close()
    reopened = store_factory()  # counters survive a restart of the service
    with reopened.transaction() as tx:
        assert tx.get_counters(G, "nobody", for_update=True) == Counters(7, 1234.5, False)
        tx.set_counters(G, "nobody", Counters(10, 0.0, True))
    with reopened.transaction() as tx:
        assert tx.get_counters(G, "nobody").hard_locked
        tx.set_counters(G, "nobody", Counters())  # a reset forgets the devices' shares
        assert tx.device_share(G, "nobody", "dev") == 0


def test_device_failures_slide_out_of_the_window(store):
    with store.transaction() as tx:
        tx.lock_device("dev")
        for at in (10.0, 20.0, 30.0):
            tx.add_device_failure("dev", at)
        tx.add_device_failure("other", 25.0)
        assert tx.device_failures("dev", 0.0) == [10.0, 20.0, 30.0]
        assert tx.device_failures("dev", 15.0) == [20.0, 30.0]
        assert tx.device_failures("dev", 0.0) == [20.0, 30.0]  # pruned
        assert tx.device_failures("other", 0.0) == [25.0]


def test_replace_sealed_is_compare_and_swap(store):
    record = _record("alice")
    new = SealedTemplate("k2", os.urandom(12), os.urandom(64))
    with store.transaction() as tx:
        tx.insert_subject(record)
        assert tx.replace_sealed(G, "alice", record.sealed, new)
        assert not tx.replace_sealed(G, "alice", record.sealed, new)  # already moved: no-op
        assert tx.get_subject(G, "alice").sealed == new


def test_key_usage_and_iteration(store):
    with store.transaction() as tx:
        for group, name, key in [("b", "a", "k1"), ("a", "b", "k2"), ("a", "c", "k1"), ("a", "d", "k1")]:
            tx.insert_subject(_record(name, key, group=group))
        assert tx.key_usage() == {"k1": 3, "k2": 1}
        seen, after = [], ("", "")
        while (record := tx.next_subject_not_under("k2", after)) is not None:
            seen.append((record.subject_group, record.subject_id))
            after = (record.subject_group, record.subject_id)
        assert seen == [("a", "c"), ("a", "d"), ("b", "a")]


def test_retired_keys(store):
    with store.transaction() as tx:
        tx.retire_key("k0", 5.0, "op")
        tx.retire_key("k0", 6.0, "op")
        assert tx.retired_keys() == {"k0"}


def test_audit_events(store):
    event = AuditEvent(1.5, "verify", "match", "dev", "alice", "face-128", "k1", None, G, "ab" * 32)
    with store.transaction() as tx:
        tx.add_audit(event)
        tx.add_audit(AuditEvent(2.5, "delete", "deleted", "dev", "alice"))
    with store.transaction() as tx:
        events = tx.audit_events()
    assert events[0] == event
    assert [e.event for e in events] == ["verify", "delete"]


def test_concurrent_counter_updates_do_not_lose_increments(store):
    def bump():
        for _ in range(10):
            with store.transaction() as tx:
                current = tx.get_counters(G, "alice", for_update=True)  # the row need not exist yet
                tx.set_counters(G, "alice", Counters(current.failed_count + 1, 0.0, False))

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with store.transaction() as tx:
        assert tx.get_counters(G, "alice").failed_count == 40


# A database written before subjects had groups (schema 1), as the earlier service created it.
SCHEMA_1 = """
CREATE TABLE subjects (
    subject_id TEXT PRIMARY KEY, modality TEXT NOT NULL, key_id TEXT NOT NULL,
    nonce {blob} NOT NULL, ciphertext {blob} NOT NULL, enrolled_by TEXT NOT NULL,
    enrolled_at {real} NOT NULL, failed_count INTEGER NOT NULL DEFAULT 0,
    locked_until {real} NOT NULL DEFAULT 0, hard_locked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX subjects_key_id ON subjects (key_id);
CREATE TABLE retired_keys (key_id TEXT PRIMARY KEY, retired_at {real} NOT NULL, retired_by TEXT NOT NULL);
CREATE TABLE audit_events (
    id {serial} PRIMARY KEY, at {real} NOT NULL, event TEXT NOT NULL, outcome TEXT NOT NULL,
    device_id TEXT, subject_id TEXT, modality TEXT, key_id TEXT, detail TEXT
);
INSERT INTO subjects VALUES ('alice', 'face-128', 'k1', {nonce}, {ct}, 'f00d', 1.0, 3, 0, 0);
INSERT INTO audit_events (at, event, outcome) VALUES (1.0, 'enroll', 'enrolled')
"""


def test_schema_1_database_is_migrated_in_place(store_factory, request, tmp_path):
    if "sqlite" in request.node.callspec.id:
        path = tmp_path / "biometric.db"
        conn = sqlite3.connect(path)
        ddl = SCHEMA_1.format(blob="BLOB", real="REAL", serial="INTEGER", nonce="x'00'", ct="x'01'")
        conn.executescript(ddl)
        conn.close()
    else:
        dsn = request.getfixturevalue("pg_dsn")
        ddl = SCHEMA_1.format(
            blob="BYTEA", real="DOUBLE PRECISION", serial="BIGSERIAL", nonce="'\\x00'", ct="'\\x01'"
        )
        with psycopg.connect(dsn, autocommit=True) as conn:
            for statement in ddl.split(";"):
                conn.execute(statement)
    store = store_factory()
    assert isinstance(store, SqliteStore | PostgresStore)
    with store.transaction() as tx:
        legacy = tx.get_subject("", "alice")
        assert (legacy.enrolled_by, legacy.sealed.nonce, legacy.enrolled_credential) == ("f00d", b"\0", None)
        assert tx.get_counters("", "alice") == Counters(3, 0.0, False)
        assert "subject_group" in tx.columns("audit_events")
        assert tx.audit_events()[0].event == "enroll"
        assert tx.key_usage() == {"k1": 1}
        index = tx.columns("subjects_v1")
    assert not index  # the old table is gone
    store.close()
    with store_factory().transaction() as tx:  # opening again changes nothing
        assert tx.count_subjects() == 1
