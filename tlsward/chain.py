"""Certificate chain validation: cryptography's X.509 verifier for the path, then every policy rule.

``validate_cert_chain`` builds and verifies the path with ``cryptography.x509.verification``
(``ServerVerifier`` / ``ClientVerifier``, the Web PKI rules of RFC 5280 + CA/B Forum), then
checks every certificate of the bundle against the policy profile itself. The verifier stops at
the first failure; the per-certificate checks do not, so the user sees every problem at once.

``judge_certificate`` is the per-certificate rule set on its own, for callers that already have a
certificate (the compliance scanner judges the chain a live endpoint serves with it).
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import re
import ssl
import warnings
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from tlsward.errors import TlswardError
from tlsward.inputs import as_text, policy_for
from tlsward.pem import load_certificates, load_private_key, spki_der
from tlsward.pins import spki_sha256

SOURCE = "validate_cert_chain"
CA_SOURCE = "validate_ca_bundle"
USAGES = {"server": ExtendedKeyUsageOID.SERVER_AUTH, "client": ExtendedKeyUsageOID.CLIENT_AUTH}
WEAK_HASHES = {"md5": "MD5", "sha1": "SHA-1"}
DEFAULT_MIN_DAYS_LEFT = 30


# ---------------------------------------------------------------------------------------------
# descriptions


def key_description(public_key: Any) -> str:
    """``EC secp256r1``, ``RSA 2048``, ``Ed25519``..."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return f"EC {public_key.curve.name}"
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"RSA {public_key.key_size}"
    if isinstance(public_key, dsa.DSAPublicKey):
        return f"DSA {public_key.key_size}"
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(public_key, ed448.Ed448PublicKey):
        return "Ed448"
    return type(public_key).__name__


def signature_hash_name(cert: x509.Certificate) -> str:
    """The hash of the certificate's signature (``sha256``...), ``ed25519``/``ed448`` for EdDSA."""
    try:
        algorithm = cert.signature_hash_algorithm
    except Exception:  # unsupported/unknown signature algorithm
        return f"unsupported ({cert.signature_algorithm_oid.dotted_string})"
    if algorithm is None:
        return cert.signature_algorithm_oid._name.lower()  # ed25519 / ed448
    return algorithm.name.lower()


def short_name(cert: x509.Certificate) -> str:
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if cns:
        return f"CN={cns[0].value}"
    return cert.subject.rfc4514_string() or "<empty subject>"


def _san(cert: x509.Certificate) -> x509.SubjectAlternativeName | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None


def san_names(cert: x509.Certificate) -> list[str]:
    """The DNS names and IP addresses of the subjectAltName (what names a server)."""
    san = _san(cert)
    if san is None:
        return []
    names: list[str] = list(san.get_values_for_type(x509.DNSName))
    names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return names


def san_uris(cert: x509.Certificate) -> list[str]:
    """The URIs of the subjectAltName (what names a device: ``urn:tlsward:device:<id>``, SPIFFE IDs)."""
    san = _san(cert)
    return [] if san is None else list(san.get_values_for_type(x509.UniformResourceIdentifier))


def _basic_constraints(cert: x509.Certificate) -> x509.BasicConstraints | None:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None


def is_ca(cert: x509.Certificate) -> bool:
    bc = _basic_constraints(cert)
    return bool(bc and bc.ca)


def is_self_issued(cert: x509.Certificate) -> bool:
    if cert.subject != cert.issuer:
        return False
    return issued_by(cert, cert)


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s key signed ``cert`` (name match and signature check)."""
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except InvalidSignature:
        return False
    except (ValueError, TypeError):
        # cryptography refuses some algorithms here (SHA-1...); the structure check still wants
        # to know who signed the certificate, so verify the raw signature with the issuer's key.
        return _raw_signature_valid(cert, issuer)
    return True


def _raw_signature_valid(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    key = issuer.public_key()
    try:
        algorithm = cert.signature_hash_algorithm
        if isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
            key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(algorithm))
        else:
            return False
    except Exception:  # any failure means "not verifiably issued by"
        return False
    return True


def days_left(cert: x509.Certificate, now: dt.datetime) -> int:
    return (cert.not_valid_after_utc - now).days


def describe_certificate(cert: x509.Certificate, now: dt.datetime | None = None) -> dict[str, Any]:
    """Summary of one certificate: what the validators return per certificate."""
    now = _now(now)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "days_left": days_left(cert, now),
        "key": key_description(cert.public_key()),
        "signature_hash": signature_hash_name(cert),
        "ca": is_ca(cert),
        "san": san_names(cert),
        "spki_sha256": spki_sha256(cert.public_key()),
    }


def _now(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        return now.replace(tzinfo=dt.UTC)
    return now


# ---------------------------------------------------------------------------------------------
# per-certificate rules


def judge_key(public_key: Any, key_types: dict[str, Any], policy_name: str) -> list[str]:
    """Key type and size against a profile's ``certificate.key_types``."""
    desc = key_description(public_key)
    kind = desc.split()[0]
    allowed = ", ".join(sorted(key_types)) or "none"
    if kind not in key_types:
        return [f"key {desc}: {kind} keys are not allowed by policy {policy_name} (allowed: {allowed})"]
    rules = key_types.get(kind) or {}
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        curves = rules.get("curves")
        if curves and public_key.curve.name not in curves:
            return [f"key {desc}: curve not allowed by policy {policy_name} (allowed: {', '.join(curves)})"]
    elif isinstance(public_key, rsa.RSAPublicKey | dsa.DSAPublicKey):
        min_bits = int(rules.get("min_bits", 2048))
        if public_key.key_size < min_bits:
            return [
                f"key {desc}: {kind} key smaller than {min_bits} bits is not allowed by policy {policy_name}"
            ]
    return []


