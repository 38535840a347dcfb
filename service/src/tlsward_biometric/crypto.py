"""Template encryption: AES-256-GCM, a fresh 96-bit nonce per record, and associated data that
binds the ciphertext to its group, subject, key id and modality (a ciphertext moved to another
subject or group, relabelled with another key id or modality fails authentication). Records from
before groups existed (group ``""``) keep the first associated-data format, without a group.

Keys are 256-bit, versioned by id, and loaded from ``<key dir>/<key id>.key`` files holding 64
hex characters. A key file readable by group or others is refused.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tlsward_biometric.errors import ConfigurationError, IntegrityError, KeyUnavailableError
from tlsward_biometric.settings import KEY_ID_PATTERN

NONCE_BYTES = 12
KEY_BYTES = 32
AAD_LABEL = b"tlsward-biometric/template/v1"
AAD_LABEL_GROUP = b"tlsward-biometric/template/v2"
_KEY_ID = re.compile(KEY_ID_PATTERN)
_HEX_KEY = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class SealedTemplate:
    """What the store keeps for a template: the key id, the nonce and ciphertext (with tag)."""

    key_id: str
    nonce: bytes
    ciphertext: bytes


def associated_data(subject_id: str, key_id: str, modality: str, group: str = "") -> bytes:
    """Length-prefixed label, [group,] subject id, key id and modality (unambiguous concatenation).

    ``group=""`` is the format of records sealed before subjects belonged to groups.
    """
    out = bytearray(AAD_LABEL_GROUP if group else AAD_LABEL)
    parts = (group, subject_id, key_id, modality) if group else (subject_id, key_id, modality)
    for part in parts:
        encoded = part.encode("utf-8")
        out += len(encoded).to_bytes(2, "big") + encoded
    return bytes(out)


class KeyRing:
    """The template keys the service holds, and the id of the one new records are sealed with."""

    def __init__(self, keys: Mapping[str, bytes], active_key_id: str) -> None:
        problems = [
            f"key {kid!r}: id does not match {KEY_ID_PATTERN}" for kid in keys if not _KEY_ID.match(kid)
        ]
        problems += [
            f"key {kid!r}: {len(key)} bytes, need {KEY_BYTES}"
            for kid, key in keys.items()
            if len(key) != KEY_BYTES
        ]
        if active_key_id not in keys:
            problems.append(f"active key {active_key_id!r} not loaded (loaded: {sorted(keys)})")
        if problems:
            raise ConfigurationError("; ".join(problems))
        self._ciphers = {kid: AESGCM(key) for kid, key in keys.items()}
        self.active_key_id = active_key_id

    @classmethod
    def load(cls, key_dir: Path, active_key_id: str) -> KeyRing:
        """Read every ``*.key`` file in ``key_dir``; refuse group/other-readable or malformed ones."""
        problems: list[str] = []
        keys: dict[str, bytes] = {}
        try:
            entries = sorted(key_dir.glob("*.key"))
        except OSError as exc:
            raise ConfigurationError(f"key directory {key_dir}: {exc.strerror}") from None
        for path in entries:
            key_id = path.stem
            try:
                info = path.stat()
                text = path.read_text(encoding="ascii").strip()
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(f"{path}: unreadable ({exc})")
                continue
            if not stat.S_ISREG(info.st_mode):
                problems.append(f"{path}: not a regular file")
            elif info.st_mode & 0o077:
                problems.append(f"{path}: mode {stat.S_IMODE(info.st_mode):04o} lets group/others read it")
            elif not _KEY_ID.match(key_id):
                problems.append(f"{path}: key id {key_id!r} does not match {KEY_ID_PATTERN}")
            elif not _HEX_KEY.match(text):
                problems.append(f"{path}: not 64 hex characters (a 256-bit key)")
            else:
                keys[key_id] = bytes.fromhex(text)
        if not keys and not problems:
            problems.append(f"key directory {key_dir}: no *.key files")
        if problems:
            raise ConfigurationError("; ".join(problems))
        return cls(keys, active_key_id)

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._ciphers)

    def seal(
        self, subject_id: str, modality: str, plaintext: bytes, key_id: str | None = None, *, group: str
    ) -> SealedTemplate:
        key_id = key_id or self.active_key_id
        cipher = self._cipher(key_id)
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = cipher.encrypt(nonce, plaintext, associated_data(subject_id, key_id, modality, group))
        return SealedTemplate(key_id, nonce, ciphertext)

    def open(self, subject_id: str, modality: str, sealed: SealedTemplate, *, group: str) -> bytes:
        """Decrypt and authenticate; any failure is an IntegrityError (fail closed)."""
        cipher = self._cipher(sealed.key_id)
        if len(sealed.nonce) != NONCE_BYTES:
            raise IntegrityError(f"subject {subject_id}: stored nonce has {len(sealed.nonce)} bytes")
        try:
            return cipher.decrypt(
                sealed.nonce, sealed.ciphertext, associated_data(subject_id, sealed.key_id, modality, group)
            )
        except InvalidTag:
            raise IntegrityError(
                f"subject {subject_id}: template ciphertext failed authentication under key {sealed.key_id}"
            ) from None

    def _cipher(self, key_id: str) -> AESGCM:
        try:
            return self._ciphers[key_id]
        except KeyError:
            raise KeyUnavailableError(f"key {key_id!r} is not loaded") from None
