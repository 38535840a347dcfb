"""cert.lifetime_calendar on fixed dates: the SC-081 schedule, the renewal date from the profile's
warning window, public vs private trust (tlsward.scan.judge_lifetime)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tlsward.policy import load_policy
from tlsward.scan import judge
from tlsward.scan.judge_cert import warning_window_days
from tlsward.scan.judge_lifetime import (
    REMEDIATION_PRIVATE,
    REMEDIATION_PUBLIC,
    br_validity_days,
    judge_lifetime_calendar,
    next_renewal,
    sc081_limit,
    stops_fitting,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "scan"
UTC = dt.UTC
NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
POLICY = load_policy("biometric-strict")  # max_leaf_lifetime_days 90, min_days_left 30
KEY = ec.generate_private_key(ec.SECP256R1())


def leaf(not_before: dt.datetime, not_after: dt.datetime) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bio.scan.test")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(KEY.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(KEY, hashes.SHA256())
    )


def days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)


def at(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, tzinfo=UTC)


def record_with(*leaves: x509.Certificate, public: bool) -> dict[str, Any]:
    """The hardened endpoint's recorded scan with its leaf replaced (one deployment per leaf),
    verified by Mozilla's store (public) or by the supplied ca_file only (private)."""
    record = json.loads((DATA / "hardened.json").read_text(encoding="utf-8"))["record"]
    result = record["sslyze"]["scan_result"]["certificate_info"]["result"]
    template = result["certificate_deployments"][0]
    deployments = []
    for cert in leaves:
        deployment = copy.deepcopy(template)
        pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        deployment["received_certificate_chain"][0]["as_pem"] = pem
        for validation in deployment["path_validation_results"]:
            name = validation["trust_store"]["name"]
            validation["was_validation_successful"] = name == ("Mozilla" if public else "Supplied CA file")
        deployments.append(deployment)
    result["certificate_deployments"] = deployments
    return record


def calendar(record: dict[str, Any], policy: dict[str, Any] = POLICY, **kwargs: Any) -> Any:
    [finding] = judge_lifetime_calendar(record, policy, kwargs.pop("now", NOW), **kwargs)
    return finding


@pytest.mark.parametrize(
    ("issued", "limit"),
    [
        (dt.date(2025, 1, 1), 398),
        (dt.date(2026, 3, 14), 398),
        (dt.date(2026, 3, 15), 200),
        (dt.date(2027, 3, 14), 200),
        (dt.date(2027, 3, 15), 100),
        (dt.date(2029, 3, 14), 100),
        (dt.date(2029, 3, 15), 47),
        (dt.date(2035, 1, 1), 47),
    ],
)
def test_sc081_limit_by_issuance_date(issued: dt.date, limit: int) -> None:
    assert sc081_limit(issued) == limit


@pytest.mark.parametrize(
    ("lifetime", "date"),
    [
        (398, dt.date(2026, 3, 15)),
        (201, dt.date(2026, 3, 15)),
        (200, dt.date(2027, 3, 15)),
        (90, dt.date(2029, 3, 15)),
        (48, dt.date(2029, 3, 15)),
        (47, None),
        (7, None),
    ],
)
def test_when_a_cadence_stops_fitting(lifetime: int, date: dt.date | None) -> None:
    assert stops_fitting(lifetime) == date


def test_validity_is_counted_inclusive_as_the_brs_do() -> None:
    start = at(2026, 6, 1)
    assert br_validity_days(leaf(start, start + days(200) - dt.timedelta(seconds=1))) == 200
    # notBefore through notAfter inclusive: exactly 200 days apart is 200 days and one second.
    assert br_validity_days(leaf(start, start + days(200))) == 201


def test_public_90_day_leaf_fits_until_2029() -> None:
    cert = leaf(at(2026, 11, 1), at(2026, 11, 1) + days(90) - dt.timedelta(seconds=1))
    finding = calendar(record_with(cert, public=True))
    assert (finding.id, finding.status, finding.severity) == ("cert.lifetime_calendar", "pass", "medium")
    ev = finding.evidence
    assert ev["trust"] == "public"
    assert ev["trust_stores"] == ["Mozilla 2026-03-28"]
    assert (ev["lifetime_days"], ev["limit_at_issuance_days"]) == (90, 200)
    # Renewal at the start of the 30-day warning window: 2027-01-29T23:59:59 - 30 days.
    assert ev["next_renewal"] == "2026-12-30"
    assert ev["limit_at_next_renewal_days"] == 200
    assert ev["cadence_stops_fitting_on"] == "2029-03-15"
    assert "stops fitting on 2029-03-15" in finding.message
    assert finding.remediation is None


def test_public_180_day_leaf_renewed_after_2027_03_15_fails() -> None:
    cert = leaf(at(2026, 11, 1), at(2026, 11, 1) + days(180) - dt.timedelta(seconds=1))
    finding = calendar(record_with(cert, public=True))
    assert finding.status == "fail"
    ev = finding.evidence
    assert (ev["lifetime_days"], ev["limit_at_issuance_days"]) == (180, 200)
    assert (ev["next_renewal"], ev["limit_at_next_renewal_days"]) == ("2027-03-30", 100)
    assert ev["cadence_stops_fitting_on"] == "2027-03-15"
    assert "EXCEEDS the 100-day SC-081 limit in force at its next renewal (2027-03-30)" in finding.message
    assert finding.remediation == REMEDIATION_PUBLIC


