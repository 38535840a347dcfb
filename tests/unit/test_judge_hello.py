"""kex.pq_hybrid and tls.signature_algorithms judged on hand-made probe results, and the profile
field (signature_algorithms.allowed) the second one reads."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tlsward.errors import PolicyError
from tlsward.policy import available_policies, load_policy, render_nginx
from tlsward.scan import Target, judge, judge_record
from tlsward.scan.inventory import endpoints_from_hosts
from tlsward.scan.judge_pq import judge_pq_hybrid
from tlsward.scan.judge_sigalgs import judge_signature_algorithms
from tlsward.sigalgs import BY_NAME, SCHEMES, never_allowed, schemes_for

DATA = Path(__file__).resolve().parents[1] / "data" / "scan"
STRICT = load_policy("biometric-strict")


def hello(outcome: str, group: str | None, share: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"outcome": outcome, "version": "TLSv1.3", "selected_group": group}
    if share is not None:
        out["server_share_bytes"] = share
    return out


NEGOTIATED = {
    "hybrid_first": hello("server_hello", "X25519MLKEM768", 1120),
    "x25519_first": hello("server_hello", "X25519", 32),
}
MISSING = {
    "hybrid_first": hello("server_hello", "X25519", 32),
    "x25519_first": hello("server_hello", "X25519", 32),
}


def pq(probes: dict[str, Any] | None, version: str | None = None, policy: Any = STRICT, **kw: Any) -> Any:
    record = {} if probes is None else {"pq_groups": probes}
    (finding,) = judge_pq_hybrid(record, load_policy(policy), kw.get("overrides"), version)
    return finding


def test_hybrid_negotiated_on_a_35_target_passes() -> None:
    finding = pq(NEGOTIATED, "OpenSSL 3.5.1 1 Jul 2025")
    assert finding.status == "pass"
    assert finding.evidence["negotiated"] is True


def test_hybrid_missing_on_a_35_target_fails_with_a_remediation() -> None:
    finding = pq(MISSING, "3.5.0")
    assert finding.status == "fail"
    assert finding.severity == "medium"
    assert finding.evidence["required"] is True
    assert finding.remediation
    assert "X25519MLKEM768" in finding.as_dict()["remediation"]


def test_hybrid_missing_on_a_30_target_is_not_applicable() -> None:
    finding = pq(MISSING, "OpenSSL 3.0.19 27 Jan 2026")
    assert finding.status == "not_applicable"
    assert finding.evidence["required"] is False
    assert "lacks it" in finding.message


def test_hybrid_missing_without_a_version_is_reported_not_failed() -> None:
    finding = pq(MISSING)
    assert finding.status == "not_applicable"
    assert finding.passed
    assert "not known" in finding.message
    assert finding.evidence["selected_group"] == "X25519"
    assert finding.evidence["required"] is False


def test_hybrid_negotiated_where_the_target_is_said_to_lack_it_fails() -> None:
    finding = pq(NEGOTIATED, "3.0.19")
    assert finding.status == "fail"
    assert "needs OpenSSL >= 3.5.0" in finding.message


def test_hybrid_negotiated_outside_the_profile_fails() -> None:
    finding = pq(NEGOTIATED, None, "nist-sp800-52r2")
    assert finding.status == "fail"
    assert "not one of the groups allowed" in finding.message
    assert pq(MISSING, "3.5.0", "nist-sp800-52r2").status == "not_applicable"


def test_override_without_the_hybrid_group() -> None:
    overrides = {"groups": "X25519:prime256v1"}
    assert pq(MISSING, "3.5.0", overrides=overrides).status == "not_applicable"
    assert pq(NEGOTIATED, "3.5.0", overrides=overrides).status == "fail"


def test_hello_retry_request_is_reported_not_judged() -> None:
    probes = copy.deepcopy(MISSING)
    probes["x25519_first"] = hello("hello_retry_request", "X25519MLKEM768")
    finding = pq(probes, "3.0.19")
    assert finding.evidence["x25519_first_hello_retry_request"] is True
    assert finding.status == "not_applicable"
    assert pq(MISSING, "3.0.19").evidence["x25519_first_hello_retry_request"] is False


def test_hybrid_refused_or_unreachable() -> None:
    refused = {
        "hybrid_first": {"outcome": "alert", "alert": "protocol_version"},
        "x25519_first": {"outcome": "alert"},
    }
    assert pq(refused, "3.5.0").status == "not_applicable"
    broken = {"hybrid_first": {"outcome": "error", "error": "ConnectionRefusedError"}, "x25519_first": {}}
    finding = pq(broken, "3.5.0")
    assert finding.status == "error"
    assert not finding.passed


def test_unreadable_version_is_undecided() -> None:
    assert pq(MISSING, "three point five").status == "error"


def test_record_without_the_probe_is_not_applicable() -> None:
    finding = pq(None, "3.5.0")
    assert finding.status == "not_applicable"
    assert finding.evidence == {"probed": False}


def signed(name: str) -> dict[str, Any]:
    return {"outcome": "signed", "scheme": name}


REFUSED = {"outcome": "alert", "alert": "handshake_failure"}


def sig_record(**accepted: list[str]) -> dict[str, Any]:
    """Probe results where exactly ``accepted[version]`` (TLSv1_3 / TLSv1_2) were signed with."""
    out: dict[str, Any] = {}
    for key, names in accepted.items():
        version = key.replace("_", ".")
        out[version] = {
            "default_offer": signed(names[0]) if names else REFUSED,
            "offered_alone": {s.name: signed(s.name) if s.name in names else REFUSED for s in SCHEMES},
        }
    return {"signature_algorithms": out}


def sig(record: dict[str, Any], policy: Any = STRICT) -> Any:
    (finding,) = judge_signature_algorithms(record, load_policy(policy))
    return finding


def test_profile_schemes_only_pass() -> None:
    finding = sig(
        sig_record(
            TLSv1_3=["ecdsa_secp256r1_sha256"], TLSv1_2=["ecdsa_secp256r1_sha256", "ecdsa_secp384r1_sha384"]
        )
    )
    assert finding.status == "pass"
    assert finding.evidence["versions"]["TLSv1.2"]["accepted"] == [
        "ecdsa_secp256r1_sha256",
        "ecdsa_secp384r1_sha384",
    ]
    assert finding.evidence["versions"]["TLSv1.3"]["used_when_all_offered"] == "ecdsa_secp256r1_sha256"


def test_sha224_outside_the_profile_fails_medium() -> None:
    finding = sig(
        sig_record(TLSv1_3=["ecdsa_secp256r1_sha256"], TLSv1_2=["ecdsa_secp256r1_sha256", "ecdsa_sha224"])
    )
    assert finding.status == "fail"
    assert finding.severity == "medium"
    assert finding.evidence["problems"] == [
        "TLSv1.2: ecdsa_sha224 accepted, not in the profile's signature_algorithms"
    ]
    assert finding.remediation


def test_sha1_fails_high_even_where_the_profile_would_allow_rsa() -> None:
    finding = sig(sig_record(TLSv1_2=["rsa_pss_rsae_sha256", "rsa_pkcs1_sha1"]), "mozilla-intermediate")
    assert finding.status == "fail"
    assert finding.severity == "high"
    assert "rsa_pkcs1_sha1 accepted (SHA1" in finding.message


def test_pkcs1_in_tls13_fails_although_the_profile_lists_it_for_tls12() -> None:
    record = sig_record(TLSv1_3=["rsa_pss_rsae_sha256", "rsa_pkcs1_sha256"], TLSv1_2=["rsa_pkcs1_sha256"])
    finding = sig(record, "mozilla-intermediate")
    assert finding.status == "fail"
    assert finding.severity == "high"
    assert finding.evidence["problems"] == [
        "TLSv1.3: rsa_pkcs1_sha256 accepted (RSASSA-PKCS1-v1_5 may not sign a TLS 1.3 handshake "
        "(RFC 8446 4.2.3: certificates only))"
    ]


def test_server_signing_with_a_scheme_not_offered_fails_high() -> None:
    record = sig_record(TLSv1_3=["ecdsa_secp256r1_sha256"])
    record["signature_algorithms"]["TLSv1.3"]["offered_alone"]["ed25519"] = signed("ecdsa_secp256r1_sha256")
    finding = sig(record)
    assert finding.status == "fail"
    assert finding.severity == "high"
    assert "offered ed25519 alone, the server signed with ecdsa_secp256r1_sha256" in finding.message


def test_version_not_spoken_is_no_problem() -> None:
    record = sig_record(TLSv1_3=["ecdsa_secp256r1_sha256"])
    record["signature_algorithms"]["TLSv1.2"] = {
        "default_offer": {"outcome": "alert", "alert": "protocol_version"}
    }
    finding = sig(record)
    assert finding.status == "pass"
    assert finding.evidence["versions"]["TLSv1.2"] == {
        "used_when_all_offered": None,
        "accepted": [],
        "not_signed": "protocol_version",
    }


def test_probe_errors_are_undecided() -> None:
    record = sig_record(TLSv1_3=["ecdsa_secp256r1_sha256"], TLSv1_2=["ecdsa_secp256r1_sha256"])
    record["signature_algorithms"]["TLSv1.2"]["offered_alone"]["ed448"] = {
        "outcome": "error",
        "error": "TimeoutError",
    }
    finding = sig(record)
    assert finding.status == "error"
    assert finding.evidence["versions"]["TLSv1.2"]["errors"] == {"ed448": "TimeoutError"}


def test_sigalgs_record_without_the_probe() -> None:
    assert sig({}).status == "not_applicable"


def test_profile_without_a_list_judges_the_fixed_rules_only() -> None:
    profile = load_policy("biometric-strict")
    del profile["signature_algorithms"]
    rsa = sig(sig_record(TLSv1_3=["rsa_pss_rsae_sha256"], TLSv1_2=["rsa_pss_rsae_sha256"]), profile)
    assert rsa.status == "pass"
    assert "lists no signature_algorithms" in rsa.message
    assert sig(sig_record(TLSv1_3=[], TLSv1_2=["ecdsa_sha1"]), profile).status == "fail"
    # A version missing from the record could not be judged.
    assert sig(sig_record(TLSv1_2=["rsa_pss_rsae_sha256"]), profile).status == "error"


@pytest.mark.parametrize("name", available_policies())
def test_every_shipped_profile_lists_signature_schemes(name: str) -> None:
    data = load_policy(name)
    allowed = data["signature_algorithms"]["allowed"]
    assert allowed
    assert all(never_allowed(n, "TLSv1.2") is None for n in allowed)
    assert set(schemes_for(data, "3.0.19") or []) <= set(allowed)


def test_profile_with_sha1_or_unknown_scheme_is_refused() -> None:
    profile = load_policy("biometric-strict")
    profile["signature_algorithms"] = {"allowed": ["ecdsa_sha1", "ecdsa_secp999_sha3"]}
    with pytest.raises(PolicyError) as err:
        load_policy(profile)
    assert any("ecdsa_sha1 cannot be allowed" in p for p in err.value.problems)
    assert any("unknown signature scheme 'ecdsa_secp999_sha3'" in p for p in err.value.problems)
    profile["signature_algorithms"] = {"allowed": []}
    with pytest.raises(PolicyError, match="non-empty list"):
        load_policy(profile)


def test_nginx_renders_signature_algorithms_for_the_targets_openssl() -> None:
    strict = render_nginx("biometric-strict", "3.0.19")
    assert (
        strict["signature_algorithms"]
        == "ecdsa_secp256r1_sha256:ecdsa_secp384r1_sha384:ecdsa_secp521r1_sha512"
    )
    directives = {d["directive"]: d["value"] for d in strict["directives"]}
    assert directives["ssl_conf_command SignatureAlgorithms"] == strict["signature_algorithms"]
    # Brainpool TLS 1.3 schemes are named by OpenSSL 3.2 and later only.
    assert "brainpool" not in render_nginx("bsi-tr-02102-2", "3.0.19")["signature_algorithms"]
    assert (
        "ecdsa_brainpoolP256r1tls13_sha256" in render_nginx("bsi-tr-02102-2", "3.5.0")["signature_algorithms"]
    )
    assert "brainpool" not in render_nginx("bsi-tr-02102-2")["signature_algorithms"]
    profile = load_policy("biometric-strict")
    del profile["signature_algorithms"]
    rendered = render_nginx(profile, "3.0.19")
    assert {d["directive"]: d["value"] for d in rendered["directives"]}[
        "ssl_conf_command SignatureAlgorithms"
    ] is None


def test_scheme_table_is_consistent() -> None:
    assert len({s.code for s in SCHEMES}) == len(SCHEMES)
    assert BY_NAME["ecdsa_secp256r1_sha256"].code == 0x0403
    assert BY_NAME["rsa_pss_rsae_sha256"].code == 0x0804
    assert BY_NAME["ecdsa_sha1"].code == 0x0203
    assert never_allowed("rsa_pss_rsae_sha256", "TLSv1.3") is None
    assert never_allowed("ecdsa_sha224", "TLSv1.3")
    assert never_allowed("ecdsa_sha224", "TLSv1.2") is None


def hardened_record() -> dict[str, Any]:
    return json.loads((DATA / "hardened.json").read_text(encoding="utf-8"))["record"]


def test_both_checks_run_in_the_judge_and_reach_the_module_payload() -> None:
    record = hardened_record()
    record.update(sig_record(TLSv1_3=["ecdsa_secp256r1_sha256"], TLSv1_2=["ecdsa_secp256r1_sha256"]))
    record["pq_groups"] = MISSING
    by_id = {f.id: f for f in judge(record, "biometric-strict", "production")}
    assert by_id["kex.pq_hybrid"].status == "not_applicable"
    assert by_id["tls.signature_algorithms"].status == "pass"
    target = Target(host="127.0.2.10", server_name="bio.scan.test", openssl_version="3.5.0")
    result = judge_record(record, target)
    found = {f["id"]: f for f in result["findings"]}
    assert found["kex.pq_hybrid"]["status"] == "fail"
    assert found["kex.pq_hybrid"]["remediation"]
    assert "remediation" not in found["tls.signature_algorithms"]


def test_compliance_endpoints_carry_the_hosts_openssl_version() -> None:
    base = {"tlsward_listen_address": "127.0.1.10", "tlsward_server_names": ["bio.example.test"]}
    hosts = [
        {
            **base,
            "inventory_hostname": "gathered",
            "compliance_host_facts": {"openssl_version": "OpenSSL 3.5.1 1 Jul 2025"},
            "tlsward_openssl_version": "3.0.0",
        },
        {**base, "inventory_hostname": "declared", "tlsward_openssl_version": "3.0.19"},
        {**base, "inventory_hostname": "unknown", "compliance_host_facts": {"openssl_version": None}},
    ]
    got = {e["name"]: e["openssl_version"] for e in endpoints_from_hosts(hosts)}
    assert got == {"gathered": "OpenSSL 3.5.1 1 Jul 2025", "declared": "3.0.19", "unknown": None}
