"""Judging the server's certificate chain: trust, completeness, validity, hostname, keys, lifetime, OCSP.

Trust is decided with cryptography's X.509 verifier (RFC 5280 path building and validation, the
same engine sslyze uses) against the trust anchors recorded with the scan (``ca_file``), at the
scan time, so a recorded scan keeps its verdict. Without ``ca_file`` sslyze's own validation
against its bundled trust stores is used. The per-certificate rules (key type against the
profile, signature hash, hostname matching, issuer checks) are the preflight validator's, from
``tlsward.chain``: a live endpoint is held to exactly the rules its inventory input was.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from tlsward import chain as chain_rules
from tlsward.scan.attempts import Attempt
from tlsward.scan.model import Finding, check, not_applicable, undecided

CERT_CHECKS = (
    "cert.chain.trusted",
    "cert.chain.complete",
    "cert.chain.self_signed",
    "cert.chain.expired",
    "cert.chain.expiring_soon",
    "cert.chain.order",
    "cert.hostname",
    "cert.san",
    "cert.key_type",
    "cert.signature_algorithm",
    "cert.lifetime",
    "cert.wildcard",
    "ocsp.stapling",
)


def load(pems: list[str]) -> list[x509.Certificate]:
    return [x509.load_pem_x509_certificate(p.encode("ascii")) for p in pems]


def describe(cert: x509.Certificate, now: dt.datetime, role: str) -> dict[str, Any]:
    info = chain_rules.describe_certificate(cert, now)
    return {
        "role": role,
        **{k: info[k] for k in ("subject", "issuer", "serial", "not_before", "not_after", "days_left")},
    }


issued_by = chain_rules.issued_by
is_self_signed = chain_rules.is_self_issued
hostname_matches = chain_rules.hostname_matches
_sig_hash = chain_rules.signature_hash_name


def dns_names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(n) for n in san.get_values_for_type(x509.DNSName)]


def ip_names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(n) for n in san.get_values_for_type(x509.IPAddress)]


def _subject(name: str) -> x509.DNSName | x509.IPAddress:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _key(cert: x509.Certificate) -> tuple[str, int, str | None]:
    key = cert.public_key()
    kind, _, detail = chain_rules.key_description(key).partition(" ")
    if isinstance(key, ec.EllipticCurvePublicKey):
        return kind, key.curve.key_size, key.curve.name
    return kind, int(detail) if detail.isdigit() else 0, None


def _chain_key_problems(certs: list[x509.Certificate], rules: dict[str, Any], policy_name: str) -> list[str]:
    """Intermediates against ``ca_key_types`` (default: ``key_types``), as the preflight validator does."""
    ca_types = rules.get("ca_key_types", rules.get("key_types", {}))
    return [
        f"{c.subject.rfc4514_string()}: {p}"
        for c in certs
        for p in chain_rules.judge_key(c.public_key(), ca_types, policy_name)
    ]


def _walk(
    leaf: x509.Certificate, pool: list[x509.Certificate], anchors: list[x509.Certificate]
) -> tuple[bool, str]:
    """Follow issuers from the leaf through the sent chain to an anchor (no fetching)."""
    current = leaf
    for _ in range(10):
        if any(current == a for a in anchors) or is_self_signed(current):
            return True, f"ends at {current.subject.rfc4514_string()}"
        for anchor in anchors:
            if issued_by(current, anchor):
                return True, f"issued by trust anchor {anchor.subject.rfc4514_string()}"
        issuer = next((c for c in pool if c is not current and issued_by(current, c)), None)
        if issuer is None:
            return (
                False,
                f"issuer {current.issuer.rfc4514_string()} of {current.subject.rfc4514_string()} not sent",
            )
        current = issuer
    return False, "chain longer than 10 certificates"


def _merge(parts: list[list[Finding]]) -> list[Finding]:
    if len(parts) == 1:
        return parts[0]
    rank = {"not_applicable": 0, "pass": 1, "error": 2, "fail": 3}
    merged: dict[str, list[Finding]] = {}
    for part in parts:
        for f in part:
            merged.setdefault(f.id, []).append(f)
    out = []
    for fid, group in merged.items():
        worst = max(group, key=lambda f: rank[f.status])
        out.append(
            Finding(
                fid,
                worst.status,
                worst.severity,
                " | ".join(f"deployment {i}: {f.message}" for i, f in enumerate(group)),
                {"deployments": [f.evidence for f in group]},
            )
        )
    return out


@dataclass
class _Chain:
    """One certificate deployment and what it is judged with."""

    deployment: dict[str, Any]
    chain: list[x509.Certificate]
    anchors: list[x509.Certificate]
    server_name: str
    rules: dict[str, Any]
    now: dt.datetime
    policy_name: str
    verified: list[x509.Certificate] | None = None

    @property
    def leaf(self) -> x509.Certificate:
        return self.chain[0]

    @property
    def intermediates(self) -> list[x509.Certificate]:
        return self.chain[1:]


def judge_certificates(
    record: dict[str, Any],
    policy: dict[str, Any],
    environment: str,
    now: dt.datetime,
    min_days_left: int | None = None,
) -> list[Finding]:
    attempt = Attempt(record, "certificate_info")
    if not attempt.ok:
        return [
            undecided(fid, "high", "certificate could not be retrieved", **attempt.why_not())
            for fid in CERT_CHECKS
        ]
    assert attempt.result is not None
    anchors = load(record.get("trust_anchors_pem") or [])
    parts = []
    for deployment in attempt.result["certificate_deployments"]:
        ctx = _Chain(
            deployment=deployment,
            chain=load([c["as_pem"] for c in deployment["received_certificate_chain"]]),
            anchors=anchors,
            server_name=record["target"]["server_name"],
            rules=policy["certificate"],
            now=now,
            policy_name=policy["name"],
        )
        findings = _trust(ctx)
        findings += _validity(ctx, min_days_left)
        findings += _names(ctx, environment)
        findings += _keys_and_signatures(ctx)
        findings.append(_judge_ocsp(deployment, policy["ocsp_stapling"]))
        parts.append(findings)
    return _merge(parts)


def _trust(ctx: _Chain) -> list[Finding]:
    """Trusted (a client with ca_file as its only anchors, at scan time), complete, not self-signed."""
    findings = []
    leaf, name = ctx.leaf, ctx.server_name
    if ctx.anchors:
        try:
            verifier = (
                PolicyBuilder().store(Store(ctx.anchors)).time(ctx.now).build_server_verifier(_subject(name))
            )
            ctx.verified = verifier.verify(leaf, ctx.intermediates)
            findings.append(
                check(
                    "cert.chain.trusted",
                    True,
                    "critical",
                    f"chain verifies to a ca_file anchor for {name}",
                    anchor=ctx.verified[-1].subject.rfc4514_string(),
                )
            )
        except VerificationError as exc:
            findings.append(
                check(
                    "cert.chain.trusted",
                    False,
                    "critical",
                    f"chain does NOT verify against ca_file for {name}: {exc}",
                    error=str(exc),
                )
            )
    else:
        results = ctx.deployment.get("path_validation_results") or []
        ok = [r for r in results if r["was_validation_successful"]]
        if ok:
            ctx.verified = load([c["as_pem"] for c in ok[0]["verified_certificate_chain"]])
        findings.append(
            check(
                "cert.chain.trusted",
                bool(ok),
                "critical",
                "chain verifies against " + (ok[0]["trust_store"]["name"] if ok else "no trust store"),
                trust_stores={r["trust_store"]["name"]: r["validation_error"] or "ok" for r in results},
            )
        )
    complete, how = _walk(leaf, ctx.intermediates, ctx.anchors)
    if not complete and not ctx.anchors and ctx.verified is not None:
        complete, how = True, "verified by sslyze against a bundled trust store"
    findings.append(
        check(
            "cert.chain.complete",
            complete,
            "medium",
            "the server sends every intermediate" if complete else f"incomplete chain: {how}",
            detail=how,
            sent=len(ctx.chain),
        )
    )
    self_signed = is_self_signed(leaf) and not any(leaf == a for a in ctx.anchors)
    findings.append(
        check(
            "cert.chain.self_signed",
            not self_signed,
            "high",
            "the leaf is SELF-SIGNED" if self_signed else "the leaf is issued by a CA",
            leaf=leaf.subject.rfc4514_string(),
        )
    )
    order = ctx.deployment.get("received_chain_has_valid_order")
    findings.append(
        check(
            "cert.chain.order",
            order is not False,
            "low",
            "the chain is sent in order" if order is not False else "the chain is sent OUT OF ORDER",
            received_chain_has_valid_order=order,
        )
    )
    return findings


def warning_window_days(rules: dict[str, Any], min_days_left: int | None) -> int:
    """The expiry warning window: ``min_days_left`` when given, else the profile's
    ``certificate.min_days_left`` (30 when the profile has none)."""
    return int(min_days_left if min_days_left is not None else rules.get("min_days_left", 30))


def leaf_lifetime_days(leaf: x509.Certificate) -> float:
    """notBefore to notAfter in days, as ``cert.lifetime`` compares it with the profile's maximum."""
    return (leaf.not_valid_after_utc - leaf.not_valid_before_utc).total_seconds() / 86400


