"""External judges: sslyze (Python API) and testssl.sh, run on the controller against the
deployed endpoint, their findings compared with the profile the endpoint was rendered from."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from sslyze import (
    ClientAuthenticationCredentials,
    ScanCommand,
    Scanner,
    ServerNetworkConfiguration,
    ServerNetworkLocation,
    ServerScanRequest,
    ServerScanStatusEnum,
)
from tlsprobe import SNI, controller_client

# SSLv2 is left to testssl.sh (and OpenSSL 3 cannot speak it at all): sslyze 6.3.1's SSLv2
# probe ends in BUG_IN_SSLYZE when the server asks for a client certificate.
_SUITE_COMMANDS = {
    "SSLv3": ScanCommand.SSL_3_0_CIPHER_SUITES,
    "TLSv1": ScanCommand.TLS_1_0_CIPHER_SUITES,
    "TLSv1.1": ScanCommand.TLS_1_1_CIPHER_SUITES,
    "TLSv1.2": ScanCommand.TLS_1_2_CIPHER_SUITES,
    "TLSv1.3": ScanCommand.TLS_1_3_CIPHER_SUITES,
}


# sslyze names a few groups by their SEC 2 names.
_GROUP_ALIASES = {"secp256r1": "prime256v1"}


def sslyze_scan(address: str, port: int) -> dict[str, Any]:
    """Accepted suites per protocol (OpenSSL names), groups, HSTS, early data, vulnerabilities."""
    chain, key = controller_client()
    request = ServerScanRequest(
        server_location=ServerNetworkLocation(hostname=SNI, port=port, ip_address=address),
        network_configuration=ServerNetworkConfiguration(
            tls_server_name_indication=SNI,
            tls_client_auth_credentials=ClientAuthenticationCredentials(
                certificate_chain_path=chain, key_path=key
            ),
        ),
        scan_commands={
            *_SUITE_COMMANDS.values(),
            ScanCommand.ELLIPTIC_CURVES,
            ScanCommand.HTTP_HEADERS,
            ScanCommand.TLS_1_3_EARLY_DATA,
            ScanCommand.TLS_COMPRESSION,
            ScanCommand.HEARTBLEED,
            ScanCommand.OPENSSL_CCS_INJECTION,
            ScanCommand.SESSION_RENEGOTIATION,
            ScanCommand.TLS_FALLBACK_SCSV,
        },
    )
    scanner = Scanner()
    scanner.queue_scans([request])
    results = list(scanner.get_results())
    assert len(results) == 1
    result = results[0]
    assert result.scan_status == ServerScanStatusEnum.COMPLETED, result.connectivity_error_trace
    scan = result.scan_result
    assert scan is not None
    out: dict[str, Any] = {"suites": {}, "errors": []}
    for proto, command in _SUITE_COMMANDS.items():
        attempt = getattr(scan, command.value)
        if attempt.error_reason:
            out["errors"].append(f"{proto}: {attempt.error_reason}")
            continue
        out["suites"][proto] = {s.cipher_suite.openssl_name for s in attempt.result.accepted_cipher_suites}
    curves = scan.elliptic_curves
    out["groups"] = (
        {_GROUP_ALIASES.get(c.name, c.name) for c in curves.result.supported_curves or []}
        if curves.result
        else None
    )
    headers = scan.http_headers.result
    out["hsts"] = headers.strict_transport_security_header if headers else None
    out["http_error"] = headers.http_error_trace if headers else scan.http_headers.error_trace
    out["early_data"] = scan.tls_1_3_early_data.result.supports_early_data
    out["compression"] = scan.tls_compression.result.supports_compression
    out["heartbleed"] = scan.heartbleed.result.is_vulnerable_to_heartbleed
    out["ccs_injection"] = scan.openssl_ccs_injection.result.is_vulnerable_to_ccs_injection
    reneg = scan.session_renegotiation.result
    out["insecure_renegotiation"] = reneg.is_vulnerable_to_client_renegotiation_dos
    out["secure_renegotiation"] = reneg.supports_secure_renegotiation
    out["fallback_scsv"] = scan.tls_fallback_scsv.result.supports_fallback_scsv
    return out


def sslyze_contradictions(scan: dict[str, Any], profile: dict[str, Any], groups: list[str]) -> list[str]:
    """Every sslyze finding that contradicts the profile (empty list: the judge agrees)."""
    problems = list(scan["errors"])
    allowed = profile["protocols"]["allowed"]
    for proto, suites in scan["suites"].items():
        if proto not in allowed and suites:
            problems.append(f"{proto} accepted ({sorted(suites)}) but not allowed")
    for proto in allowed:
        if not scan["suites"].get(proto):
            problems.append(f"{proto} allowed by the profile but no suite accepted")
    if extra := scan["suites"].get("TLSv1.2", set()) - set(profile["tls12_ciphers"]):
        problems.append(f"TLS 1.2 suites outside the profile: {sorted(extra)}")
    if extra := scan["suites"].get("TLSv1.3", set()) - set(profile["tls13_ciphersuites"]):
        problems.append(f"TLS 1.3 suites outside the profile: {sorted(extra)}")
    if scan["groups"] is None or not scan["groups"]:
        problems.append("sslyze found no supported group")
    elif extra := scan["groups"] - set(groups):
        problems.append(f"groups outside the rendered list: {sorted(extra)}")
    hsts = profile["hsts"]
    if hsts.get("required"):
        header = scan["hsts"]
        if header is None:
            problems.append(f"no HSTS header (HTTP error: {scan['http_error']})")
        else:
            if header.max_age is None or header.max_age < int(hsts["min_max_age"]):
                problems.append(f"HSTS max-age {header.max_age} below {hsts['min_max_age']}")
            if hsts.get("include_subdomains") and not header.include_subdomains:
                problems.append("HSTS without includeSubDomains")
    if scan["early_data"] != bool(profile["early_data"]["allowed"]):
        problems.append(f"0-RTT {scan['early_data']}, profile early_data {profile['early_data']['allowed']}")
    for flaw in ("compression", "heartbleed", "ccs_injection", "insecure_renegotiation"):
        if scan[flaw]:
            problems.append(f"vulnerable: {flaw}")
    if not scan["secure_renegotiation"]:
        problems.append("no secure renegotiation extension")
    if not scan["fallback_scsv"]:
        problems.append("TLS_FALLBACK_SCSV not honoured")
    return problems


def testssl_scan(address: str, port: int) -> list[dict[str, str]]:
    """testssl.sh: protocols (-p) and every cipher per protocol (-E). Groups are left to sslyze and
    the s_client probes (testssl's -f would add ~20 s)."""
    binary = shutil.which("testssl") or shutil.which("testssl.sh")
    assert binary, "testssl.sh is not installed (scripts/unit.sh installs the Debian package)"
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "testssl.json"
        cmd = [binary, "--quiet", "--color", "0", "--nodns", "none", "--warnings", "off"]
        cmd += ["--connect-timeout", "5", "--openssl-timeout", "5", "--jsonfile", str(report)]
        cmd += ["-p", "-E", f"{address}:{port}"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        assert report.exists(), proc.stdout[-3000:] + proc.stderr[-2000:]
        return json.loads(report.read_text())


_TESTSSL_PROTOCOLS = {
    "SSLv2": "SSLv2",
    "SSLv3": "SSLv3",
    "TLS1": "TLSv1",
    "TLS1_1": "TLSv1.1",
    "TLS1_2": "TLSv1.2",
    "TLS1_3": "TLSv1.3",
}


def testssl_contradictions(
    findings: list[dict[str, str]], profile: dict[str, Any], groups: list[str]
) -> list[str]:
    problems = []
    by_id = {f["id"]: f["finding"] for f in findings}
    allowed = profile["protocols"]["allowed"]
    for tid, proto in _TESTSSL_PROTOCOLS.items():
        finding = by_id.get(tid, "")
        offered = finding.startswith("offered")
        if offered and proto not in allowed:
            problems.append(f"testssl: {proto} {finding}")
        if proto in allowed and not offered:
            problems.append(f"testssl: {proto} allowed by the profile but {finding or 'missing'}")
    known = set(profile["tls12_ciphers"]) | set(profile["tls13_ciphersuites"])
    offered_suites = set()
    for f in findings:
        if f["id"].startswith("cipher-tls1_") or f["id"].startswith("cipher-ssl"):
            # "TLS 1.2   xc02b   ECDHE-ECDSA-AES128-GCM-SHA256   ECDH 253   AESGCM   128   TLS_ECDHE_..."
            match = re.search(r"\bx[0-9a-f]{2,6}\s+(\S+)", f["finding"])
            name = match.group(1) if match else f["finding"]
            offered_suites.add(name)
            if name not in known:
                problems.append(f"testssl: suite outside the profile offered: {f['finding']}")
    if not offered_suites:
        problems.append("testssl: no suite found at all")
    # testssl.sh 3.0 says PFS_*, later releases FS_*.
    curves = by_id.get("FS_ECDHE_curves") or by_id.get("PFS_ECDHE_curves")
    if curves:
        extra = set(curves.split()) - set(groups)
        if extra:
            problems.append(f"testssl: groups outside the rendered list: {sorted(extra)}")
    return problems
