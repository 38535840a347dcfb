"""CycloneDX 1.6 cryptographic BOM, validated with cyclonedx-python-lib's strict JSON validator."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from tlsward.openssl_ciphers import CipherSuite
from tlsward.report import build_report
from tlsward.report.cbom import cipher_algorithm, group_algorithm, key_algorithm, suite_algorithms, to_cbom
from tlsward.scan import Target, judge_record

DATA = Path(__file__).resolve().parents[1] / "data" / "scan"
T0 = dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC)


def result(name: str) -> dict[str, Any]:
    fixture = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    record = fixture["record"]
    target = Target(
        host=record["target"]["host"],
        port=record["target"]["port"],
        server_name=record["target"]["server_name"],
        name=name,
        environment=fixture["environment"],
    )
    return judge_record(record, target)


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return build_report(
        tls_results=[result(n) for n in ("hardened", "tls1_0", "rsa_kex")],
        host_findings={"runner": []},
        policy="biometric-strict",
        generated_at=T0,
        tool_versions={"sslyze": "6.3.1"},
    )


@pytest.fixture(scope="module")
def text(report: dict[str, Any]) -> str:
    return to_cbom(report)


@pytest.fixture(scope="module")
def bom(text: str) -> dict[str, Any]:
    return json.loads(text)


def endpoint(bom: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    """The endpoint's nested crypto assets by bom-ref."""
    [component] = [c for c in bom["components"] if c["name"] == name]
    return {c["bom-ref"]: c for c in component["components"]}


def by_type(assets: dict[str, dict[str, Any]], asset_type: str) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in assets.values() if c["cryptoProperties"]["assetType"] == asset_type}


def test_valid_cyclonedx_1_6(text: str, bom: dict[str, Any]) -> None:
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    assert (bom["bomFormat"], bom["specVersion"]) == ("CycloneDX", "1.6")
    assert bom["metadata"]["timestamp"] == "2026-11-24T06:00:00+00:00"
    tools = {t["name"]: t["version"] for t in bom["metadata"]["tools"]["components"]}
    assert tools == {"tlsward": "0.1.0", "sslyze": "6.3.1"}


def test_the_validator_rejects_a_broken_bom(bom: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(bom))
    first = broken["components"][0]["components"][0]
    first["cryptoProperties"]["assetType"] = "spell"
    first["unknownField"] = 1
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(broken), all_errors=True)
    assert errors is not None
    messages = " | ".join(e.data.message for e in errors)  # type: ignore[union-attr]
    assert "'spell' is not one of" in messages
    assert "unknownField" in messages


def test_one_component_per_endpoint(bom: dict[str, Any], report: dict[str, Any]) -> None:
    # "runner" has no TLS endpoint: it has no cryptography to list.
    assert sorted(c["name"] for c in bom["components"]) == ["hardened", "rsa_kex", "tls1_0"]
    [tls10] = [c for c in bom["components"] if c["name"] == "tls1_0"]
    assert tls10["type"] == "application"
    props = {p["name"]: p["value"] for p in tls10["properties"]}
    assert props["tlsward:endpoint"] == "127.0.2.11:8443"
    assert props["tlsward:server_name"] == "bio.scan.test"
    assert props["tlsward:compliant"] == "false"
    root = bom["metadata"]["component"]["bom-ref"]
    deps = {d["ref"]: set(d.get("dependsOn", [])) for d in bom["dependencies"]}
    assert deps[root] == {c["bom-ref"] for c in bom["components"]}


