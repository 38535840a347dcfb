"""Item 4: the biometric service end to end. Verify requests through nginx (mTLS, keep-alive)
against nginx answering ``return 200`` on the same TLS listener; and the cost of one verify with
1,000 vs 100,000 enrolled subjects.

Two service instances (``python -m tlsward_biometric serve``, one worker, SQLite) run side by
side, one with 1,000 and one with 100,000 subjects, each behind its own nginx listener that
proxies ``/v1/`` to the service's unix socket with the headers of the ``nginx_tls`` role.
Server side (nginx + service) on the server core, the load generator on the client core. The
cost of a request is the server core's CPU seconds (nginx worker + service) per response.
"""

from __future__ import annotations

import base64
import grp
import json
import os
import random
import secrets
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import bio_store
from bench.certs import Pki, make_pki
from bench.common import (
    CLIENT_CPU,
    SERVER_CPU,
    BenchError,
    Context,
    Row,
    cpu_seconds,
    fmt_rate,
    median,
    pinned,
    terminate,
    wait_for,
)
from bench.common import run as run_cmd
from bench.confs import Session, tlsward_ssl, write_server
from bench.nginx import Nginx, serving, tool_version
from bench.profile import PY_SPY, describe, summarise

STORES = {"1k": 1_000, "100k": 100_000}
LISTEN = {"1k": "127.0.3.60:8443", "100k": "127.0.3.61:8443"}
BAR_STORE_RATIO = 1.2
SOCKET_GROUP = "www-data"
PROBES = 200
MATCH = '"match":true'