def _validity(ctx: _Chain, min_days_left: int | None) -> list[Finding]:
    """No certificate anywhere in the chain (anchor included) expired or expiring within the window."""
    everything = list(ctx.chain)
    for cert in ctx.verified or []:
        if all(cert != c for c in everything):
            everything.append(cert)
    roles = (
        ["leaf"] + ["intermediate"] * (len(ctx.chain) - 1) + ["anchor"] * (len(everything) - len(ctx.chain))
    )
    described = [describe(c, ctx.now, r) for c, r in zip(everything, roles, strict=True)]
    expired = [
        d
        for d, c in zip(described, everything, strict=True)
        if c.not_valid_after_utc < ctx.now or c.not_valid_before_utc > ctx.now
    ]
    window = warning_window_days(ctx.rules, min_days_left)
    soon = [d for d in described if 0 <= d["days_left"] < window]
    return [
        check(
            "cert.chain.expired",
            not expired,
            "critical",
            f"{len(expired)} certificate(s) outside their validity period: "
            + ", ".join(f"{d['role']} {d['subject']} ({d['not_after']})" for d in expired)
            if expired
            else "every certificate in the chain is within its validity period",
            outside_validity=expired,
            chain=described,
        ),
        check(
            "cert.chain.expiring_soon",
            not soon,
            "medium",
            f"{len(soon)} certificate(s) expire within {window} days: "
            + ", ".join(f"{d['role']} {d['subject']} in {d['days_left']} days" for d in soon)
            if soon
            else f"no certificate expires within {window} days",
            window_days=window,
            expiring=soon,
        ),
    ]


