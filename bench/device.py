"""Item 7: the device-side benchmark, ``playbooks/benchmark.yml`` run with the controller as a
device-like client (``bench/inventory/devices.yml``) against a tlsward endpoint (mTLS, the
profile's session settings) started here. The playbook itself is what users run against their
own ``devices`` group."""

from __future__ import annotations

import json
import os
from typing import Any

from bench.certs import make_pki
from bench.common import BENCH, CLIENT_CPU, REPO, BenchError, Context, Row, fmt_rate, pinned
from bench.common import run as run_cmd
from bench.confs import Session, tlsward_ssl, write_server
from bench.nginx import Nginx, serving, tool_version
from tlsward.policy import DEFAULT_POLICY, load_policy

LISTEN = "127.0.3.40:8443"
# The AEAD ``openssl speed`` measures for each TLS 1.3 suite (device_cipher_speed's ciphers).
MEASURED_AS = {
    "TLS_AES_128_GCM_SHA256": "aes-128-gcm",
    "TLS_CHACHA20_POLY1305_SHA256": "chacha20-poly1305",
}
SUITE_ORDER_BAR = (
    "faster AEAD as measured first, with and without AES instructions; the profile's suites, each once"
)


def _gbps(value: float) -> str:
    return f"{value / 1e9:.2f} GB/s"


def run_playbook(ctx: Context, extra: dict[str, Any]) -> dict[str, Any]:
    report_dir = ctx.scratch("device-bench")
    extra = {**extra, "device_bench_report_dir": str(report_dir)}
    argv = [str(REPO / ".venv/bin/ansible-playbook"), "-i", str(BENCH / "inventory/devices.yml")]
    argv += ["tlsward.tls.benchmark", "-e", json.dumps(extra)]
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg")}
    proc = run_cmd(pinned(CLIENT_CPU, argv), 600, check=False, env=env, cwd=REPO)
    if proc.returncode != 0:
        raise BenchError(f"playbooks/benchmark.yml failed: {proc.stdout[-2500:]}")
    return {
        "device": json.loads((report_dir / "localhost.json").read_text()),
        "summary": json.loads((report_dir / "summary.json").read_text()),
    }


def run(ctx: Context) -> None:
    pki = make_pki(ctx.scratch("pki-7"))
    version = tool_version("debian12", ["openssl", "version"])
    server = Nginx("device", ctx.scratch("device-nginx"), LISTEN)
    ssl = tlsward_ssl(pki, Session(tickets=True, cache=True), openssl_version=version, mtls=True)
    write_server(server, "item 7: endpoint for the device-side benchmark", ssl)
    host, port = LISTEN.rsplit(":", 1)
    extra = {
        "benchmark_endpoints": [{"name": "bench-tlsward", "host": host, "port": int(port)}],
        "device_bench_ca_file": str(pki.ca),
        "device_bench_client_cert": str(pki.device.cert),
        "device_bench_client_key": str(pki.device.key),
        "device_bench_handshake_seconds": 2 if ctx.quick else 3,
    }
    with serving([server]):
        result = run_playbook(ctx, extra)
    ctx.data["7"] = result
    dev = result["device"]
    speed = dev["throughput_bytes_per_second"]
    masked = dev["throughput_aes_masked_bytes_per_second"]
    aes, chacha = speed["aes-128-gcm"], speed["chacha20-poly1305"]
    ctx.add(
        Row(
            "7",
            f"AES-128-GCM vs ChaCha20-Poly1305 on the device ({dev['block_bytes']}-byte records, "
            f"AES hardware: {dev['hardware_aes']})",
            "report",
            f"{_gbps(aes)} vs {_gbps(chacha)} = {aes / chacha:.2f}x",
            ratio=aes / chacha,
        )
    )
    if masked:
        m_aes, m_chacha = masked["aes-128-gcm"], masked["chacha20-poly1305"]
        ctx.add(
            Row(
                "7",
                "AES-128-GCM vs ChaCha20-Poly1305, AES instructions masked",
                "report",
                f"{_gbps(m_aes)} vs {_gbps(m_chacha)} = {m_aes / m_chacha:.2f}x",
                ratio=m_aes / m_chacha,
                note=f"masked with {dev['masked_with']}",
            )
        )
    modes = {h["mode"]: h for h in dev["handshakes"]}
    if "new" in modes and "reuse" in modes:
        new, reuse = modes["new"]["per_cpu_second"], modes["reuse"]["per_cpu_second"]
        ctx.add(
            Row(
                "7",
                "mTLS handshakes per device CPU-s, resumed vs full (openssl s_time from the device)",
                "report",
                f"{fmt_rate(reuse)} vs {fmt_rate(new)} = {reuse / new:.2f}x",
                ratio=reuse / new,
                note=f"wall: {fmt_rate(modes['reuse']['per_second'])}/s resumed, "
                f"{fmt_rate(modes['new']['per_second'])}/s full",
            )
        )
    ctx.add(suite_order_row(dev, load_policy(DEFAULT_POLICY)["tls13_ciphersuites"]))


