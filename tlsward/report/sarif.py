"""SARIF 2.1.0 for code-scanning dashboards: one result per check that did not pass.

``to_sarif`` turns a compliance report (``build_report``) into one SARIF log with one run. Each
check id that failed on some host is a rule in ``tool.driver.rules`` (``id`` = the check id, e.g.
``protocol.tls1_0``); each failed check of each host is a result (``kind: fail``, ``level`` from
the finding's severity) and each check that could not be decided is a result of ``kind: open``
(SARIF's "could not tell pass from fail"; its level is ``none`` by the standard, the severity is
in its properties). Results carry the endpoint (a logical location named after the inventory
host, a physical ``tls://host:port`` location for TLS findings) and the finding's evidence.

The log is checked against the OASIS schema (``schemas/sarif-schema-2.1.0.json``) in the tests.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from tlsward import __version__
from tlsward.severities import SEVERITIES

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
# The finding's severity -> SARIF level (kind "fail") and the numeric security-severity that
# code-scanning services read from rule properties (>= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium).
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
_RANK = {s: i for i, s in enumerate(SEVERITIES)}

# What each check asks for (docs/compliance.md, "Findings"): the rules' short descriptions.
DESCRIPTIONS = {
    "connectivity": "A TLS handshake with the endpoint completes.",
    "protocol.ssl2_0": "SSL 2.0 is refused.",
    "protocol.ssl3_0": "SSL 3.0 is refused.",
    "protocol.tls1_0": "TLS 1.0 is refused.",
    "protocol.tls1_1": "TLS 1.1 is refused.",
    "protocol.tls1_2": "TLS 1.2 is accepted when the profile requires it, refused when it does not allow it.",
    "protocol.tls1_3": "TLS 1.3 is accepted when the profile requires it, refused when it does not allow it.",
    "cipher.forward_secrecy": "Every accepted cipher suite has forward secrecy ((EC)DHE or TLS 1.3).",
    "cipher.aead": "Every accepted TLS 1.2 or older cipher suite is AEAD (GCM, CCM, ChaCha20-Poly1305).",
    "cipher.strength": "No anonymous, under-128-bit or weak-ephemeral-key cipher suite is accepted.",
    "kex.groups": "Every supported key-exchange group is one of the profile's groups.",
    "kex.pq_hybrid": "X25519MLKEM768 is negotiated where the profile and the target's OpenSSL have it.",
    "tls.signature_algorithms": "The server signs the handshake only with the profile's signature schemes.",
    "cert.chain.trusted": "The chain verifies to a trust anchor for the server name at scan time.",
    "cert.chain.complete": "The server sends every intermediate certificate.",
    "cert.chain.self_signed": "The leaf certificate is not self-signed.",
    "cert.chain.order": "The chain is sent leaf first, in order.",
    "cert.chain.expired": "Every certificate of the chain is within its validity period.",
    "cert.chain.expiring_soon": "No certificate of the chain expires within the warning window.",
    "cert.hostname": "The leaf certificate is valid for the server name.",
    "cert.san": "The leaf certificate has a subjectAltName.",
    "cert.wildcard": "No wildcard name where the environment forbids them.",
    "cert.key_type": "The leaf and intermediate keys are of a type and size the profile allows.",
    "cert.signature_algorithm": "Every certificate of the sent chain is signed with an allowed hash.",
    "cert.lifetime": "The leaf certificate's lifetime is within the profile's maximum.",
    "cert.lifetime_calendar": "A publicly trusted leaf fits the CA/B Forum SC-081 limit at its next renewal; "
    "a private CA's leaf fits the profile's maximum.",
    "ocsp.stapling": "A good OCSP response is stapled where the profile or the certificate asks for one.",
    "hsts.present": "The Strict-Transport-Security header is sent.",
    "hsts.max_age": "The HSTS max-age is at least the profile's minimum.",
    "hsts.include_subdomains": "HSTS includes subdomains when the profile asks for it.",
    "mtls.no_client_cert_refused": "A request without a client certificate is refused.",
    "mtls.unknown_ca_refused": "A client certificate from an unknown CA is refused.",
    "mtls.revoked_refused": "A revoked client certificate is refused.",
    "mtls.valid_client_cert_accepted": "The valid client identity is served.",
    "http.server_tokens": "The Server header carries no version.",
    "session.resumption": "Session resumption works when the profile enables a cache or tickets.",
    "session.tickets": "Session tickets are on or off as the profile says.",
    "early_data.state": "TLS 1.3 0-RTT early data is refused unless the profile allows it.",
    "early_data.unsafe_method_refused": "An unsafe request sent as 0-RTT early data is answered 425 "
    "Too Early and never reaches the application.",
    "session.cross_listener_resumption": "A session from another listener or server name never opens an "
    "endpoint that requires client certificates without the endpoint verifying the client.",
    "vuln.compression": "TLS compression is off (CRIME).",
    "vuln.insecure_renegotiation": "Secure renegotiation (RFC 5746) is supported.",
    "vuln.client_renegotiation": "Client-initiated renegotiation is refused.",
    "vuln.heartbleed": "The endpoint is not vulnerable to Heartbleed.",
    "vuln.ccs_injection": "The endpoint is not vulnerable to the OpenSSL CCS injection.",
    "vuln.robot": "The endpoint is not vulnerable to ROBOT.",
    "vuln.fallback_scsv": "TLS_FALLBACK_SCSV is honoured (downgrade protection).",
    "tls.extended_master_secret": "The extended master secret extension (RFC 7627) is supported.",
    "host.reachable": "The host-side facts were gathered.",
    "host.key_files": "Private key files are owned by root with restrictive modes.",
    "host.drift": "The deployed nginx TLS directives equal what the profile renders.",
    "host.template_store": "Every record of the biometric store is sealed under a key the service holds.",
}


def describe(check_id: str) -> str:
    """The rule's short description: what the check asks for."""
    if check_id in DESCRIPTIONS:
        return DESCRIPTIONS[check_id]
    parts = check_id.split(".")
    if len(parts) == 3 and parts[0] == "cipher" and parts[2] == "not_in_policy":
        return f"Every cipher suite accepted under {parts[1]} is in the profile's list for it."
    if check_id.startswith("host.unit_hardening."):
        unit = check_id.removeprefix("host.unit_hardening.")
        return f"The systemd-analyze security exposure of {unit} is within the allowed level."
    return f"tlsward check {check_id}."


