"""Item 2: full vs resumed TLS 1.3 handshakes, with and without client certificates.

The tlsward configuration (ECDSA P-256, X25519) with three session settings: session tickets
(the profile's default: tickets + shared cache), the shared session cache only (stateful TLS 1.3
tickets), and neither. Each with and without ``ssl_verify_client on``. A Python client on the
client core makes sequential connections (full, or resuming the last session it got); the
figure is connections per nginx worker CPU-second, median over interleaved rounds. nginx's
``$ssl_session_reused`` confirms what the server actually did.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from functools import partial
from typing import Any

from bench.certs import Pki, make_pki
from bench.common import CLIENT_CPU, BenchError, Context, Row, fmt_rate, median, pinned, terminate
from bench.confs import Session, tlsward_ssl, write_server
from bench.nginx import Nginx, serving, tool_version
from bench.profile import describe_perf, perf_during, perf_top

PORT = 8443
MODES = {
    "tickets": Session(tickets=True, cache=True),
    "cache": Session(tickets=False, cache=True),
    "none": Session(tickets=False, cache=False),
}
# Saving below this and resumption is reported as "saves nothing".
NO_SAVING = 1.10
CLIENTS = 4
# Share of device connections that can resume (devices reconnect within the session lifetime).
RETURNING = 0.9
# Fleet sizes the session default is picked for (front ends behind a balancer without affinity).
FLEET_SIZES = (1, 3)
# Server capacity a setting may give up for more device connections resumed.
SERVER_TOLERANCE = 0.10


def _client(server: Nginx, pki: Pki, *, mtls: bool, resume: bool, count: int) -> dict[str, Any]:
    """CLIENTS concurrent client processes on the client core, ``count`` connections in all."""
    host, port = server.listen.rsplit(":", 1)
    argv = [sys.executable, "-m", "bench.tlsclient", host, port, "--ca", str(pki.ca)]
    argv += ["--count", str(count // CLIENTS), "--seconds", "30"]
    if mtls:
        argv += ["--cert", str(pki.device.cert), "--key", str(pki.device.key)]
    if resume:
        argv.append("--resume")
    before = server.cpu()
    procs = [
        subprocess.Popen(pinned(CLIENT_CPU, argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(CLIENTS)
    ]
    outputs = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            if proc.returncode != 0:
                raise BenchError(f"bench.tlsclient against {server.name} failed: {err.strip()[-1500:]}")
            outputs.append(json.loads(out))
    finally:
        for proc in procs:
            terminate(proc)
    cpu = server.cpu() - before
    result: dict[str, Any] = {k: sum(o[k] for o in outputs) for k in ("connections", "reused", "non_200")}
    result["seconds"] = max(o["seconds"] for o in outputs)
    result["nginx_cpu_seconds"] = cpu
    if result["non_200"]:
        raise BenchError(f"{server.name}: {result['non_200']} responses were not 200")
    # The priming connection of each resuming client is not counted: a few full handshakes
    # more in the CPU figure, which only understates resumption's saving.
    result["per_cpu_second"] = result["connections"] / cpu
    return result


def run(ctx: Context) -> None:
    pki = make_pki(ctx.scratch("pki-2"))
    version = tool_version("debian12", ["openssl", "version"])
    count = 400 if ctx.quick else 1600
    rounds = 1 if ctx.quick else 3
    servers: dict[tuple[str, bool], Nginx] = {}
    for index, (mode, session) in enumerate(MODES.items()):
        for mtls in (False, True):
            name = f"res-{mode}-{'mtls' if mtls else 'server-auth'}"
            listen = f"127.0.3.{20 + 2 * index + int(mtls)}:{PORT}"
            server = Nginx(name, ctx.scratch(name), listen)
            write_server(
                server, f"item 2 {name}", tlsward_ssl(pki, session, openssl_version=version, mtls=mtls)
            )
            servers[(mode, mtls)] = server
    cells = [(mode, mtls, resume) for (mode, mtls) in servers for resume in (False, True)]
    cells = [c for c in cells if not (c[0] == "none" and c[2])]
    runs: dict[str, list[dict[str, Any]]] = {}
    with serving(list(servers.values())):
        for _ in range(rounds):
            for mode, mtls, resume in cells:
                key = f"{mode}/{'mtls' if mtls else 'server-auth'}/{'resumed' if resume else 'full'}"
                res = _client(servers[(mode, mtls)], pki, mtls=mtls, resume=resume, count=count)
                runs.setdefault(key, []).append(res)
        server_view = {}
        for (mode, mtls), server in servers.items():
            server.flush_logs()
            server_view[f"{mode}/{'mtls' if mtls else 'server-auth'}"] = dict(
                Counter(r[3] for r in server.access_log())
            )
        rate = {key: median([r["per_cpu_second"] for r in rs]) for key, rs in runs.items()}
        profiles = {}
        if rate["tickets/mtls/resumed"] / rate["none/mtls/full"] < NO_SAVING:
            # Where a resumed mTLS handshake spends the worker's time, next to a full one.
            for label, (mode, resume) in {
                "mtls-ticket-resumed": ("tickets", True),
                "mtls-full": ("none", False),
            }.items():
                server = servers[(mode, True)]
                out = ctx.scratch("perf") / f"{label}.data"
                work = partial(_client, server, pki, mtls=True, resume=resume, count=count)
                profiles[label] = perf_top(perf_during(server.worker_pid, out, work))
    reused = {
        key: sum(r["reused"] for r in rs) / sum(r["connections"] for r in rs) for key, rs in runs.items()
    }
    ctx.data["2"] = {
        "runs": runs,
        "per_cpu_second": rate,
        "reused_fraction": reused,
        "server_log": server_view,
        "perf": profiles,
    }

    for auth in ("server-auth", "mtls"):
        label = "mTLS (client certificate)" if auth == "mtls" else "server certificate only"
        base = rate[f"none/{auth}/full"]
        for mode, what in (("tickets", "session ticket"), ("cache", "session cache (stateful)")):
            key = f"{mode}/{auth}/resumed"
            saving = rate[key] / base
            note = f"the client saw {reused[key]:.0%} of its connections resumed"
            if saving < NO_SAVING:
                note += f"; resumption saves nothing here (< {NO_SAVING}x)"
                if auth == "mtls" and mode == "tickets" and profiles:
                    note += f". Resumed: {describe_perf(profiles['mtls-ticket-resumed'])}. "
                    note += f"Full: {describe_perf(profiles['mtls-full'])}"
            ctx.add(
                Row(
                    "2",
                    f"{label}: resumed by {what} vs full handshake with sessions off, per nginx CPU-s",
                    "report",
                    f"{fmt_rate(rate[key])} vs {fmt_rate(base)} = {saving:.2f}x",
                    ratio=saving,
                    note=note,
                )
            )
        for mode in ("tickets", "cache"):
            cost = rate[f"{mode}/{auth}/full"] / base
            ctx.add(
                Row(
                    "2",
                    f"{label}: full handshake with {mode} on vs sessions off (cost of issuing sessions)",
                    "report",
                    f"{fmt_rate(rate[f'{mode}/{auth}/full'])} vs {fmt_rate(base)} = {cost:.2f}x",
                    ratio=cost,
                )
            )
    mtls_full = rate["none/mtls/full"]
    plain_full = rate["none/server-auth/full"]
    ctx.add(
        Row(
            "2",
            "mTLS vs server-auth full handshake (sessions off), per nginx CPU-s",
            "report",
            f"{fmt_rate(mtls_full)} vs {fmt_rate(plain_full)} = {mtls_full / plain_full:.2f}x",
            ratio=mtls_full / plain_full,
        )
    )
    choice = recommend(rate)
    ctx.data["2"]["recommendation"] = choice
    ctx.add(Row("2", "session default from these figures (mTLS endpoint)", "report", choice["summary"]))


def capacity(rate: dict[str, float], mode: str, auth: str, resumed: float = RETURNING) -> float:
    """Handshakes per nginx CPU-s when a share ``resumed`` of the connections resumes."""
    full = rate[f"{mode}/{auth}/full"]
    if mode == "none":
        return full
    return 1 / ((1 - resumed) / full + resumed / rate[f"{mode}/{auth}/resumed"])


def resumed_share(mode: str, hosts: int, returning: float = RETURNING) -> float:
    """Share of device connections that resume on a fleet of ``hosts`` front ends without
    client affinity: a ticket (fleet-shared keys) resumes on any host, a cached session only on
    the host that issued it."""
    if mode == "none":
        return 0.0
    return returning if mode == "tickets" else returning / hosts


def recommend(rate: dict[str, float]) -> dict[str, Any]:
    """The session setting for the mTLS endpoint, per fleet size.

    Two costs pull apart: the server's handshakes per CPU-second, and the device's handshake,
    which a resumption makes cheaper and faster (item 7 measures it on the device). The rule:
    among the settings within ``SERVER_TOLERANCE`` of the best server capacity, take the one
    that resumes the most device connections.
    """
    fleets = {}
    for hosts in FLEET_SIZES:
        shares = {mode: resumed_share(mode, hosts) for mode in MODES}
        options = {
            mode: {"capacity": capacity(rate, mode, "mtls", share), "resumed": share}
            for mode, share in shares.items()
        }
        best_capacity = max(o["capacity"] for o in options.values())
        eligible = [m for m, o in options.items() if o["capacity"] >= best_capacity * (1 - SERVER_TOLERANCE)]
        best = max(eligible, key=lambda m: (options[m]["resumed"], options[m]["capacity"]))
        fleets[hosts] = {"options": options, "best": best}
    parts = []
    for hosts, fleet in fleets.items():
        listing = ", ".join(
            f"{mode} {fmt_rate(o['capacity'])} ({o['resumed']:.0%} resumed)"
            for mode, o in fleet["options"].items()
        )
        where = "1 host" if hosts == 1 else f"{hosts} hosts, no client affinity"
        parts.append(f"{where}: {listing} -> {fleet['best']}")
    summary = (
        f"handshakes per CPU-s at {RETURNING:.0%} returning devices; " + "; ".join(parts) + f" (rule: within "
        f"{SERVER_TOLERANCE:.0%} of the best server capacity, most device connections resumed)"
    )
    return {
        "returning_fraction": RETURNING,
        "server_tolerance": SERVER_TOLERANCE,
        "fleets": fleets,
        "best": {hosts: fleet["best"] for hosts, fleet in fleets.items()},
        "summary": summary,
    }
