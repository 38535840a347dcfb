"""Item 1: full TLS 1.3 handshake capacity per nginx CPU-second, tlsward vs RSA-2048 vs stock.

Three nginx servers (one worker each, all on the server core) run side by side; h2load on the
client core opens one connection per request (``keepalive_requests 1``) with session tickets
and the session cache off on every server, so each request is a full handshake. The rounds
interleave the configurations; the figure per configuration is the median over rounds of
requests / worker CPU seconds. Repeated on Debian 13's nginx + OpenSSL in a container.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

from bench import cryptobound
from bench.certs import Pki, make_pki
from bench.common import Context, Row, fmt_rate, median
from bench.confs import Session, debian_stock_ssl, mozilla_intermediate_ssl, tlsward_ssl, write_server
from bench.loadgen import h2load
from bench.nginx import HOST_DISTRO, Nginx, docker_available, serving, tool_version
from bench.profile import describe_dso, describe_perf, perf_dso, perf_during, perf_top

BAR = 1.8
PORT = 8443
ADDRESSES = {"debian12": "127.0.3.{}", "debian13": "127.0.3.1{}"}
CONFIGS = ("tlsward", "mozilla-intermediate-rsa2048", "debian-stock")


def _servers(ctx: Context, pki: Pki, distro: str, openssl_version: str) -> list[Nginx]:
    off = Session(tickets=False, cache=False)
    ssl = {
        "tlsward": tlsward_ssl(pki, off, openssl_version=openssl_version),
        "mozilla-intermediate-rsa2048": mozilla_intermediate_ssl(pki, off, openssl_version=openssl_version),
        "debian-stock": debian_stock_ssl(pki, off),
    }
    servers = []
    for index, name in enumerate(CONFIGS, start=1):
        listen = f"{ADDRESSES[distro].format(index)}:{PORT}"
        server = Nginx(f"hs-{distro}-{name}", ctx.scratch(f"hs-{distro}-{name}"), listen, distro=distro)
        write_server(server, f"item 1 {name} on {distro}", ssl[name])
        servers.append(server)
    return servers


def _load(server: Nginx, requests: int) -> dict[str, Any]:
    # The time limit is a safety net (a stuck run), not the measurement: generous on a busy machine.
    return h2load(f"https://{server.listen}/", requests, clients=16, timeout=max(120, requests / 25))


def _measure(server: Nginx, requests: int) -> dict[str, Any]:
    before = server.cpu()
    result = _load(server, requests)
    result["nginx_cpu_seconds"] = server.cpu() - before
    result["per_cpu_second"] = requests / result["nginx_cpu_seconds"]
    return result


def _check_full_handshakes(server: Nginx) -> dict[str, int]:
    server.flush_logs()
    records = server.access_log()
    counts = Counter(r[3] for r in records)  # $ssl_session_reused: "r" or "."
    return {"connections_logged": len(records), "resumed": counts.get("r", 0)}


def run_distro(ctx: Context, pki: Pki, distro: str) -> dict[str, Any]:
    version = tool_version(distro, ["openssl", "version"])
    nginx_version = tool_version(distro, ["nginx", "-v"])
    requests = 2000 if ctx.quick else 6000
    rounds = 1 if ctx.quick else 3
    servers = _servers(ctx, pki, distro, version)
    per_config: dict[str, list[dict[str, Any]]] = {name: [] for name in CONFIGS}
    with serving(servers):
        for server in servers:  # warm-up: first connections fill caches, not measured
            h2load(f"https://{server.listen}/", 200, clients=4, timeout=30)
        for _ in range(rounds):
            for name, server in zip(CONFIGS, servers, strict=True):
                per_config[name].append(_measure(server, requests))
        checks = {name: _check_full_handshakes(s) for name, s in zip(CONFIGS, servers, strict=True)}
        rates = {name: median([r["per_cpu_second"] for r in runs]) for name, runs in per_config.items()}
        profiles = {}
        if rates["tlsward"] / rates["mozilla-intermediate-rsa2048"] < BAR:
            # Where each worker spends its time when the bar is missed (not part of the figures).
            for name, server in zip(CONFIGS[:2], servers[:2], strict=True):
                out = ctx.scratch("perf") / f"hs-{distro}-{name}.data"
                perf_during(server.worker_pid, out, partial(_load, server, requests))
                profiles[name] = {"symbols": perf_top(out), "dso": perf_dso(out)}
    bound = cryptobound.measure(distro)
    return {
        "distro": distro,
        "openssl": version,
        "nginx": nginx_version,
        "requests_per_round": requests,
        "rounds": rounds,
        "runs": per_config,
        "full_handshake_check": checks,
        "handshakes_per_cpu_second": rates,
        "crypto_bound": bound,
        "perf": profiles,
    }


def run(ctx: Context) -> None:
    pki = make_pki(ctx.scratch("pki"))
    distros = [HOST_DISTRO]
    if docker_available():
        distros.append("debian13")
    else:
        ctx.add(Row("1", "handshakes, Debian 13", "runs", "not run: no Docker engine", passed=False))
    results = {}
    for distro in distros:
        res = run_distro(ctx, pki, distro)
        results[distro] = res
        rates = res["handshakes_per_cpu_second"]
        tls = res["runs"]["tlsward"][0]["tls"]
        resumed = sum(c["resumed"] for c in res["full_handshake_check"].values())
        ratio = rates["tlsward"] / rates["mozilla-intermediate-rsa2048"]
        note = (
            f"{res['nginx']}, {res['openssl']}; tlsward negotiated {tls.get('TLS Protocol')} "
            f"{tls.get('Cipher')} {tls.get('Server Temp Key')}; resumed connections logged: {resumed}"
        )
        for name, prof in res["perf"].items():
            note += f". {name} worker by library: {describe_dso(prof['dso'])}"
            note += f"; {describe_perf(prof['symbols'])}"
        ctx.add(
            Row(
                "1",
                f"full handshakes per nginx CPU-s, tlsward (ECDSA P-256) vs Mozilla intermediate "
                f"(RSA-2048), {distro}",
                f">= {BAR}x",
                f"{fmt_rate(rates['tlsward'])} vs {fmt_rate(rates['mozilla-intermediate-rsa2048'])}"
                f" = {ratio:.2f}x",
                ratio=ratio,
                passed=ratio >= BAR and resumed == 0,
                note=note,
            )
        )
        stock_ratio = rates["tlsward"] / rates["debian-stock"]
        ctx.add(
            Row(
                "1",
                f"full handshakes per nginx CPU-s, tlsward vs Debian stock snakeoil (RSA-2048), {distro}",
                "report",
                f"{fmt_rate(rates['tlsward'])} vs {fmt_rate(rates['debian-stock'])} = {stock_ratio:.2f}x",
                ratio=stock_ratio,
            )
        )
        ctx.add(_overhead_row(distro, rates, res["crypto_bound"]))
        bound = res["crypto_bound"]["bound_ecdsa_x25519_handshakes_per_s"]
        fraction = rates["tlsward"] / bound
        ctx.add(
            Row(
                "1",
                f"tlsward handshakes per nginx CPU-s as a fraction of the crypto bound, {distro}",
                "report",
                f"{fmt_rate(rates['tlsward'])} of {fmt_rate(bound)} = {fraction:.0%}",
                ratio=fraction,
                note=res["crypto_bound"]["formula"],
            )
        )
    ctx.data["1"] = results


def _overhead_row(distro: str, rates: dict[str, float], bound: dict[str, Any]) -> Row:
    """What a handshake costs the worker beyond its signature and key exchange. That fixed part
    (accept and close in the kernel, allocation, hashing, record layer, nginx) is the same size
    for both certificates, so it caps the ratio well below the crypto bounds' ratio."""
    ecdsa = bound["bound_ecdsa_x25519_handshakes_per_s"]
    rsa = bound["bound_rsa2048_x25519_handshakes_per_s"]
    over_t = 1e6 / rates["tlsward"] - 1e6 / ecdsa
    over_r = 1e6 / rates["mozilla-intermediate-rsa2048"] - 1e6 / rsa
    same = (1e6 / rsa + over_t) / (1e6 / ecdsa + over_t)
    return Row(
        "1",
        f"worker CPU per full handshake beyond signature + key exchange, tlsward vs RSA-2048, {distro}",
        "report",
        f"{over_t:.0f} us vs {over_r:.0f} us",
        note=(
            f"crypto alone: {1e6 / ecdsa:.0f} us (ECDSA P-256 + X25519) vs {1e6 / rsa:.0f} us "
            f"(RSA-2048 + X25519), a {ecdsa / rsa:.1f}x bound; with tlsward's fixed part on both sides "
            f"the ratio would be {same:.2f}x"
        ),
    )
