"""The certificate lifetime calendar (``cert.lifetime_calendar``).

A *publicly trusted* leaf (its chain verifies against one of the public root programs' stores
sslyze bundles: Mozilla, Apple, Microsoft, Android, Java; the ``ca_file`` anchors are not public)
is renewed under the CA/Browser Forum TLS Baseline Requirements, whose section 6.3.2 (ballot
SC-081v3) lowers the maximum validity of a certificate by the date it is issued:

| issued on or after | maximum validity |
|---|---|
| (before 2026-03-15) | 398 days |
| 2026-03-15 | 200 days |
| 2027-03-15 | 100 days |
| 2029-03-15 | 47 days |

The leaf is judged against the limit that applies at its *next renewal*: the start of the expiry
warning window (``not_after`` minus the profile's ``certificate.min_days_left``, the same window
``cert.chain.expiring_soon`` warns in; the scan time when that has passed), and against the limit
in force when it was issued. Its validity is counted as the BRs count it (notBefore through
notAfter inclusive; a started day is a day). The evidence says from when today's renewal cadence
(the leaf's own lifetime) no longer fits: the first date of the schedule whose limit is below it.

A private CA's leaf is judged against the profile's ``certificate.max_leaf_lifetime_days`` (the
same limit and measure ``cert.lifetime`` uses, which has no calendar), with the renewal date in
the evidence.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from cryptography import x509

from tlsward.scan.attempts import Attempt
from tlsward.scan.judge_cert import leaf_lifetime_days, warning_window_days
from tlsward.scan.model import Finding, Status

FINDING = "cert.lifetime_calendar"
SEVERITY = "medium"
# TLS BR 6.3.2 after SC-081v3: (issued on or after, maximum validity in days), oldest first.
SC081_SCHEDULE: tuple[tuple[dt.date, int], ...] = (
    (dt.date.min, 398),
    (dt.date(2026, 3, 15), 200),
    (dt.date(2027, 3, 15), 100),
    (dt.date(2029, 3, 15), 47),
)
# sslyze's name for the trust store it builds from ca_file (every other one is a public store).
SUPPLIED_STORE = "Supplied CA file"
REMEDIATION_PUBLIC = (
    "shorten the renewal cadence before the next renewal: request at most the SC-081 limit in force "
    "on the renewal date (a day less, as the BRs advise) and renew automatically (ACME), earlier than "
    "certificate.min_days_left before expiry"
)
REMEDIATION_PRIVATE = (
    "issue the leaf for at most the profile's certificate.max_leaf_lifetime_days (tls_pki renews "
    "from the profile) and replace the deployed certificate"
)


def sc081_limit(issued: dt.date) -> int:
    """The maximum validity in days of a publicly trusted leaf issued on ``issued``."""
    limit = SC081_SCHEDULE[0][1]
    for since, days in SC081_SCHEDULE:
        if issued >= since:
            limit = days
    return limit


def stops_fitting(lifetime_days: int) -> dt.date | None:
    """The first schedule date whose limit is below ``lifetime_days`` (None: it always fits)."""
    return next((since for since, days in SC081_SCHEDULE if days < lifetime_days), None)


def br_validity_days(cert: x509.Certificate) -> int:
    """Validity as TLS BR 6.3.2 counts it: notBefore through notAfter inclusive (one second more),
    any started day of 86,400 seconds counted as a day."""
    seconds = (cert.not_valid_after_utc - cert.not_valid_before_utc).total_seconds() + 1
    return math.ceil(seconds / 86400)


def next_renewal(cert: x509.Certificate, window_days: int, now: dt.datetime) -> dt.datetime:
    """When the leaf is due for renewal: the start of the warning window, or now once it has begun."""
    return max(now, cert.not_valid_after_utc - dt.timedelta(days=window_days))


def publicly_trusted_by(deployment: dict[str, Any]) -> list[str]:
    """The public trust stores the deployment's chain verified against (sslyze's validation)."""
    return [
        f"{r['trust_store']['name']} {r['trust_store'].get('version') or ''}".strip()
        for r in deployment.get("path_validation_results") or []
        if r.get("was_validation_successful") and r["trust_store"]["name"] != SUPPLIED_STORE
    ]


def _public(
    leaf: x509.Certificate, stores: list[str], window: int, now: dt.datetime
) -> tuple[Status, str, dict[str, Any]]:
    lifetime = br_validity_days(leaf)
    issued = leaf.not_valid_before_utc.date()
    renewal = next_renewal(leaf, window, now)
    issued_limit, renewal_limit = sc081_limit(issued), sc081_limit(renewal.date())
    until = stops_fitting(lifetime)
    evidence = {
        "trust": "public",
        "trust_stores": stores,
        "lifetime_days": lifetime,
        "issued": issued.isoformat(),
        "limit_at_issuance_days": issued_limit,
        "next_renewal": renewal.date().isoformat(),
        "limit_at_next_renewal_days": renewal_limit,
        "cadence_stops_fitting_on": until.isoformat() if until else None,
        "warning_window_days": window,
        "schedule": [
            {"issued_from": None if since == dt.date.min else since.isoformat(), "max_days": days}
            for since, days in SC081_SCHEDULE
        ],
    }
    cadence = (
        f"a {lifetime}-day cadence fits every SC-081 step"
        if until is None
        else f"a {lifetime}-day cadence {'stopped' if until <= now.date() else 'stops'} fitting on {until}"
    )
    if lifetime > issued_limit:
        return (
            "fail",
            f"publicly trusted leaf: {lifetime}-day validity EXCEEDS the {issued_limit}-day SC-081 limit "
            f"in force when it was issued ({issued}); {cadence}",
            evidence,
        )
    if lifetime > renewal_limit:
        return (
            "fail",
            f"publicly trusted leaf: {lifetime}-day validity EXCEEDS the {renewal_limit}-day SC-081 limit "
            f"in force at its next renewal ({renewal.date()}); {cadence}",
            evidence,
        )
    return (
        "pass",
        f"publicly trusted leaf: {lifetime}-day validity fits the {renewal_limit}-day SC-081 limit at its "
        f"next renewal ({renewal.date()}); {cadence}",
        evidence,
    )


def _private(
    leaf: x509.Certificate, rules: dict[str, Any], window: int, now: dt.datetime
) -> tuple[Status, str, dict[str, Any]]:
    lifetime = round(leaf_lifetime_days(leaf), 1)
    max_days = rules.get("max_leaf_lifetime_days")
    renewal = next_renewal(leaf, window, now).date()
    evidence = {
        "trust": "private",
        "lifetime_days": lifetime,
        "max_leaf_lifetime_days": max_days,
        "next_renewal": renewal.isoformat(),
        "warning_window_days": window,
    }
    if max_days is None:
        return "not_applicable", "private CA leaf: the profile sets no max_leaf_lifetime_days", evidence
    ok = lifetime <= max_days
    return (
        "pass" if ok else "fail",
        f"private CA leaf: {lifetime:g}-day lifetime {'fits' if ok else 'EXCEEDS'} the profile's "
        f"{max_days}-day maximum (next renewal {renewal})",
        evidence,
    )


def judge_lifetime_calendar(
    record: dict[str, Any], policy: dict[str, Any], now: dt.datetime, min_days_left: int | None = None
) -> list[Finding]:
    attempt = Attempt(record, "certificate_info")
    if not attempt.ok:
        return [Finding(FINDING, "error", SEVERITY, "certificate could not be retrieved", attempt.why_not())]
    assert attempt.result is not None
    rules = policy["certificate"]
    window = warning_window_days(rules, min_days_left)
    verdicts = []
    for deployment in attempt.result["certificate_deployments"]:
        pem = deployment["received_certificate_chain"][0]["as_pem"]
        leaf = x509.load_pem_x509_certificate(pem.encode("ascii"))
        stores = publicly_trusted_by(deployment)
        verdict = _public(leaf, stores, window, now) if stores else _private(leaf, rules, window, now)
        verdicts.append((verdict, leaf.subject.rfc4514_string()))
    rank = {"not_applicable": 0, "pass": 1, "fail": 2}
    (status, message, _), _ = max(verdicts, key=lambda v: rank[v[0][0]])
    if len(verdicts) > 1:
        message = " | ".join(f"{subject}: {m}" for (_, m, _), subject in verdicts)
    evidence: dict[str, Any] = (
        verdicts[0][0][2] if len(verdicts) == 1 else {"deployments": [v[2] for v, _ in verdicts]}
    )
    remediation = None
    if status == "fail":
        public = any(v[2]["trust"] == "public" and v[0] == "fail" for v, _ in verdicts)
        remediation = REMEDIATION_PUBLIC if public else REMEDIATION_PRIVATE
    return [Finding(FINDING, status, SEVERITY, message, evidence, remediation)]
