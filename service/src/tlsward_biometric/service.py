"""The service's operations, independent of HTTP: enrol, verify, delete, unlock, rotate, retire.

Every operation runs in one store transaction that also records its audit event; the commit
(durable) happens before the caller gets an answer, then the event is appended to the audit log.
An operation that is refused still records its audit event before the error is raised.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from tlsward_biometric import lockout
from tlsward_biometric.audit import AuditLog
from tlsward_biometric.crypto import KeyRing
from tlsward_biometric.errors import (
    AlreadyEnrolledError,
    ConfigurationError,
    IntegrityError,
    KeyInUseError,
    KeyRetiredError,
    KeyUnavailableError,
    ModalityMismatchError,
    ServiceError,
    SubjectLockedError,
    SubjectNotFoundError,
    ThrottledError,
    UnknownKeyError,
)
from tlsward_biometric.identity import DeviceIdentity
from tlsward_biometric.modalities import ModalityRegistry
from tlsward_biometric.store.base import AuditEvent, Store, SubjectRecord
from tlsward_biometric.templates import Template


@dataclass(frozen=True)
class VerifyResult:
    subject_id: str
    modality: str
    match: bool


@dataclass(frozen=True)
class RotationResult:
    target_key_id: str
    reencrypted: int
    remaining: int
    key_usage: dict[str, int]


@dataclass(frozen=True)
class KeyStatus:
    active_key_id: str
    loaded: list[str]
    retired: list[str]
    usage: dict[str, int]


class BiometricService:
    def __init__(
        self,
        *,
        store: Store,
        keyring: KeyRing,
        registry: ModalityRegistry,
        policy: lockout.LockoutPolicy,
        audit_log: AuditLog,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.keyring = keyring
        self.registry = registry
        self.policy = policy
        self.audit_log = audit_log
        self.clock = clock

    # -- checks -----------------------------------------------------------------------------
    def check_keys(self) -> None:
        """The active key must not be retired (retired keys are gone for good)."""
        with self.store.transaction() as tx:
            retired = tx.retired_keys()
        if self.keyring.active_key_id in retired:
            raise ConfigurationError(f"active key {self.keyring.active_key_id!r} has been retired")

    def ready(self) -> None:
        self.store.ping()

    # -- subjects ---------------------------------------------------------------------------
    def enroll(self, who: DeviceIdentity, subject_id: str, template: Template) -> SubjectRecord:
        modality = self.registry.get(template.modality)
        now = self.clock()
        sealed = self.keyring.seal(subject_id, modality.name, template.to_plaintext())
        record = SubjectRecord(subject_id, modality.name, sealed, who.device_id, now, lockout.Counters())
        with self.store.transaction() as tx:
            inserted = tx.insert_subject(record)
            outcome = "enrolled" if inserted else "already_enrolled"
            event = AuditEvent(
                now, "enroll", outcome, who.device_id, subject_id, modality.name, sealed.key_id
            )
            tx.add_audit(event)
        self.audit_log.write(event)
        if not inserted:
            raise AlreadyEnrolledError(f"subject {subject_id} already has a template; delete it first")
        return record

    def verify(self, who: DeviceIdentity, subject_id: str, probe: Template) -> VerifyResult:
        modality = self.registry.get(probe.modality)
        now = self.clock()
        error: ServiceError | None = None
        matched = False
        key_id = None
        with self.store.transaction() as tx:
            record = tx.get_subject(subject_id, for_update=True)
            if record is None:
                error = SubjectNotFoundError(f"subject {subject_id} is not enrolled")
            elif record.modality != modality.name:
                error = ModalityMismatchError(
                    f"subject {subject_id} is enrolled with {record.modality}, the probe is {modality.name}"
                )
            else:
                key_id = record.sealed.key_id
                try:
                    lockout.check(self.policy, record.counters, now, subject_id)
                    enrolled = self._open(record)
                except (ThrottledError, SubjectLockedError, IntegrityError, KeyUnavailableError) as exc:
                    error = exc
                else:
                    matched = modality.is_match(modality.score(enrolled.payload, probe.payload))
                    counters = (
                        lockout.after_success()
                        if matched
                        else lockout.after_failure(self.policy, record.counters, now)
                    )
                    if counters != record.counters:
                        tx.set_counters(subject_id, counters)
            outcome = error.error if error else ("match" if matched else "no_match")
            event = AuditEvent(now, "verify", outcome, who.device_id, subject_id, modality.name, key_id)
            tx.add_audit(event)
        self.audit_log.write(event)
        if error:
            raise error
        return VerifyResult(subject_id, modality.name, matched)

    def delete(self, who: DeviceIdentity, subject_id: str) -> None:
        now = self.clock()
        with self.store.transaction() as tx:
            record = tx.get_subject(subject_id, for_update=True)
            deleted = tx.delete_subject(subject_id)
            event = AuditEvent(
                now,
                "delete",
                "deleted" if deleted else "subject_not_found",
                who.device_id,
                subject_id,
                record.modality if record else None,
                record.sealed.key_id if record else None,
            )
            tx.add_audit(event)
        self.audit_log.write(event)
        if not deleted:
            raise SubjectNotFoundError(f"subject {subject_id} is not enrolled")

    def unlock(self, who: DeviceIdentity, subject_id: str) -> None:
        now = self.clock()
        with self.store.transaction() as tx:
            found = tx.set_counters(subject_id, lockout.Counters())
            event = AuditEvent(
                now, "unlock", "unlocked" if found else "subject_not_found", who.device_id, subject_id
            )
            tx.add_audit(event)
        self.audit_log.write(event)
        if not found:
            raise SubjectNotFoundError(f"subject {subject_id} is not enrolled")

    # -- keys -------------------------------------------------------------------------------
    def key_status(self) -> KeyStatus:
        with self.store.transaction() as tx:
            usage = tx.key_usage()
            retired = tx.retired_keys()
        return KeyStatus(self.keyring.active_key_id, sorted(self.keyring.key_ids), sorted(retired), usage)

    def rotate(
        self, who: DeviceIdentity, target_key_id: str | None = None, max_records: int | None = None
    ) -> RotationResult:
        """Re-encrypt every record not under ``target_key_id`` (default: the active key).

        Each record is re-encrypted and committed in its own transaction, guarded by a
        compare-and-swap on its old key id and nonce: an interrupted rotation is resumed by running
        it again, and records already moved are skipped. ``max_records`` bounds one call's work.
        """
        target = target_key_id or self.keyring.active_key_id
        if target not in self.keyring.key_ids:
            raise UnknownKeyError(f"target key {target!r} is not loaded")
        with self.store.transaction() as tx:
            if target in tx.retired_keys():
                raise KeyRetiredError(f"target key {target!r} has been retired")
        done = 0
        after = ""
        while max_records is None or done < max_records:
            error: ServiceError | None = None
            with self.store.transaction() as tx:
                record = tx.next_subject_not_under(target, after)
                if record is None:
                    break
                after = record.subject_id
                now = self.clock()
                try:
                    template = self._open(record)
                except (IntegrityError, KeyUnavailableError) as exc:
                    error = exc
                else:
                    sealed = self.keyring.seal(
                        record.subject_id, record.modality, template.to_plaintext(), key_id=target
                    )
                    tx.replace_sealed(record.subject_id, record.sealed, sealed)
                    done += 1
                event = AuditEvent(
                    now,
                    "rotate",
                    error.error if error else "reencrypted",
                    who.device_id,
                    record.subject_id,
                    record.modality,
                    target,
                    f"from key {record.sealed.key_id}",
                )
                tx.add_audit(event)
            self.audit_log.write(event)
            if error:
                raise error
        with self.store.transaction() as tx:
            usage = tx.key_usage()
        remaining = sum(count for key_id, count in usage.items() if key_id != target)
        return RotationResult(target, done, remaining, usage)

    def retire(self, who: DeviceIdentity, key_id: str) -> bool:
        """Mark a key retired; refused while it is active or any record is sealed with it.

        Returns False when the key had already been retired (nothing changed).
        """
        now = self.clock()
        with self.store.transaction() as tx:
            in_use = tx.key_usage().get(key_id, 0)
            if key_id == self.keyring.active_key_id:
                outcome = "key_active"
            elif in_use:
                outcome = "key_in_use"
            elif key_id in tx.retired_keys():
                outcome = "already_retired"
            else:
                tx.retire_key(key_id, now, who.device_id)
                outcome = "retired"
            event = AuditEvent(now, "retire_key", outcome, who.device_id, key_id=key_id)
            tx.add_audit(event)
        self.audit_log.write(event)
        if outcome == "key_active":
            raise KeyInUseError(f"key {key_id!r} is the active key; activate another key first")
        if outcome == "key_in_use":
            raise KeyInUseError(f"key {key_id!r} still seals {in_use} record(s); rotate them first")
        return outcome == "retired"

    # -- helpers ----------------------------------------------------------------------------
    def _open(self, record: SubjectRecord) -> Template:
        plaintext = self.keyring.open(record.subject_id, record.modality, record.sealed)
        try:
            template = Template.from_plaintext(record.modality, plaintext)
        except ValueError:
            raise IntegrityError(f"subject {record.subject_id}: unknown template format") from None
        if len(template.payload) != self.registry.get(record.modality).spec.payload_bytes:
            raise IntegrityError(f"subject {record.subject_id}: template size does not fit its modality")
        return template
