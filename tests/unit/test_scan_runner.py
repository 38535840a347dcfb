"""How the scanner splits its sslyze requests when it has a client identity, and how they are merged."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sslyze import ScanCommand, ServerScanResultAsJson

from tlsward.scan import Identity, Target, judge
from tlsward.scan.runner import SCAN_COMMANDS, UNAUTHENTICATED_COMMANDS, merge_unauthenticated, requests_for

DATA = Path(__file__).resolve().parents[1] / "data" / "scan"
LEGACY = {ScanCommand.SSL_2_0_CIPHER_SUITES, ScanCommand.SSL_3_0_CIPHER_SUITES}


def hardened() -> dict[str, Any]:
    return json.loads((DATA / "hardened.json").read_text(encoding="utf-8"))["record"]


def _identity(directory: Path) -> tuple[Path, Path]:
    """A self-signed EC identity (sslyze loads it when the request is built)."""
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "device")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(private, hashes.SHA256())
    )
    cert_path, key_path = directory / "chain.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_without_identity_everything_is_one_request() -> None:
    main, extra = requests_for(Target(host="127.0.2.10", port=8443, server_name="bio.scan.test"))
    assert extra is None
    assert main.scan_commands == set(SCAN_COMMANDS)
    assert main.network_configuration.tls_client_auth_credentials is None


def test_with_identity_sslv2_and_sslv3_run_without_it(tmp_path: Path) -> None:
    cert, key = _identity(tmp_path)
    target = Target(host="127.0.2.10", port=8443, server_name="bio.scan.test", client=Identity(cert, key))
    main, extra = requests_for(target)
    assert extra is not None
    assert UNAUTHENTICATED_COMMANDS == LEGACY
    assert extra.scan_commands == LEGACY
    assert extra.network_configuration.tls_client_auth_credentials is None
    assert main.scan_commands == set(SCAN_COMMANDS) - LEGACY
    credentials = main.network_configuration.tls_client_auth_credentials
    assert credentials is not None
    assert credentials.certificate_chain_path == cert
    # Same endpoint, same SNI.
    assert extra.server_location == main.server_location
    assert extra.network_configuration.tls_server_name_indication == "bio.scan.test"


def _split(record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The hardened record as the two requests would have returned it."""
    main = copy.deepcopy(record["sslyze"])
    extra = copy.deepcopy(record["sslyze"])
    for command in LEGACY:
        main["scan_result"][command.value] = {
            "status": "NOT_SCHEDULED",
            "error_reason": None,
            "error_trace": None,
            "result": None,
        }
    return main, extra


def test_merged_record_is_sslyze_json_with_the_unauthenticated_results() -> None:
    record = hardened()
    main, extra = _split(record)
    merged = merge_unauthenticated(main, extra)
    ServerScanResultAsJson.model_validate(merged)
    for command in LEGACY:
        assert merged["scan_result"][command.value] == record["sslyze"]["scan_result"][command.value]
    assert main["scan_result"]["ssl_2_0_cipher_suites"]["status"] == "NOT_SCHEDULED"  # input untouched
    findings = {f.id: f for f in judge({**record, "sslyze": merged}, "biometric-strict", "production")}
    assert findings["protocol.ssl2_0"].status == "pass"
    assert findings["protocol.ssl3_0"].status == "pass"


def test_unauthenticated_request_that_cannot_connect_is_an_error_not_a_pass() -> None:
    record = hardened()
    main, extra = _split(record)
    extra.update(
        connectivity_status="ERROR",
        connectivity_error_trace="Traceback\nConnectionToServerFailed: reset\n",
        scan_result=None,
    )
    merged = merge_unauthenticated(main, extra)
    ServerScanResultAsJson.model_validate(merged)
    findings = {f.id: f for f in judge({**record, "sslyze": merged}, "biometric-strict", "production")}
    for fid in ("protocol.ssl2_0", "protocol.ssl3_0", "cipher.ssl2_0.not_in_policy"):
        assert (findings[fid].status, findings[fid].passed) == ("error", False), fid
    assert findings["protocol.ssl2_0"].evidence["error"] == "ConnectionToServerFailed: reset"
    # The identity's own results are untouched.
    assert findings["protocol.tls1_3"].status == "pass"
