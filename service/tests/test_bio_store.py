"""Both backends (SQLite, and a real PostgreSQL server) pass the same store tests."""

import os
import threading

from tlsward_biometric.crypto import SealedTemplate
from tlsward_biometric.lockout import Counters
from tlsward_biometric.store import AuditEvent, SubjectRecord


def _record(subject_id, key_id="k1", device="dev"):
    sealed = SealedTemplate(key_id, os.urandom(12), os.urandom(64))
    return SubjectRecord(subject_id, "face-128", sealed, device, 1000.0, Counters())


def test_insert_get_conflict_delete(store):
    record = _record("alice")
    with store.transaction() as tx:
        assert tx.insert_subject(record)
        assert not tx.insert_subject(_record("alice"))
    with store.transaction() as tx:
        assert tx.get_subject("alice") == record
        assert tx.get_subject("bob") is None
        assert tx.count_subjects() == 1
        assert tx.delete_subject("alice")
        assert not tx.delete_subject("alice")
        assert tx.get_subject("alice") is None


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
        assert tx.get_subject("alice") is None


def test_counters_and_reopen(store_factory):
    store = store_factory()
    with store.transaction() as tx:
        tx.insert_subject(_record("alice"))
        assert tx.set_counters("alice", Counters(7, 1234.5, False))
        assert not tx.set_counters("nobody", Counters(1, 0.0, False))
    store.close()
    reopened = store_factory()  # counters survive a restart of the service
    with reopened.transaction() as tx:
        assert tx.get_subject("alice").counters == Counters(7, 1234.5, False)
        tx.set_counters("alice", Counters(10, 0.0, True))
    with reopened.transaction() as tx:
        assert tx.get_subject("alice").counters.hard_locked


def test_replace_sealed_is_compare_and_swap(store):
    record = _record("alice")
    new = SealedTemplate("k2", os.urandom(12), os.urandom(64))
    with store.transaction() as tx:
        tx.insert_subject(record)
        assert tx.replace_sealed("alice", record.sealed, new)
        assert not tx.replace_sealed("alice", record.sealed, new)  # already moved: no-op
        assert tx.get_subject("alice").sealed == new


def test_key_usage_and_iteration(store):
    with store.transaction() as tx:
        for name, key in [("a", "k1"), ("b", "k2"), ("c", "k1"), ("d", "k1")]:
            tx.insert_subject(_record(name, key))
        assert tx.key_usage() == {"k1": 3, "k2": 1}
        seen, after = [], ""
        while (record := tx.next_subject_not_under("k2", after)) is not None:
            seen.append(record.subject_id)
            after = record.subject_id
        assert seen == ["a", "c", "d"]


def test_retired_keys(store):
    with store.transaction() as tx:
        tx.retire_key("k0", 5.0, "op")
        tx.retire_key("k0", 6.0, "op")
        assert tx.retired_keys() == {"k0"}


def test_audit_events(store):
    event = AuditEvent(1.5, "verify", "match", "dev", "alice", "face-128", "k1")
    with store.transaction() as tx:
        tx.add_audit(event)
        tx.add_audit(AuditEvent(2.5, "delete", "deleted", "dev", "alice"))
    with store.transaction() as tx:
        events = tx.audit_events()
    assert events[0] == event
    assert [e.event for e in events] == ["verify", "delete"]


def test_concurrent_counter_updates_do_not_lose_increments(store):
    with store.transaction() as tx:
        tx.insert_subject(_record("alice"))

    def bump():
        for _ in range(10):
            with store.transaction() as tx:
                current = tx.get_subject("alice", for_update=True).counters
                tx.set_counters("alice", Counters(current.failed_count + 1, 0.0, False))

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with store.transaction() as tx:
        assert tx.get_subject("alice").counters.failed_count == 40
