"""PEM parsing that reports every bad block instead of stopping at the first."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from tlsward.errors import TlswardError

_BLOCK = re.compile(
    r"-----BEGIN (?P<label>[A-Z0-9 ]{1,64})-----\r?\n(?P<body>.*?)-----END (?P=label)-----",
    re.DOTALL,
)
CERT_LABELS = ("CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE")
CSR_LABELS = ("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST")
PUBLIC_KEY_LABELS = ("PUBLIC KEY", "RSA PUBLIC KEY")
PRIVATE_KEY_LABELS = ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY")


@dataclass(frozen=True)
class PemBlock:
    index: int  # 1-based position among the PEM blocks of the input
    label: str
    text: str  # the whole block, BEGIN and END lines included


def pem_blocks(text: str) -> list[PemBlock]:
    return [
        PemBlock(index, m.group("label"), m.group(0) + "\n")
        for index, m in enumerate(_BLOCK.finditer(text), start=1)
    ]


def _clean(exc: Exception) -> str:
    message = str(exc).split(" See https://")[0].strip() or type(exc).__name__
    return message[:200]


def load_certificates(text: str, source: str, what: str) -> list[x509.Certificate]:
    """Every certificate in ``text``, in order; all unparsable blocks are reported together."""
    blocks = pem_blocks(text)
    certs: list[x509.Certificate] = []
    problems: list[str] = []
    for block in blocks:
        if block.label not in CERT_LABELS:
            problems.append(
                f"{what}: PEM block {block.index} is a {block.label!r}, not a CERTIFICATE "
                "(keys do not belong in a certificate bundle)"
            )
            continue
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                certs.append(x509.load_pem_x509_certificate(block.text.encode("ascii")))
            problems += [f"{what}: PEM block {block.index}: {str(w.message)[:200]}" for w in caught]
        except Exception as exc:  # any parser failure is a user-input problem
            problems.append(
                f"{what}: PEM block {block.index} cannot be parsed as a certificate: {_clean(exc)}"
            )
    if not blocks:
        problems.append(f"{what}: no PEM CERTIFICATE block found (expected '-----BEGIN CERTIFICATE-----')")
    if problems:
        raise TlswardError(source, problems)
    return certs


def load_private_key(
    text: str, source: str, what: str, passphrase: str | bytes | None = None
) -> PrivateKeyTypes:
    blocks = [b for b in pem_blocks(text) if b.label in PRIVATE_KEY_LABELS]
    if len(blocks) != 1:
        found = "no" if not blocks else str(len(blocks))
        raise TlswardError(source, f"{what}: expected exactly one PEM private key block, found {found}")
    password = passphrase.encode() if isinstance(passphrase, str) else passphrase
    try:
        return serialization.load_pem_private_key(blocks[0].text.encode("ascii"), password=password)
    except TypeError as exc:
        if "encrypted" in str(exc).lower() and password is None:
            raise TlswardError(
                source, f"{what}: the private key is encrypted and no passphrase was given"
            ) from None
        raise TlswardError(source, f"{what}: cannot be loaded: {_clean(exc)}") from None
    except Exception as exc:  # wrong passphrase, bad DER, unsupported algorithm
        raise TlswardError(source, f"{what}: cannot be loaded: {_clean(exc)}") from None


def load_public_key(block: PemBlock, passphrase: bytes | None = None) -> PublicKeyTypes:
    """The public key of a certificate, CSR, public key or private key block (raises ValueError)."""
    data = block.text.encode("ascii")
    if block.label in CERT_LABELS:
        return x509.load_pem_x509_certificate(data).public_key()
    if block.label in CSR_LABELS:
        return x509.load_pem_x509_csr(data).public_key()
    if block.label in PUBLIC_KEY_LABELS:
        return serialization.load_pem_public_key(data)
    if block.label in PRIVATE_KEY_LABELS:
        return serialization.load_pem_private_key(data, password=passphrase).public_key()
    raise ValueError(f"a {block.label!r} block holds no public key")


def spki_der(public_key: Any) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
