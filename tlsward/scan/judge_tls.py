"""Judging the TLS layer: protocol versions, suites, key exchange, known attacks, resumption, 0-RTT.

Whether a protocol version, a suite or a group is allowed is decided by the same judges preflight
uses (``tlsward.validate``: ``judge_protocol``, ``verdict_tls12_suite`` / ``verdict_tls13_suite``,
``judge_group``) with the host's effective values (``tlsward.policy.effective_tls``): one policy,
one set of rules. This module maps their verdicts onto findings and adds what only a live endpoint
shows (what it accepts, its ephemeral key sizes, known attacks).
"""

from __future__ import annotations

from typing import Any

from tlsward.policy import effective_tls, groups_for
from tlsward.scan.attempts import Attempt
from tlsward.scan.model import Finding, check, not_applicable, undecided
from tlsward.validate import (
    SuiteVerdict,
    canonical_group,
    judge_group,
    judge_protocol,
    verdict_tls12_suite,
    verdict_tls13_suite,
)

# sslyze scan command, policy/OpenSSL protocol name, finding id suffix.
VERSIONS = (
    ("ssl_2_0_cipher_suites", "SSLv2", "ssl2_0"),
    ("ssl_3_0_cipher_suites", "SSLv3", "ssl3_0"),
    ("tls_1_0_cipher_suites", "TLSv1", "tls1_0"),
    ("tls_1_1_cipher_suites", "TLSv1.1", "tls1_1"),
    ("tls_1_2_cipher_suites", "TLSv1.2", "tls1_2"),
    ("tls_1_3_cipher_suites", "TLSv1.3", "tls1_3"),
)
LEGACY = {"SSLv2", "SSLv3"}


def normalise_group(name: str) -> str:
    """sslyze reports curves by their SECG/IANA names; profiles use OpenSSL's group names."""
    return canonical_group(name)


def suite_names(result: dict[str, Any]) -> list[str]:
    return [s["cipher_suite"]["openssl_name"] for s in result.get("accepted_cipher_suites", [])]


def judge_protocols(
    record: dict[str, Any], policy: dict[str, Any], tls: dict[str, list[str]], required: list[str]
) -> list[Finding]:
    findings = []
    for command, proto, suffix in VERSIONS:
        fid = f"protocol.{suffix}"
        attempt = Attempt(record, command)
        rules = judge_protocol(proto, policy, tls["protocols"])
        allowed = not rules
        severity = "critical" if proto in LEGACY else "high"
        if not attempt.ok:
            findings.append(undecided(fid, severity, f"{proto}: could not be tested", **attempt.why_not()))
            continue
        accepted = bool(attempt.result and attempt.result["is_tls_version_supported"])
        if allowed and proto in required:
            findings.append(
                check(
                    fid,
                    accepted,
                    "high",
                    f"{proto} is required by the profile and is "
                    + ("accepted" if accepted else "NOT accepted"),
                    accepted=accepted,
                    allowed=True,
                    required=True,
                )
            )
        elif allowed:
            findings.append(
                check(
                    fid,
                    True,
                    "info",
                    f"{proto} is allowed by the profile; accepted: {accepted}",
                    accepted=accepted,
                    allowed=True,
                    required=False,
                )
            )
        else:
            findings.append(
                check(
                    fid,
                    not accepted,
                    severity,
                    f"{proto} is not allowed by the profile and is "
                    + ("ACCEPTED" if accepted else "refused"),
                    accepted=accepted,
                    allowed=False,
                    rules=rules,
                )
            )
    return findings


def _suite_verdict(
    proto: str, suite: dict[str, Any], policy: dict[str, Any], listed: list[str]
) -> SuiteVerdict:
    cipher = suite["cipher_suite"]
    if proto == "TLSv1.3":
        return verdict_tls13_suite(cipher["openssl_name"], policy, allowed=listed)
    return verdict_tls12_suite(cipher["openssl_name"], policy, iana_name=cipher["name"], allowed=listed)


