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


def _load_bundled_trust_stores() -> None:
    # sslyze validates every chain against its bundled trust stores too. One bundled root has a
    # non-positive serial number, for which cryptography emits a deprecation warning when the
    # store is parsed; parse them once here, silently (tlsward judges trust against ca_file).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        TrustStoresRepository.get_default()


def _request(target: Target) -> ServerScanRequest:
    try:
        location = ServerNetworkLocation(
            hostname=target.sni, port=target.port, ip_address=resolve(target.host, target.port)
        )
    except ServerHostnameCouldNotBeResolved as exc:
        raise TlswardError("tls_scan", f"{target.label}: cannot resolve {target.host!r}: {exc}") from exc
    credentials = None
    if target.client is not None:
        credentials = ClientAuthenticationCredentials(
            certificate_chain_path=Path(target.client.cert), key_path=Path(target.client.key)
        )
    extra = ScanCommandsExtraArguments(
        certificate_info=CertificateInfoExtraArgument(custom_ca_file=Path(target.ca_file))
        if target.ca_file
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
        scan_commands=set(SCAN_COMMANDS),
        scan_commands_extra_arguments=extra,
    )


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
    requests = [_request(t) for t in targets]
    anchors = [_anchors(t) for t in targets]
    started = time.monotonic()
    scanned_at = dt.datetime.now(dt.UTC)
    by_uuid: dict[Any, tuple[dict[str, Any], float]] = {}
    with ThreadPoolExecutor(max_workers=min(len(targets), concurrency)) as pool:
        probe_futures = [pool.submit(run_probes, t) for t in targets]
        scanner = Scanner(
            concurrent_server_scans_limit=min(len(targets), concurrency),
            per_server_concurrent_connections_limit=5,
        )
        scanner.queue_scans(requests)
        for result in scanner.get_results():
            as_json = ServerScanResultAsJson.model_validate(result).model_dump(mode="json")
            by_uuid[result.uuid] = (as_json, time.monotonic() - started)
        probes = [f.result() for f in probe_futures]
    records = []
    for target, request, anchor_pems, probe in zip(targets, requests, anchors, probes, strict=True):
        sslyze_json, seconds = by_uuid[request.uuid]
        records.append(
            {
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
        )
    return records
