"""A sequential TLS 1.3 client for handshake benchmarks that h2load cannot do (client
certificates, explicit resumption). Runs as its own process pinned to the client core:

    python -m bench.tlsclient HOST PORT --count N --seconds S [--resume] [--cert C --key K]

prints one JSON object: connections made, how many the server resumed, wall seconds.
"""

from __future__ import annotations

import argparse
import json
import socket
import ssl
import sys
import time

from bench.certs import SERVER_NAME


def _context(ca: str, cert: str | None, key: str | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def one(
    ctx: ssl.SSLContext, host: str, port: int, session: ssl.SSLSession | None
) -> tuple[bool, ssl.SSLSession | None, bytes]:
    request = f"GET / HTTP/1.1\r\nHost: {SERVER_NAME}\r\nConnection: close\r\n\r\n".encode()
    with (
        socket.create_connection((host, port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname=SERVER_NAME, session=session) as tls,
    ):
        tls.sendall(request)
        chunks = []
        try:
            while chunk := tls.recv(65536):
                chunks.append(chunk)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            pass
        return tls.session_reused, tls.session, b"".join(chunks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.tlsclient")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    ctx = _context(args.ca, args.cert, args.key)
    session = None
    if args.resume:  # prime: the first full handshake gives the session (ticket) to resume
        _, session, _ = one(ctx, args.host, args.port, None)
    done = reused = bad = 0
    start = time.monotonic()
    deadline = start + args.seconds
    while done < args.count and time.monotonic() < deadline:
        was_reused, new_session, body = one(ctx, args.host, args.port, session if args.resume else None)
        done += 1
        reused += int(was_reused)
        bad += int(not body.startswith(b"HTTP/1.1 200"))
        if args.resume and new_session is not None:
            session = new_session
    elapsed = time.monotonic() - start
    json.dump({"connections": done, "reused": reused, "non_200": bad, "seconds": elapsed}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