def hostname_matches(cert: x509.Certificate, hostname: str) -> bool:
    """RFC 6125 matching against the SAN only (no CN fallback); wildcard only as the whole left label."""
    try:
        ip = ipaddress.ip_address(hostname)
    except ValueError:
        ip = None
    san = _san(cert)
    if san is None:
        return False
    if ip is not None:
        return ip in san.get_values_for_type(x509.IPAddress)
    host = hostname.lower().rstrip(".")
    for name in san.get_values_for_type(x509.DNSName):
        pattern = name.lower().rstrip(".")
        if pattern == host:
            return True
        if pattern.startswith("*.") and "." in host:
            first, rest = host.split(".", 1)
            if first and rest == pattern[2:]:
                return True
    return False


def judge_certificate(
    cert: x509.Certificate,
    *,
    policy: Any = None,
    role: str = "leaf",
    now: dt.datetime | None = None,
    min_days_left: int | None = None,
    usage: str | None = "server",
    environment: str | None = "production",
    hostname: str | None = None,
    check_signature_hash: bool = True,
) -> list[str]:
    """Every policy problem of one certificate, as ``rule`` strings (no certificate prefix).

    ``role`` is ``leaf``, ``intermediate`` or ``root``; leaf-only rules (EKU, SAN, lifetime,
    wildcards, hostname, not a CA) apply to ``leaf``. Used for each certificate of a bundle by
    ``validate_cert_chain`` and by the scanner for the chain a live endpoint serves.
    """
    data = policy_for(policy, SOURCE)
    rules = data["certificate"]
    threshold = int(min_days_left if min_days_left is not None else rules.get("min_days_left", 30))
    problems = _validity_problems(cert, _now(now), threshold)
    if check_signature_hash:
        problems += _signature_problems(cert, rules, data["name"])
    key_types = (
        rules.get("key_types", {})
        if role == "leaf"
        else rules.get("ca_key_types", rules.get("key_types", {}))
    )
    problems += judge_key(cert.public_key(), key_types, data["name"])
    if role == "leaf":
        problems += _leaf_problems(cert, rules, data["name"], usage)
        problems += _judge_names(cert, rules, data["name"], environment, hostname, usage=usage)
    else:
        problems += _ca_problems(cert, role, usage)
    return problems


def _validity_problems(cert: x509.Certificate, now: dt.datetime, threshold: int) -> list[str]:
    problems = []
    if cert.not_valid_before_utc > now:
        problems.append(f"not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC (not yet valid)")
    left = days_left(cert, now)
    if cert.not_valid_after_utc <= now:
        problems.append(f"expired on {cert.not_valid_after_utc:%Y-%m-%d} ({-left} days ago)")
    elif left < threshold:
        problems.append(
            f"expires on {cert.not_valid_after_utc:%Y-%m-%d}, {left} days left (minimum {threshold})"
        )
    return problems


def _signature_problems(cert: x509.Certificate, rules: dict[str, Any], policy_name: str) -> list[str]:
    sig = signature_hash_name(cert)
    allowed = [h.lower() for h in rules.get("signature_hashes", [])]
    if sig in WEAK_HASHES:
        return [f"{WEAK_HASHES[sig]} signature is never allowed"]
    if allowed and sig not in allowed:
        return [f"signature hash {sig} is not allowed by policy {policy_name}"]
    return []