def test_protocols_and_their_cipher_suites(bom: dict[str, Any]) -> None:
    assets = endpoint(bom, "tls1_0")
    protocols = by_type(assets, "protocol")
    # Only what the endpoint accepted: TLS 1.0, 1.2 and 1.3 (SSL 2/3 and TLS 1.1 are refused).
    assert sorted(protocols) == ["TLSv1.0", "TLSv1.2", "TLSv1.3"]
    tls10 = protocols["TLSv1.0"]["cryptoProperties"]["protocolProperties"]
    assert (tls10["type"], tls10["version"]) == ("tls", "1.0")
    [suite] = tls10["cipherSuites"]
    assert suite["name"] == "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"
    assert suite["identifiers"] == ["0xC0,0x09"]
    algorithms = {
        assets[ref]["name"]: assets[ref]["cryptoProperties"]["algorithmProperties"]
        for ref in suite["algorithms"]
    }
    assert set(algorithms) == {"ECDHE", "ECDSA", "AES-128-CBC", "HMAC-SHA1"}
    assert algorithms["AES-128-CBC"]["primitive"] == "block-cipher"
    assert algorithms["AES-128-CBC"]["mode"] == "cbc"
    assert algorithms["AES-128-CBC"]["parameterSetIdentifier"] == "128"
    assert algorithms["ECDHE"]["primitive"] == "key-agree"
    assert algorithms["HMAC-SHA1"]["primitive"] == "mac"
    tls13 = protocols["TLSv1.3"]["cryptoProperties"]["protocolProperties"]
    assert sorted(s["name"] for s in tls13["cipherSuites"]) == [
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
    ]  # fmt: skip
    aes256 = next(s for s in tls13["cipherSuites"] if s["name"] == "TLS_AES_256_GCM_SHA384")
    assert aes256["identifiers"] == ["0x13,0x02"]
    assert {assets[r]["name"] for r in aes256["algorithms"]} == {"AES-256-GCM", "HKDF-SHA-384"}
    gcm = assets["tls1_0/algorithm/ae:AES-256-GCM"]["cryptoProperties"]["algorithmProperties"]
    assert (gcm["primitive"], gcm["mode"], gcm["classicalSecurityLevel"]) == ("ae", "gcm", 256)


def test_groups_are_algorithms_the_protocols_refer_to(bom: dict[str, Any]) -> None:
    assets = endpoint(bom, "hardened")
    groups = {
        name: c["cryptoProperties"]["algorithmProperties"]
        for name, c in by_type(assets, "algorithm").items()
        if c["cryptoProperties"]["algorithmProperties"]["primitive"] == "key-agree" and name != "ECDHE"
    }
    assert sorted(groups) == ["X25519", "prime256v1", "secp384r1"]
    assert (groups["X25519"]["curve"], groups["X25519"]["classicalSecurityLevel"]) == ("Curve25519", 128)
    assert groups["secp384r1"]["classicalSecurityLevel"] == 192
    tls13 = by_type(assets, "protocol")["TLSv1.3"]["cryptoProperties"]["protocolProperties"]
    refs = {assets[r]["name"] for r in tls13["cryptoRefArray"] if r in assets}
    assert {"X25519", "prime256v1", "secp384r1", "CN=bio.scan.test,O=tlsward tests"} <= refs


def test_certificates_keys_and_key_sizes(bom: dict[str, Any], report: dict[str, Any]) -> None:
    assets = endpoint(bom, "rsa_kex")
    certs = {
        p["value"]: c
        for c in by_type(assets, "certificate").values()
        for p in c["properties"]
        if p["name"] == "tlsward:role"
    }
    assert sorted(certs) == ["anchor", "intermediate", "leaf"]
    leaf = certs["leaf"]["cryptoProperties"]["certificateProperties"]
    expected = next(c for c in report["certificates"] if c["host"] == "rsa_kex" and c["role"] == "leaf")
    assert leaf["subjectName"] == expected["subject"]
    assert leaf["issuerName"] == "CN=scan intermediate CA,O=tlsward tests"
    assert leaf["notValidAfter"] == expected["not_after"] == "2027-01-23T20:39:02+00:00"
    assert leaf["certificateFormat"] == "X.509"
    key = assets[leaf["subjectPublicKeyRef"]]["cryptoProperties"]["relatedCryptoMaterialProperties"]
    assert (key["type"], key["size"]) == ("public-key", 2048)
    algorithm = assets[key["algorithmRef"]]
    assert algorithm["name"] == "RSA-2048"
    assert algorithm["cryptoProperties"]["algorithmProperties"]["classicalSecurityLevel"] == 112
    # The RSA key-exchange suite is broken into its parts: RSA key transport, no ECDHE.
    tls12 = by_type(assets, "protocol")["TLSv1.2"]["cryptoProperties"]["protocolProperties"]
    rsa_kex = next(s for s in tls12["cipherSuites"] if s["name"] == "TLS_RSA_WITH_AES_128_GCM_SHA256")
    parts = {
        (assets[r]["name"], assets[r]["cryptoProperties"]["algorithmProperties"]["primitive"])
        for r in rsa_kex["algorithms"]
    }
    assert parts == {("RSA", "pke"), ("RSA", "signature"), ("AES-128-GCM", "ae"), ("TLS-PRF-SHA-256", "kdf")}
    ec_leaf = endpoint(bom, "hardened")
    [ec_key] = by_type(ec_leaf, "related-crypto-material").values()
    props = ec_key["cryptoProperties"]["relatedCryptoMaterialProperties"]
    assert props["size"] == 256
    assert ec_leaf[props["algorithmRef"]]["cryptoProperties"]["algorithmProperties"]["curve"] == "secp256r1"