def _names(ctx: _Chain, environment: str) -> list[Finding]:
    """Hostname, subjectAltName presence, wildcards where the environment forbids them."""
    leaf, name = ctx.leaf, ctx.server_name
    matches = hostname_matches(leaf, name)
    has_san = bool(dns_names(leaf) or ip_names(leaf))
    findings = [
        check(
            "cert.hostname",
            matches,
            "high",
            f"the leaf is valid for {name}" if matches else f"the leaf is NOT valid for {name}",
            server_name=name,
            dns_names=dns_names(leaf),
            ip_addresses=ip_names(leaf),
        ),
        check(
            "cert.san",
            has_san or not ctx.rules.get("require_san"),
            "medium",
            "the leaf has a subjectAltName" if has_san else "the leaf has NO subjectAltName",
        ),
    ]
    wildcards = [n for n in dns_names(leaf) if n.startswith("*")]
    wildcards += [
        a.value
        for a in leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        if isinstance(a.value, str) and a.value.startswith("*")
    ]
    if environment in ctx.rules.get("wildcards_forbidden_in", []):
        findings.append(
            check(
                "cert.wildcard",
                not wildcards,
                "high",
                f"WILDCARD name(s) {wildcards} in environment {environment}"
                if wildcards
                else f"no wildcard name (forbidden in {environment})",
                wildcards=wildcards,
            )
        )
    else:
        findings.append(
            not_applicable(
                "cert.wildcard", "high", f"wildcards are allowed in {environment}", wildcards=wildcards
            )
        )
    return findings


def _keys_and_signatures(ctx: _Chain) -> list[Finding]:
    leaf, rules = ctx.leaf, ctx.rules
    kind, bits, curve = _key(leaf)
    key_problems = chain_rules.judge_key(leaf.public_key(), rules.get("key_types", {}), ctx.policy_name)
    key_problems += _chain_key_problems(ctx.intermediates, rules, ctx.policy_name)
    allowed_hashes = [h.lower() for h in rules.get("signature_hashes", [])]
    bad_sigs = [
        f"{c.subject.rfc4514_string()}: {_sig_hash(c)}"
        for c in ctx.chain
        if not is_self_signed(c)
        and (_sig_hash(c) in chain_rules.WEAK_HASHES or _sig_hash(c) not in allowed_hashes)
    ]
    lifetime = leaf_lifetime_days(leaf)
    max_days = rules.get("max_leaf_lifetime_days")
    return [
        check(
            "cert.key_type",
            not key_problems,
            "high",
            "; ".join(key_problems) if key_problems else f"leaf key {kind} {curve or bits} is allowed",
            leaf_key={"type": kind, "bits": bits, "curve": curve},
            allowed=rules.get("key_types"),
            problems=key_problems,
        ),
        check(
            "cert.signature_algorithm",
            not bad_sigs,
            "high",
            "; ".join(bad_sigs) if bad_sigs else "every signature in the sent chain uses an allowed hash",
            allowed=allowed_hashes,
            problems=bad_sigs,
        ),
        check(
            "cert.lifetime",
            max_days is None or lifetime <= max_days,
            "medium",
            f"leaf lifetime {lifetime:.0f} days (profile maximum {max_days})",
            lifetime_days=round(lifetime, 1),
            max_days=max_days,
        ),
    ]


def _judge_ocsp(deployment: dict[str, Any], mode: str) -> Finding:
    response = deployment.get("ocsp_response")
    must_staple = bool(deployment.get("leaf_certificate_has_must_staple_extension"))
    evidence = {"profile": mode, "stapled": response, "must_staple": must_staple}
    good = (
        bool(response)
        and response["response_status"] == "SUCCESSFUL"
        and response["certificate_status"] == "GOOD"
    )
    if mode == "required" or must_staple:
        return check(
            "ocsp.stapling",
            good,
            "medium",
            "a good OCSP response is stapled" if good else "NO good OCSP response stapled",
            **evidence,
        )
    if response:
        revoked = response.get("certificate_status") == "REVOKED"
        return check(
            "ocsp.stapling",
            good,
            "critical" if revoked else "medium",
            "a good OCSP response is stapled"
            if good
            else f"stapled OCSP response is not good: {response.get('certificate_status')}",
            **evidence,
        )
    return not_applicable(
        "ocsp.stapling", "medium", f"no OCSP response stapled (profile: {mode})", **evidence
    )
