"""The scanner's hand-built ClientHellos against the deployed endpoint, from the controller.

On Debian 13 (OpenSSL 3.5) the role renders X25519MLKEM768 first: the endpoint must negotiate it
and kex.pq_hybrid must pass when judged with the host's OpenSSL version. On Debian 12 (OpenSSL
3.0) the group is absent and the check is not applicable. On both, the server signs only with the
profile's signature schemes (the role renders ssl_conf_command SignatureAlgorithms).
"""

from __future__ import annotations

import tlsprobe

from tlsward.scan.judge_pq import judge_pq_hybrid
from tlsward.scan.judge_sigalgs import judge_signature_algorithms
from tlsward.scan.model import Target
from tlsward.scan.probe_hello import run_hello_probes


def _record(address: str) -> dict:
    return run_hello_probes(Target(host=address, port=443, server_name=tlsprobe.SNI, timeout=5.0))


def test_hybrid_group_judged_against_the_hosts_openssl(host, hostvars, address):
    version = tlsprobe.openssl_version(host)
    record = _record(address)
    finding = judge_pq_hybrid(record, tlsprobe.profile(), None, version)[0]
    first = record["pq_groups"]["hybrid_first"]
    if hostvars["inventory_hostname"].endswith("debian13"):
        # Debian 13 only: OpenSSL 3.5, the hybrid group is rendered first and negotiated.
        assert tlsprobe.rendered(host)["ssl_ecdh_curve"].startswith("X25519MLKEM768:")
        assert first["outcome"] == "server_hello", first
        assert first["selected_group"] == "X25519MLKEM768", first
        # ML-KEM-768 ciphertext (1088 bytes) then the server's X25519 share (32 bytes).
        assert first["server_share_bytes"] == 1120, first
        assert finding.status == "pass", finding
        # A client that sends an X25519 share only is reported either way, never judged.
        assert isinstance(finding.evidence["x25519_first_hello_retry_request"], bool)
    else:
        assert first["selected_group"] == "X25519", first
        assert finding.status == "not_applicable", finding
        assert finding.evidence["required"] is False
        # The same endpoint said to run OpenSSL 3.5 fails: it does not negotiate the hybrid group.
        assert judge_pq_hybrid(record, tlsprobe.profile(), None, "3.5.0")[0].status == "fail"


def test_signature_schemes_are_the_profiles(address):
    record = _record(address)
    finding = judge_signature_algorithms(record, tlsprobe.profile())[0]
    assert finding.status == "pass", finding
    allowed = set(tlsprobe.profile()["signature_algorithms"]["allowed"])
    for version in ("TLSv1.3", "TLSv1.2"):
        accepted = set(finding.evidence["versions"][version]["accepted"])
        assert accepted, version
        assert accepted <= allowed, (version, accepted)
