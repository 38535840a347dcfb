#!/usr/bin/env python3
"""Throw-away PKI for the biometric_service scenario (controller side, idempotent).

    make_test_pki.py DIR ADDRESS NAME

Writes into DIR: a server root and an ECDSA server certificate for NAME and ADDRESS; a device
root and device issuing CA (device-ca.pem, with a CRL for each in device-crl.pem); client
certificates for two devices (device-a, device-b) and an operator (OU tlsward-operators).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = dt.datetime.now(dt.UTC)


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(cn: str, ou: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tlsward test")]
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _cert(subject, key, issuer, issuer_key, *, ca: bool, extensions=()) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(hours=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _crl(issuer: x509.Certificate, issuer_key) -> x509.CertificateRevocationList:
    return (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(NOW - dt.timedelta(hours=1))
        .next_update(NOW + dt.timedelta(days=7))
        .add_extension(x509.CRLNumber(1), critical=False)
        .sign(issuer_key, hashes.SHA256())
    )


def _pem(obj) -> bytes:
    return obj.public_bytes(serialization.Encoding.PEM)


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def main(out: Path, address: str, name: str) -> None:
    if (out / "done").exists():
        return
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    server_root_key, device_root_key, issuing_key = _key(), _key(), _key()
    server_root = _cert(
        _name("tlsward test server root"),
        server_root_key,
        _name("tlsward test server root"),
        server_root_key,
        ca=True,
    )
    device_root = _cert(
        _name("tlsward test device root"),
        device_root_key,
        _name("tlsward test device root"),
        device_root_key,
        ca=True,
    )
    issuing = _cert(
        _name("tlsward test device issuing CA"), issuing_key, device_root.subject, device_root_key, ca=True
    )
    server_key = _key()
    server = _cert(
        _name(name),
        server_key,
        server_root.subject,
        server_root_key,
        ca=False,
        extensions=[
            x509.SubjectAlternativeName([x509.DNSName(name), x509.IPAddress(ipaddress.ip_address(address))]),
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
        ],
    )
    files = {
        "server-root.pem": _pem(server_root),
        "server.pem": _pem(server),
        "server.key": _key_pem(server_key),
        "device-ca.pem": _pem(issuing) + _pem(device_root),
        "device-crl.pem": _pem(_crl(issuing, issuing_key)) + _pem(_crl(device_root, device_root_key)),
    }
    for client, ou in (("device-a", "devices"), ("device-b", "devices"), ("operator", "tlsward-operators")):
        key = _key()
        cert = _cert(
            _name(f"{client}.tlsward.test", ou),
            key,
            issuing.subject,
            issuing_key,
            ca=False,
            extensions=[x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])],
        )
        files[f"{client}.pem"] = _pem(cert)
        files[f"{client}.key"] = _key_pem(key)
    for filename, data in files.items():
        (out / filename).write_bytes(data)
        (out / filename).chmod(0o600)
    (out / "done").write_text("ok\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], sys.argv[3])
