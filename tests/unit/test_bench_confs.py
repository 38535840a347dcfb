"""Item 1's Mozilla baseline is the mozilla-intermediate profile's, so it follows the guidelines
the profile follows (6.0: no DHE suite; X25519MLKEM768 first where OpenSSL has it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.certs import Pair, Pki
from bench.confs import Session, mozilla_intermediate_ssl

PAIR = Pair(Path("/nonexistent/cert.pem"), Path("/nonexistent/key.pem"))
PKI = Pki(ca=PAIR.cert, ecdsa=PAIR, rsa=PAIR, snakeoil=PAIR, device_ca=PAIR.cert, device=PAIR)
CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
)


@pytest.mark.parametrize(
    ("openssl_version", "groups"),
    [
        ("OpenSSL 3.0.15 3 Sep 2024", "X25519:prime256v1:secp384r1"),
        ("OpenSSL 3.5.1 1 Jul 2025", "X25519MLKEM768:X25519:prime256v1:secp384r1"),
    ],
)
def test_the_mozilla_baseline_is_the_profiles(openssl_version, groups):
    lines = mozilla_intermediate_ssl(PKI, Session(), openssl_version=openssl_version)
    assert lines[:4] == [
        "ssl_protocols TLSv1.2 TLSv1.3",
        f"ssl_ecdh_curve {groups}",
        f"ssl_ciphers {CIPHERS}",
        "ssl_prefer_server_ciphers off",
    ]
    assert "ssl_certificate /nonexistent/cert.pem" in lines
    assert "ssl_session_tickets off" in lines