def _utc(stamp: str) -> str:
    when = dt.datetime.fromisoformat(stamp)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def endpoint_label(endpoint: dict[str, Any] | None) -> str | None:
    """``host:port`` (``[v6]:port``) of an endpoint, None for a host without one."""
    if not endpoint:
        return None
    host = str(endpoint["host"])
    return f"[{host}]:{endpoint['port']}" if ":" in host else f"{host}:{endpoint['port']}"


def _location(host: dict[str, Any], finding: dict[str, Any]) -> dict[str, Any]:
    where = endpoint_label(host["endpoint"])
    logical: dict[str, Any] = {"name": host["name"], "kind": "resource"}
    location: dict[str, Any] = {"logicalLocations": [logical]}
    if where and finding.get("source") == "tls":
        logical["fullyQualifiedName"] = f"{host['name']}/{where}"
        location["physicalLocation"] = {
            "artifactLocation": {
                "uri": f"tls://{where}",
                "description": {"text": f"TLS endpoint {where} (SNI {host['endpoint']['server_name']})"},
            }
        }
    return location


def _rule(check_id: str, findings: list[dict[str, Any]]) -> dict[str, Any]:
    worst = max((f["severity"] for f in findings), key=lambda s: _RANK.get(s, 0))
    rule: dict[str, Any] = {
        "id": check_id,
        "name": check_id,
        "shortDescription": {"text": describe(check_id)},
        "defaultConfiguration": {"level": LEVELS.get(worst, "warning")},
        "properties": {
            "severity": worst,
            "security-severity": SECURITY_SEVERITY.get(worst, "5.5"),
            "tags": ["security", "tls", "compliance"],
        },
    }
    remediation = next((f["remediation"] for f in findings if f.get("remediation")), None)
    if remediation:
        rule["help"] = {"text": str(remediation)}
    return rule


def _result(host: dict[str, Any], finding: dict[str, Any], rule_index: int) -> dict[str, Any]:
    failed = finding["status"] == "fail"
    result: dict[str, Any] = {
        "ruleId": finding["id"],
        "ruleIndex": rule_index,
        "kind": "fail" if failed else "open",
        # SARIF: a result whose kind is not "fail" has level "none"; its severity is in properties.
        "level": LEVELS.get(finding["severity"], "warning") if failed else "none",
        "message": {"text": f"{host['name']}: {finding['message']}"},
        "locations": [_location(host, finding)],
        "partialFingerprints": {"tlswardCheck/v1": f"{host['name']}|{finding['id']}"},
        "properties": {
            "host": host["name"],
            "endpoint": endpoint_label(host["endpoint"]) if finding.get("source") == "tls" else None,
            "server_name": (host["endpoint"] or {}).get("server_name"),
            "environment": host.get("environment"),
            "source": finding.get("source"),
            "status": finding["status"],
            "severity": finding["severity"],
            "evidence": _jsonable(finding.get("evidence") or {}),
        },
    }
    return result


def to_sarif(report: dict[str, Any]) -> dict[str, Any]:
    """The SARIF 2.1.0 log of a compliance report (a JSON-serialisable dict)."""
    not_passed = [(h, f) for h in report["hosts"] for f in h["findings"] if f["status"] in ("fail", "error")]
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for _, finding in not_passed:
        by_rule.setdefault(finding["id"], []).append(finding)
    rule_ids = sorted(by_rule)
    index = {rid: i for i, rid in enumerate(rule_ids)}
    summary = report["summary"]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "tlsward",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule(rid, by_rule[rid]) for rid in rule_ids],
            },
            "extensions": [
                {"name": name, "version": str(version)} for name, version in sorted(report["tool"].items())
            ],
        },
        "automationDetails": {"id": f"tlsward/compliance/{report['run_id']}"},
        "invocations": [
            {
                "executionSuccessful": True,
                "endTimeUtc": _utc(report["generated_at"]),
                "properties": {"policy": report["policy"], "fail_severity": report["fail_severity"]},
            }
        ],
        "results": [_result(h, f, index[f["id"]]) for h, f in not_passed],
        "properties": {
            "schema": report["schema"],
            "schema_version": report["schema_version"],
            "run_id": report["run_id"],
            "compliant": summary["compliant"],
            "summary": _jsonable(summary),
        },
    }
    if not run["tool"]["extensions"]:
        del run["tool"]["extensions"]
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}
