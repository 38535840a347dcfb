"""Run sslyze (and the client-certificate probes) against endpoints and keep the raw results.

The output of a scan is a *record*: a JSON-able dict holding sslyze's own JSON model of the
result (``ServerScanResultAsJson``), the probe results, the trust anchors used and the scan time.
Judging (``tlsward.scan.judge``) reads only records, so recorded scans can be judged again later
(unit tests do exactly that) and the verdict is reproducible.
"""

from __future__ import annotations

import datetime as dt
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.utils import CryptographyDeprecationWarning
from sslyze import (
    CertificateInfoExtraArgument,
    ClientAuthenticationCredentials,
    ScanCommand,
    ScanCommandsExtraArguments,
    Scanner,
    ServerNetworkConfiguration,
    ServerNetworkLocation,
    ServerScanRequest,
    ServerScanResultAsJson,
)
from sslyze.__version__ import __version__ as SSLYZE_VERSION
from sslyze.errors import ServerHostnameCouldNotBeResolved
from sslyze.plugins.certificate_info.trust_stores.trust_store_repository import TrustStoresRepository

from tlsward.errors import TlswardError
from tlsward.scan.model import Target
from tlsward.scan.netutil import resolve
from tlsward.scan.probe_early_data import probe_early_data
from tlsward.scan.probe_hello import run_hello_probes
from tlsward.scan.probe_resumption import probe_resumption
from tlsward.scan.probes import run_probes

RECORD_SCHEMA = 1
# Every sslyze check tlsward judges (TLS_EXTENDED_MASTER_SECRET included: it is cheap).
SCAN_COMMANDS = frozenset(
    {
        ScanCommand.CERTIFICATE_INFO,
        ScanCommand.SSL_2_0_CIPHER_SUITES,
        ScanCommand.SSL_3_0_CIPHER_SUITES,
        ScanCommand.TLS_1_0_CIPHER_SUITES,
        ScanCommand.TLS_1_1_CIPHER_SUITES,
        ScanCommand.TLS_1_2_CIPHER_SUITES,
        ScanCommand.TLS_1_3_CIPHER_SUITES,
        ScanCommand.ELLIPTIC_CURVES,
        ScanCommand.SESSION_RESUMPTION,
        ScanCommand.TLS_1_3_EARLY_DATA,
        ScanCommand.TLS_COMPRESSION,
        ScanCommand.SESSION_RENEGOTIATION,
        ScanCommand.HEARTBLEED,
        ScanCommand.ROBOT,
        ScanCommand.OPENSSL_CCS_INJECTION,
        ScanCommand.TLS_FALLBACK_SCSV,
        ScanCommand.HTTP_HEADERS,
        ScanCommand.TLS_EXTENDED_MASTER_SECRET,
    }
)
# Scan commands sent in a second sslyze request to the same endpoint WITHOUT the client identity.
# - sslyze tests SSL 2.0 (and 3.0) with nassl's legacy OpenSSL 1.0.2. Its SSLv2 method implements
#   no SSL_CTX control at all (ssl2_ctx_ctrl returns 0 for every command), and loading a chain
#   file adds each certificate after the first through such a control: with a device identity
#   holding leaf + issuing CA (what tls_pki issues), the SSLv2 client cannot even be built and the
#   command dies with "OpenSSLError: Unknown error: invalid input, usage, or OpenSSL build
#   configuration?" (BUG_IN_SSLYZE) before a byte is sent. A leaf-only file does not show it.
# - These checks only have to see whether the server answers an SSLv2/SSLv3 hello. That is decided
#   before any client authentication, and sslyze counts a suite whose handshake reaches the
#   server's CertificateRequest as accepted, so the verdict does not depend on the identity.
#   SSLv3 goes with SSLv2: same legacy client, and SSLv3's client-certificate path differs from
#   TLS (RFC 4492's ecdsa_sign certificate type is TLS-only), so presenting the EC device identity
#   there could only add a way for the answer to depend on it.
UNAUTHENTICATED_COMMANDS = frozenset({ScanCommand.SSL_2_0_CIPHER_SUITES, ScanCommand.SSL_3_0_CIPHER_SUITES})


def _load_bundled_trust_stores() -> None:
    # sslyze validates every chain against its bundled trust stores too. One bundled root has a
    # non-positive serial number, for which cryptography emits a deprecation warning when the
    # store is parsed; parse them once here, silently (tlsward judges trust against ca_file).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        TrustStoresRepository.get_default()


def _location(target: Target) -> ServerNetworkLocation:
    try:
        return ServerNetworkLocation(
            hostname=target.sni, port=target.port, ip_address=resolve(target.host, target.port)
        )
    except ServerHostnameCouldNotBeResolved as exc:
        raise TlswardError("tls_scan", f"{target.label}: cannot resolve {target.host!r}: {exc}") from exc


def _request(
    target: Target,
    location: ServerNetworkLocation,
    commands: frozenset[ScanCommand],
    credentials: ClientAuthenticationCredentials | None,
) -> ServerScanRequest:
    extra = ScanCommandsExtraArguments(
        certificate_info=CertificateInfoExtraArgument(custom_ca_file=Path(target.ca_file))
        if target.ca_file and ScanCommand.CERTIFICATE_INFO in commands
        else None
    )
    return ServerScanRequest(
        server_location=location,
        network_configuration=ServerNetworkConfiguration(
            tls_server_name_indication=target.sni,
            tls_client_auth_credentials=credentials,
            network_timeout=int(max(1, target.timeout)),
            network_max_retries=2,
        ),
        scan_commands=set(commands),
        scan_commands_extra_arguments=extra,
    )


