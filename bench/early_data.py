"""Item 3: 0-RTT. Time to first response byte for a resumed GET with and without early data
under an emulated round trip, and a POST sent as early data (must get 425, never processed).

Everything runs inside a network namespace the benchmark creates (only its ``lo``, addresses
127.0.3.3x): nginx with the profile's TLS settings plus ``ssl_early_data on`` and the RFC 8470
guard of the ``nginx_tls`` role (unsafe methods in early data -> 425), a recording upstream,
and ``openssl s_client`` resuming a session (``-sess_in``/``-sess_out``, ``-early_data``).
The round trip comes from ``tc netem`` on the namespace's ``lo`` where the kernel has
``sch_netem``; otherwise from a delaying TCP relay (``bench.delayrelay``) in the namespace.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.certs import SERVER_NAME, Pki, make_pki
from bench.common import CLIENT_CPU, BenchError, Context, Row, median, terminate
from bench.common import run as run_cmd
from bench.confs import Session, tlsward_ssl, write_server
from bench.nginx import Nginx, tool_version

NETNS = "tlsward-bench-rtt"
NGINX = "127.0.3.30:8443"
RELAY = "127.0.3.31:8443"
UPSTREAM = "127.0.3.32:8080"
ONE_WAY_MS = 50.0
RTT_MS = 2 * ONE_WAY_MS
BAR_RTT_SAVED = 0.9  # one round trip, less 10% for timer and scheduling jitter

RELAY_ARGS = ["--one-way-ms", f"{ONE_WAY_MS:g}", "--max-connections", "200", "--max-seconds", "300"]
GUARD_HTTP = [
    "map $request_method $tlsward_unsafe_method { default 1; GET 0; HEAD 0; OPTIONS 0; }",
    'map "$ssl_early_data:$tlsward_unsafe_method" $tlsward_too_early { default 0; "1:1" 1; }',
]
GUARD_SERVER = ["if ($tlsward_too_early) { return 425; }"]


def _ns(argv: list[str]) -> list[str]:
    return ["ip", "netns", "exec", NETNS, *argv]


def _netns_up() -> str:
    """Create the namespace; return how the round trip is emulated there (netem or relay)."""
    run_cmd(["ip", "netns", "del", NETNS], 30, check=False)
    run_cmd(["ip", "netns", "add", NETNS], 30)
    run_cmd(_ns(["ip", "link", "set", "lo", "up"]), 30)
    netem = ["tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", f"{ONE_WAY_MS:g}ms"]
    if run_cmd(_ns(netem), 30, check=False).returncode == 0:
        return "netem"
    return "relay"


def _request(method: str, path: str, body: str = "") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {SERVER_NAME}\r\nConnection: close\r\n"
    if body:
        head += f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n" + body).encode()


class Client:
    """openssl s_client in the namespace, resuming the session it saved last time."""

    def __init__(self, pki: Pki, workdir: Path, target: str) -> None:
        self.pki = pki
        self.workdir = workdir
        self.target = target
        self.serial = 0
        self.session: Path | None = None

    def fetch(self, request: bytes, *, early: bool) -> dict[str, Any]:
        """Send ``request`` (as early data, or after the handshake); time the first response byte."""
        self.serial += 1
        out = self.workdir / f"sess-{self.serial}.pem"
        argv = ["openssl", "s_client", "-connect", self.target, "-servername", SERVER_NAME]
        argv += ["-CAfile", str(self.pki.ca), "-tls1_3", "-quiet", "-sess_out", str(out)]
        if self.session is not None:
            argv += ["-sess_in", str(self.session)]
        if early:
            if self.session is None:
                raise BenchError("early data needs a session to resume")
            early_file = self.workdir / f"early-{self.serial}.txt"
            early_file.write_bytes(request)
            argv += ["-early_data", str(early_file)]
        start = time.perf_counter()
        proc = subprocess.Popen(
            _ns(["taskset", "-c", str(CLIENT_CPU), *argv]),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdin is not None
        assert proc.stdout is not None
        if not early:
            proc.stdin.write(request)
            proc.stdin.flush()
        first = None
        data = b""
        deadline = start + 10
        try:
            while time.perf_counter() < deadline:
                ready, _, _ = select.select([proc.stdout], [], [], 0.5)
                if not ready:
                    continue
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                if first is None:
                    first = time.perf_counter()
                data += chunk
        finally:
            proc.stdin.close()
            terminate(proc, 5)
            stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            proc.stdout.close()
        if first is None:
            raise BenchError(f"no response from s_client ({' '.join(argv)}): {stderr[-800:]}")
        if out.exists() and out.stat().st_size:
            self.session = out
        status = data.split(b"\r\n", 1)[0].decode(errors="replace")
        return {"ttfb_ms": (first - start) * 1000, "status": status, "early": early}


def _server(ctx: Context, pki: Pki) -> Nginx:
    server = Nginx("rtt", ctx.scratch("rtt"), NGINX, wrapper=["ip", "netns", "exec", NETNS])
    version = tool_version("debian12", ["openssl", "version"])
    ssl = tlsward_ssl(pki, Session(tickets=True, cache=True), openssl_version=version, early_data=True)
    write_server(
        server,
        "item 3: 0-RTT with the RFC 8470 guard",
        ssl,
        keepalive_requests=100,
        http_lines=GUARD_HTTP,
        server_lines=GUARD_SERVER,
        locations=[
            ("= /ping", ['return 200 "pong\\n"']),
            ("/api/", [f"proxy_pass http://{UPSTREAM}", "proxy_set_header Early-Data $ssl_early_data"]),
        ],
    )
    return server


def run(ctx: Context) -> None:
    pki = make_pki(ctx.scratch("pki-3"))
    work = ctx.scratch("rtt-client")
    upstream_log = work / "upstream.jsonl"
    upstream_log.touch()
    procs: list[subprocess.Popen[bytes]] = []
    server: Nginx | None = None
    mode = _netns_up()
    try:
        procs.append(
            subprocess.Popen(
                _ns(
                    [
                        sys.executable,
                        "-m",
                        "bench.upstream",
                        UPSTREAM,
                        str(upstream_log),
                        "--max-seconds",
                        "300",
                    ]
                ),
                stdout=subprocess.DEVNULL,
            )
        )
        target = NGINX
        if mode == "relay":
            target = RELAY
            procs.append(
                subprocess.Popen(
                    _ns([sys.executable, "-m", "bench.delayrelay", RELAY, NGINX, *RELAY_ARGS]),
                    stdout=subprocess.DEVNULL,
                )
            )
        server = _server(ctx, pki)
        server.start()
        time.sleep(0.5)
        client = Client(pki, work, target)
        client.fetch(_request("GET", "/ping"), early=False)  # full handshake: the first session
        rounds = 3 if ctx.quick else 9
        samples: dict[str, list[dict[str, Any]]] = {"1-rtt": [], "0-rtt": []}
        for _ in range(rounds):
            samples["1-rtt"].append(client.fetch(_request("GET", "/ping"), early=False))
            samples["0-rtt"].append(client.fetch(_request("GET", "/ping"), early=True))
        marker = f"enroll-{os.getpid()}-{time.time_ns()}"
        early_get = client.fetch(_request("GET", "/api/probe-early"), early=True)
        early_post = client.fetch(_request("POST", "/api/enroll", marker), early=True)
        late_post = client.fetch(_request("POST", "/api/enroll", marker + "-after-handshake"), early=False)
        time.sleep(0.3)
        server.flush_logs()
        log = server.access_log()
    finally:
        if server is not None:
            server.stop()
        for proc in procs:
            terminate(proc)
        run_cmd(["ip", "netns", "del", NETNS], 30, check=False)

    seen = [json.loads(line) for line in upstream_log.read_text().splitlines() if line]
    early_logged = [r for r in log if r[4] == "1"]
    ttfb = {k: median([s["ttfb_ms"] for s in v]) for k, v in samples.items()}
    saved_rtt = (ttfb["1-rtt"] - ttfb["0-rtt"]) / RTT_MS
    all_ok = all(s["status"].startswith("HTTP/1.1 200") for v in samples.values() for s in v)
    early_count = sum(1 for r in early_logged if r[6] == "GET")
    ctx.data["3"] = {
        "emulation": mode,
        "rtt_ms": RTT_MS,
        "samples": samples,
        "median_ttfb_ms": ttfb,
        "early_get": early_get,
        "early_post": early_post,
        "post_after_handshake": late_post,
        "upstream_saw": seen,
        "nginx_log_early": early_logged,
    }
    how = "tc netem on the namespace's lo" if mode == "netem" else "delay relay (kernel without sch_netem)"
    ctx.add(
        Row(
            "3",
            f"resumed GET, time to first byte, 1-RTT vs 0-RTT (RTT {RTT_MS:g} ms, {how})",
            f">= {BAR_RTT_SAVED} RTT saved",
            f"{ttfb['1-rtt']:.1f} ms vs {ttfb['0-rtt']:.1f} ms: {saved_rtt:.2f} RTT saved",
            ratio=saved_rtt,
            passed=saved_rtt >= BAR_RTT_SAVED and all_ok and early_count >= rounds,
            note=f"nginx logged {early_count} GETs received as early data ($ssl_early_data=1) "
            f"of {rounds + 1} sent; all responses 200: {all_ok}",
        )
    )
    post_processed = any(marker == s["body"] for s in seen)
    late_processed = any(s["body"] == marker + "-after-handshake" for s in seen)
    early_get_reached = any(s["path"] == "/api/probe-early" and s["early_data"] == "1" for s in seen)
    ctx.add(
        Row(
            "3",
            "POST sent as early data",
            "425, never reaches the upstream",
            f"{early_post['status'] or 'no status'}; upstream saw it: {post_processed}",
            passed=early_post["status"].startswith("HTTP/1.1 425") and not post_processed,
            note=f"control: the same POST after the handshake got {late_post['status']!r} and reached "
            f"the upstream: {late_processed}; a GET in early data reached it with Early-Data: 1: "
            f"{early_get_reached}",
        )
    )
