"""Client-certificate and HTTP probes that sslyze does not make.

Why Python's ``ssl`` module here and not sslyze: sslyze's ``ClientAuthRequirementEnum`` is derived
from the TLS handshake alone, but nginx (``ssl_verify_client on``) completes the handshake with or
without a client certificate and refuses the *request* (HTTP 400, internal 495/496) instead; with
TLS 1.3 the client certificate is only checked after the server's Finished anyway. Deciding
"refused" therefore needs a handshake *and* an HTTP request with a chosen identity (none, an
unknown CA's, a revoked one, the valid one). sslyze also does not report the ``Server`` header.
Each probe is one connection with a bounded read.
"""

from __future__ import annotations

import datetime as dt
import http.client
import io
import socket
import ssl
import tempfile
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tlsward.scan.model import Identity, Target

MAX_RESPONSE_BYTES = 65536


def http_probe(target: Target, identity: Identity | None) -> dict[str, Any]:
    """One TLS connection presenting ``identity`` (or none) and one ``GET`` of ``target.http_path``.

    Returns what happened: ``stage`` is ``connect``/``handshake``/``http`` for the step that failed,
    or ``done``; ``http_status``, ``server`` header and a short ``body`` excerpt when a response came.
    """
    # The server's certificate is judged from sslyze's results; these probes only test what the
    # server does with the client's identity, so they do not verify the server.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if identity is not None:
        ctx.load_cert_chain(str(identity.cert), str(identity.key))
    out: dict[str, Any] = {"identity": _describe(identity), "stage": "connect", "error": None}
    try:
        raw = socket.create_connection((target.host, target.port), timeout=target.timeout)
    except OSError as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
        return out
    try:
        out["stage"] = "handshake"
        with ctx.wrap_socket(raw, server_hostname=target.sni) as tls:
            out["tls_version"] = tls.version()
            out["stage"] = "http"
            request = (
                f"GET {target.http_path} HTTP/1.1\r\nHost: {target.sni}\r\n"
                "User-Agent: tlsward-scan\r\nAccept: */*\r\nConnection: close\r\n\r\n"
            )
            tls.sendall(request.encode("ascii"))
            data = _read_bounded(tls)
        _parse_response(data, out)
    except (OSError, ssl.SSLError) as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        raw.close()
    return out


def _read_bounded(tls: ssl.SSLSocket) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < MAX_RESPONSE_BYTES:
        chunk = tls.recv(8192)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _parse_response(data: bytes, out: dict[str, Any]) -> None:
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, _, header_block = head.partition(b"\r\n")
    parts = status_line.decode("latin-1").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        out["error"] = f"no HTTP response (got {len(data)} bytes)"
        return
    headers = http.client.parse_headers(io.BytesIO(header_block + b"\r\n\r\n"))
    out.update(
        stage="done",
        http_status=int(parts[1]),
        server=headers.get("Server"),
        strict_transport_security=headers.get("Strict-Transport-Security"),
        body=body[:200].decode("utf-8", "replace"),
    )


def _describe(identity: Identity | None) -> dict[str, Any] | None:
    if identity is None:
        return None
    cert = x509.load_pem_x509_certificate(Path(identity.cert).read_bytes())
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
    }


def make_unknown_ca_identity(directory: Path) -> Identity:
    """A client identity from a CA created right now, that no server can trust (for the mTLS check)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tlsward scan unknown CA")])
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tlsward scan unknown device")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path = directory / "unknown-ca-client.pem"
    key_path = directory / "unknown-ca-client.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.touch(mode=0o600)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return Identity(cert_path, key_path)


def run_probes(target: Target) -> dict[str, Any]:
    """Every probe for one target: no certificate, an unknown CA's, the revoked one, the valid one."""
    with tempfile.TemporaryDirectory(prefix="tlsward-scan-") as tmp:
        unknown = target.unknown_ca_client or make_unknown_ca_identity(Path(tmp))
        return {
            "no_client_cert": http_probe(target, None),
            "unknown_ca": http_probe(target, unknown),
            "revoked": http_probe(target, target.revoked_client) if target.revoked_client else None,
            "valid": http_probe(target, target.client) if target.client else None,
        }