def _eku(cert: x509.Certificate) -> tuple[x509.ExtendedKeyUsage | None, list[str]]:
    try:
        return cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value, []
    except x509.ExtensionNotFound:
        return None, []
    except Exception as exc:  # a malformed extension is a finding, not a crash
        return None, [f"extendedKeyUsage cannot be parsed: {exc}"]


def _leaf_problems(
    cert: x509.Certificate, rules: dict[str, Any], policy_name: str, usage: str | None
) -> list[str]:
    bc = _basic_constraints(cert)
    eku, problems = _eku(cert)
    if bc is not None and bc.ca:
        problems.append("is a CA certificate (basicConstraints CA:TRUE), not a leaf")
    eku_oid = USAGES.get(usage or "")
    if eku_oid is not None:
        if eku is None:
            problems.append(f"has no extendedKeyUsage extension ({usage}Auth required)")
        elif eku_oid not in eku:
            found = ", ".join(o._name for o in eku) or "none"
            problems.append(f"extendedKeyUsage lacks {usage}Auth (has: {found})")
    max_days = rules.get("max_leaf_lifetime_days")
    lifetime = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    if max_days is not None and lifetime > int(max_days):
        problems.append(f"lifetime {lifetime} days exceeds {max_days} days allowed by policy {policy_name}")
    return problems


def _ca_problems(cert: x509.Certificate, role: str, usage: str | None) -> list[str]:
    bc = _basic_constraints(cert)
    eku, problems = _eku(cert)
    if bc is None or not bc.ca:
        problems.append(f"is used as {role} but is not a CA certificate (no basicConstraints CA:TRUE)")
    eku_oid = USAGES.get(usage or "")
    if (
        eku is not None
        and eku_oid is not None
        and eku_oid not in eku
        and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku
    ):
        problems.append(f"extendedKeyUsage of this CA does not allow {usage}Auth")
    return problems


def _judge_names(
    cert: x509.Certificate,
    rules: dict[str, Any],
    policy_name: str,
    environment: str | None,
    hostname: str | None,
    *,
    usage: str | None = "server",
) -> list[str]:
    """SAN presence, wildcards, hostname. A server is named by DNS names or IP addresses; a client
    (device) certificate may name itself by URIs alone (``urn:tlsward:device:<id>``, or a SPIFFE
    X.509-SVID's ``spiffe://`` ID), so for ``usage='client'`` any of these satisfies the SAN rule."""
    problems = []
    names = san_names(cert)
    uris = san_uris(cert)
    if rules.get("require_san", True):
        if usage == "client" and not names and not uris:
            problems.append(
                "has no subjectAltName (a device certificate names its identity there, "
                "e.g. URI:urn:tlsward:device:<id>)"
            )
        elif usage != "client" and not names and uris:
            problems.append(
                f"has no DNS or IP subjectAltName (only URIs: {', '.join(uris)}); a server certificate "
                "must name its host"
            )
        elif usage != "client" and not names:
            problems.append(
                "has no subjectAltName (certificates that name the host only in the CN are rejected)"
            )
    forbidden_in = rules.get("wildcards_forbidden_in", [])
    cn_values = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    wildcards = sorted({n for n in names + cn_values if "*" in n})
    if wildcards and environment in forbidden_in:
        problems.append(
            f"wildcard name {', '.join(wildcards)} is not allowed in {environment} by policy {policy_name}"
        )
    if hostname and names and not hostname_matches(cert, hostname):
        problems.append(f"does not cover hostname {hostname!r} (subjectAltName: {', '.join(names)})")
    return problems


# ---------------------------------------------------------------------------------------------
# trust anchors and path verification


def system_trust_anchors() -> list[x509.Certificate]:
    """The controller's default CA bundle (OpenSSL's default verify paths), read once."""
    return list(_system_trust_anchors())


@functools.cache
def _system_trust_anchors() -> tuple[x509.Certificate, ...]:
    paths = ssl.get_default_verify_paths()
    certs: list[x509.Certificate] = []
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            try:
                with warnings.catch_warnings():
                    # some distribution roots have non-positive serials; they are still anchors
                    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
                    certs = x509.load_pem_x509_certificates(Path(candidate).read_bytes())
            except ValueError:
                continue
            break
    return tuple(certs)


