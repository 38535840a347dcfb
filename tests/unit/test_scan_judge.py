"""The judging logic on RECORDED sslyze results (tests/data/scan, recorded from real nginx endpoints).

Each fixture is a real scan of one integration endpoint (see
tests/integration/record_scan_fixtures.py); mutating a copy of the hardened endpoint's record
checks rules no safe endpoint can show (Heartbleed, ROBOT...).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sslyze import ServerScanResultAsJson

from tlsward.errors import TlswardError
from tlsward.scan import judge, judge_record
from tlsward.scan.judge_tls import normalise_group
from tlsward.scan.model import Target, is_compliant, severity_rank, worst_failed

DATA = Path(__file__).resolve().parents[1] / "data" / "scan"
FIXTURES = sorted(DATA.glob("*.json"))


def load(name: str) -> dict[str, Any]:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def failed(record: dict[str, Any], environment: str = "production", **kwargs: Any) -> dict[str, Any]:
    return {f.id: f for f in judge(record, "biometric-strict", environment, **kwargs) if not f.passed}


def by_id(record: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return {f.id: f for f in judge(record, "biometric-strict", "production", **kwargs)}


@pytest.fixture
def hardened() -> dict[str, Any]:
    return copy.deepcopy(load("hardened")["record"])


def result_of(record: dict[str, Any], command: str) -> dict[str, Any]:
    return record["sslyze"]["scan_result"][command]["result"]


def test_fixtures_are_genuine_sslyze_output() -> None:
    assert len(FIXTURES) >= 16
    for path in FIXTURES:
        fixture = json.loads(path.read_text(encoding="utf-8"))
        ServerScanResultAsJson.model_validate(fixture["record"]["sslyze"])


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_recorded_endpoint_gets_its_verdict(path: Path) -> None:
    fixture = json.loads(path.read_text(encoding="utf-8"))
    got = failed(fixture["record"], fixture["environment"])
    expected, maybe = set(fixture["expect_failed"]), set(fixture["may_fail"])
    assert expected <= set(got) <= expected | maybe, {k: v.message for k, v in got.items()}


def test_hardened_is_compliant_at_every_threshold(hardened: dict[str, Any]) -> None:
    findings = judge(hardened, "biometric-strict", "production")
    assert is_compliant(findings, "info")
    assert worst_failed(findings) is None
    assert len(findings) > 40


def test_legacy_protocol_accepted_is_critical(hardened: dict[str, Any]) -> None:
    result_of(hardened, "ssl_3_0_cipher_suites")["is_tls_version_supported"] = True
    got = failed(hardened)
    assert got["protocol.ssl3_0"].severity == "critical"


def test_required_tls13_missing_fails(hardened: dict[str, Any]) -> None:
    tls13 = result_of(hardened, "tls_1_3_cipher_suites")
    tls13["is_tls_version_supported"] = False
    tls13["accepted_cipher_suites"] = []
    got = failed(hardened)
    assert set(got) == {"protocol.tls1_3"}
    assert "required" in got["protocol.tls1_3"].message


def test_tls13_suite_outside_profile(hardened: dict[str, Any]) -> None:
    suites = result_of(hardened, "tls_1_3_cipher_suites")["accepted_cipher_suites"]
    extra = copy.deepcopy(suites[0])
    extra["cipher_suite"].update(name="TLS_AES_128_CCM_SHA256", openssl_name="TLS_AES_128_CCM_SHA256")
    suites.append(extra)
    got = failed(hardened)
    assert set(got) == {"cipher.tls1_3.not_in_policy"}
    assert got["cipher.tls1_3.not_in_policy"].evidence["not_in_policy"] == ["TLS_AES_128_CCM_SHA256"]


def test_overrides_narrow_what_is_in_policy(hardened: dict[str, Any]) -> None:
    # A (validated) override can only narrow the profile's lists: the host was rendered with
    # fewer suites and groups, so accepting the others is outside what it may offer.
    overrides = {"tls12_ciphers": "ECDHE-ECDSA-AES256-GCM-SHA384", "groups": "X25519:prime256v1"}
    got = failed(hardened, overrides=overrides)
    assert set(got) == {"cipher.tls1_2.not_in_policy", "kex.groups"}
    suites = got["cipher.tls1_2.not_in_policy"].evidence
    assert suites["not_in_policy"] == ["ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-ECDSA-AES128-GCM-SHA256"]
    assert suites["allowed"] == ["ECDHE-ECDSA-AES256-GCM-SHA384"]
    assert suites["why"]["ECDHE-ECDSA-AES128-GCM-SHA256"] == [
        "not one of the TLS 1.2 suites this host is configured with (inventory override)"
    ]
    groups = got["kex.groups"].evidence
    assert groups["not_in_policy"] == ["secp384r1"]
    assert groups["why"]["secp384r1"] == [
        "is not one of the groups this host is configured with (inventory override)"
    ]


def test_override_cannot_widen_the_profile() -> None:
    # Preflight rejects this override (ECDHE-ECDSA-AES128-SHA256 is not in biometric-strict's
    # list, and CBC); the scanner judges with the same rules, so it does not widen the list either.
    record = load("cbc")["record"]
    overrides = {"tls12_ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA256"}
    got = failed(record, overrides=overrides)
    assert set(got) == {"cipher.tls1_2.not_in_policy", "cipher.aead"}
    assert got["cipher.tls1_2.not_in_policy"].evidence["why"] == {
        "ECDHE-ECDSA-AES128-SHA256": ["not one of the TLS 1.2 suites allowed by policy biometric-strict"]
    }


def test_suites_and_protocols_are_judged_by_the_preflight_rules() -> None:
    findings = by_id(load("tls1_0")["record"])
    tls10 = findings["cipher.tls1_0.not_in_policy"].evidence
    obsolete = "TLS 1.0 is obsolete and never allowed (RFC 8996)"
    assert tls10["why"]["ECDHE-ECDSA-AES128-SHA"] == [f"TLSv1: {obsolete}"]
    assert findings["protocol.tls1_0"].evidence["rules"] == [obsolete]
    tls12 = findings["cipher.tls1_2.not_in_policy"].evidence
    assert tls12["why"] == {
        "ECDHE-ECDSA-AES128-SHA": ["not one of the TLS 1.2 suites allowed by policy biometric-strict"]
    }
    assert findings["cipher.aead"].evidence["not_aead"] == [
        "TLSv1 ECDHE-ECDSA-AES128-SHA",
        "TLSv1.2 ECDHE-ECDSA-AES128-SHA",
    ]


def test_suite_this_openssl_does_not_ship_is_judged_from_its_iana_name(hardened: dict[str, Any]) -> None:
    suites = result_of(hardened, "tls_1_2_cipher_suites")["accepted_cipher_suites"]
    rc4 = copy.deepcopy(suites[0])
    rc4["cipher_suite"].update(
        name="TLS_RSA_WITH_RC4_128_SHA", openssl_name="RC4-SHA", is_anonymous=False, key_size=128
    )
    rc4["ephemeral_key"] = None
    suites.append(rc4)
    got = failed(hardened)
    assert set(got) == {"cipher.tls1_2.not_in_policy", "cipher.forward_secrecy", "cipher.aead"}
    assert "RC4 is never allowed" in got["cipher.tls1_2.not_in_policy"].evidence["why"]["RC4-SHA"]
    assert got["cipher.forward_secrecy"].evidence["without_forward_secrecy"] == ["TLSv1.2 RC4-SHA"]


def test_weak_dh_ephemeral_key_is_flagged(hardened: dict[str, Any]) -> None:
    suite = result_of(hardened, "tls_1_2_cipher_suites")["accepted_cipher_suites"][0]
    suite["ephemeral_key"] = {"type_name": "DH", "size": 1024, "public_bytes": "AA=="}
    assert "cipher.strength" in failed(hardened)


@pytest.mark.parametrize(
    ("command", "field", "value", "fid", "severity"),
    [
        ("heartbleed", "is_vulnerable_to_heartbleed", True, "vuln.heartbleed", "critical"),
        ("openssl_ccs_injection", "is_vulnerable_to_ccs_injection", True, "vuln.ccs_injection", "critical"),
        ("tls_compression", "supports_compression", True, "vuln.compression", "high"),
        ("tls_fallback_scsv", "supports_fallback_scsv", False, "vuln.fallback_scsv", "medium"),
        (
            "session_renegotiation",
            "supports_secure_renegotiation",
            False,
            "vuln.insecure_renegotiation",
            "high",
        ),
        (
            "session_renegotiation",
            "is_vulnerable_to_client_renegotiation_dos",
            True,
            "vuln.client_renegotiation",
            "medium",
        ),
        ("robot", "robot_result", "VULNERABLE_STRONG_ORACLE", "vuln.robot", "critical"),
        ("tls_1_3_early_data", "supports_early_data", True, "early_data.state", "high"),
        ("tls_extended_master_secret", "supports_ems_extension", False, "tls.extended_master_secret", "low"),
    ],
)
def test_each_attack_result_is_judged(
    hardened: dict[str, Any], command: str, field: str, value: Any, fid: str, severity: str
) -> None:
    result_of(hardened, command)[field] = value
    got = failed(hardened)
    assert set(got) == {fid}
    assert got[fid].severity == severity


def test_robot_inconclusive_is_not_a_pass(hardened: dict[str, Any]) -> None:
    result_of(hardened, "robot")["robot_result"] = "UNKNOWN_INCONSISTENT_RESULTS"
    assert by_id(hardened)["vuln.robot"].status == "error"


def test_robot_blocked_by_client_certificate_request_is_explained(hardened: dict[str, Any]) -> None:
    hardened["sslyze"]["scan_result"]["robot"] = {
        "status": "ERROR",
        "error_reason": "CONNECTIVITY_ISSUE",
        "error_trace": "Traceback\nServerRejectedTlsHandshake: Server rejected the connection\n",
        "result": None,
    }
    finding = by_id(hardened)["vuln.robot"]
    assert finding.status == "error"
    assert "client certificate" in finding.message


def test_scan_command_error_is_reported_not_passed(hardened: dict[str, Any]) -> None:
    hardened["sslyze"]["scan_result"]["heartbleed"] = {
        "status": "ERROR",
        "error_reason": "CONNECTIVITY_ISSUE",
        "error_trace": "Traceback ...\nConnectionResetError: reset by peer\n",
        "result": None,
    }
    finding = by_id(hardened)["vuln.heartbleed"]
    assert (finding.status, finding.passed) == ("error", False)
    assert finding.evidence["error"] == "ConnectionResetError: reset by peer"


def test_unreachable_record_is_one_critical_finding(hardened: dict[str, Any]) -> None:
    hardened["sslyze"].update(
        connectivity_status="ERROR",
        connectivity_error_trace="Traceback\nConnectionToServerFailed: refused\n",
        scan_result=None,
    )
    [finding] = judge(hardened, "biometric-strict", "production")
    assert (finding.id, finding.passed, finding.severity) == ("connectivity", False, "critical")
    assert finding.evidence["error"] == "ConnectionToServerFailed: refused"


def test_verdict_is_at_scan_time_unless_asked(hardened: dict[str, Any]) -> None:
    scanned = dt.datetime.fromisoformat(hardened["scanned_at"])
    assert "cert.chain.expired" not in failed(hardened)
    later = failed(hardened, now=scanned + dt.timedelta(days=400))
    assert {"cert.chain.expired", "cert.chain.trusted"} <= set(later)


def test_expiry_window_can_be_widened(hardened: dict[str, Any]) -> None:
    got = failed(hardened, min_days_left=365)
    assert set(got) == {"cert.chain.expiring_soon"}
    assert got["cert.chain.expiring_soon"].evidence["expiring"][0]["role"] == "leaf"


def test_trust_falls_back_to_sslyze_stores_without_ca_file(hardened: dict[str, Any]) -> None:
    hardened["trust_anchors_pem"] = []
    deployment = result_of(hardened, "certificate_info")["certificate_deployments"][0]
    stores = deployment["path_validation_results"]
    assert any(s["was_validation_successful"] for s in stores)  # thanks to the scan's ca_file
    deployment["path_validation_results"] = [
        s for s in stores if s["trust_store"]["name"] != "Supplied CA file"
    ]
    assert {s["trust_store"]["name"] for s in deployment["path_validation_results"]} >= {"Mozilla"}
    got = failed(hardened)
    # Our test CA is in no public store: untrusted, and the sent chain stops at an unknown issuer.
    assert set(got) == {"cert.chain.trusted", "cert.chain.complete"}


def test_ocsp_required_without_staple(hardened: dict[str, Any]) -> None:
    from tlsward.policy import load_policy  # noqa: PLC0415

    policy = load_policy("biometric-strict")
    policy["ocsp_stapling"] = "required"
    findings = {f.id: f for f in judge(hardened, policy, "production")}
    assert findings["ocsp.stapling"].status == "fail"
    deployment = result_of(hardened, "certificate_info")["certificate_deployments"][0]
    deployment["ocsp_response"] = {
        "response_status": "SUCCESSFUL",
        "certificate_status": "REVOKED",
        "revocation_time": None,
        "produced_at": None,
        "this_update": None,
        "next_update": None,
        "serial_number": 1,
    }
    findings = {f.id: f for f in judge(hardened, "biometric-strict", "production")}
    assert (findings["ocsp.stapling"].status, findings["ocsp.stapling"].severity) == ("fail", "critical")


def test_groups_outside_profile(hardened: dict[str, Any]) -> None:
    curves = result_of(hardened, "elliptic_curves")["supported_curves"]
    curves.append({"name": "brainpoolP256r1", "openssl_nid": 927})
    got = failed(hardened)
    assert set(got) == {"kex.groups"}
    assert got["kex.groups"].evidence["not_in_policy"] == ["brainpoolP256r1"]
    assert normalise_group("secp256r1") == "prime256v1"


def test_hsts_not_required_is_not_applicable(hardened: dict[str, Any]) -> None:
    from tlsward.policy import load_policy  # noqa: PLC0415

    policy = load_policy("biometric-strict")
    policy["hsts"]["required"] = False
    record = load("no_hsts")["record"]
    findings = {f.id: f for f in judge(record, policy, "production")}
    assert findings["hsts.present"].status == "not_applicable"


def test_mtls_inconclusive_when_valid_identity_gets_the_same_refusal(hardened: dict[str, Any]) -> None:
    hardened["probes"]["valid"]["http_status"] = 400
    got = failed(hardened)
    assert got["mtls.no_client_cert_refused"].status == "error"
    assert got["mtls.valid_client_cert_accepted"].status == "fail"


def test_mtls_handshake_refusal_counts_as_refused(hardened: dict[str, Any]) -> None:
    hardened["probes"]["no_client_cert"] = {
        "identity": None,
        "stage": "handshake",
        "error": "SSLError: [SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] certificate required",
    }
    finding = by_id(hardened)["mtls.no_client_cert_refused"]
    assert finding.status == "pass"
    assert "handshake" in finding.message


def test_missing_revoked_identity_is_not_applicable(hardened: dict[str, Any]) -> None:
    hardened["probes"]["revoked"] = None
    assert by_id(hardened)["mtls.revoked_refused"].status == "not_applicable"


def test_judge_record_summarises(hardened: dict[str, Any]) -> None:
    target = Target(host="127.0.2.10", port=8443, server_name="bio.scan.test", name="hardened")
    result = judge_record(hardened, target)
    assert result["compliant"] is True
    assert [c["role"] for c in result["certificates"]] == ["leaf", "intermediate", "anchor"]
    bad = judge_record(load("server_tokens")["record"], target, fail_severity="medium")
    # A low-severity failure does not break a medium threshold.
    assert bad["compliant"] is True
    assert bad["worst_failed_severity"] == "low"


def test_severity_names_are_checked() -> None:
    assert severity_rank("critical") > severity_rank("high") > severity_rank("info")
    with pytest.raises(TlswardError, match="unknown severity 'urgent'"):
        severity_rank("urgent")
