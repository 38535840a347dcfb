"""Device identity from the verified client certificate that nginx passes.

nginx terminates mutual TLS and always overwrites ``X-Client-Verify`` (``$ssl_client_verify``)
and ``X-Client-Cert`` (``$ssl_client_escaped_cert``, URL-escaped PEM). The service only listens
on a socket that nginx alone reaches, so these headers are trusted as nginx's word; the device id
is the SHA-256 of the certificate's DER encoding (its fingerprint), in lowercase hex.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Set
from dataclasses import dataclass
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from tlsward_biometric.errors import (
    ClientCertificateRejectedError,
    ClientCertificateRequiredError,
    OperatorRequiredError,
)

VERIFY_HEADER = "x-client-verify"
CERT_HEADER = "x-client-cert"
MAX_CERT_HEADER = 16384


@dataclass(frozen=True)
class DeviceIdentity:
    """Who is calling: the certificate fingerprint (device id), subject DN and subject OUs."""

    device_id: str
    subject: str
    ous: frozenset[str]


def certificate_identity(cert: x509.Certificate) -> DeviceIdentity:
    der = cert.public_bytes(Encoding.DER)
    ous = frozenset(
        str(attr.value) for attr in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    )
    return DeviceIdentity(hashlib.sha256(der).hexdigest(), cert.subject.rfc4514_string(), ous)


def identify(headers: Mapping[str, str]) -> DeviceIdentity:
    """The caller's identity, or 401 (no certificate) / 403 (failed or unparsable certificate)."""
    verify = headers.get(VERIFY_HEADER)
    escaped = headers.get(CERT_HEADER)
    if not verify or verify == "NONE" or not escaped:
        raise ClientCertificateRequiredError("a verified client certificate is required")
    if verify != "SUCCESS":
        raise ClientCertificateRejectedError("the client certificate failed verification")
    if len(escaped) > MAX_CERT_HEADER:
        raise ClientCertificateRejectedError("the client certificate header is too large")
    try:
        cert = x509.load_pem_x509_certificate(unquote(escaped).encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ClientCertificateRejectedError("the client certificate header does not parse") from None
    return certificate_identity(cert)


def require_operator(identity: DeviceIdentity, fingerprints: Set[str], ous: Set[str]) -> None:
    """Allow the operator endpoints only to listed fingerprints or subject OUs."""
    if identity.device_id in fingerprints or identity.ous & ous:
        return
    raise OperatorRequiredError("this endpoint needs an operator client certificate")
