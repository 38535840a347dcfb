"""The scanner against real nginx endpoints: our hardened one passes, each bad one is flagged exactly."""

from __future__ import annotations

from typing import Any

import pytest
import scan_endpoints as se

from tlsward.scan import Identity, judge, scan

pytestmark = pytest.mark.integration

BAD = [ep for ep in se.endpoints() if ep.expect_failed]
# Checks every scan of an HTTPS endpoint must report (passed or not): evidence of what was checked.
CORE_IDS = {
    "connectivity",
    "protocol.ssl2_0",
    "protocol.ssl3_0",
    "protocol.tls1_0",
    "protocol.tls1_1",
    "protocol.tls1_2",
    "protocol.tls1_3",
    "cipher.tls1_2.not_in_policy",
    "cipher.tls1_3.not_in_policy",
    "cipher.forward_secrecy",
    "cipher.aead",
    "kex.groups",
    "cert.chain.trusted",
    "cert.chain.complete",
    "cert.chain.expired",
    "cert.chain.expiring_soon",
    "cert.hostname",
    "cert.key_type",
    "cert.signature_algorithm",
    "cert.lifetime",
    "cert.wildcard",
    "ocsp.stapling",
    "hsts.present",
    "hsts.max_age",
    "mtls.no_client_cert_refused",
    "mtls.unknown_ca_refused",
    "mtls.revoked_refused",
    "mtls.valid_client_cert_accepted",
    "session.resumption",
    "early_data.state",
    "vuln.compression",
    "vuln.insecure_renegotiation",
    "vuln.heartbleed",
    "vuln.robot",
    "vuln.ccs_injection",
    "vuln.fallback_scsv",
    "http.server_tokens",
}


def _failed(record: dict[str, Any], environment: str) -> dict[str, str]:
    return {f.id: f.message for f in judge(record, "biometric-strict", environment) if not f.passed}


def test_hardened_endpoint_has_zero_failed_findings(scan_records: dict[str, dict[str, Any]]) -> None:
    findings = judge(scan_records["hardened"], "biometric-strict", "production")
    assert {f.id for f in findings} >= CORE_IDS
    assert [f for f in findings if not f.passed] == []
    by_id = {f.id: f for f in findings}
    # The positive checks really ran against the live endpoint.
    assert by_id["mtls.no_client_cert_refused"].status == "pass"
    assert by_id["mtls.revoked_refused"].status == "pass"
    assert by_id["session.resumption"].status == "pass"
    assert by_id["protocol.tls1_3"].evidence["accepted"] is True
    assert by_id["protocol.tls1_0"].evidence["accepted"] is False


@pytest.mark.parametrize("endpoint", BAD, ids=[ep.name for ep in BAD])
def test_bad_endpoint_is_flagged_with_the_right_ids(
    endpoint: se.Endpoint, scan_records: dict[str, dict[str, Any]]
) -> None:
    failed = _failed(scan_records[endpoint.name], endpoint.environment)
    assert endpoint.expect_failed <= set(failed) <= endpoint.expect_failed | endpoint.may_fail, failed


def test_handshake_level_mtls_refusal_passes(scan_records: dict[str, dict[str, Any]]) -> None:
    record = scan_records["hardened_require"]
    assert [f for f in judge(record, "biometric-strict", "production") if not f.passed] == []
    probe = record["probes"]["no_client_cert"]
    # OpenSSL refuses after the TLS 1.3 handshake: the client sees the alert on its first read.
    assert probe["stage"] != "done"
    assert "certificate required" in probe["error"].lower()