def _verify_path(
    leaf: x509.Certificate,
    *,
    intermediates: list[x509.Certificate],
    anchors: list[x509.Certificate],
    usage: str,
    hostname: str | None,
    now: dt.datetime,
) -> tuple[list[str], list[x509.Certificate]]:
    """Run cryptography's verifier; return (problems, verified path)."""
    if not anchors:
        return ["no trust anchor: pass trust (PEM of the root CA) or include the self-signed root"], []
    builder = PolicyBuilder().store(Store(anchors)).time(now).max_chain_depth(8)
    try:
        if usage == "client":
            verified = builder.build_client_verifier().verify(leaf, intermediates)
            return [], list(verified.chain)
        subject_name = hostname or next(iter(san_names(leaf)), None)
        if subject_name is None:
            return ["path not verified: no hostname given and the leaf has no subjectAltName"], []
        try:
            subject: x509.DNSName | x509.IPAddress = x509.IPAddress(ipaddress.ip_address(subject_name))
        except ValueError:
            subject = x509.DNSName(re.sub(r"^\*\.", "wildcard-check.", subject_name))
        return [], list(builder.build_server_verifier(subject).verify(leaf, intermediates))
    except VerificationError as exc:
        return [f"path validation failed (cryptography X.509 verifier): {_verifier_message(exc)}"], []
    except ValueError as exc:  # e.g. a hostname that is not a valid DNS name
        return [f"path validation not possible: {exc}"], []


def _verifier_message(exc: Exception) -> str:
    message = re.sub(r"^validation failed: ", "", str(exc))
    match = re.search(r" \(encountered processing <Certificate\(subject=<Name\((.*?)\)>", message)
    if match:
        message = message[: match.start()] + f" (at certificate {match.group(1)})"
    # the Rust verifier prints algorithm identifiers as debug structures: keep only the OID
    message = re.sub(
        r"AlgorithmIdentifier \{.*?ObjectIdentifier \{ oid: ([0-9.]+) \}.*?\}(?: \})*",
        r"\1",
        message,
    )
    return message[:500]


def _load_trust(trust: Any, source: str) -> list[x509.Certificate]:
    if isinstance(trust, list | tuple):
        trust = "".join(as_text(t, source, "trust") for t in trust)
    return load_certificates(as_text(trust, source, "trust"), source, "trust")


# ---------------------------------------------------------------------------------------------
# validators


