"""Device identity from the verified client certificate that nginx passes.

nginx terminates mutual TLS and always overwrites ``X-Client-Verify`` (``$ssl_client_verify``)
and ``X-Client-Cert`` (``$ssl_client_escaped_cert``, URL-escaped PEM). The service only listens
on a socket that nginx alone reaches, so these headers are trusted as nginx's word.

Who the caller is comes from three URI subjectAltNames the device CA writes into every device
certificate (the device never chooses them; the CA ignores what a CSR asks for):

- ``urn:tlsward:device:<id>``: the stable device id. It stays the same when the certificate is
  renewed or the key replaced; records and audit events name the device by it.
- ``urn:tlsward:role:<role>``: one of ``enroller``, ``verifier``, ``operator``, ``monitor``.
- ``urn:tlsward:group:<group>``: the site or tenant the device belongs to.

A certificate must carry exactly one of each. The SHA-256 fingerprint of the certificate's DER
encoding is kept beside the id as the credential used (audit events record both).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from tlsward_biometric.errors import (
    ClientCertificateRejectedError,
    ClientCertificateRequiredError,
    DeviceIdentityError,
)

VERIFY_HEADER = "x-client-verify"
CERT_HEADER = "x-client-cert"
MAX_CERT_HEADER = 16384

DEVICE_URI = "urn:tlsward:device:"
ROLE_URI = "urn:tlsward:role:"
GROUP_URI = "urn:tlsward:group:"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_NAME = re.compile(NAME_PATTERN)


class Role(StrEnum):
    """What a device is for (``urn:tlsward:role:<role>``)."""

    ENROLLER = "enroller"
    VERIFIER = "verifier"
    OPERATOR = "operator"
    MONITOR = "monitor"


@dataclass(frozen=True)
class DeviceIdentity:
    """Who is calling: stable device id, role and group, and the certificate that said so."""

    device_id: str
    role: Role
    group: str
    fingerprint: str
    subject: str


def _one(uris: list[str], prefix: str, what: str) -> str:
    values = [uri[len(prefix) :] for uri in uris if uri.startswith(prefix)]
    if not values:
        raise DeviceIdentityError(f"the client certificate has no {prefix}<{what}> subjectAltName")
    if len(values) > 1:
        raise DeviceIdentityError(f"the client certificate has {len(values)} {prefix}<{what}> names")
    if not _NAME.match(values[0]):
        raise DeviceIdentityError(f"the client certificate's {what} {values[0]!r} is not a valid name")
    return values[0]


def certificate_identity(cert: x509.Certificate) -> DeviceIdentity:
    """The identity a device certificate carries, or DeviceIdentityError (403)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise DeviceIdentityError("the client certificate has no subjectAltName") from None
    except ValueError:
        raise DeviceIdentityError("the client certificate's subjectAltName does not parse") from None
    uris = [str(uri) for uri in san.get_values_for_type(x509.UniformResourceIdentifier)]
    device_id = _one(uris, DEVICE_URI, "id")
    role_name = _one(uris, ROLE_URI, "role")
    group = _one(uris, GROUP_URI, "group")
    try:
        role = Role(role_name)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise DeviceIdentityError(
            f"the client certificate's role {role_name!r} is not one of {known}"
        ) from None
    fingerprint = hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()
    return DeviceIdentity(device_id, role, group, fingerprint, cert.subject.rfc4514_string())


def identify(headers: Mapping[str, str]) -> DeviceIdentity:
    """The caller's identity, or 401 (no certificate) / 403 (failed, unparsable, no identity)."""
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
