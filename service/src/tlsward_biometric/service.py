"""The service's operations, independent of HTTP: enrol, verify, delete, unlock, rotate, retire.

Each operation takes the ``Grant`` that ``authz.authorize`` gave the request: who is acting (the
stable device id, and the certificate fingerprint as the credential used) and in which group.

Every operation runs in one store transaction that also records its audit event; the commit
(durable) happens before the caller gets an answer, then the event is appended to the audit log.
An operation that is refused still records its audit event before the error is raised.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

from tlsward_biometric import lockout
from tlsward_biometric.audit import AuditLog
from tlsward_biometric.authz import Grant
from tlsward_biometric.crypto import KeyRing
from tlsward_biometric.errors import (
    AlreadyEnrolledError,
    ConfigurationError,
    DeviceThrottledError,
    IntegrityError,
    KeyInUseError,
    KeyRetiredError,
    KeyUnavailableError,
    ServiceError,
    SubjectLockedError,
    SubjectNotFoundError,
    ThrottledError,
    UnknownKeyError,
)
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
        device_policy: lockout.DevicePolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.keyring = keyring
        self.registry = registry
        self.policy = policy
        self.device_policy = device_policy or lockout.DevicePolicy()
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
    def enroll(self, grant: Grant, subject_id: str, template: Template) -> SubjectRecord:
        """Enrol into the grant's group (always the enroller's own; ``authorize`` sees to it)."""
        who, group = grant.who, grant.group
        modality = self.registry.get(template.modality)
        now = self.clock()
        sealed = self.keyring.seal(subject_id, modality.name, template.to_plaintext(), group=group)
        record = SubjectRecord(group, subject_id, modality.name, sealed, who.device_id, now, who.fingerprint)
        with self.store.transaction() as tx:
            inserted = tx.insert_subject(record)
            if inserted:  # a new subject starts with no failures (also any left by probes before)
                tx.set_counters(group, subject_id, lockout.Counters())
            event = self._event(
                grant, now, "enroll", "enrolled" if inserted else "already_enrolled", subject_id
            )
            event = dataclasses.replace(event, modality=modality.name, key_id=sealed.key_id)
            tx.add_audit(event)
        self.audit_log.write(event)
        if not inserted:
            raise AlreadyEnrolledError(f"subject {subject_id} already has a template; delete it first")
        return record

    def verify(self, grant: Grant, subject_id: str, probe: Template) -> VerifyResult:
        """1:1 verification. The device's budget is checked first, then the subject's counters.

        A subject that is not enrolled is answered exactly as a non-match and counts as a failure
        for the device and for that subject id's counters (so it is throttled like an enrolled
        one); a probe of another modality than the enrolled template is a non-match too. A group
        the device may not see is answered as if no subject existed there and only the device's
        budget counts the failure: that group's counters are never touched.
        """
        who, group = grant.who, grant.group
        modality = self.registry.get(probe.modality)
        now = self.clock()
        error: ServiceError | None = None
        matched = False
        outcome = "no_match"
        key_id = None
        with self.store.transaction() as tx:
            tx.lock_device(who.device_id)
            failures = tx.device_failures(who.device_id, now - self.device_policy.window)
            counters = lockout.Counters()
            try:
                lockout.check_device(self.device_policy, failures, now)
                if grant.visible:  # another group's counters are never read nor touched
                    counters = tx.get_counters(group, subject_id, for_update=True)
                    lockout.check(self.policy, counters, now, subject_id)
                    share = tx.device_share(group, subject_id, who.device_id)
                    lockout.check_share(self.policy, self.device_policy, share, subject_id)
                record = tx.get_subject(group, subject_id) if grant.visible else None
                if record is None:
                    outcome = "subject_not_found"
                elif record.modality != modality.name:
                    outcome = "modality_mismatch"
                else:
                    key_id = record.sealed.key_id
                    enrolled = self._open(record)
                    matched = modality.is_match(modality.score(enrolled.payload, probe.payload))
                    outcome = "match" if matched else "no_match"
            except (
                DeviceThrottledError,
                ThrottledError,
                SubjectLockedError,
                IntegrityError,
                KeyUnavailableError,
            ) as exc:
                error = exc
                outcome = exc.error
            else:
                if matched:
                    if counters != lockout.Counters():
                        tx.set_counters(group, subject_id, lockout.after_success())
                else:
                    if grant.visible:
                        tx.set_counters(group, subject_id, lockout.after_failure(self.policy, counters, now))
                        tx.add_device_share(group, subject_id, who.device_id)
                    tx.add_device_failure(who.device_id, now)
            event = self._event(grant, now, "verify", outcome, subject_id)
            event = dataclasses.replace(event, modality=modality.name, key_id=key_id)
            tx.add_audit(event)
        self.audit_log.write(event)
        if error:
            raise error
        return VerifyResult(subject_id, modality.name, matched)

    def delete(self, grant: Grant, subject_id: str) -> None:
        now = self.clock()
        group = grant.group
        with self.store.transaction() as tx:
            record = tx.get_subject(group, subject_id, for_update=True) if grant.visible else None
            deleted = record is not None and tx.delete_subject(group, subject_id)
            if deleted:
                tx.set_counters(group, subject_id, lockout.Counters())
            outcome = "deleted" if deleted else "subject_not_found"
            event = self._event(grant, now, "delete", outcome, subject_id)
            if record is not None:
                event = dataclasses.replace(event, modality=record.modality, key_id=record.sealed.key_id)
            tx.add_audit(event)
        self.audit_log.write(event)
        if not deleted:
            raise SubjectNotFoundError(f"subject {subject_id} is not enrolled")

    def unlock(self, grant: Grant, subject_id: str) -> None:
        """Reset a subject's counters (also one that is not enrolled but was probed)."""
        now = self.clock()
        group = grant.group
        with self.store.transaction() as tx:
            found = tx.get_subject(group, subject_id) is not None
            known = found or tx.get_counters(group, subject_id) != lockout.Counters()
            if known:
                tx.set_counters(group, subject_id, lockout.Counters())
            outcome = "unlocked" if known else "subject_not_found"
            event = self._event(grant, now, "unlock", outcome, subject_id)
            tx.add_audit(event)
        self.audit_log.write(event)
        if not known:
            raise SubjectNotFoundError(f"subject {subject_id} of group {group!r} is not enrolled")

    def adopt_group(self, grant: Grant, group: str, limit: int | None = None) -> int:
        """Move subjects enrolled before groups existed (group ``""``) into ``group``, re-sealing
        each template for its new group. Returns how many moved; resumable."""
        moved = 0
        while limit is None or moved < limit:
            with self.store.transaction() as tx:
                batch = tx.subjects_of_group("", 1)
                if not batch:
                    break
                record = batch[0]
                now = self.clock()
                template = self._open(record)
                sealed = self.keyring.seal(
                    record.subject_id, record.modality, template.to_plaintext(), group=group
                )
                outcome = "adopted" if tx.move_subject(record, group, sealed) else "already_enrolled"
                event = AuditEvent(
                    now,
                    "adopt_group",
                    outcome,
                    grant.who.device_id,
                    record.subject_id,
                    record.modality,
                    sealed.key_id,
                    subject_group=group,
                    credential=grant.who.fingerprint,
                )
                tx.add_audit(event)
            self.audit_log.write(event)
            if outcome != "adopted":
                raise AlreadyEnrolledError(
                    f"subject {record.subject_id} already exists in group {group!r}; delete one of them"
                )
            moved += 1
        return moved

    # -- keys -------------------------------------------------------------------------------
    def key_status(self) -> KeyStatus:
        with self.store.transaction() as tx:
            usage = tx.key_usage()
            retired = tx.retired_keys()
        return KeyStatus(self.keyring.active_key_id, sorted(self.keyring.key_ids), sorted(retired), usage)

    def rotate(
        self, grant: Grant, target_key_id: str | None = None, max_records: int | None = None
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
        after = ("", "")
        while max_records is None or done < max_records:
            error: ServiceError | None = None
            with self.store.transaction() as tx:
                record = tx.next_subject_not_under(target, after)
                if record is None:
                    break
                after = (record.subject_group, record.subject_id)
                now = self.clock()
                try:
                    template = self._open(record)
                except (IntegrityError, KeyUnavailableError) as exc:
                    error = exc
                else:
                    sealed = self.keyring.seal(
                        record.subject_id,
                        record.modality,
                        template.to_plaintext(),
                        key_id=target,
                        group=record.subject_group,
                    )
                    tx.replace_sealed(record.subject_group, record.subject_id, record.sealed, sealed)
                    done += 1
                event = AuditEvent(
                    now,
                    "rotate",
                    error.error if error else "reencrypted",
                    grant.who.device_id,
                    record.subject_id,
                    record.modality,
                    target,
                    f"from key {record.sealed.key_id}",
                    subject_group=record.subject_group,
                    credential=grant.who.fingerprint,
                )
                tx.add_audit(event)
            self.audit_log.write(event)
            if error:
                raise error
        with self.store.transaction() as tx:
            usage = tx.key_usage()
        remaining = sum(count for key_id, count in usage.items() if key_id != target)
        return RotationResult(target, done, remaining, usage)

    def retire(self, grant: Grant, key_id: str) -> bool:
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
                tx.retire_key(key_id, now, grant.who.device_id)
                outcome = "retired"
            event = AuditEvent(
                now,
                "retire_key",
                outcome,
                grant.who.device_id,
                key_id=key_id,
                credential=grant.who.fingerprint,
            )
            tx.add_audit(event)
        self.audit_log.write(event)
        if outcome == "key_active":
            raise KeyInUseError(f"key {key_id!r} is the active key; activate another key first")
        if outcome == "key_in_use":
            raise KeyInUseError(f"key {key_id!r} still seals {in_use} record(s); rotate them first")
        return outcome == "retired"

    # -- helpers ----------------------------------------------------------------------------
    @staticmethod
    def _event(grant: Grant, now: float, event: str, outcome: str, subject_id: str) -> AuditEvent:
        return AuditEvent(
            now,
            event,
            outcome,
            grant.who.device_id,
            subject_id,
            subject_group=grant.group,
            credential=grant.who.fingerprint,
        )

    def _open(self, record: SubjectRecord) -> Template:
        plaintext = self.keyring.open(
            record.subject_id, record.modality, record.sealed, group=record.subject_group
        )
        try:
            template = Template.from_plaintext(record.modality, plaintext)
        except ValueError:
            raise IntegrityError(f"subject {record.subject_id}: unknown template format") from None
        if len(template.payload) != self.registry.get(record.modality).spec.payload_bytes:
            raise IntegrityError(f"subject {record.subject_id}: template size does not fit its modality")
        return template