class Service:
    """One ``tlsward_biometric serve`` process on a unix socket, pinned to the server core."""

    def __init__(self, root: Path, key_dir: Path, label: str) -> None:
        self.root = root
        self.label = label
        self.socket = root / "api.sock"
        self.database = root / "biometric.sqlite"
        self.env = {
            **os.environ,
            "TLSWARD_BIO_SOCKET_PATH": str(self.socket),
            "TLSWARD_BIO_DATABASE_PATH": str(self.database),
            "TLSWARD_BIO_KEY_DIR": str(key_dir),
            "TLSWARD_BIO_AUDIT_LOG_PATH": str(root / "audit.jsonl"),
            "TLSWARD_BIO_WORKERS": "1",
            "TLSWARD_BIO_LOG_LEVEL": "warning",
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.root / "service.log").open("ab") as log:
            self.proc = subprocess.Popen(
                pinned(SERVER_CPU, [sys.executable, "-m", "tlsward_biometric", "serve"]),
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(lambda: self._alive() and self.socket.is_socket(), 60, f"service {self.label} socket")
        # nginx's workers reach the socket through its group (the bench's nginx runs its workers as
        # Debian's www-data; the roles give them a user of their own).
        os.chown(self.socket, 0, grp.getgrnam(SOCKET_GROUP).gr_gid)

    def _alive(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise BenchError(
                f"service {self.label} exited: {(self.root / 'service.log').read_text()[-1500:]}"
            )
        return True

    def cpu(self) -> float:
        assert self.proc is not None
        return cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        if self.proc is not None:
            terminate(self.proc)


def _verify_body(index: int) -> dict[str, Any]:
    data = struct.pack(f"<{bio_store.DIMENSIONS}f", *bio_store.vector(index))
    return {
        "modality": bio_store.MODALITY,
        "template": {"encoding": "float32-base64", "data": base64.b64encode(data).decode()},
    }


def _requests(ctx: Context, name: str, count: int | None) -> Path:
    path = ctx.scratch("service-load") / f"{name}.json"
    if count is None:
        specs = [{"method": "GET", "path": "/ok"}]
    else:
        rng = random.Random(count)
        specs = [
            {"method": "POST", "path": f"/v1/subjects/{bio_store.subject(i)}/verify", "body": _verify_body(i)}
            for i in rng.sample(range(count), PROBES)
        ]
    path.write_text(json.dumps(specs))
    return path


def _nginx(ctx: Context, pki: Pki, label: str, service: Service, version: str) -> Nginx:
    server = Nginx(f"svc-{label}", ctx.scratch(f"svc-nginx-{label}"), LISTEN[label])
    server.user = SOCKET_GROUP
    ssl = tlsward_ssl(pki, Session(tickets=True, cache=True), openssl_version=version, mtls=True)
    proxy = [
        "proxy_pass http://tlsward_biometric",
        "proxy_http_version 1.1",
        'proxy_set_header Connection ""',
        "proxy_set_header Host $host",
        "proxy_set_header X-Client-Verify $ssl_client_verify",
        "proxy_set_header X-Client-Cert $ssl_client_escaped_cert",
        "proxy_set_header X-Client-Subject $ssl_client_s_dn",
        "proxy_set_header Early-Data $ssl_early_data",
    ]
    write_server(
        server,
        f"item 4: service with {STORES[label]} subjects",
        ssl,
        keepalive_requests=100000,
        http_lines=[f"upstream tlsward_biometric {{ server unix:{service.socket}; keepalive 16; }}"],
        locations=[("= /ok", ['return 200 "ok\\n"']), ("/v1/", proxy)],
        access_log=False,
    )
    return server


def _load(
    pki: Pki, listen: str, requests: Path, count: int, servers: list[Any], *, expect_body: str
) -> dict[str, Any]:
    host, port = listen.rsplit(":", 1)
    argv = [sys.executable, "-m", "bench.httpload", host, port, "--ca", str(pki.ca)]
    argv += ["--cert", str(pki.device.cert), "--key", str(pki.device.key), "--requests", str(requests)]
    argv += ["--count", str(count), "--seconds", "60", "--connections", "8"]
    if expect_body:
        argv += ["--expect-body", expect_body]
    before = sum(s.cpu() for s in servers)
    proc = run_cmd(pinned(CLIENT_CPU, argv), 120)
    result: dict[str, Any] = json.loads(proc.stdout)
    result["server_cpu_seconds"] = sum(s.cpu() for s in servers) - before
    if result["unexpected"]:
        raise BenchError(f"unexpected responses from {listen}: {result['unexpected']}")
    result["server_cpu_ms_per_request"] = 1000 * result["server_cpu_seconds"] / result["responses"]
    return result


def run(ctx: Context) -> None:
    pki = make_pki(ctx.scratch("pki-4"))
    version = tool_version("debian12", ["openssl", "version"])
    key_dir = ctx.scratch("service-keys")
    key = key_dir / "k1.key"
    key.write_text(secrets.token_hex(32))
    key.chmod(0o400)
    services: dict[str, Service] = {}
    fill_seconds = {}
    for label, count in STORES.items():
        service = Service(ctx.scratch(f"service-{label}"), key_dir, label)
        started = time.monotonic()
        run_cmd(
            [sys.executable, "-m", "bench.bio_store", str(service.database), str(key_dir), str(count)], 600
        )
        fill_seconds[label] = time.monotonic() - started
        services[label] = service
    verify_count = 500 if ctx.quick else 3000
    ok_count = 5000 if ctx.quick else 30000
    rounds = 1 if ctx.quick else 3
    runs: dict[str, list[dict[str, Any]]] = {"ok": [], "verify-1k": [], "verify-100k": []}
    profile = None
    try:
        for service in services.values():
            service.start()
        nginxes = {label: _nginx(ctx, pki, label, services[label], version) for label in STORES}
        with serving(list(nginxes.values())):
            files = {label: _requests(ctx, f"verify-{label}", count) for label, count in STORES.items()}
            ok_file = _requests(ctx, "ok", None)
            side = {label: [nginxes[label], services[label]] for label in STORES}
            for label in STORES:  # warm-up: page cache and the service's first requests
                _load(pki, LISTEN[label], files[label], 300, side[label], expect_body=MATCH)
            for _ in range(rounds):
                runs["ok"].append(_load(pki, LISTEN["1k"], ok_file, ok_count, side["1k"], expect_body=""))
                for label in STORES:
                    runs[f"verify-{label}"].append(
                        _load(pki, LISTEN[label], files[label], verify_count, side[label], expect_body=MATCH)
                    )
            cost = {k: median([r["server_cpu_ms_per_request"] for r in v]) for k, v in runs.items()}
            if cost["verify-100k"] / cost["verify-1k"] > BAR_STORE_RATIO and services["100k"].proc:
                profile = _profile_service(ctx, pki, services["100k"], files["100k"], side["100k"])
    finally:
        for service in services.values():
            service.stop()
    _report(ctx, runs, fill_seconds, profile)


def _profile_service(
    ctx: Context, pki: Pki, service: Service, requests: Path, side: list[Any]
) -> dict[str, Any]:
    """py-spy on the 100,000-subject service while it answers a bounded verify load."""
    assert service.proc is not None
    out = ctx.scratch("service-load") / "service-100k.collapsed"
    spy = subprocess.Popen(
        [
            str(PY_SPY),
            "record",
            "--format",
            "raw",
            "--rate",
            "250",
            "--duration",
            "8",
            "--pid",
            str(service.proc.pid),
            "-o",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _load(pki, LISTEN["100k"], requests, 3000, side, expect_body=MATCH)
        spy.wait(timeout=60)
    finally:
        terminate(spy)
    return summarise(out.read_text()) if out.exists() else {"error": "py-spy wrote nothing"}


def _report(
    ctx: Context,
    runs: dict[str, list[dict[str, Any]]],
    fill_seconds: dict[str, float],
    profile: dict[str, Any] | None,
) -> None:
    med = {
        k: {m: median([r[m] for r in v]) for m in ("req_per_s", "p50_ms", "p99_ms")} for k, v in runs.items()
    }
    cost = {k: median([r["server_cpu_ms_per_request"] for r in v]) for k, v in runs.items()}
    ctx.data["4"] = {
        "runs": runs,
        "median": med,
        "server_cpu_ms_per_request": cost,
        "fill_seconds": fill_seconds,
        "profile_100k": profile,
    }
    v1, ok = med["verify-1k"], med["ok"]
    ctx.add(
        Row(
            "4",
            "verify through nginx (mTLS, keep-alive, 1,000 subjects) vs nginx return 200 on the same "
            "listener: requests/s",
            "report",
            f"{fmt_rate(v1['req_per_s'])} vs {fmt_rate(ok['req_per_s'])} = "
            f"{v1['req_per_s'] / ok['req_per_s']:.3f}x; p50 {v1['p50_ms']:.1f} vs {ok['p50_ms']:.1f} ms, "
            f"p99 {v1['p99_ms']:.1f} vs {ok['p99_ms']:.1f} ms",
            ratio=v1["req_per_s"] / ok["req_per_s"],
            note="8 keep-alive connections from one Python client on the client core; the return-200 "
            "figure is bounded by that client, the server-CPU row below is not",
        )
    )
    ctx.add(
        Row(
            "4",
            "server-core CPU per request (nginx + service): verify vs return 200",
            "report",
            f"{cost['verify-1k']:.3f} ms vs {cost['ok']:.3f} ms = {cost['verify-1k'] / cost['ok']:.0f}x",
            ratio=cost["verify-1k"] / cost["ok"],
        )
    )
    ratio = cost["verify-100k"] / cost["verify-1k"]
    v100 = med["verify-100k"]
    ctx.add(
        Row(
            "4",
            "cost of one verify, 100,000 vs 1,000 enrolled subjects (server-core CPU per verify)",
            f"<= {BAR_STORE_RATIO}x",
            f"{cost['verify-100k']:.3f} ms vs {cost['verify-1k']:.3f} ms = {ratio:.2f}x",
            ratio=ratio,
            passed=ratio <= BAR_STORE_RATIO,
            note=f"p50 {v100['p50_ms']:.1f} vs {v1['p50_ms']:.1f} ms, p99 {v100['p99_ms']:.1f} vs "
            f"{v1['p99_ms']:.1f} ms; stores filled in {fill_seconds['1k']:.0f} s / "
            f"{fill_seconds['100k']:.0f} s"
            + (f"; {describe(profile)}" if profile and "self" in profile else ""),
        )
    )