def judge_suites(record: dict[str, Any], tls: dict[str, list[str]], policy: dict[str, Any]) -> list[Finding]:
    """Every accepted suite of every version against the profile's list, then FS and AEAD over all."""
    findings = []
    non_fs: list[str] = []
    non_aead: list[str] = []
    weak: list[str] = []
    decided = True
    for command, proto, suffix in VERSIONS:
        fid = f"cipher.{suffix}.not_in_policy"
        attempt = Attempt(record, command)
        if not attempt.ok:
            decided = False
            findings.append(
                undecided(fid, "high", f"{proto}: suites could not be listed", **attempt.why_not())
            )
            continue
        assert attempt.result is not None
        accepted = attempt.result.get("accepted_cipher_suites", [])
        # No suite of a version the host may not speak is in policy, whatever its name.
        version_rules = judge_protocol(proto, policy, tls["protocols"])
        listed = tls["tls13_ciphersuites"] if proto == "TLSv1.3" else tls["tls12_ciphers"]
        allowed = set() if version_rules else set(listed)
        names = [s["cipher_suite"]["openssl_name"] for s in accepted]
        why: dict[str, list[str]] = {}
        for suite in accepted:
            name = suite["cipher_suite"]["openssl_name"]
            verdict = _suite_verdict(proto, suite, policy, listed)
            outside = [f"{proto}: {rule}" for rule in version_rules] or verdict.outside_list
            if outside:
                why[name] = outside
            label = f"{proto} {name}"
            described = verdict.suite
            if described is None or not described.forward_secrecy:
                non_fs.append(label)
            if proto != "TLSv1.3" and (described is None or not described.aead):
                non_aead.append(label)
            if suite["cipher_suite"]["is_anonymous"] or suite["cipher_suite"]["key_size"] < 128:
                weak.append(label)
            key = suite.get("ephemeral_key") or {}
            if key and (
                (key.get("type_name") == "DH" and key.get("size", 0) < 2048)
                or (key.get("type_name") == "ECDH" and key.get("size", 0) < 253)
            ):
                weak.append(f"{label} ephemeral {key.get('type_name')} {key.get('size')} bits")
        offending = [n for n in names if n in why]
        findings.append(
            check(
                fid,
                not offending,
                "high",
                f"{proto}: {len(offending)} accepted suite(s) outside the profile"
                if offending
                else f"{proto}: every accepted suite is in the profile ({len(names)} accepted)",
                accepted=names,
                not_in_policy=offending,
                allowed=sorted(allowed),
                why=why,
            )
        )
    suffix_note = "" if decided else " (some versions could not be tested)"
    fs_required = bool(policy["require_forward_secrecy"])
    findings.append(
        check(
            "cipher.forward_secrecy",
            not non_fs or not fs_required,
            "high" if fs_required else "info",
            (
                f"{len(non_fs)} accepted suite(s) without forward secrecy"
                if non_fs
                else "every accepted suite has forward secrecy"
            )
            + suffix_note,
            without_forward_secrecy=non_fs,
            required=fs_required,
        )
    )
    aead_required = bool(policy["require_aead"])
    findings.append(
        check(
            "cipher.aead",
            not non_aead or not aead_required,
            "high" if aead_required else "info",
            (
                f"{len(non_aead)} accepted suite(s) are not AEAD (CBC/stream)"
                if non_aead
                else "every accepted suite is AEAD"
            )
            + suffix_note,
            not_aead=non_aead,
            required=aead_required,
        )
    )
    findings.append(
        check(
            "cipher.strength",
            not weak,
            "critical",
            f"{len(weak)} accepted suite(s) anonymous, under 128 bits or with a weak ephemeral key"
            if weak
            else "no anonymous, short-key or weak-ephemeral suite accepted",
            weak=weak,
        )
    )
    return findings


