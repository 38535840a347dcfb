"""An HTTP/1.1 load generator over TLS with client certificates and keep-alive (wrk and h2load
have no client-certificate option). ``--connections`` keep-alive connections send the requests
of ``--requests`` (a JSON list of {method, path, body}) in turn until ``--count`` responses or
``--seconds`` have passed; prints counts, requests per second and latency percentiles as JSON.

    python -m bench.httpload HOST PORT --ca CA --cert C --key K --requests R.json --count N --seconds S
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
import time
from itertools import cycle
from pathlib import Path
from typing import Any

from bench.certs import SERVER_NAME


def _encode(spec: dict[str, Any]) -> bytes:
    body = spec.get("body")
    data = json.dumps(body).encode() if body is not None else b""
    head = f"{spec['method']} {spec['path']} HTTP/1.1\r\nHost: {SERVER_NAME}\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    return head.encode() + b"\r\n" + data


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return status, body


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(args.ca)
    if args.cert:
        ctx.load_cert_chain(args.cert, args.key)
    requests = cycle([_encode(spec) for spec in json.loads(Path(args.requests).read_text())])
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    remaining = args.count
    deadline = time.monotonic() + args.seconds
    unexpected: list[str] = []

    async def connection() -> None:
        nonlocal remaining
        reader, writer = await asyncio.open_connection(
            args.host, args.port, ssl=ctx, server_hostname=SERVER_NAME
        )
        try:
            while remaining > 0 and time.monotonic() < deadline:
                remaining -= 1
                request = next(requests)
                start = time.perf_counter()
                writer.write(request)
                status, body = await _response(reader)
                latencies.append(time.perf_counter() - start)
                statuses[status] = statuses.get(status, 0) + 1
                if status != args.expect and len(unexpected) < 5:
                    unexpected.append(f"{status}: {body[:200]!r}")
                elif args.expect_body and args.expect_body.encode() not in body and len(unexpected) < 5:
                    unexpected.append(f"{status} without {args.expect_body!r}: {body[:200]!r}")
        finally:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(connection() for _ in range(args.connections)))
    elapsed = time.monotonic() - started
    ordered = sorted(latencies)
    return {
        "responses": len(latencies),
        "statuses": statuses,
        "unexpected": unexpected,
        "seconds": elapsed,
        "req_per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * _percentile(ordered, 0.50),
        "p99_ms": 1000 * _percentile(ordered, 0.99),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.httpload")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--requests", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--expect", type=int, default=200)
    parser.add_argument("--expect-body", default="")
    args = parser.parse_args(argv)
    json.dump(asyncio.run(_run(args)), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
