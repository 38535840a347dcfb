"""TLS signature schemes (the ``signature_algorithms`` extension): names, code points and the rules
no profile can relax.

A profile lists the schemes its servers may sign the handshake with (``signature_algorithms.allowed``,
IANA names as OpenSSL's ``SignatureAlgorithms`` reads them). The scanner offers every scheme of
``SCHEMES`` on its own and judges the ones the server accepts; ``render_nginx`` writes the profile's
list as ``ssl_conf_command SignatureAlgorithms`` so OpenSSL's wider default list is not what runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tlsward.errors import PolicyError


@dataclass(frozen=True)
class Scheme:
    """One signature scheme: IANA name and code point, its hash (``intrinsic`` for EdDSA/ML-DSA),
    whether TLS 1.3 defines it for CertificateVerify, and the first OpenSSL that reads its name."""

    name: str
    code: int
    hash: str
    tls13: bool
    min_openssl: str | None = None


# RFC 8446 4.2.3 (TLS 1.3 names and code points), RFC 5246 7.4.1.4.1 (the TLS 1.2 hash/signature
# pairs without an RFC 8446 name, written as OpenSSL names them), RFC 8734 (Brainpool, TLS 1.3),
# draft-ietf-tls-mldsa (ML-DSA). DSA and GOST schemes are not probed: tlsward deploys neither.
SCHEMES: tuple[Scheme, ...] = (
    Scheme("ecdsa_secp256r1_sha256", 0x0403, "sha256", True),
    Scheme("ecdsa_secp384r1_sha384", 0x0503, "sha384", True),
    Scheme("ecdsa_secp521r1_sha512", 0x0603, "sha512", True),
    Scheme("ed25519", 0x0807, "intrinsic", True),
    Scheme("ed448", 0x0808, "intrinsic", True),
    Scheme("rsa_pss_rsae_sha256", 0x0804, "sha256", True),
    Scheme("rsa_pss_rsae_sha384", 0x0805, "sha384", True),
    Scheme("rsa_pss_rsae_sha512", 0x0806, "sha512", True),
    Scheme("rsa_pss_pss_sha256", 0x0809, "sha256", True),
    Scheme("rsa_pss_pss_sha384", 0x080A, "sha384", True),
    Scheme("rsa_pss_pss_sha512", 0x080B, "sha512", True),
    Scheme("ecdsa_brainpoolP256r1tls13_sha256", 0x081A, "sha256", True, "3.2.0"),
    Scheme("ecdsa_brainpoolP384r1tls13_sha384", 0x081B, "sha384", True, "3.2.0"),
    Scheme("ecdsa_brainpoolP512r1tls13_sha512", 0x081C, "sha512", True, "3.2.0"),
    Scheme("mldsa44", 0x0904, "intrinsic", True, "3.5.0"),
    Scheme("mldsa65", 0x0905, "intrinsic", True, "3.5.0"),
    Scheme("mldsa87", 0x0906, "intrinsic", True, "3.5.0"),
    Scheme("rsa_pkcs1_sha256", 0x0401, "sha256", False),
    Scheme("rsa_pkcs1_sha384", 0x0501, "sha384", False),
    Scheme("rsa_pkcs1_sha512", 0x0601, "sha512", False),
    Scheme("ecdsa_sha224", 0x0303, "sha224", False),
    Scheme("rsa_pkcs1_sha224", 0x0301, "sha224", False),
    Scheme("ecdsa_sha1", 0x0203, "sha1", False),
    Scheme("rsa_pkcs1_sha1", 0x0201, "sha1", False),
    Scheme("rsa_pkcs1_md5", 0x0101, "md5", False),
)
BY_NAME = {s.name.lower(): s for s in SCHEMES}
BY_CODE = {s.code: s for s in SCHEMES}


def scheme_name(code: int) -> str:
    """The IANA name of a code point, ``0x....`` for one tlsward does not know."""
    known = BY_CODE.get(code)
    return known.name if known else f"0x{code:04x}"


def never_allowed(scheme: Scheme | str, version: str) -> str | None:
    """Why a server may never sign the handshake with ``scheme`` under ``version`` (``TLSv1.2`` /
    ``TLSv1.3``), whatever the profile says; ``None`` when only the profile decides."""
    if isinstance(scheme, str):
        found = BY_NAME.get(scheme.lower())
        if found is None:
            return None
        scheme = found
    if scheme.hash in ("md5", "sha1"):
        return (
            f"{scheme.hash.upper()} handshake signatures are deprecated (RFC 9155 for TLS 1.2; "
            "TLS 1.3 allows them in certificates only)"
        )
    if version == "TLSv1.3" and not scheme.tls13:
        if scheme.name.startswith("rsa_pkcs1"):
            return "RSASSA-PKCS1-v1_5 may not sign a TLS 1.3 handshake (RFC 8446 4.2.3: certificates only)"
        return f"{scheme.name} is not a TLS 1.3 signature scheme (RFC 8446 4.2.3)"
    return None


def profile_schemes(data: dict[str, Any]) -> list[str] | None:
    """The profile's ``signature_algorithms.allowed`` in its IANA spelling, ``None`` when it has none."""
    block = data.get("signature_algorithms")
    if block is None:
        return None
    return [BY_NAME[str(n).lower()].name for n in block["allowed"]]


def check_profile(data: dict[str, Any], origin: str) -> list[str]:
    """Structural problems of a profile's ``signature_algorithms`` block (optional key)."""
    block = data.get("signature_algorithms")
    if block is None:
        return []
    where = f"{origin}: signature_algorithms"
    if not isinstance(block, dict) or not isinstance(block.get("allowed"), list) or not block["allowed"]:
        return [f"{where} must be a mapping with a non-empty list 'allowed'"]
    problems = []
    for name in block["allowed"]:
        scheme = BY_NAME.get(str(name).lower())
        if scheme is None:
            problems.append(f"{where}: unknown signature scheme {name!r} (known: {', '.join(BY_NAME)})")
        elif (reason := never_allowed(scheme, "TLSv1.2")) is not None:
            problems.append(f"{where}: {scheme.name} cannot be allowed: {reason}")
    return problems


def _version(openssl_version: str) -> tuple[int, ...]:
    from tlsward.policy import _version_tuple  # noqa: PLC0415 - tlsward.policy imports this module

    return _version_tuple(openssl_version)


def schemes_for(data: dict[str, Any], openssl_version: str | None = None) -> list[str] | None:
    """The profile's schemes the target's OpenSSL can name (``SignatureAlgorithms`` refuses the whole
    list over one unknown name): a scheme with ``min_openssl`` is kept only where the version shows
    it. ``None`` when the profile lists none."""
    names = profile_schemes(data)
    if names is None:
        return None
    have = _version(openssl_version) if openssl_version else None
    kept = []
    for name in names:
        need = BY_NAME[name.lower()].min_openssl
        if need is None or (have is not None and have >= _version(need)):
            kept.append(name)
    if not kept:
        raise PolicyError(
            "policy",
            f"{data.get('name')}: no signature scheme of signature_algorithms.allowed is known to "
            f"OpenSSL {openssl_version or '(version unknown)'}",
        )
    return kept