def judge_groups(
    record: dict[str, Any],
    policy: dict[str, Any],
    overrides: dict[str, Any] | None,
    openssl_version: str | None = None,
) -> list[Finding]:
    attempt = Attempt(record, "elliptic_curves")
    if not attempt.ok:
        return [
            undecided("kex.groups", "medium", "key-exchange groups could not be tested", **attempt.why_not())
        ]
    assert attempt.result is not None
    # A scan alone does not show the target's OpenSSL: without ``openssl_version`` every group of
    # the profile is acceptable (a group with min_openssl is simply not offered by older builds).
    # When the caller states the target's version, a group needing a newer OpenSSL than that is
    # reported (the endpoint is not running the OpenSSL it was said to run). An inventory override
    # narrows the list to what the host was rendered with.
    effective: list[str] | None = None
    if overrides and overrides.get("groups"):
        effective = effective_tls(policy, overrides, openssl_version)["groups"]
    if effective is not None:
        allowed = effective
    elif openssl_version:
        allowed = groups_for(policy, openssl_version)
    else:
        allowed = [g["name"] for g in policy["groups"]]
    supported = [normalise_group(c["name"]) for c in attempt.result.get("supported_curves") or []]
    why = {g: rules for g in supported if (rules := judge_group(g, policy, openssl_version, effective))}
    extra = [g for g in supported if g in why]
    evidence: dict[str, Any] = {
        "supported": supported,
        "not_in_policy": extra,
        "allowed": allowed,
        "why": why,
    }
    if openssl_version:
        evidence["target_openssl"] = openssl_version
    return [
        check(
            "kex.groups",
            not extra,
            "medium",
            f"{len(extra)} supported group(s) outside the profile: {', '.join(extra)}"
            if extra
            else f"every supported group is in the profile ({', '.join(supported) or 'none'})",
            **evidence,
        )
    ]


# Boolean sslyze results: finding id, scan command, field, the bad value, severity, good/bad message.
_BOOLEAN_ATTACKS = (
    (
        "vuln.compression",
        "tls_compression",
        "supports_compression",
        True,
        "high",
        "TLS compression is off (CRIME)",
        "TLS compression is ON (CRIME)",
    ),
    (
        "vuln.heartbleed",
        "heartbleed",
        "is_vulnerable_to_heartbleed",
        True,
        "critical",
        "not vulnerable to Heartbleed",
        "VULNERABLE to Heartbleed",
    ),
    (
        "vuln.ccs_injection",
        "openssl_ccs_injection",
        "is_vulnerable_to_ccs_injection",
        True,
        "critical",
        "not vulnerable to the OpenSSL CCS injection",
        "VULNERABLE to the OpenSSL CCS injection",
    ),
    (
        "vuln.fallback_scsv",
        "tls_fallback_scsv",
        "supports_fallback_scsv",
        False,
        "medium",
        "TLS_FALLBACK_SCSV is honoured (downgrade protection)",
        "TLS_FALLBACK_SCSV is NOT honoured",
    ),
)


def judge_attacks(record: dict[str, Any]) -> list[Finding]:
    findings = []
    for fid, command, field, bad, severity, good_msg, bad_msg in _BOOLEAN_ATTACKS:
        attempt = Attempt(record, command)
        if not attempt.ok:
            findings.append(undecided(fid, severity, f"{command}: could not be tested", **attempt.why_not()))
            continue
        assert attempt.result is not None
        value = attempt.result[field]
        failed = value == bad
        findings.append(check(fid, not failed, severity, bad_msg if failed else good_msg, **{field: value}))
    reneg = Attempt(record, "session_renegotiation")
    if reneg.ok:
        assert reneg.result is not None
        secure = reneg.result["supports_secure_renegotiation"]
        findings.append(
            check(
                "vuln.insecure_renegotiation",
                secure,
                "high",
                "secure renegotiation (RFC 5746) supported"
                if secure
                else "INSECURE renegotiation: RFC 5746 not supported",
                supports_secure_renegotiation=secure,
            )
        )
        dos = reneg.result["is_vulnerable_to_client_renegotiation_dos"]
        findings.append(
            check(
                "vuln.client_renegotiation",
                not dos,
                "medium",
                "client-initiated renegotiation refused"
                if not dos
                else "client-initiated renegotiation accepted (DoS)",
                is_vulnerable_to_client_renegotiation_dos=dos,
                client_renegotiations_success_count=reneg.result["client_renegotiations_success_count"],
            )
        )
    else:
        findings.append(
            undecided(
                "vuln.insecure_renegotiation", "high", "renegotiation could not be tested", **reneg.why_not()
            )
        )
        findings.append(
            undecided(
                "vuln.client_renegotiation", "medium", "renegotiation could not be tested", **reneg.why_not()
            )
        )
    robot = Attempt(record, "robot")
    if robot.ok:
        assert robot.result is not None
        value = robot.result["robot_result"]
        if value.startswith("NOT_VULNERABLE"):
            findings.append(
                check(
                    "vuln.robot", True, "critical", f"not vulnerable to ROBOT ({value})", robot_result=value
                )
            )
        elif value.startswith("VULNERABLE"):
            findings.append(
                check("vuln.robot", False, "critical", f"VULNERABLE to ROBOT ({value})", robot_result=value)
            )
        else:
            findings.append(
                undecided("vuln.robot", "critical", f"ROBOT inconclusive ({value})", robot_result=value)
            )
    else:
        # sslyze's ROBOT probe drives the handshake itself and cannot answer a CertificateRequest:
        # against a server that asks for client certificates it errors out. The server then accepts
        # RSA key exchange (else sslyze reports RSA_NOT_SUPPORTED) and stays "not proven safe".
        sslyze = record.get("sslyze") or {}
        asks = (sslyze.get("connectivity_result") or {}).get("client_auth_requirement")
        with_cert = bool((sslyze.get("network_configuration") or {}).get("tls_client_auth_credentials"))
        note = " (client certificates in play: sslyze's ROBOT probe cannot answer a CertificateRequest)"
        findings.append(
            undecided(
                "vuln.robot",
                "critical",
                "ROBOT could not be tested" + (note if with_cert or asks in ("OPTIONAL", "REQUIRED") else ""),
                client_auth_requirement=asks,
                client_certificate_used=with_cert,
                **robot.why_not(),
            )
        )
    ems = Attempt(record, "tls_extended_master_secret")
    if ems.ok:
        assert ems.result is not None
        value = ems.result["supports_ems_extension"]
        findings.append(
            check(
                "tls.extended_master_secret",
                value,
                "low",
                "extended master secret (RFC 7627) supported"
                if value
                else "extended master secret (RFC 7627) NOT supported",
                supports_ems_extension=value,
            )
        )
    return findings