def test_every_reference_resolves(bom: dict[str, Any]) -> None:
    refs = {bom["metadata"]["component"]["bom-ref"]}
    for component in bom["components"]:
        refs.add(component["bom-ref"])
        refs.update(c["bom-ref"] for c in component["components"])
    pointed: list[str] = []
    for component in bom["components"]:
        for asset in component["components"]:
            props = asset["cryptoProperties"]
            for suite in props.get("protocolProperties", {}).get("cipherSuites", []):
                pointed += suite.get("algorithms", [])
            pointed += props.get("protocolProperties", {}).get("cryptoRefArray", [])
            pointed += [v for k, v in props.get("certificateProperties", {}).items() if k.endswith("Ref")]
            pointed += [
                v for k, v in props.get("relatedCryptoMaterialProperties", {}).items() if k.endswith("Ref")
            ]
    for dep in bom["dependencies"]:
        pointed += [dep["ref"], *dep.get("dependsOn", [])]
    assert pointed
    assert set(pointed) - refs == set()


def test_the_bom_is_reproducible(report: dict[str, Any], text: str) -> None:
    assert to_cbom(report) == text
    assert json.loads(text)["serialNumber"].startswith("urn:uuid:")


def test_a_suite_openssl_does_not_know_is_listed_by_name(report: dict[str, Any]) -> None:
    odd = json.loads(json.dumps(report))
    host = next(h for h in odd["hosts"] if h["name"] == "hardened")
    suites = next(f for f in host["findings"] if f["id"] == "cipher.tls1_2.not_in_policy")
    suites["evidence"]["accepted"] = ["MADE-UP-SUITE"]
    text = to_cbom(odd)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    tls12 = by_type(endpoint(json.loads(text), "hardened"), "protocol")["TLSv1.2"]
    [suite] = tls12["cryptoProperties"]["protocolProperties"]["cipherSuites"]
    assert suite == {"name": "MADE-UP-SUITE"}


def test_algorithm_decomposition() -> None:
    assert cipher_algorithm("None") is None
    ccm8 = cipher_algorithm("AESCCM8(128)")
    assert ccm8 is not None
    assert (ccm8.name, ccm8.primitive.value, ccm8.mode.value if ccm8.mode else None) == (
        "AES-128-CCM8",
        "ae",
        "ccm",
    )
    des3 = cipher_algorithm("3DES(168)")
    assert des3 is not None
    assert (des3.name, des3.classical) == ("3DES-EDE-CBC", 112)
    rc4 = cipher_algorithm("RC4(128)")
    assert rc4 is not None
    assert rc4.primitive.value == "stream-cipher"
    chacha = CipherSuite(
        "0xCC,0xA9", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
        "TLSv1.2", "ECDH", "ECDSA", "CHACHA20/POLY1305(256)", "AEAD",
    )  # fmt: skip
    assert [a.name for a in suite_algorithms(chacha)] == [
        "ECDHE",
        "ECDSA",
        "ChaCha20-Poly1305",
        "TLS-PRF-SHA-256",
    ]
    hybrid = group_algorithm("X25519MLKEM768")
    assert (hybrid.primitive.value, hybrid.quantum, hybrid.classical) == ("kem", 3, 128)
    ffdhe = group_algorithm("ffdhe3072")
    assert (ffdhe.parameter_set, ffdhe.classical) == ("3072", 128)
    assert key_algorithm({"type": "RSA", "bits": 4096, "curve": None}).classical == 128
    assert key_algorithm({"type": "Ed25519", "bits": 256, "curve": None}).name == "Ed25519"
