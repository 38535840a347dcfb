"""Judge the signature schemes a server signs the handshake with (``tls.signature_algorithms``).

The record's ``signature_algorithms`` (``tlsward.scan.probe_hello.signature_probes``) holds, per TLS
version, the scheme the server used when offered every scheme, and for each scheme offered alone
whether the server signed with it (TLS 1.2: ServerKeyExchange; TLS 1.3: CertificateVerify) or
refused. Judged:

- every scheme accepted must be in the profile's ``signature_algorithms.allowed``;
- SHA-1 and MD5 schemes, and in TLS 1.3 RSASSA-PKCS1-v1_5 (and the SHA-224 pairs, which TLS 1.3 does
  not define) fail whatever the profile says (``tlsward.sigalgs.never_allowed``);
- a server that signs with a scheme the client did not offer fails (RFC 8446 4.4.3, RFC 5246
  7.4.1.4.1).

Severity: high when a never-allowed scheme is accepted or an unoffered one used, medium when the
schemes are only outside the profile's list.
"""

from __future__ import annotations

from typing import Any

from tlsward.scan.model import Finding, Status
from tlsward.sigalgs import never_allowed, profile_schemes

FINDING = "tls.signature_algorithms"
VERSIONS = ("TLSv1.3", "TLSv1.2")
REMEDIATION = (
    "limit the server's signature schemes to the profile's signature_algorithms.allowed "
    "(nginx: ssl_conf_command SignatureAlgorithms, which the nginx_tls role renders from the profile)"
)


def _finding(
    status: Status, severity: str, message: str, evidence: dict[str, Any], remediation: str | None = None
) -> Finding:
    return Finding(FINDING, status, severity, message, evidence, remediation)


def judge_signature_algorithms(record: dict[str, Any], policy: dict[str, Any]) -> list[Finding]:
    probes = record.get("signature_algorithms")
    if probes is None:
        message = "signature schemes were not probed (the record predates this check)"
        return [_finding("not_applicable", "medium", message, {"probed": False})]
    allowed = profile_schemes(policy)
    evidence: dict[str, Any] = {"allowed": allowed, "versions": {}}
    problems: list[str] = []
    severe = False
    undecided: list[str] = []
    for version in VERSIONS:
        entry = probes.get(version) or {}
        default = entry.get("default_offer") or {"outcome": "error", "error": "not probed"}
        alone: dict[str, dict[str, Any]] = entry.get("offered_alone") or {}
        accepted = [name for name, got in alone.items() if got.get("outcome") == "signed"]
        summary: dict[str, Any] = {"used_when_all_offered": default.get("scheme"), "accepted": accepted}
        if default["outcome"] == "error" or any(got.get("outcome") == "error" for got in alone.values()):
            errors = {name: got.get("error") for name, got in alone.items() if got.get("outcome") == "error"}
            summary["errors"] = errors or {"default_offer": default.get("error")}
            undecided.append(version)
        elif default["outcome"] != "signed":
            summary["not_signed"] = default.get("alert") or default.get("version") or default["outcome"]
        for name in accepted:
            used = alone[name].get("scheme")
            if used != name:
                problems.append(f"{version}: offered {name} alone, the server signed with {used}")
                severe = True
            elif reason := never_allowed(name, version):
                problems.append(f"{version}: {name} accepted ({reason})")
                severe = True
            elif allowed is not None and name not in allowed:
                problems.append(f"{version}: {name} accepted, not in the profile's signature_algorithms")
        evidence["versions"][version] = summary
    evidence["problems"] = problems
    if problems:
        severity = "high" if severe else "medium"
        message = f"{len(problems)} signature scheme problem(s): {'; '.join(problems)}"
        return [_finding("fail", severity, message, evidence, REMEDIATION)]
    if undecided:
        message = f"signature schemes could not be probed under {', '.join(undecided)}"
        return [_finding("error", "medium", message, evidence)]
    used = {v: s["accepted"] for v, s in evidence["versions"].items() if s["accepted"]}
    shown = "; ".join(f"{v}: {', '.join(names)}" for v, names in used.items()) or "none"
    if allowed is None:
        message = f"no never-allowed scheme accepted ({shown}); the profile lists no signature_algorithms"
    else:
        message = f"every accepted signature scheme is in the profile ({shown})"
    return [_finding("pass", "medium", message, evidence)]