def validate_cert_chain(
    pem_bundle: Any,
    *,
    trust: Any = None,
    hostname: str | None = None,
    usage: str = "server",
    policy: Any = None,
    environment: str | None = "production",
    min_days_left: int | None = None,
    private_key: Any = None,
    private_key_passphrase: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Validate a PEM bundle, leaf first, then each issuer; raise ``TlswardError`` listing all problems.

    ``trust``: PEM trust anchors (string or list). Without it, self-signed certificates at the
    end of the bundle and the controller's system CA store are the anchors.
    ``min_days_left``: defaults to the profile's ``certificate.min_days_left`` (30).
    ``private_key``: PEM private key that must match the leaf.
    Returns ``{"policy", "usage", "hostname", "certificates": [summary per certificate],
    "verified_path": [subjects, leaf to anchor], "leaf_spki_sha256"}``.
    """
    data = policy_for(policy, SOURCE)
    if usage not in USAGES:
        raise TlswardError(SOURCE, f"usage must be 'server' or 'client', got {usage!r}")
    if hostname is not None:
        hostname = as_text(hostname, SOURCE, "hostname").strip() or None
    threshold = _threshold(min_days_left, data, SOURCE)
    now = _now(now)
    certs = load_certificates(as_text(pem_bundle, SOURCE, "certificate bundle"), SOURCE, "certificate bundle")
    problems: list[str] = []

    anchors: list[x509.Certificate]
    if trust not in (None, "", []):
        anchors = _load_trust(trust, SOURCE)
        anchor_origin = "trust"
    else:
        anchors = [c for c in certs[1:] if is_self_issued(c)] + system_trust_anchors()
        anchor_origin = "bundle root / system store"

    problems += _structure_problems(certs, anchors)
    for index, cert in enumerate(certs):
        role = "leaf" if index == 0 else ("root" if is_self_issued(cert) else "intermediate")
        rules = judge_certificate(
            cert,
            policy=data,
            role=role,
            now=now,
            min_days_left=threshold,
            usage=usage,
            environment=environment,
            hostname=hostname,
        )
        problems += [f"{_label(index, role, cert)}: {rule}" for rule in rules]

    if private_key is not None and private_key != "":
        problems += _private_key_problems(private_key, private_key_passphrase, certs[0])

    path_problems, path = _verify_path(
        certs[0], intermediates=certs[1:], anchors=anchors, usage=usage, hostname=hostname, now=now
    )
    if path_problems and anchor_origin != "trust" and not anchors:
        path_problems = [p + " (no trust given and no root found)" for p in path_problems]
    problems += path_problems
    if problems:
        raise TlswardError(SOURCE, problems)
    return {
        "policy": data["name"],
        "usage": usage,
        "hostname": hostname,
        "certificates": [describe_certificate(c, now) for c in certs],
        "verified_path": [c.subject.rfc4514_string() for c in path],
        "leaf_spki_sha256": spki_sha256(certs[0].public_key()),
    }


def _threshold(min_days_left: Any, data: dict[str, Any], source: str) -> int:
    value = min_days_left if min_days_left is not None else data["certificate"].get("min_days_left")
    if value is None:
        return DEFAULT_MIN_DAYS_LEFT
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise TlswardError(source, f"min_days_left must be an integer, got {value!r}") from None
    if number < 0:
        raise TlswardError(source, f"min_days_left must not be negative, got {number}")
    return number


def _label(index: int, role: str, cert: x509.Certificate) -> str:
    return f"certificate {index + 1} ({role} {short_name(cert)})"


def _structure_problems(certs: list[x509.Certificate], anchors: list[x509.Certificate]) -> list[str]:
    """Order, duplicates and completeness of the bundle: leaf first, then each issuer."""
    problems: list[str] = []
    seen: dict[bytes, int] = {}
    for index, cert in enumerate(certs):
        fingerprint = cert.fingerprint(hashes.SHA256())
        if fingerprint in seen:
            problems.append(f"certificate {index + 1} is a duplicate of certificate {seen[fingerprint] + 1}")
        seen.setdefault(fingerprint, index)
    for index in range(len(certs) - 1):
        child, parent = certs[index], certs[index + 1]
        if is_self_issued(child):
            problems.append(
                f"certificate {index + 1} ({short_name(child)}) is self-signed "
                "but is followed by more certificates"
            )
            break
        if not issued_by(child, parent):
            if issued_by(parent, child):
                problems.append(
                    "the bundle is in reverse order: it must start with the leaf, then each issuer "
                    f"(certificate {index + 2} was issued by certificate {index + 1})"
                )
            else:
                problems.append(
                    f"certificate {index + 2} ({short_name(parent)}) did not issue certificate {index + 1} "
                    f"({short_name(child)}): the bundle must be the leaf, then each issuer in order"
                )
            break
    else:
        last = certs[-1]
        if not is_self_issued(last) and not any(issued_by(last, a) for a in anchors):
            problems.append(
                f"the chain is incomplete: no certificate in the bundle or the trust anchors issued "
                f"certificate {len(certs)} ({short_name(last)}; issuer {last.issuer.rfc4514_string()})"
            )
    return problems


def _private_key_problems(private_key: Any, passphrase: str | None, leaf: x509.Certificate) -> list[str]:
    try:
        key = load_private_key(as_text(private_key, SOURCE, "private_key"), SOURCE, "private_key", passphrase)
    except TlswardError as exc:
        return exc.problems
    if spki_der(key.public_key()) != spki_der(leaf.public_key()):
        return [
            f"private_key: does not match certificate 1 ({short_name(leaf)}): key is "
            f"{key_description(key.public_key())} with pin {spki_sha256(key.public_key())}, "
            f"the leaf's pin is {spki_sha256(leaf.public_key())}"
        ]
    return []


def validate_ca_bundle(
    pem_bundle: Any,
    *,
    policy: Any = None,
    min_days_left: int | None = None,
    usage: str = "client",
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Validate a bundle of CA certificates (e.g. the device issuing CA + its root).

    Every certificate must be a CA, valid for ``min_days_left`` more days, signed with an allowed
    hash (except a root's self-signature), with a key the profile allows; every non-root must be
    issued by another certificate of the bundle. Returns ``{"certificates": [...]}``.
    """
    data = policy_for(policy, CA_SOURCE)
    threshold = _threshold(min_days_left, data, CA_SOURCE)
    now = _now(now)
    certs = load_certificates(as_text(pem_bundle, CA_SOURCE, "CA bundle"), CA_SOURCE, "CA bundle")
    problems: list[str] = []
    for index, cert in enumerate(certs):
        root = is_self_issued(cert)
        role = "root" if root else "intermediate"
        rules = judge_certificate(
            cert,
            policy=data,
            role=role,
            now=now,
            min_days_left=threshold,
            usage=usage,
            check_signature_hash=not root,
        )
        problems += [f"{_label(index, role, cert)}: {rule}" for rule in rules]
        if not root and not any(issued_by(cert, other) for other in certs if other is not cert):
            problems.append(
                f"{_label(index, role, cert)}: its issuer "
                f"({cert.issuer.rfc4514_string()}) is not in the bundle"
            )
    if problems:
        raise TlswardError(CA_SOURCE, problems)
    return {"policy": data["name"], "certificates": [describe_certificate(c, now) for c in certs]}