def order_problems(order: list[str], speeds: dict[str, float], suites: list[str]) -> list[str]:
    """Why a recommended TLS 1.3 suite order does not follow the throughput measured beside it.

    ``order`` is the recommendation, ``speeds`` the bytes per second ``openssl speed`` measured
    per AEAD (``aes-128-gcm``, ``chacha20-poly1305``), ``suites`` the profile's TLS 1.3 suites.
    The order must hold each of the profile's suites once and nothing else, and the measured
    suites must come first, fastest first; a suite whose AEAD was not measured cannot be placed.
    """
    if not order:
        return ["no recommendation"]
    problems = []
    duplicates = sorted({name for name in order if order.count(name) > 1})
    if duplicates:
        problems.append(f"listed more than once: {', '.join(duplicates)}")
    unknown = [name for name in order if name not in suites]
    if unknown:
        problems.append(f"not a TLS 1.3 suite of the profile: {', '.join(unknown)}")
    missing = [name for name in suites if name not in order]
    if missing:
        problems.append(f"leaves out the profile's {', '.join(missing)}")
    unmeasured = [cipher for name, cipher in MEASURED_AS.items() if name in suites and cipher not in speeds]
    if unmeasured:
        problems.append(f"throughput not measured for {', '.join(unmeasured)}: the order cannot be checked")
        return problems

    measured = [name for name in suites if name in MEASURED_AS]

    def speed(name: str) -> float | None:
        return speeds[MEASURED_AS[name]] if name in MEASURED_AS else None

    ranked = sorted(measured, key=lambda name: speeds[MEASURED_AS[name]], reverse=True)
    lead = order[: len(ranked)]
    # Speeds compared, not names: two AEADs measured equally fast may come in either order.
    if [speed(name) for name in lead] != [speed(name) for name in ranked]:
        figures = ", ".join(f"{MEASURED_AS[name]} {speeds[MEASURED_AS[name]]:,.0f} B/s" for name in ranked)
        problems.append(f"starts {':'.join(lead)}, but the measured order is {':'.join(ranked)} ({figures})")
    return problems


def suite_order_row(dev: dict[str, Any], suites: list[str]) -> Row:
    """The bar row of the recommendation: each order judged against the figures measured with it."""
    native = dev.get("prefer_tls13_ciphersuites") or []
    masked = dev.get("prefer_tls13_ciphersuites_without_aes_hardware") or []
    problems = [
        f"with AES instructions: {p}"
        for p in order_problems(native, dev.get("throughput_bytes_per_second") or {}, suites)
    ]
    problems += [
        f"without AES hardware: {p}"
        for p in order_problems(masked, dev.get("throughput_aes_masked_bytes_per_second") or {}, suites)
    ]
    return Row(
        "7",
        "TLS 1.3 suite order this device class should offer",
        SUITE_ORDER_BAR,
        f"{':'.join(native) or 'none'}; without AES hardware: {':'.join(masked) or 'none'}",
        passed=not problems,
        note="; ".join(problems) or f"both orders follow the measured throughput; profile {DEFAULT_POLICY}",
    )
