"""Trust continuity: a run must never replace the CAs a host already trusts by accident.

A front end trusts two CA sets that clients depend on: the device CA bundle (which device
certificates nginx accepts) and the CA certificates of its server chain (which devices were told
to trust). If the controller's store holds other CAs - a fresh checkout, an empty job container,
a restored backup of the wrong environment - deploying from it would lock out every device. The
check compares, per host, the CA certificates the host has now with the ones the run would
deploy, by SHA-256 fingerprint, and reports each set that shares no certificate with the store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from tlsward.errors import TlswardError
from tlsward.pem import pem_blocks

SOURCE = "tls_trust_continuity"

# What a host has (key) and the store files that replace it, below the store's CA directory.
TRUST_SETS: dict[str, tuple[str, ...]] = {
    "device_ca": ("device-ca.crt", "root.crt"),
    "server_chain": ("server-ca.crt", "root.crt"),
}
LABELS = {"device_ca": "device CA bundle", "server_chain": "server chain CAs"}


def ca_fingerprints(pem: str, what: str) -> list[str]:
    """SHA-256 fingerprints (hex) of the CA certificates in ``pem``, in order."""
    found: list[str] = []
    for block in pem_blocks(pem):
        if block.label != "CERTIFICATE":
            raise TlswardError(
                SOURCE, f"{what}: PEM block {block.index} is a {block.label}, not a certificate"
            )
        try:
            cert = x509.load_pem_x509_certificate(block.text.encode("ascii"))
        except ValueError:
            raise TlswardError(SOURCE, f"{what}: a PEM block is not a certificate") from None
        try:
            is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        if is_ca:
            found.append(hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest())
    return found


def store_fingerprints(store_ca_dir: str | Path, trust_set: str) -> list[str]:
    """Fingerprints of the store's CA files that would be deployed for ``trust_set``."""
    found: list[str] = []
    for name in TRUST_SETS[trust_set]:
        path = Path(store_ca_dir) / name
        if path.is_file():
            found += ca_fingerprints(path.read_text(), str(path))
    return found


def _short(fingerprints: list[str]) -> str:
    return ", ".join(f"sha256:{fp}" for fp in fingerprints) if fingerprints else "none"


def check_continuity(deployed: Mapping[str, Any], store_ca_dir: str | Path) -> list[str]:
    """One line per trust set the run would replace (empty: nothing a host trusts goes away).

    ``deployed`` maps a trust set (``device_ca``, ``server_chain``) to the PEM text the host
    has now, or to None/"" when the host has none yet (a new host: nothing to keep).
    """
    unknown = sorted(set(deployed) - set(TRUST_SETS))
    if unknown:
        raise TlswardError(SOURCE, f"unknown trust set(s) {unknown}; known: {sorted(TRUST_SETS)}")
    problems: list[str] = []
    for trust_set in TRUST_SETS:
        pem = deployed.get(trust_set)
        if not pem:
            continue
        host_fps = ca_fingerprints(str(pem), LABELS[trust_set])
        if not host_fps:
            continue
        store_fps = store_fingerprints(store_ca_dir, trust_set)
        if set(host_fps) & set(store_fps):
            continue
        reason = "the store has no CA" if not store_fps else "the store holds other CAs"
        problems.append(
            f"variable tls_pki_store_dir: trust continuity: the run would replace the {LABELS[trust_set]} "
            f"this host trusts ({_short(host_fps)}) with the store's ({_short(store_fps)}): {reason}. "
            f"Restore the store this fleet was deployed from ({store_ca_dir}; docs/pki.md) - "
            "deploying it would lock out every device"
        )
    return problems