def test_the_warning_window_comes_from_the_profile_and_the_override() -> None:
    cert = leaf(at(2026, 11, 1), at(2026, 11, 1) + days(180) - dt.timedelta(seconds=1))
    record = record_with(cert, public=True)
    # A 60-day window renews before 2027-03-15: the 200-day limit still applies then.
    early = copy.deepcopy(POLICY)
    early["certificate"]["min_days_left"] = 60
    finding = calendar(record, early)
    assert (finding.status, finding.evidence["next_renewal"]) == ("pass", "2027-02-28")
    assert finding.evidence["warning_window_days"] == 60
    # The caller's min_days_left (tls_scan's option) wins over the profile, as for the expiry check.
    finding = calendar(record, min_days_left=60)
    assert (finding.status, finding.evidence["warning_window_days"]) == ("pass", 60)
    # One source: the expiry check's window is the same number.
    by_id = {f.id: f for f in judge(record, early, "test", now=NOW)}
    assert by_id["cert.chain.expiring_soon"].evidence["window_days"] == 60
    assert by_id["cert.lifetime_calendar"].evidence["warning_window_days"] == 60
    assert warning_window_days(early["certificate"], None) == 60


def test_public_397_day_leaf_issued_before_the_first_step() -> None:
    cert = leaf(at(2026, 1, 10), at(2026, 1, 10) + days(397) - dt.timedelta(seconds=1))
    finding = calendar(record_with(cert, public=True))
    assert finding.status == "fail"
    assert finding.evidence["limit_at_issuance_days"] == 398  # fine when it was issued
    assert finding.evidence["limit_at_next_renewal_days"] == 200
    assert "cadence stopped fitting on 2026-03-15" in finding.message


def test_public_leaf_longer_than_the_limit_when_issued_fails() -> None:
    cert = leaf(at(2026, 4, 1), at(2026, 4, 1) + days(365))
    finding = calendar(record_with(cert, public=True))
    assert finding.status == "fail"
    assert "EXCEEDS the 200-day SC-081 limit in force when it was issued (2026-04-01)" in finding.message


def test_renewal_already_due_is_judged_at_the_scan_time() -> None:
    cert = leaf(at(2026, 10, 1), at(2026, 12, 20))
    assert next_renewal(cert, 30, NOW) == NOW
    finding = calendar(record_with(cert, public=True), now=at(2027, 3, 20))
    assert finding.evidence["next_renewal"] == "2027-03-20"
    assert finding.evidence["limit_at_next_renewal_days"] == 100


def test_private_leaf_is_judged_against_the_profile() -> None:
    good = leaf(at(2026, 11, 1), at(2026, 11, 1) + days(60))
    finding = calendar(record_with(good, public=False))
    assert (finding.status, finding.evidence["trust"]) == ("pass", "private")
    assert finding.evidence["max_leaf_lifetime_days"] == 90
    # Expires 2026-12-31: its 30-day window began before the scan, so the renewal is due now.
    assert finding.evidence["next_renewal"] == "2026-12-04"
    assert "cadence_stops_fitting_on" not in finding.evidence
    # A lifetime that would be fine under SC-081 today is still too long for this profile.
    long = leaf(at(2026, 11, 1), at(2026, 11, 1) + days(150))
    finding = calendar(record_with(long, public=False))
    assert finding.status == "fail"
    assert finding.remediation == REMEDIATION_PRIVATE
    assert "EXCEEDS the profile's 90-day maximum" in finding.message
    unlimited = copy.deepcopy(POLICY)
    del unlimited["certificate"]["max_leaf_lifetime_days"]
    assert calendar(record_with(long, public=False), unlimited).status == "not_applicable"


def test_a_public_leaf_is_not_held_to_the_profile_maximum_here() -> None:
    # 150 days: over biometric-strict's 90 (cert.lifetime says so) but inside SC-081's 200.
    cert = leaf(at(2026, 11, 1), at(2026, 11, 1) + days(150) - dt.timedelta(seconds=1))
    by_id = {f.id: f for f in judge(record_with(cert, public=True), POLICY, "test", now=NOW)}
    assert by_id["cert.lifetime_calendar"].status == "pass"
    assert by_id["cert.lifetime"].status == "fail"


def test_several_deployments_report_the_worst() -> None:
    ok = leaf(at(2026, 11, 1), at(2026, 11, 1) + days(90) - dt.timedelta(seconds=1))
    bad = leaf(at(2026, 11, 1), at(2026, 11, 1) + days(180) - dt.timedelta(seconds=1))
    finding = calendar(record_with(ok, bad, public=True))
    assert finding.status == "fail"
    assert [d["lifetime_days"] for d in finding.evidence["deployments"]] == [90, 180]
    assert finding.message.count("publicly trusted leaf") == 2


def test_no_certificate_is_undecided() -> None:
    record = record_with(leaf(at(2026, 11, 1), at(2027, 1, 1)), public=True)
    record["sslyze"]["scan_result"]["certificate_info"] = {
        "status": "ERROR",
        "error_reason": "BUG_IN_SSLYZE",
        "error_trace": "boom",
        "result": None,
    }
    assert calendar(record).status == "error"


def test_recorded_private_endpoints_get_the_profile_verdict() -> None:
    for name, status in (("hardened", "pass"), ("long_lived", "fail")):
        record = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))["record"]
        by_id = {f.id: f for f in judge(record, "biometric-strict", "test")}
        assert by_id["cert.lifetime_calendar"].status == status, name
        assert by_id["cert.lifetime_calendar"].evidence["trust"] == "private"
