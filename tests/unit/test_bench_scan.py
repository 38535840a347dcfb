"""Item 6's agreement verdict: every verdict in the comparison is counted, and one that cannot be
read from either tool fails the row instead of leaving the count."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bench.scan import PROTOCOLS, VULNS, agreement_row, compare

SUITES = ["ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256"]
GROUPS = ["X25519", "prime256v1"]
EXPECTED = 6 + 2 + 1 + 2 + 1 + 1 + 1 + 1 + len(VULNS)  # protocols, lists, PFS, HSTS x2, OCSP, ...


def _testssl() -> list[dict[str, Any]]:
    offered = {"TLS1_2", "TLS1_3"}
    out = [{"id": tid, "finding": "offered" if tid in offered else "not offered"} for tid in PROTOCOLS]
    out += [{"id": f"cipher_x{i}", "finding": f"x{i} {name}"} for i, name in enumerate(SUITES)]
    out += [
        {"id": "PFS_ECDHE_curves", "finding": " ".join(GROUPS)},
        {"id": "PFS", "severity": "OK", "finding": "offered"},
        {"id": "PFS_ciphers", "finding": " ".join(SUITES)},
        {"id": "HSTS_time", "finding": "730 days (=63072000 seconds) > 15552000 seconds"},
        {"id": "HSTS_subdomains", "finding": "includes subdomains"},
        {"id": "OCSP_stapling", "finding": "not offered"},
        {"id": "sessionresumption_ticket", "finding": "supported"},
        {"id": "cert_keySize", "finding": "EC 256 bits"},
        {"id": "banner_server", "finding": "nginx"},
    ]
    out += [{"id": tid, "severity": "OK", "finding": "not vulnerable"} for tid in VULNS]
    return out


def _tls_scan() -> dict[str, Any]:
    findings = [
        {"id": f"protocol.{sid}", "evidence": {"accepted": tid in ("TLS1_2", "TLS1_3")}}
        for tid, sid in PROTOCOLS.items()
    ]
    findings += [
        {"id": "cipher.tls1_2.not_in_policy", "evidence": {"accepted": SUITES[:1]}},
        {"id": "cipher.tls1_3.not_in_policy", "evidence": {"accepted": SUITES[1:]}},
        {"id": "kex.groups", "evidence": {"supported": GROUPS}},
        {"id": "cipher.forward_secrecy", "passed": True},
        {"id": "hsts.max_age", "evidence": {"max_age": 63072000}},
        {"id": "hsts.include_subdomains", "evidence": {"include_subdomains": True}},
        {"id": "ocsp.stapling", "evidence": {"stapled": False}},
        {"id": "session.tickets", "evidence": {"ticket_resumption": "FULLY_SUPPORTED"}},
        {"id": "cert.key_type", "evidence": {"leaf_key": {"type": "EC", "bits": 256}}},
        {"id": "http.server_tokens", "evidence": {"server": "nginx"}},
    ]
    findings += [{"id": sid, "passed": True} for sid in VULNS.values()]
    return {"findings": findings}


def _without(findings: list[dict[str, Any]], finding_id: str) -> list[dict[str, Any]]:
    kept = [f for f in findings if f["id"] != finding_id]
    assert len(kept) == len(findings) - 1
    return kept


def test_all_verdicts_read_and_agreeing_pass():
    verdicts = compare(_testssl(), _tls_scan())
    assert len(verdicts) == EXPECTED
    assert all(v["agree"] is True for v in verdicts)
    row = agreement_row(verdicts)
    assert row.passed is True
    assert row.measured == f"{EXPECTED} of {EXPECTED} agree"
    assert row.ratio == 1.0


@pytest.mark.parametrize(
    ("tool", "finding_id", "verdict"),
    [
        ("testssl", "HSTS_time", "HSTS max-age (s)"),
        ("testssl", "ROBOT", "ROBOT: not vulnerable"),
        ("tls_scan", "kex.groups", "key-exchange groups"),
        ("tls_scan", "session.tickets", "resumption with session tickets"),
    ],
)
def test_a_verdict_one_tool_does_not_give_fails_the_row_and_stays_counted(tool, finding_id, verdict):
    testssl, scan = _testssl(), _tls_scan()
    if tool == "testssl":
        testssl = _without(testssl, finding_id)
    else:
        scan = {"findings": _without(scan["findings"], finding_id)}
    verdicts = compare(testssl, scan)
    assert len(verdicts) == EXPECTED  # not dropped: the count does not shrink
    missing = [v for v in verdicts if v["agree"] is None]
    assert [v["verdict"] for v in missing] == [verdict]
    assert missing[0]["error"].startswith(f"{tool}: KeyError")
    row = agreement_row(verdicts)
    assert row.passed is False
    assert row.measured == f"{EXPECTED - 1} of {EXPECTED} agree, 1 not compared"
    assert row.ratio == pytest.approx((EXPECTED - 1) / EXPECTED)
    assert f"not compared: {verdict}" in row.note


def test_a_finding_of_another_shape_is_not_compared():
    testssl = _testssl()
    for finding in testssl:
        if finding["id"] == "HSTS_time":
            finding["finding"] = "not offered"  # no "=N seconds" to read
    verdicts = compare(testssl, _tls_scan())
    (bad,) = [v for v in verdicts if v["agree"] is None]
    assert bad["verdict"] == "HSTS max-age (s)"
    assert agreement_row(verdicts).passed is False


def test_an_empty_suite_list_is_a_lookup_that_found_nothing():
    testssl = [f for f in _testssl() if not f["id"].startswith("cipher_x")]
    scan = copy.deepcopy(_tls_scan())
    for finding in scan["findings"]:
        if finding["id"].endswith(".not_in_policy"):
            finding["evidence"]["accepted"] = []
    verdicts = compare(testssl, scan)
    (bad,) = [v for v in verdicts if v["verdict"] == "accepted cipher suites"]
    assert bad["agree"] is None  # both empty would otherwise "agree"
    assert "testssl: LookupError" in bad["error"]
    assert "tls_scan: LookupError" in bad["error"]
    assert agreement_row(verdicts).passed is False


def test_a_disagreement_fails_the_row_and_is_named():
    scan = _tls_scan()
    for finding in scan["findings"]:
        if finding["id"] == "hsts.max_age":
            finding["evidence"]["max_age"] = 300
    row = agreement_row(compare(_testssl(), scan))
    assert row.passed is False
    assert row.measured == f"{EXPECTED - 1} of {EXPECTED} agree"
    assert "HSTS max-age (s): testssl 63072000 vs tls_scan 300" in row.note


def test_no_verdicts_at_all_is_no_pass():
    row = agreement_row([])
    assert row.passed is False
    assert row.ratio is None
