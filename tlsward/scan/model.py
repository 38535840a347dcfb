"""Findings, targets and severities: the vocabulary shared by the scanner, the host checks and the reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from tlsward.errors import TlswardError
from tlsward.policy import DEFAULT_POLICY
from tlsward.severities import SEVERITIES

Status = Literal["pass", "fail", "not_applicable", "error"]


def severity_rank(severity: str) -> int:
    """Position of a severity in ``SEVERITIES`` (higher is worse); unknown names are an error."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        raise TlswardError(
            "severity", f"unknown severity {severity!r}; known: {', '.join(SEVERITIES)}"
        ) from None


@dataclass(frozen=True)
class Finding:
    """One check and its outcome. ``passed`` is false for ``fail`` and ``error`` (could not be decided).

    ``id`` is stable across releases (documented in docs/compliance.md); ``evidence`` is a JSON-able
    mapping with what was observed, so an auditor can see why without re-running the scan.
    """

    id: str
    status: Status
    severity: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    # What to change when the check fails (reports show it, SARIF as the rule's help); optional.
    remediation: str | None = None

    def __post_init__(self) -> None:
        severity_rank(self.severity)

    @property
    def passed(self) -> bool:
        return self.status in ("pass", "not_applicable")

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["passed"] = self.passed
        keys = ("id", "passed", "status", "severity", "message", "evidence")
        return {k: out[k] for k in keys} | ({"remediation": self.remediation} if self.remediation else {})


def check(finding_id: str, ok: bool, severity: str, message: str, **evidence: Any) -> Finding:
    """A pass/fail finding; ``severity`` is the weight of a failure (kept on passed findings too)."""
    return Finding(finding_id, "pass" if ok else "fail", severity, message, evidence)


def not_applicable(finding_id: str, severity: str, message: str, **evidence: Any) -> Finding:
    return Finding(finding_id, "not_applicable", severity, message, evidence)


def undecided(finding_id: str, severity: str, message: str, **evidence: Any) -> Finding:
    """The check ran but could not reach a verdict (scan error): reported as not passed."""
    return Finding(finding_id, "error", severity, message, evidence)


@dataclass(frozen=True)
class Identity:
    """A client certificate chain and its key (PEM files)."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class Listener:
    """Another listener or server name of the same service (``None``: the target's own value).

    A session obtained there must not open the target without the client being verified by the
    target (cross-listener resumption, ``session.cross_listener_resumption``).
    """

    host: str | None = None
    port: int | None = None
    server_name: str | None = None


@dataclass(frozen=True)
class Target:
    """One endpoint to scan and how to judge it.

    ``host`` is what is connected to (name or address), ``server_name`` is sent as SNI and checked
    against the certificate (defaults to ``host``). ``name`` labels the endpoint in reports
    (inventory host name). ``overrides`` are the inventory's validated TLS overrides, so the
    endpoint is judged against exactly what was rendered for it. ``openssl_version`` is the
    target's OpenSSL when known (the groups are judged against it), ``None`` when not.
    ``resumption_peers`` are the service's other listeners and names whose sessions are offered
    to this endpoint (a name no server is configured for is always tried as well).
    """

    host: str
    port: int = 443
    server_name: str | None = None
    name: str | None = None
    policy: str | dict[str, Any] = DEFAULT_POLICY
    environment: str = "production"
    ca_file: Path | None = None
    client: Identity | None = None
    revoked_client: Identity | None = None
    unknown_ca_client: Identity | None = None
    http_path: str = "/"
    overrides: dict[str, Any] | None = None
    timeout: float = 5.0
    openssl_version: str | None = None
    resumption_peers: tuple[Listener, ...] = ()

    @property
    def sni(self) -> str:
        return self.server_name or self.host

    @property
    def label(self) -> str:
        return self.name or f"{self.sni}:{self.port}"


def worst_failed(findings: list[dict[str, Any]] | list[Finding]) -> str | None:
    """The highest severity among failed findings, or None when everything passed."""
    worst: str | None = None
    for f in findings:
        passed = f.passed if isinstance(f, Finding) else f["passed"]
        sev = f.severity if isinstance(f, Finding) else f["severity"]
        if not passed and (worst is None or severity_rank(sev) > severity_rank(worst)):
            worst = sev
    return worst


def is_compliant(findings: list[dict[str, Any]] | list[Finding], threshold: str = "high") -> bool:
    """True when no finding at or above ``threshold`` failed."""
    limit = severity_rank(threshold)
    for f in findings:
        passed = f.passed if isinstance(f, Finding) else f["passed"]
        sev = f.severity if isinstance(f, Finding) else f["severity"]
        if not passed and severity_rank(sev) >= limit:
            return False
    return True
