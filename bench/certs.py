"""Certificates the benchmarks serve, generated for each run with ``cryptography``.

One bench CA signs the ECDSA P-256 leaf (what tlsward deploys) and the RSA-2048 leaf (the
Mozilla-intermediate comparison); the Debian-stock comparison gets a self-signed RSA-2048
certificate like the ``ssl-cert`` package's snakeoil. A device CA signs the client certificate
used for mTLS. Every server sends its leaf only, so chains are the same length everywhere.
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bench.bio_store import GROUP as BENCH_GROUP

SERVER_NAME = "bench.tlsward.test"
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclasses.dataclass(frozen=True)
class Pair:
    cert: Path
    key: Path


@dataclasses.dataclass(frozen=True)
class Pki:
    ca: Path  # bench CA (trust anchor for the ECDSA and RSA leaves)
    ecdsa: Pair
    rsa: Pair
    snakeoil: Pair  # self-signed, is its own trust anchor
    device_ca: Path
    device: Pair


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: PrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _write_cert(cert: x509.Certificate, path: Path) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _builder(subject: str, issuer: x509.Name, public_key: object, days: int) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
    )


def _ca(subject: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(subject, _name(subject), key.public_key(), 365)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _leaf(
    key: PrivateKey,
    subject: str,
    issuer_key: PrivateKey,
    issuer: x509.Certificate | None,
    usage: x509.ObjectIdentifier,
) -> x509.Certificate:
    issuer_name = issuer.subject if issuer is not None else _name(subject)
    builder = (
        _builder(subject, issuer_name, key.public_key(), 60)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if usage == ExtendedKeyUsageOID.SERVER_AUTH:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(subject)]),
            critical=False,
        )
    else:  # a device: its id, role and group, as tls_pki's device_issue writes them
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.UniformResourceIdentifier(f"urn:tlsward:device:{subject}"),
                    x509.UniformResourceIdentifier("urn:tlsward:role:verifier"),
                    x509.UniformResourceIdentifier(f"urn:tlsward:group:{BENCH_GROUP}"),
                ]
            ),
            critical=False,
        )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def make_pki(directory: Path) -> Pki:
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _ca("tlsward bench CA")
    _write_cert(ca_cert, directory / "ca.pem")

    pairs: dict[str, Pair] = {}
    leaves: dict[str, tuple[PrivateKey, PrivateKey, x509.Certificate | None]] = {}
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    snake_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaves["ecdsa"] = (ec_key, ca_key, ca_cert)
    leaves["rsa"] = (rsa_key, ca_key, ca_cert)
    leaves["snakeoil"] = (snake_key, snake_key, None)
    for label, (key, issuer_key, issuer) in leaves.items():
        cert = _leaf(key, SERVER_NAME, issuer_key, issuer, ExtendedKeyUsageOID.SERVER_AUTH)
        pair = Pair(directory / f"{label}.crt", directory / f"{label}.key")
        _write_cert(cert, pair.cert)
        _write_key(key, pair.key)
        pairs[label] = pair

    device_ca_key, device_ca_cert = _ca("tlsward bench device CA")
    _write_cert(device_ca_cert, directory / "device-ca.pem")
    device_key = ec.generate_private_key(ec.SECP256R1())
    device_cert = _leaf(
        device_key, "device-0001", device_ca_key, device_ca_cert, ExtendedKeyUsageOID.CLIENT_AUTH
    )
    device = Pair(directory / "device.crt", directory / "device.key")
    _write_cert(device_cert, device.cert)
    _write_key(device_key, device.key)
    return Pki(
        ca=directory / "ca.pem",
        ecdsa=pairs["ecdsa"],
        rsa=pairs["rsa"],
        snakeoil=pairs["snakeoil"],
        device_ca=directory / "device-ca.pem",
        device=device,
    )
