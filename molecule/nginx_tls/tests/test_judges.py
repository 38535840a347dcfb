"""sslyze and testssl.sh judge the deployed endpoint against its profile (biometric-strict)."""

from __future__ import annotations

import judges
import tlsprobe


def test_sslyze_agrees_with_profile(host, address):
    scan = judges.sslyze_scan(address, 443)
    groups = tlsprobe.rendered(host)["ssl_ecdh_curve"].split(":")
    assert judges.sslyze_contradictions(scan, tlsprobe.profile(), groups) == []
    assert scan["suites"]["TLSv1.2"] == set(tlsprobe.profile()["tls12_ciphers"])


def test_testssl_agrees_with_profile(host, address):
    findings = judges.testssl_scan(address, 443)
    groups = tlsprobe.rendered(host)["ssl_ecdh_curve"].split(":")
    assert judges.testssl_contradictions(findings, tlsprobe.profile(), groups) == []