def judge_session(record: dict[str, Any], policy: dict[str, Any]) -> list[Finding]:
    findings = []
    session = policy["session"]
    attempt = Attempt(record, "session_resumption")
    if not attempt.ok:
        findings.append(
            undecided("session.resumption", "low", "resumption could not be tested", **attempt.why_not())
        )
    else:
        assert attempt.result is not None
        ids = attempt.result["session_id_resumption_result"]
        tickets = attempt.result["tls_ticket_resumption_result"]
        evidence = {
            "session_id_resumption": ids,
            "session_id_successful": attempt.result["session_id_successful_resumptions_count"],
            "session_id_attempted": attempt.result["session_id_attempted_resumptions_count"],
            "ticket_resumption": tickets,
            "ticket_successful": attempt.result["tls_ticket_successful_resumptions_count"],
            "ticket_attempted": attempt.result["tls_ticket_attempted_resumptions_count"],
        }
        if "SERVER_IS_TLS_1_3_ONLY" in (ids, tickets):
            findings.append(
                not_applicable(
                    "session.resumption", "low", "TLS 1.3 only: sslyze tests TLS 1.2 resumption", **evidence
                )
            )
        else:
            working = ids in ("FULLY_SUPPORTED", "PARTIALLY_SUPPORTED") or tickets in (
                "FULLY_SUPPORTED",
                "PARTIALLY_SUPPORTED",
            )
            want = bool(session.get("cache") or session.get("tickets"))
            findings.append(
                check(
                    "session.resumption",
                    working or not want,
                    "low",
                    "session resumption works" if working else "session resumption does NOT work",
                    **evidence,
                )
            )
            ticket_on = tickets in ("FULLY_SUPPORTED", "PARTIALLY_SUPPORTED")
            findings.append(
                check(
                    "session.tickets",
                    ticket_on == bool(session.get("tickets")),
                    "low",
                    f"session tickets {'on' if ticket_on else 'off'}, profile wants "
                    f"{'on' if session.get('tickets') else 'off'}",
                    **evidence,
                )
            )
    early = Attempt(record, "tls_1_3_early_data")
    allowed = bool(policy["early_data"]["allowed"])
    if not early.ok:
        findings.append(undecided("early_data.state", "high", "0-RTT could not be tested", **early.why_not()))
    else:
        assert early.result is not None
        on = early.result["supports_early_data"]
        findings.append(
            check(
                "early_data.state",
                allowed or not on,
                "high",
                f"0-RTT early data is {'accepted' if on else 'refused'}; profile "
                f"{'allows' if allowed else 'forbids'} it",
                supports_early_data=on,
                allowed=allowed,
            )
        )
    return findings
