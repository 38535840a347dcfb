"""Cross-listener session resumption (the nginx CVE-2025-23419 class of bypass).

A TLS session carries the client's verification result with it: a server that resumes a session
does not ask for the client certificate again. When a session obtained on one listener or server
name resumes on another that requires client certificates, the second never verifies the client
itself. nginx uses the session cache and ticket keys of a listener's *default* server for every
server block of that listener, and ``ssl_session_ticket_key`` files or a ``shared:`` cache zone
shared between listeners (or across a fleet) carry sessions further; nginx 1.27.4 / 1.26.3 (and
distribution backports) refuse a resumed session whose server name differs, but not one from
another listener with the same name.

The probe, for every peer (``Target.resumption_peers`` plus a name no server is configured for,
which reaches the listener's default server) and every identity the target must refuse (none,
an unknown CA's, the revoked device's), on TLS 1.3 and TLS 1.2: one connection to the peer with
that identity and a ``GET`` (which also collects the TLS 1.3 ticket), then one connection to the
target offering the session the peer handed out, with the same client context (a server that
does a full handshake instead gets the same identity, which it must refuse on its own), and a
``GET`` of ``Target.http_path``. Whether the target resumed and what it answered is recorded;
``tlsward.scan.judge_resumption`` decides. Every connection is bounded by ``Target.timeout``.
"""

from __future__ import annotations

import socket
import ssl
import tempfile
from pathlib import Path
from typing import Any

from tlsward.scan.model import Identity, Listener, Target
from tlsward.scan.probes import _parse_response, _read_bounded, make_unknown_ca_identity

# A name in the reserved .invalid domain (RFC 2606): no server block has it, so it reaches the
# listener's default server, whose cache and ticket keys nginx uses for the whole listener.
UNCONFIGURED_NAME = "tlsward-resumption-probe.invalid"
MAX_PEERS = 8
VERSIONS = (("TLSv1.3", ssl.TLSVersion.TLSv1_3), ("TLSv1.2", ssl.TLSVersion.TLSv1_2))


Where = tuple[str, int, str]  # host, port, server name


def peers_of(target: Target) -> tuple[list[Where], list[Where]]:
    """The peers probed for ``target`` (resolved: no ``None`` left) and the ones left out.

    The unconfigured name first, then ``target.resumption_peers`` in order; the target itself
    and duplicates are dropped, at most ``MAX_PEERS`` are probed.
    """
    own = where_of(target)
    wanted = [Listener(server_name=UNCONFIGURED_NAME), *target.resumption_peers]
    seen: list[Where] = []
    for peer in wanted:
        resolved = (peer.host or target.host, peer.port or target.port, peer.server_name or target.sni)
        if resolved != own and resolved not in seen:
            seen.append(resolved)
    return seen[:MAX_PEERS], seen[MAX_PEERS:]


def where_of(target: Target) -> Where:
    return (target.host, target.port, target.sni)


def describe(where: Where) -> dict[str, Any]:
    host, port, server_name = where
    return {"host": host, "port": port, "server_name": server_name}


def _context(identity: Identity | None, version: ssl.TLSVersion) -> ssl.SSLContext:
    # The server's certificate is judged from sslyze's results; this probe only tests what the
    # target does with a session, so it does not verify the server (as the mTLS probes).
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = version
    ctx.maximum_version = version
    if identity is not None:
        ctx.load_cert_chain(str(identity.cert), str(identity.key))
    return ctx


def _resumable(session: ssl.SSLSession | None) -> bool:
    return session is not None and (session.has_ticket or bool(session.id))


def exchange(
    ctx: ssl.SSLContext,
    where: tuple[str, int, str],
    path: str,
    timeout: float,
    session: ssl.SSLSession | None = None,
) -> tuple[dict[str, Any], ssl.SSLSession | None]:
    """One connection to ``where`` (host, port, server name) offering ``session``, one ``GET path``.

    Returns what happened (``stage`` ``connect``/``handshake``/``http`` for the step that failed or
    ``done``, ``resumed``, ``http_status``...) and the session the server handed out, if any.
    """
    host, port, server_name = where
    out: dict[str, Any] = {"stage": "connect", "error": None, "resumed": False}
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
        return out, None
    got: ssl.SSLSession | None = None
    try:
        out["stage"] = "handshake"
        with ctx.wrap_socket(raw, server_hostname=server_name, session=session) as tls:
            out["tls_version"] = tls.version()
            out["resumed"] = tls.session_reused
            out["stage"] = "http"
            request = (
                f"GET {path} HTTP/1.1\r\nHost: {server_name}\r\n"
                "User-Agent: tlsward-scan\r\nAccept: */*\r\nConnection: close\r\n\r\n"
            )
            tls.sendall(request.encode("ascii"))
            try:
                data = _read_bounded(tls)
            finally:
                got = tls.session
        _parse_response(data, out)
    except (OSError, ssl.SSLError, ValueError) as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        raw.close()
    out.pop("body", None)
    out.pop("strict_transport_security", None)
    return out, got


def _probe_peer(
    target: Target, peer: Where, identities: list[tuple[str, Identity | None]]
) -> list[dict[str, Any]]:
    """Every version and identity against one peer; stops at a peer that cannot be reached."""
    own = where_of(target)
    attempts: list[dict[str, Any]] = []
    for version_name, version in VERSIONS:
        for label, identity in identities:
            ctx = _context(identity, version)
            origin, session = exchange(ctx, peer, target.http_path, target.timeout)
            attempt: dict[str, Any] = {
                "peer": describe(peer),
                "version": version_name,
                "identity": label,
                "origin": origin,
                "session_obtained": _resumable(session),
                "offered": None,
            }
            attempts.append(attempt)
            if origin["stage"] == "connect":
                return attempts  # nothing listens there: the other attempts would only wait
            if attempt["session_obtained"]:
                attempt["offered"], _ = exchange(ctx, own, target.http_path, target.timeout, session=session)
    return attempts


def probe_resumption(target: Target) -> dict[str, Any]:
    """Offer every peer's sessions to ``target``: the record's ``resumption`` entry."""
    peers, left_out = peers_of(target)
    attempts: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="tlsward-resumption-") as tmp:
        identities: list[tuple[str, Identity | None]] = [
            ("none", None),
            ("unknown_ca", target.unknown_ca_client or make_unknown_ca_identity(Path(tmp))),
        ]
        if target.revoked_client is not None:
            identities.append(("revoked", target.revoked_client))
        for peer in peers:
            attempts += _probe_peer(target, peer, identities)
    return {
        "target": describe(where_of(target)),
        "peers": [describe(p) for p in peers],
        "peers_left_out": [describe(p) for p in left_out],
        "identities": [label for label, _ in identities],
        "attempts": attempts,
    }
