"""JSON-lines audit log. The same events go to the store's ``audit_events`` table, inside the
transaction of the operation they describe; this file is the copy log shippers read.

An event names the time, operation, outcome, the stable device id and the fingerprint of the
certificate it presented (``credential``), the subject and its group, modality and key id. It
never contains template data, comparison scores or key material.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from tlsward_biometric.store.base import AuditEvent


def event_json(event: AuditEvent) -> str:
    record = {
        "time": datetime.fromtimestamp(event.at, UTC).isoformat(timespec="milliseconds"),
        "event": event.event,
        "outcome": event.outcome,
        "device_id": event.device_id,
        "credential": event.credential,
        "subject_group": event.subject_group,
        "subject_id": event.subject_id,
        "modality": event.modality,
        "key_id": event.key_id,
    }
    if event.detail:
        record["detail"] = event.detail
    return json.dumps(record, separators=(",", ":"), sort_keys=True)


class AuditLog:
    """Appends one line per event with a single write(2) on an O_APPEND descriptor, so lines
    from several worker processes never interleave."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fd: int | None = None
        self._lock = threading.Lock()
        if path is not None:
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def write(self, event: AuditEvent) -> None:
        if self._fd is None:
            return
        line = (event_json(event) + "\n").encode("utf-8")
        with self._lock:
            os.write(self._fd, line)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
