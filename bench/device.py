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

LISTEN = "127.0.3.40:8443"


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
    ctx.add(
        Row(
            "7",
            "TLS 1.3 suite order this device class should offer",
            "a recommendation",
            f"{':'.join(dev['prefer_tls13_ciphersuites'])}; without AES hardware: "
            f"{':'.join(dev['prefer_tls13_ciphersuites_without_aes_hardware'])}",
            passed=bool(dev["prefer_tls13_ciphersuites"]),
        )
    )
