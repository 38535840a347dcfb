"""kex.pq_hybrid and tls.signature_algorithms against real nginx on this machine (OpenSSL 3.0).

Endpoints of their own (127.0.2.40-43), started from scan_endpoints.py like the scanner's fleet:
the hardened one (rendered from biometric-strict, SignatureAlgorithms included), one with
OpenSSL's default signature schemes (it signs with ECDSA+SHA-224 in TLS 1.2), one that signs
with SHA-1, and one without X25519 so an X25519-only key share gets a HelloRetryRequest. OpenSSL
3.0 has no ML-KEM: the hybrid group is "not applicable" for the host's version, and fails when
the target is said to run 3.5. The negotiated case runs in molecule (nginx_tls, Debian 13).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import scan_endpoints as se

from tlsward.cli.scan import main as cli_main
from tlsward.scan import judge, scan
from tlsward.scan.judge_sigalgs import judge_signature_algorithms
from tlsward.scan.model import Finding
from tlsward.scan.probe_hello import run_hello_probes

pytestmark = pytest.mark.integration

STRICT = "biometric-strict"
ENDPOINTS = [
    se.Endpoint("hello_good", "127.0.2.40"),
    se.Endpoint(
        "sigalgs_openssl_default",
        "127.0.2.41",
        overrides={"signature_algorithms": ""},
        expect_failed={"tls.signature_algorithms"},
    ),
    se.Endpoint(
        "sigalgs_sha1",
        "127.0.2.42",
        overrides={
            "signature_algorithms": "ECDSA+SHA1:ECDSA+SHA256",
            # OpenSSL signs with SHA-1 only at security level 0.
            "ssl_ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256:@SECLEVEL=0",
        },
        expect_failed={"tls.signature_algorithms"},
    ),
    se.Endpoint("groups_without_x25519", "127.0.2.43", overrides={"ssl_ecdh_curve": "prime256v1:secp384r1"}),
]


@pytest.fixture(scope="module")
def hello_fleet(
    tmp_path_factory: pytest.TempPathFactory, scan_material: se.Pki
) -> Iterator[list[se.Endpoint]]:
    endpoints = [se.Endpoint(ep.name, ep.address, overrides=dict(ep.overrides)) for ep in ENDPOINTS]
    started = se.start_all(tmp_path_factory.mktemp("hello-nginx"), scan_material, endpoints)
    try:
        yield started
    finally:
        se.stop_all(started)


@pytest.fixture(scope="module")
def hello_records(hello_fleet: list[se.Endpoint], scan_material: se.Pki) -> dict[str, dict[str, Any]]:
    targets = [se.target_for(ep, scan_material) for ep in hello_fleet]
    return {ep.name: record for ep, record in zip(hello_fleet, scan(targets), strict=True)}


def _by_id(record: dict[str, Any], openssl_version: str | None = None) -> dict[str, Finding]:
    return {f.id: f for f in judge(record, STRICT, "test", openssl_version=openssl_version)}


@pytest.mark.parametrize("ep", ENDPOINTS, ids=[ep.name for ep in ENDPOINTS])
def test_each_endpoint_fails_exactly_its_checks(
    ep: se.Endpoint, hello_records: dict[str, dict[str, Any]]
) -> None:
    failed = {f.id: f.message for f in _by_id(hello_records[ep.name]).values() if not f.passed}
    assert set(failed) == ep.expect_failed, failed


def test_hybrid_missing_is_not_applicable_on_this_openssl_and_fails_when_35_is_claimed(
    hello_records: dict[str, dict[str, Any]],
) -> None:
    record = hello_records["hello_good"]
    first = record["pq_groups"]["hybrid_first"]
    assert first["outcome"] == "server_hello"
    assert first["selected_group"] == "X25519"  # OpenSSL 3.0 ignores the hybrid group
    unknown = _by_id(record)["kex.pq_hybrid"]
    assert unknown.status == "not_applicable"
    assert "not known" in unknown.message
    own = _by_id(record, se.openssl_version())["kex.pq_hybrid"]
    assert own.status == "not_applicable"
    assert own.evidence["required"] is False
    claimed = _by_id(record, "3.5.0")["kex.pq_hybrid"]
    assert claimed.status == "fail"
    assert claimed.remediation


def test_x25519_only_share_gets_a_retry_where_the_server_lacks_x25519(
    hello_records: dict[str, dict[str, Any]],
) -> None:
    good = _by_id(hello_records["hello_good"])["kex.pq_hybrid"].evidence
    assert good["x25519_first_hello_retry_request"] is False
    assert good["x25519_first"]["selected_group"] == "X25519"
    retry = _by_id(hello_records["groups_without_x25519"])["kex.pq_hybrid"].evidence
    assert retry["x25519_first_hello_retry_request"] is True
    assert retry["x25519_first"]["selected_group"] == "prime256v1"
    assert retry["hybrid_first"]["outcome"] == "hello_retry_request"


def test_hardened_endpoint_signs_only_with_the_profiles_schemes(
    hello_records: dict[str, dict[str, Any]],
) -> None:
    finding = _by_id(hello_records["hello_good"])["tls.signature_algorithms"]
    assert finding.status == "pass", finding.message
    versions = finding.evidence["versions"]
    # The test certificate is ECDSA P-256: TLS 1.3 binds the curve, TLS 1.2 only the hash.
    assert versions["TLSv1.3"]["accepted"] == ["ecdsa_secp256r1_sha256"]
    assert versions["TLSv1.3"]["used_when_all_offered"] == "ecdsa_secp256r1_sha256"
    assert versions["TLSv1.2"]["accepted"] == [
        "ecdsa_secp256r1_sha256",
        "ecdsa_secp384r1_sha384",
        "ecdsa_secp521r1_sha512",
    ]


def test_openssl_default_schemes_fail_on_sha224(hello_records: dict[str, dict[str, Any]]) -> None:
    finding = _by_id(hello_records["sigalgs_openssl_default"])["tls.signature_algorithms"]
    assert finding.severity == "medium"
    assert finding.evidence["problems"] == [
        "TLSv1.2: ecdsa_sha224 accepted, not in the profile's signature_algorithms"
    ]
    assert "SignatureAlgorithms" in (finding.remediation or "")


def test_sha1_signatures_fail_high(hello_records: dict[str, dict[str, Any]]) -> None:
    finding = _by_id(hello_records["sigalgs_sha1"])["tls.signature_algorithms"]
    assert finding.severity == "high"
    assert finding.evidence["versions"]["TLSv1.2"]["accepted"] == ["ecdsa_secp256r1_sha256", "ecdsa_sha1"]
    assert any(p.startswith("TLSv1.2: ecdsa_sha1 accepted (SHA1") for p in finding.evidence["problems"])
    # Under a profile that lists every ECDSA scheme it still fails: SHA-1 is never allowed.
    assert judge_signature_algorithms(hello_records["sigalgs_sha1"], _every_ecdsa())[0].status == "fail"


def _every_ecdsa() -> dict[str, Any]:
    from tlsward.policy import load_policy  # noqa: PLC0415

    data = load_policy(STRICT)
    data["signature_algorithms"] = {"allowed": ["ecdsa_secp256r1_sha256", "ecdsa_secp384r1_sha384"]}
    return data


def test_probes_alone_are_quick_and_bounded(hello_fleet: list[se.Endpoint], scan_material: se.Pki) -> None:
    good = next(ep for ep in hello_fleet if ep.name == "hello_good")
    out = run_hello_probes(se.target_for(good, scan_material))
    # 2 group probes + 2 x (1 + 25) signature handshakes on loopback.
    assert out["hello_probe_seconds"] < 10


def test_command_line_target_openssl_decides_the_hybrid_verdict(
    hello_fleet: list[se.Endpoint], scan_material: se.Pki
) -> None:
    good = next(ep for ep in hello_fleet if ep.name == "hello_good")
    base = [
        f"{good.address}:{good.port}",
        "--sni",
        se.SERVER_NAME,
        "--environment",
        "test",
        "--ca-file",
        str(scan_material.server_ca),
        "--client-cert",
        str(scan_material.device[0]),
        "--client-key",
        str(scan_material.device[1]),
        "--format",
        "json",
        "--fail-on",
        "low",
    ]
    statuses = {}
    for claimed in (None, "3.0.19", "3.5.0"):
        out, err = io.StringIO(), io.StringIO()
        argv = [*base, "--target-openssl", claimed] if claimed else base
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("sys.stdout", out)
            mp.setattr("sys.stderr", err)
            code = cli_main(argv)
        payload = json.loads(out.getvalue())
        found = {f["id"]: f for f in payload["findings"]}
        statuses[claimed] = (
            code,
            found["kex.pq_hybrid"]["status"],
            found["tls.signature_algorithms"]["status"],
        )
    assert statuses == {
        None: (0, "not_applicable", "pass"),
        "3.0.19": (0, "not_applicable", "pass"),
        "3.5.0": (12, "fail", "pass"),  # 10 + medium
    }
