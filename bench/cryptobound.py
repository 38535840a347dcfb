"""The crypto bound: how many full handshakes one core could do if nginx did nothing but the
mandatory public-key operations, from ``openssl speed`` in the same run on the server core."""

from __future__ import annotations

import re
from typing import Any

from bench.common import SERVER_CPU, BenchError, run
from bench.nginx import HOST_DISTRO, ensure_image

SPEED_ALGORITHMS = ("ecdsap256", "ecdhx25519", "rsa2048")
_RATE = re.compile(r"^\d+(\.\d+)?$")


def parse_speed(text: str) -> dict[str, dict[str, float]]:
    """``openssl speed`` public-key tables -> {label: {rate column: value}} (3.0 and 3.5 layouts)."""
    out: dict[str, dict[str, float]] = {}
    columns: list[str] = []
    for line in text.splitlines():
        tokens = line.split()
        if not tokens:
            continue
        if any(t.endswith("/s") for t in tokens) and not any(_RATE.match(t) for t in tokens):
            columns = [t for t in tokens if t.endswith("/s")]
            continue
        if not columns or len(tokens) <= len(columns):
            continue
        rates = tokens[-len(columns) :]
        if not all(_RATE.match(t) for t in rates):
            continue
        label = " ".join(t for t in tokens[: -len(columns)] if not t.endswith("s") or not t[0].isdigit())
        out.setdefault(label, dict(zip(columns, (float(r) for r in rates), strict=True)))
    return out


def _pick(table: dict[str, dict[str, float]], needle: str, column: str) -> float:
    for label, rates in table.items():
        if needle in label and column in rates:
            return rates[column]
    raise BenchError(f"openssl speed output has no {column} for {needle!r}: {sorted(table)}")


def measure(distro: str = HOST_DISTRO, seconds: int = 2) -> dict[str, Any]:
    argv = ["openssl", "speed", "-seconds", str(seconds), *SPEED_ALGORITHMS]
    if distro == HOST_DISTRO:
        proc = run(["taskset", "-c", str(SERVER_CPU), *argv], 20 * seconds + 30)
    else:
        image = ensure_image(distro)
        proc = run(
            ["docker", "run", "--rm", "--network", "none", "--cpuset-cpus", str(SERVER_CPU), image, *argv],
            20 * seconds + 60,
        )
    table = parse_speed(proc.stdout)
    ecdsa_sign = _pick(table, "ecdsa (nistp256)", "sign/s")
    x25519 = _pick(table, "ecdh (X25519)", "op/s")
    rsa_sign = _pick(table, "rsa 2048 bits", "sign/s")
    # Per full TLS 1.3 handshake the server signs once (CertificateVerify) and does one X25519
    # key generation plus one derivation; openssl speed's ecdh "op" is one derivation and a
    # key generation is the same scalar multiplication, so it counts twice.
    ecdsa_bound = 1 / (1 / ecdsa_sign + 2 / x25519)
    rsa_bound = 1 / (1 / rsa_sign + 2 / x25519)
    return {
        "distro": distro,
        "ecdsa_p256_sign_per_s": ecdsa_sign,
        "x25519_op_per_s": x25519,
        "rsa2048_sign_per_s": rsa_sign,
        "bound_ecdsa_x25519_handshakes_per_s": ecdsa_bound,
        "bound_rsa2048_x25519_handshakes_per_s": rsa_bound,
        "formula": "1 / (1/sign + 2/x25519): one signature, one X25519 keygen + one derive per handshake",
    }