def requests_for(target: Target) -> tuple[ServerScanRequest, ServerScanRequest | None]:
    """The sslyze request(s) for one target: every command in one request without a client
    identity; with one, the identity's request plus an unauthenticated one for
    ``UNAUTHENTICATED_COMMANDS`` (see there why)."""
    location = _location(target)
    if target.client is None:
        return _request(target, location, SCAN_COMMANDS, None), None
    credentials = ClientAuthenticationCredentials(
        certificate_chain_path=Path(target.client.cert), key_path=Path(target.client.key)
    )
    return (
        _request(target, location, SCAN_COMMANDS - UNAUTHENTICATED_COMMANDS, credentials),
        _request(target, location, UNAUTHENTICATED_COMMANDS, None),
    )


def merge_unauthenticated(main: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """sslyze's JSON of the identity's request with the unauthenticated request's commands put in.

    When the unauthenticated request could not connect, its commands are reported as errors with
    its connectivity error (never as not scheduled, never silently passed).
    """
    merged = dict(main)
    results = main.get("scan_result")
    if results is None:  # the identity's request could not connect: judged as unreachable
        return merged
    results = dict(results)
    extra_results = extra.get("scan_result") or {}
    for command in sorted(UNAUTHENTICATED_COMMANDS):
        attempt = extra_results.get(command.value)
        if extra.get("connectivity_status") != "COMPLETED" or not attempt:
            attempt = {
                "status": "ERROR",
                "error_reason": "CONNECTIVITY_ISSUE",
                "error_trace": extra.get("connectivity_error_trace")
                or "the scan without the client identity did not run",
                "result": None,
            }
        results[command.value] = attempt
    merged["scan_result"] = results
    return merged


def _anchors(target: Target) -> list[str]:
    if not target.ca_file:
        return []
    try:
        certs = x509.load_pem_x509_certificates(Path(target.ca_file).read_bytes())
    except (OSError, ValueError) as exc:
        raise TlswardError("tls_scan", f"{target.label}: ca_file {target.ca_file}: {exc}") from exc
    return [c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in certs]


def _check_identities(target: Target) -> None:
    problems = []
    for label, identity in (
        ("client_cert/client_key", target.client),
        ("revoked_client_cert/revoked_client_key", target.revoked_client),
        ("unknown_ca_client_cert/unknown_ca_client_key", target.unknown_ca_client),
    ):
        if identity is None:
            continue
        for path in (identity.cert, identity.key):
            if not Path(path).is_file():
                problems.append(f"{target.label}: {label}: {path} is not a readable file")
    if problems:
        raise TlswardError("tls_scan", problems)


def scan(targets: list[Target], *, concurrency: int = 20) -> list[dict[str, Any]]:
    """Scan every target concurrently; returns one record per target, in the order given.

    sslyze's own concurrent scanner runs the TLS checks of up to ``concurrency`` endpoints at once
    while a thread pool runs the client-certificate probes alongside.
    """
    if not targets:
        return []
    for target in targets:
        _check_identities(target)
    _load_bundled_trust_stores()
    requests = [requests_for(t) for t in targets]
    anchors = [_anchors(t) for t in targets]
    started = time.monotonic()
    scanned_at = dt.datetime.now(dt.UTC)
    by_uuid: dict[Any, tuple[dict[str, Any], float]] = {}
    queued = [r for pair in requests for r in pair if r is not None]
    with ThreadPoolExecutor(max_workers=min(len(targets), concurrency)) as pool:
        probe_futures = [pool.submit(run_probes, t) for t in targets]
        # Cross-listener resumption and requests in 0-RTT early data (probe_resumption, probe_early_data).
        resumption_futures = [pool.submit(probe_resumption, t) for t in targets]
        early_futures = [pool.submit(probe_early_data, t) for t in targets]
        # Hand-built ClientHellos: hybrid post-quantum groups and signature schemes (probe_hello).
        hello_futures = [pool.submit(run_hello_probes, t) for t in targets]
        scanner = Scanner(
            concurrent_server_scans_limit=min(len(queued), concurrency),
            per_server_concurrent_connections_limit=5,
        )
        scanner.queue_scans(queued)
        for result in scanner.get_results():
            as_json = ServerScanResultAsJson.model_validate(result).model_dump(mode="json")
            by_uuid[result.uuid] = (as_json, time.monotonic() - started)
        probes = [f.result() for f in probe_futures]
        sessions = [
            {"resumption": r.result(), "early_data": e.result()}
            for r, e in zip(resumption_futures, early_futures, strict=True)
        ]
        hellos = [f.result() for f in hello_futures]
    records = []
    for target, (request, unauthenticated), anchor_pems, probe in zip(
        targets, requests, anchors, probes, strict=True
    ):
        sslyze_json, seconds = by_uuid[request.uuid]
        record: dict[str, Any] = {
            "record_schema": RECORD_SCHEMA,
            "target": {
                "name": target.label,
                "host": target.host,
                "port": target.port,
                "server_name": target.sni,
                "http_path": target.http_path,
            },
            "scanned_at": scanned_at.isoformat(),
            "seconds": round(seconds, 3),
            "scanner": {"sslyze": SSLYZE_VERSION},
            "trust_anchors_pem": anchor_pems,
            "sslyze": sslyze_json,
            "probes": probe,
        }
        if unauthenticated is not None:
            extra_json, extra_seconds = by_uuid[unauthenticated.uuid]
            record["sslyze"] = merge_unauthenticated(sslyze_json, extra_json)
            record["seconds"] = round(max(seconds, extra_seconds), 3)
            # Which commands ran without the client identity (the rest ran with it).
            record["without_client_identity"] = sorted(c.value for c in UNAUTHENTICATED_COMMANDS)
        records.append(record)
    for record, hello in zip(records, hellos, strict=True):
        record.update(hello)
    for record, session in zip(records, sessions, strict=True):
        record.update(session)
    return records