def test_hardened_mtls_endpoints_scanned_with_a_device_chain_identity(
    scan_fleet: list[se.Endpoint], scan_material: se.Pki
) -> None:
    """The device identity as tls_pki issues it (leaf + CA in one file) leaves nothing undecided.

    sslyze's legacy OpenSSL cannot load a multi-certificate client chain for SSLv2, so the SSLv2
    and SSLv3 checks run without the identity (tlsward.scan.runner.UNAUTHENTICATED_COMMANDS);
    every other sslyze command and the probes use it.
    """
    chain = Identity(*scan_material.device_chain)
    assert scan_material.device_chain[0].read_text(encoding="ascii").count("BEGIN CERTIFICATE") == 2
    hardened = [ep for ep in scan_fleet if ep.name in ("hardened", "hardened_require")]
    records = scan([se.target_for(ep, scan_material, client=chain) for ep in hardened])
    for ep, record in zip(hardened, records, strict=True):
        findings = judge(record, "biometric-strict", "production")
        bad = [(f.id, f.status, f.message, f.evidence) for f in findings if f.status in ("fail", "error")]
        assert bad == [], ep.name
        by_id = {f.id: f for f in findings}
        for fid in ("protocol.ssl2_0", "protocol.ssl3_0", "cipher.ssl2_0.not_in_policy"):
            assert by_id[fid].status == "pass", (ep.name, fid)
        assert by_id["protocol.ssl2_0"].evidence["accepted"] is False
        assert record["without_client_identity"] == ["ssl_2_0_cipher_suites", "ssl_3_0_cipher_suites"]
        # Everything else ran with the identity: sslyze's own record of its configuration says so.
        credentials = record["sslyze"]["network_configuration"]["tls_client_auth_credentials"]
        assert credentials["certificate_chain_path"] == str(scan_material.device_chain[0])
        assert record["probes"]["valid"]["http_status"] == 200


SHAPE = ["id", "passed", "status", "severity", "message", "evidence"]


def test_every_finding_has_the_documented_shape(scan_records: dict[str, dict[str, Any]]) -> None:
    for name, record in scan_records.items():
        findings = [f.as_dict() for f in judge(record, "biometric-strict", "production")]
        assert {f["id"] for f in findings} >= CORE_IDS, name
        for f in findings:
            # remediation is optional: a finding that says what to change carries it last.
            assert list(f) in (SHAPE, [*SHAPE, "remediation"]), list(f)
            assert isinstance(f["evidence"], dict)
            assert isinstance(f.get("remediation", ""), str)


def test_wildcard_is_accepted_outside_production(scan_records: dict[str, dict[str, Any]]) -> None:
    findings = {f.id: f for f in judge(scan_records["wildcard"], "biometric-strict", "staging")}
    assert findings["cert.wildcard"].status == "not_applicable"
    assert all(f.passed for f in findings.values())


def test_evidence_names_the_expired_intermediate(scan_records: dict[str, dict[str, Any]]) -> None:
    findings = {
        f.id: f for f in judge(scan_records["expired_intermediate"], "biometric-strict", "production")
    }
    bad = findings["cert.chain.expired"].evidence["outside_validity"]
    assert [c["role"] for c in bad] == ["intermediate"]
    assert "expired intermediate" in bad[0]["subject"]


def test_tls1_0_really_accepted_with_seclevel_0(scan_records: dict[str, dict[str, Any]]) -> None:
    findings = {f.id: f for f in judge(scan_records["tls1_0"], "biometric-strict", "production")}
    assert findings["protocol.tls1_0"].evidence["accepted"] is True
    assert "ECDHE-ECDSA-AES128-SHA" in findings["cipher.tls1_0.not_in_policy"].evidence["not_in_policy"]


def test_mtls_optional_serves_requests_without_a_certificate(scan_records: dict[str, dict[str, Any]]) -> None:
    probe = scan_records["mtls_optional"]["probes"]["no_client_cert"]
    assert probe["http_status"] == 200
    hardened = scan_records["hardened"]["probes"]
    assert hardened["no_client_cert"]["http_status"] == 400
    assert hardened["valid"]["http_status"] == 200


def test_unreachable_endpoint_is_a_critical_finding(scan_material: se.Pki) -> None:
    from tlsward.scan import scan_endpoints  # noqa: PLC0415

    nowhere = se.Endpoint("nowhere", "127.0.2.250")
    [result] = scan_endpoints([se.target_for(nowhere, scan_material)])
    assert result["compliant"] is False
    assert [(f["id"], f["passed"], f["severity"]) for f in result["findings"]] == [
        ("connectivity", False, "critical")
    ]
