"""RFC 7469 ``pin-sha256`` values: base64(SHA-256(SubjectPublicKeyInfo DER))."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from tlsward.errors import TlswardError
from tlsward.inputs import as_text
from tlsward.pem import _clean, load_public_key, pem_blocks, spki_der


def spki_sha256(public_key: Any) -> str:
    """The pin of a ``cryptography`` public key object."""
    return base64.b64encode(hashlib.sha256(spki_der(public_key)).digest()).decode("ascii")


def spki_pins(pem: Any, passphrase: str | None = None) -> list[str]:
    """The pin of every certificate, CSR, public key or private key in ``pem``, in order."""
    source = "spki_pin"
    text = as_text(pem, source, "input")
    blocks = pem_blocks(text)
    if not blocks:
        raise TlswardError(source, "input: no PEM block found (certificate, CSR or key expected)")
    password = passphrase.encode() if isinstance(passphrase, str) else None
    pins: list[str] = []
    problems: list[str] = []
    for block in blocks:
        try:
            pins.append(spki_sha256(load_public_key(block, password)))
        except TypeError as exc:
            if "encrypted" in str(exc).lower():
                problems.append(
                    f"PEM block {block.index}: the private key is encrypted and no passphrase was given"
                )
            else:
                problems.append(f"PEM block {block.index} ({block.label}): {_clean(exc)}")
        except Exception as exc:  # any parse failure is a user-input problem
            problems.append(f"PEM block {block.index} ({block.label}): cannot be read: {_clean(exc)}")
    if problems:
        raise TlswardError(source, problems)
    return pins


def spki_pin(pem: Any, passphrase: str | None = None) -> str:
    """The pin of the first PEM object (certificate, CSR, public or private key) in ``pem``.

    ``pin-sha256`` as in RFC 7469 section 2.4; the same value whether computed from the key, its
    CSR or the certificate issued for it.
    """
    return spki_pins(pem, passphrase)[0]
