"""Build throw-away X.509 hierarchies with ``cryptography`` for tests.

Everything is generated in memory; nothing here is meant for production keys. Typical use::

    factory = CertFactory()
    root = factory.root()
    inter = factory.intermediate(root)
    leaf = factory.leaf(inter, names=["api.example.test"])
    fullchain = pem_bundle(leaf, inter)

Every knob the validators judge can be turned: key type (``ec256``, ``ec384``, ``ec521``,
``rsa1024``, ``rsa2048``, ``rsa3072``, ``ed25519``), signature hash (``sha1``, ``sha256``, ...),
validity window, EKU, SAN (``names=[]`` gives a CN-only certificate), CA flag. Keys are cached
per (type, slot) so a test suite generates each RSA key once; pass another ``slot`` to get a
different key of the same type (e.g. a private key that does not match the leaf).
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import re
import secrets
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_EKU = {"server": ExtendedKeyUsageOID.SERVER_AUTH, "client": ExtendedKeyUsageOID.CLIENT_AUTH}


@functools.cache
def make_key(kind: str = "ec256", slot: int = 0) -> PrivateKey:
    """A private key of ``kind``; the same (kind, slot) always returns the same key."""
    del slot  # only part of the cache key
    if kind == "ec256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ec384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "ec521":
        return ec.generate_private_key(ec.SECP521R1())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    raise ValueError(f"unknown key kind {kind!r}")


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: PrivateKey

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    def encrypted_key_pem(self, passphrase: bytes) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        ).decode()


def pem_bundle(*items: Issued | x509.Certificate) -> str:
    """Concatenate certificates as PEM, in the order given."""
    out = []
    for item in items:
        cert = item.cert if isinstance(item, Issued) else item
        out.append(cert.public_bytes(serialization.Encoding.PEM).decode())
    return "".join(out)


def _name(cn: str | None, org: str = "tlsward tests") -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)]
    if cn is not None:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _sign_hash(key: PrivateKey, hash_name: str | None) -> hashes.HashAlgorithm | None:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    return _HASHES[hash_name or "sha256"]()


class CertFactory:
    """Issue roots, intermediates and leaves relative to a fixed ``now``."""

    def __init__(self, now: dt.datetime | None = None) -> None:
        self.now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        self._serial = 1000

    def _next_serial(self) -> int:
        self._serial += 1
        return self._serial

    def _window(
        self,
        days: int,
        not_before: dt.datetime | None,
        not_after: dt.datetime | None,
    ) -> tuple[dt.datetime, dt.datetime]:
        start = not_before or (self.now - dt.timedelta(days=1))
        end = not_after or (start + dt.timedelta(days=days))
        return start, end

    def root(
        self,
        *,
        cn: str = "tlsward test root",
        key: str = "ec384",
        slot: int = 0,
        days: int = 3650,
        hash_name: str = "sha384",
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
    ) -> Issued:
        private = make_key(key, slot)
        name = _name(cn)
        start, end = self._window(days, not_before, not_after)
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(private.public_key())
            .serial_number(self._next_serial())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(private.public_key()), critical=False)
        )
        return Issued(builder.sign(private, _sign_hash(private, hash_name)), private)

    def intermediate(
        self,
        issuer: Issued,
        *,
        cn: str = "tlsward test issuing CA",
        key: str = "ec256",
        slot: int = 1,
        days: int = 1825,
        hash_name: str = "sha256",
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        path_length: int | None = 0,
    ) -> Issued:
        private = make_key(key, slot)
        start, end = self._window(days, not_before, not_after)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(cn))
            .issuer_name(issuer.cert.subject)
            .public_key(private.public_key())
            .serial_number(self._next_serial())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(private.public_key()), critical=False)
            .add_extension(_aki(issuer), critical=False)
        )
        return Issued(builder.sign(issuer.key, _sign_hash(issuer.key, hash_name)), private)

    def leaf(
        self,
        issuer: Issued,
        *,
        names: Sequence[str] = ("api.example.test",),
        cn: str | None = None,
        key: str = "ec256",
        slot: int = 2,
        days: int = 60,
        hash_name: str = "sha256",
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        eku: Iterable[str] | None = ("server",),
        ca: bool = False,
    ) -> Issued:
        """A leaf for ``names`` (DNS names, IP addresses or URIs); ``names=()`` omits the SAN extension."""
        private = make_key(key, slot)
        start, end = self._window(days, not_before, not_after)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(cn if cn is not None else (names[0] if names else "no-san.example.test")))
            .issuer_name(issuer.cert.subject)
            .public_key(private.public_key())
            .serial_number(self._next_serial())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(_aki(issuer), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(private.public_key()), critical=False)
            .add_extension(_leaf_key_usage(private), critical=True)
        )
        if names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False
            )
        if eku is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage([_EKU[u] for u in eku]), critical=False)
        return Issued(builder.sign(issuer.key, _sign_hash(issuer.key, hash_name)), private)

    def csr(self, *, names: Sequence[str] = ("api.example.test",), key: str = "ec256", slot: int = 2) -> str:
        private = make_key(key, slot)
        builder = x509.CertificateSigningRequestBuilder().subject_name(_name(names[0] if names else None))
        if names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False
            )
        csr = builder.sign(private, _sign_hash(private, "sha256"))
        return csr.public_bytes(serialization.Encoding.PEM).decode()

    def hierarchy(self, **leaf_kwargs: object) -> tuple[Issued, Issued, Issued]:
        """root, intermediate, leaf: a valid default hierarchy."""
        root = self.root()
        inter = self.intermediate(root)
        leaf = self.leaf(inter, **leaf_kwargs)  # type: ignore[arg-type]
        return root, inter, leaf


def _general_name(name: str) -> x509.GeneralName:
    """An IP address, a URI (``urn:...``, ``spiffe://...``: any name with a scheme) or a DNS name."""
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        pass
    if re.match(r"^[a-z][a-z0-9+.-]*:", name):
        return x509.UniformResourceIdentifier(name)
    return x509.DNSName(name)


def _aki(issuer: Issued) -> x509.AuthorityKeyIdentifier:
    return x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key())  # type: ignore[arg-type]


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _leaf_key_usage(key: PrivateKey) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=isinstance(key, rsa.RSAPrivateKey),
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def openssl_issue(
    issuer: Issued,
    cn: str,
    *,
    digest: str = "sha1",
    key: str = "ec256",
    slot: int = 8,
    days: int = 365,
    ca: bool = True,
    names: Sequence[str] = (),
    eku: Sequence[str] = (),
) -> Issued:
    """Issue a certificate with the ``openssl`` command line, for digests ``cryptography`` refuses.

    ``cryptography`` no longer signs with SHA-1, so a SHA-1-signed certificate (the thing the
    validators must reject) is made by the real OpenSSL: ``openssl x509 -req -sha1``.
    """
    private = make_key(key, slot)
    builder = x509.CertificateSigningRequestBuilder().subject_name(_name(cn))
    csr = builder.sign(private, _sign_hash(private, None))
    if ca:
        ext = [
            "basicConstraints=critical,CA:true,pathlen:0",
            "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
        ]
    else:
        ext = ["basicConstraints=critical,CA:false", "keyUsage=critical,digitalSignature"]
    ext += ["subjectKeyIdentifier=hash", "authorityKeyIdentifier=keyid"]
    if names:
        ext.append("subjectAltName=" + ",".join(f"DNS:{n}" for n in names))
    if eku:
        ext.append("extendedKeyUsage=" + ",".join(f"{u}Auth" for u in eku))
    with tempfile.TemporaryDirectory(prefix="tlsward-certfactory-") as tmp:
        base = Path(tmp)
        (base / "req.csr").write_bytes(csr.public_bytes(serialization.Encoding.PEM))
        (base / "ca.pem").write_text(issuer.pem)
        (base / "ca.key").write_text(issuer.key_pem)
        (base / "ext.cnf").write_text("\n".join(ext) + "\n")
        result = subprocess.run(
            [
                "openssl", "x509", "-req", "-in", str(base / "req.csr"),
                "-CA", str(base / "ca.pem"), "-CAkey", str(base / "ca.key"),
                f"-{digest}", "-days", str(days), "-set_serial", str(secrets.randbits(63)),
                "-extfile", str(base / "ext.cnf"),
            ],
            capture_output=True, text=True, check=True, timeout=30,
        )  # fmt: skip
    return Issued(x509.load_pem_x509_certificate(result.stdout.encode()), private)
