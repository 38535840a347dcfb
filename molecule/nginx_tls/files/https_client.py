#!/usr/bin/env python3
"""Test client: one HTTP/1.1 request over TLS (or plain TCP), the answer printed as JSON.

Runs inside a front-end container so it uses that host's OpenSSL. Test fixture only.
"""

from __future__ import annotations

import argparse
import json
import socket
import ssl
import sys

CLIENT_DIR = "/root/tlsward-test"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("address")
    parser.add_argument("--port", type=int, default=443)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--path", default="/healthz")
    parser.add_argument("--host-header", default="biometric.tlsward.test")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--body-size", type=int, default=0)
    parser.add_argument("--identity", default="device", help="device, device-revoked or none")
    parser.add_argument("--plain", action="store_true", help="no TLS at all")
    args = parser.parse_args()

    body = b"t" * args.body_size
    lines = [f"{args.method} {args.path} HTTP/1.1", f"Host: {args.host_header}", "Connection: close"]
    lines += args.header
    if body or args.method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    data = b""
    try:
        conn: socket.socket = socket.create_connection((args.address, args.port), timeout=10)
        if not args.plain:
            ctx = ssl.create_default_context(cafile=f"{CLIENT_DIR}/server-root.pem")
            if args.identity != "none":
                ctx.load_cert_chain(
                    f"{CLIENT_DIR}/{args.identity}-chain.pem", f"{CLIENT_DIR}/{args.identity}.key"
                )
            conn = ctx.wrap_socket(conn, server_hostname="biometric.tlsward.test")
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        while chunk := conn.recv(65536):
            data += chunk
    except (ssl.SSLError, OSError) as exc:
        # TLS 1.3: a refused client certificate shows up on the first write or read.
        if not data:
            print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
            return 2
    head, _, payload = data.partition(b"\r\n\r\n")
    head_lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in head_lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    status = int(head_lines[0].split()[1]) if head_lines and head_lines[0].startswith("HTTP/") else 0
    print(json.dumps({"status": status, "headers": headers, "body": payload.decode("utf-8", "replace")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
